#pragma once
/// How the client reaches the API: the action table, endpoints, timeouts and
/// retry policy. The PTR actions are not in Alibaba's public API reference, so
/// their names, versions and parameter names are configuration (docs/cloud.md).

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rdns::provision {

/// Which request signature an action uses.
enum class SignatureVersion { v3, v2 };

/// One API action: where it lives and what its parameters are called.
struct ActionSpec {
  std::string product;  ///< key into ActionTable::endpoints ("alidns", "vpc", "ecs")
  std::string action;   ///< "AddDomainRecord"
  std::string version;  ///< "2015-01-09"
  SignatureVersion signature = SignatureVersion::v3;
  /// Logical parameter ("ip", "value", "ttl", "region", "record_id", "status",
  /// "name", "domain", "page", "page_size") -> the wire name the API expects.
  std::map<std::string, std::string> params;
  /// Wire parameters sent with a constant value (e.g. Type=PTR).
  std::map<std::string, std::string> fixed;

  /// The wire name of a logical parameter; the logical name itself when unmapped.
  std::string wire(const std::string& logical) const;
};

/// The PTR actions plus the ownership actions, with their endpoints.
struct ActionTable {
  ActionSpec create, describe, update, set_status, remove, verify_txt;
  ActionSpec describe_eips, describe_instances;
  /// Product -> host template; "{region}" is replaced. A region listed in
  /// endpoint_exceptions ("vpc/cn-hangzhou") uses its own host instead.
  std::map<std::string, std::string> endpoints;
  std::map<std::string, std::string> endpoint_exceptions;
  /// Error Codes that mean "the IP is not owned by this account"; the FAQ
  /// message "PTR IP information mismatch" is recognised whatever the Code.
  std::vector<std::string> ip_not_owned_codes;
  std::vector<std::string> verification_failed_codes;

  /// Defaults modelled on the documented Alidns record actions (2015-01-09),
  /// VPC DescribeEipAddresses (2016-04-28) and ECS DescribeInstances (2014-05-26).
  static ActionTable defaults();
  /// The defaults overlaid with a JSON file (format in docs/cloud.md);
  /// throws rdns::Error(Errc::input) naming the file and the bad key.
  static ActionTable from_file(const std::filesystem::path& path);
  /// Same, from JSON text; source names it in errors.
  static ActionTable from_json(std::string_view json, const std::string& source);

  /// https://host for this product in this region.
  std::string endpoint_for(const std::string& product, const std::string& region) const;
};

/// Exponential backoff with jitter for throttling, 5xx and network failures.
struct RetryPolicy {
  int max_attempts = 4;  ///< including the first
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5000};
};

/// Where the client may send traffic.
enum class NetworkScope {
  any,            ///< production
  loopback_only,  ///< refuse any endpoint that is not a 127.0.0.0/8 literal (tests, emulator)
};

/// Whether PtrClient checks the seed's rules before calling.
enum class LocalValidation {
  on,   ///< refuse a bad request without a call (normal use)
  off,  ///< send it anyway, so tests can see the server (emulator) enforce each rule
};

/// One attempt of one call, reported to ClientConfig::on_attempt.
struct AttemptEvent {
  std::string action;
  int attempt = 0;                      ///< 1-based
  std::chrono::milliseconds waited{0};  ///< backoff slept before this attempt
  std::string outcome;                  ///< "OK" or the error Code
};

/// Everything a client needs besides credentials.
struct ClientConfig {
  std::string region;    ///< required: RegionId of every call
  std::string endpoint;  ///< "http://127.0.0.1:8080": overrides every product's host
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
  RetryPolicy retry;
  NetworkScope scope = NetworkScope::any;
  LocalValidation validation = LocalValidation::on;
  /// Shifts x-acs-date/Timestamp; for clocks known to be off (and tests).
  std::chrono::seconds clock_offset{0};
  ActionTable actions = ActionTable::defaults();
  /// Called after every attempt (tests count attempts and delays through it).
  std::function<void(const AttemptEvent&)> on_attempt;
  /// One line per request and answer; never given a secret or a signature.
  std::function<void(std::string_view)> log;
};

}  // namespace rdns::provision
