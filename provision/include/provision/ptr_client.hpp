#pragma once
/// PTR record provisioning and IP ownership checks through the cloud API.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <provision/client_config.hpp>
#include <provision/credentials.hpp>

namespace rdns::provision {

/// Whether a PTR record is served.
enum class PtrStatus { enabled, disabled };

/// A PTR record as the API describes it.
struct PtrRecord {
  std::string record_id;
  std::string ip;
  std::string name;   ///< "4.3.2.1.in-addr.arpa"
  std::string value;  ///< the target host name
  int ttl = 600;
  PtrStatus status = PtrStatus::enabled;
};

/// What the account is billed for its PTR records (disabled ones included).
struct PtrBilling {
  int billable_records = 0;
  double daily_fee = 0;      ///< per day for the records as they are now
  double charged_total = 0;  ///< charged so far
  std::string currency;
};

/// The answer of a describe call.
struct PtrListing {
  std::vector<PtrRecord> records;
  PtrBilling billing;
};

/// The TXT record to publish at the value's root domain before creating.
struct VerificationTxt {
  std::string domain;  ///< the root domain checked ("example.com")
  std::string host;    ///< the RR to publish under it ("alidnsptrcheck")
  std::string value;   ///< the TXT string
  std::string fqdn() const { return host + "." + domain; }
};

/// The TTL a new record gets when none is given (the console's default).
inline constexpr int kDefaultPtrTtl = 600;

/// "4.3.2.1.in-addr.arpa" for "1.2.3.4"; throws Errc::input unless a dotted-quad IPv4.
std::string reverse_name(const std::string& ipv4);

/// Whether text is a host name a PTR may point to: 2-127 LDH labels of
/// 1-63 bytes, 253 bytes at most, an optional trailing dot, no wildcard, no
/// label starting or ending with '-', and not an IP literal.
bool is_valid_ptr_value(const std::string& value);

/// The root domain whose TXT record proves ownership of value: its last two
/// labels ("mail.example.com" -> "example.com"). Without the Public Suffix
/// List this is wrong for names under "co.uk"-like suffixes (docs/cloud.md).
std::string root_domain(const std::string& value);

/// The client-side checks the seed asks for before any call: IPv4 only, a
/// host name value (no wildcard, no IP literal), TTL 1-86400. Throws
/// rdns::Error(Errc::input) naming the offending input.
void validate_ptr_request(const std::string& ip, const std::string& value, int ttl);

/// Calls the PTR actions of the action table.
class PtrClient {
 public:
  PtrClient(ClientConfig config, Credentials credentials);
  ~PtrClient();
  PtrClient(const PtrClient&) = delete;
  PtrClient& operator=(const PtrClient&) = delete;

  /// Creates the one PTR record of ip. A create whose outcome is unknown
  /// (5xx, lost connection) is reconciled with a describe before it is
  /// retried, and one refused as a duplicate while ip already has this value
  /// is success. Writes go out on a fresh connection each (see rpc.hpp).
  PtrRecord create(const std::string& ip, const std::string& value, int ttl = kDefaultPtrTtl);
  /// Every record of the account in the region, or only ip's.
  PtrListing describe(const std::optional<std::string>& ip = std::nullopt);
  void update(const std::string& record_id, const std::string& value, int ttl);
  void set_status(const std::string& record_id, PtrStatus status);
  /// Deletes a record; after an attempt whose outcome is unknown, a record
  /// already gone was deleted by it (no second delete, no "not found").
  void remove(const std::string& record_id);
  /// The TXT to publish at the root domain of value.
  VerificationTxt verification_txt(const std::string& value);
  /// The RequestId of the last successful call's answer; empty when the call
  /// ended in a reconciliation describe or the answer carried none.
  const std::string& last_request_id() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// What an IP is to the account in the region (alibaba), or to the DNS
/// server (rfc2136, powerdns: reverse_zone, a zone the server serves, inside
/// the configured prefixes).
enum class IpRole { not_owned, eip, ecs_public_ip, reverse_zone };

/// The ownership of one IP.
struct Ownership {
  std::string ip;
  IpRole role = IpRole::not_owned;
  std::string resource_id;  ///< EIP allocation id or ECS instance id; the zone for reverse_zone
  std::string status;       ///< as the API reports it ("InUse", "Running")
  /// Why the IP is not owned, in the provider's terms; empty for the
  /// cloud's own "not an EIP or ECS public IP".
  std::string reason;
};

/// Answers "does this account own this IP in this region, and as what" with
/// VPC DescribeEipAddresses (50 IPs a call) and ECS DescribeInstances (100).
class OwnershipChecker {
 public:
  OwnershipChecker(ClientConfig config, Credentials credentials);
  ~OwnershipChecker();
  OwnershipChecker(const OwnershipChecker&) = delete;
  OwnershipChecker& operator=(const OwnershipChecker&) = delete;

  /// One entry per input IP, in input order.
  std::vector<Ownership> check(const std::vector<std::string>& ips);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdns::provision
