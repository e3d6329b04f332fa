#pragma once
/// What `rdnsctl ptr` needs from whoever serves the reverse zone: who may
/// change an address's PTR, what it holds now, and the writes. The
/// Alibaba-style cloud API is one provider; RFC 2136, PowerDNS and AWS slot
/// in behind the same interface, each saying through its capabilities which
/// of the optional parts (disable, domain verification) it has.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <provision/client_config.hpp>
#include <provision/credentials.hpp>
#include <provision/ptr_client.hpp>

namespace rdns::provision {

/// What a provider can do, so callers ask before they rely on it.
struct ProviderCapabilities {
  /// A record can be switched off without deleting it (and on again).
  bool supports_disable = false;
  /// A value's domain must be proved (a TXT record) before it may be written.
  bool needs_domain_verification = false;
  int min_ttl = 1;
  int max_ttl = 86400;
  /// Set when the provider, not the caller, decides the TTL: every record
  /// reports this one, and a requested TTL is a warning, not applied.
  std::optional<int> fixed_ttl;
  /// What an address the provider lets these credentials change is, for
  /// the IP_OWNED message ("not <owned_means>").
  std::string owned_means = "an address these credentials may change";
  /// Records cost money every day, disabled ones too (the cloud's billing):
  /// listings carry the bill and a disabled record is a cost to point out.
  bool bills_records = false;
  /// Why an IPv6 address is refused (IPV4_ONLY), in the provider's terms.
  std::string ipv6_refusal = "rdnsctl ptr confirms forward DNS (A records) for IPv4 addresses only";
};

/// A source of PTR records and the writes to them. Writes address a record
/// by IP and, for providers that need it, by the record ID last read (empty
/// when the IP has no record); providers addressing by name ignore the ID.
class PtrProvider {
 public:
  virtual ~PtrProvider() = default;

  /// "alibaba", as --provider names it; used in messages.
  virtual const std::string& name() const = 0;
  virtual ProviderCapabilities capabilities() const = 0;

  /// May these credentials change each IP's PTR? One entry per input IP, in
  /// input order; batched as the provider allows.
  virtual std::vector<Ownership> ownership(const std::vector<std::string>& ips) = 0;
  /// Every record in the provider's scope (the region), with billing where known.
  virtual PtrListing list() = 0;
  /// The current PTR record(s) of ip (a provider may return others' too:
  /// callers pick ip's with state_of).
  virtual std::vector<PtrRecord> read(const std::string& ip) = 0;

  /// Makes value (one canonical host name) with ttl ip's PTR: a create when
  /// current_record_id is empty, else a replace. Returns the record ID.
  virtual std::string write(const std::string& ip, const std::string& value, int ttl,
                            const std::string& current_record_id) = 0;
  /// Deletes ip's record; one already gone counts as deleted.
  virtual void remove(const std::string& ip, const std::string& current_record_id) = 0;
  /// Serves (enabled) or stops serving ip's record; Errc::usage when the
  /// provider does not support disabling.
  virtual void set_status(const std::string& ip, const std::string& current_record_id,
                          PtrStatus status) = 0;

  /// The TXT record that proves value's domain; nullopt when the provider
  /// needs no domain verification.
  virtual std::optional<VerificationTxt> verification_txt(const std::string& value) = 0;
  /// The provider's request ID of the last successful write, when it has one.
  virtual const std::string& last_request_id() const = 0;
};

/// The names --provider accepts, the default first.
const std::vector<std::string>& provider_names();

/// The provider called name with the connection settings and credentials
/// of the cloud flags; Errc::usage naming the choices for an unknown name.
std::unique_ptr<PtrProvider> make_provider(const std::string& name, const ClientConfig& config,
                                           const Credentials& credentials);

/// The Alibaba-style cloud API: PTR records by record ID, ownership as EIPs
/// and ECS public IPs of the account in the region, a TXT at the value's root
/// domain, disable supported.
class AlibabaPtrProvider final : public PtrProvider {
 public:
  AlibabaPtrProvider(const ClientConfig& config, const Credentials& credentials);

  const std::string& name() const override;
  ProviderCapabilities capabilities() const override;
  std::vector<Ownership> ownership(const std::vector<std::string>& ips) override;
  PtrListing list() override;
  std::vector<PtrRecord> read(const std::string& ip) override;
  std::string write(const std::string& ip, const std::string& value, int ttl,
                    const std::string& current_record_id) override;
  void remove(const std::string& ip, const std::string& current_record_id) override;
  void set_status(const std::string& ip, const std::string& current_record_id,
                  PtrStatus status) override;
  std::optional<VerificationTxt> verification_txt(const std::string& value) override;
  const std::string& last_request_id() const override;

 private:
  PtrClient client_;
  OwnershipChecker owner_;
};

}  // namespace rdns::provision
