#pragma once
/// PTR records in reverse zones served by a PowerDNS Authoritative server,
/// through its HTTP API (/api/v1): zones found on the server, records read
/// with the rrset filters, written as REPLACE and DELETE rrset changes.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <provision/client_config.hpp>
#include <provision/credentials.hpp>
#include <provision/provider.hpp>

namespace rdns::provision {

/// How to reach one PowerDNS server's API.
struct PowerDnsConfig {
  std::string url;                      ///< the webserver's base URL: "http://127.0.0.1:8081"
  std::string server_id = "localhost";  ///< /api/v1/servers/{server_id}
  Secret api_key;                       ///< sent as X-API-Key, nowhere else
  /// CIDRs ("192.0.2.0/24", "2001:db8::/48") whose PTRs may be changed; empty:
  /// every address whose reverse zone the server serves.
  std::vector<std::string> prefixes;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
  NetworkScope scope = NetworkScope::any;
  /// One line per request and answer; never given the key.
  std::function<void(std::string_view)> log;
};

/// The environment variable holding the API key when no key file is given.
inline constexpr const char* kPowerDnsKeyVariable = "RDNSCTL_PDNS_API_KEY";

/// The API key: the first line of key_file when one is given (refused when
/// group or others may read it), else $RDNSCTL_PDNS_API_KEY. Throws
/// rdns::Error(Errc::credentials) naming the file or variable, never the key.
Secret powerdns_api_key(const std::filesystem::path& key_file, const EnvLookup& getenv = {});

/// The journal's scope for a server: "powerdns:" and the URL's host[:port].
std::string powerdns_scope(const std::string& url);

/// The reverse-lookup owner name of an IPv4 or IPv6 address, with the
/// trailing dot: "10.2.0.192.in-addr.arpa.", "1.0...8.b.d.0.1.0.0.2.ip6.arpa.".
/// Throws Errc::input for anything else.
std::string reverse_pointer_name(const std::string& ip);

/// PowerDNS as a PtrProvider. An address belongs to the longest reverse zone
/// on the server that contains its name, or to an RFC 2317 child zone
/// ("64-26.100.51.198.in-addr.arpa.") whose range holds it; ownership means
/// such a zone exists (and the address is inside a configured prefix). A
/// record's ID is its owner name. Disable is supported (PowerDNS's
/// per-record "disabled" flag); no domain verification.
class PowerDnsPtrProvider final : public PtrProvider {
 public:
  explicit PowerDnsPtrProvider(PowerDnsConfig config);
  ~PowerDnsPtrProvider() override;
  PowerDnsPtrProvider(const PowerDnsPtrProvider&) = delete;
  PowerDnsPtrProvider& operator=(const PowerDnsPtrProvider&) = delete;

  const std::string& name() const override;
  ProviderCapabilities capabilities() const override;
  std::vector<Ownership> ownership(const std::vector<std::string>& ips) override;
  /// Every PTR of the reverse zones on the server (inside the prefixes).
  PtrListing list() override;
  std::vector<PtrRecord> read(const std::string& ip) override;
  /// REPLACE of ip's PTR rrset with the one value; sent once, on a new connection.
  std::string write(const std::string& ip, const std::string& value, int ttl,
                    const std::string& current_record_id) override;
  /// DELETE of ip's PTR rrset; an rrset already gone is success.
  void remove(const std::string& ip, const std::string& current_record_id) override;
  /// REPLACE with the records' "disabled" flag set or cleared.
  void set_status(const std::string& ip, const std::string& current_record_id,
                  PtrStatus status) override;
  std::optional<VerificationTxt> verification_txt(const std::string& value) override;
  /// The zone's serial after the last write ("serial 2026120602"), when the server sent it.
  const std::string& last_request_id() const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdns::provision
