#pragma once
/// The checks run before any PTR write, so a write the cloud would refuse, or
/// one that would leave FCrDNS broken, is stopped with a message naming the
/// IP and the rule instead of an API error or a silently bad record.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <provision/provider.hpp>
#include <provision/ptr_client.hpp>

namespace rdns::provision {

/// What DNS said to one question; DNS failures are data, as in the audit.
struct DnsAnswer {
  enum class Outcome { answered, nodata, nxdomain, failed };
  Outcome outcome = Outcome::failed;
  std::vector<std::string> values;  ///< A addresses, TXT strings or PTR targets
  std::uint32_t ttl = 0;
  std::string failure;  ///< why, when failed
};

/// The DNS questions the checks ask, through the configured resolver. The
/// CLI implements it with the audit's resolver; provision stays free of DNS
/// libraries.
class DnsView {
 public:
  virtual ~DnsView() = default;
  virtual DnsAnswer a(const std::string& name) = 0;
  virtual DnsAnswer txt(const std::string& name) = 0;
  virtual DnsAnswer ptr(const std::string& ip) = 0;
  /// The TTL name's A record has in its zone, from an authoritative server:
  /// a resolver's answer counts down while cached, so each write from it
  /// would get another TTL. nullopt when no authoritative server answers.
  virtual std::optional<std::uint32_t> zone_ttl_of_a(const std::string& name) = 0;
};

/// The rules a write must pass; their names (to_string) appear in messages.
enum class WriteRule {
  ipv4_only,          ///< IPV4_ONLY
  ttl_range,          ///< TTL_RANGE: 1-86400
  valid_name,         ///< VALID_NAME: FQDN, no wildcard, no IP literal
  ip_owned,           ///< IP_OWNED: an EIP or ECS public IP of the account in the region
  domain_verified,    ///< DOMAIN_VERIFIED: the verification TXT is in DNS
  forward_confirmed,  ///< FORWARD_CONFIRMED: the name's A record holds the IP
};

const char* to_string(WriteRule rule);

/// One failed rule.
struct RuleFailure {
  WriteRule rule;
  std::string message;  ///< "198.51.100.30 IP_OWNED: ..."
};

struct WriteCheckOptions {
  /// Write even though the name's A record does not hold the IP; a warning
  /// replaces the failure (FCrDNS will fail until the A record is fixed).
  bool allow_unconfirmed = false;
};

/// The verdict on one intended write.
struct WriteCheck {
  std::string ip;
  std::string name;          ///< without a trailing dot
  int ttl = kDefaultPtrTtl;  ///< the TTL to write: given, else the A record's in its zone, else the
                             ///< default
  std::vector<RuleFailure> failures;
  std::vector<std::string> warnings;
  /// The TXT record to publish, when DOMAIN_VERIFIED failed for want of it.
  std::optional<VerificationTxt> txt_to_publish;
  bool ok() const { return failures.empty(); }
};

/// Whether dns shows the verification TXT; the record to publish when not.
struct DomainVerification {
  VerificationTxt expected;
  bool present = false;
  std::vector<std::string> found;  ///< the TXT strings seen at expected.fqdn()
  std::string failure;             ///< a DNS failure, when the question got no answer
};

/// Asks the provider which TXT proves the domain (of a host name) and looks
/// for it in DNS; Errc::usage when the provider needs no domain verification.
DomainVerification check_domain_verification(PtrProvider& provider, DnsView& dns,
                                             const std::string& name);

/// Runs every rule that can be judged and returns each failure: cheap local
/// rules first; a rule whose input is unusable (a bad IP) skips the calls
/// that would need it; DOMAIN_VERIFIED only for providers that need it.
/// Throws only when the provider or DNS cannot be asked at all.
WriteCheck check_ptr_write(PtrProvider& provider, DnsView& dns, const std::string& ip,
                           const std::string& name, std::optional<int> ttl,
                           const WriteCheckOptions& options = {});

}  // namespace rdns::provision
