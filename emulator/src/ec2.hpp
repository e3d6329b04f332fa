#pragma once
// The emulated EC2 Query API, for `rdnsctl ptr --provider aws`: accounts'
// Elastic IPs per region and their reverse DNS (DescribeAddresses,
// DescribeAddressesAttribute, ModifyAddressAttribute,
// ResetAddressAttribute), SigV4 checked by the emulator's own verifier, a
// PtrRecordUpdate kept PENDING for a while before it applies, the forward
// record checked through the lab resolver, and the PTR published into Knot.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cloud.hpp"
#include "sigv4_verifier.hpp"

namespace rdns::emulator {

/// An Elastic IP and its reverse DNS.
struct Ec2Address {
  std::string ip;
  std::string allocation_id;
  std::string association_id;  ///< empty when not associated
  std::string instance_id;
  std::string ptr;  ///< the applied PTR value, without the trailing dot; empty for none
  /// The last PtrRecordUpdate: value ("" for a reset), PENDING/SUCCESSFUL/FAILED.
  std::string update_value;
  std::string update_status;
  std::string update_reason;
  std::chrono::steady_clock::time_point applies_at;
};

/// An AWS account: its keys and Elastic IPs per region.
struct Ec2Account {
  std::string id;
  std::vector<Sigv4Key> keys;
  std::map<std::string, std::vector<Ec2Address>> regions;
};

/// An injected EC2 error, matched by action ("*" for any).
struct Ec2Fault {
  std::string action = "*";
  int http_status = 503;
  std::string code = "RequestLimitExceeded";
  std::string message = "Request limit exceeded.";
  int count = 1;  ///< how many requests it hits; -1 for all
};

/// The state file's "ec2" object (docs/emulator.md).
struct Ec2Config {
  std::vector<Ec2Account> accounts;
  std::vector<std::string> regions;         ///< served besides the accounts' own
  std::chrono::milliseconds pending{2000};  ///< how long an update stays PENDING
  int ptr_ttl = 300;                        ///< TTL of the published PTR records
  std::vector<Ec2Fault> faults;

  /// Parses document["ec2"] (absent: no EC2 accounts); throws
  /// std::runtime_error naming source and the key.
  static Ec2Config from_json(const Json& document, const std::string& source);
};

/// The EC2 endpoint; every public call is thread-safe.
class Ec2Api {
 public:
  /// dns gives the lab resolver, Knot and the zones (EmulatorConfig's).
  Ec2Api(Ec2Config config, const EmulatorConfig& dns, std::function<void(const std::string&)> log);

  /// Whether request is for EC2: SigV4-signed, or a form POST to the API.
  static bool accepts(const Incoming& request);
  /// Answers one EC2 request, or an /_emulator/ec2/ admin call.
  Reply handle(const Incoming& request);

 private:
  /// A request that passed authentication.
  struct Caller {
    Ec2Account* account = nullptr;
    std::string region;
    std::map<std::string, std::string> params;
  };

  Reply admin(const Incoming& request, const std::string& path);
  Reply dispatch(const std::string& action, Caller& caller);
  Reply describe_addresses(Caller& caller);
  Reply describe_attribute(Caller& caller);
  Reply modify_attribute(Caller& caller);
  Reply reset_attribute(Caller& caller);

  /// Applies every PENDING update whose time has come.
  void settle();
  void apply(Ec2Address& address);
  void publish(const Ec2Address& address);
  /// The caller's address with this allocation ID, or nullptr.
  Ec2Address* address_of(Caller& caller, const std::string& allocation_id);
  std::string forward_problem(const std::string& name, const std::string& ip) const;

  Reply ok(const std::string& action, const std::string& body);
  Reply error(int status, const std::string& code, const std::string& message);
  std::string request_id();

  Ec2Config config_;
  std::string resolver_;
  std::string knot_;
  std::vector<std::string> zones_;
  std::function<void(const std::string&)> log_;
  Sigv4Policy policy_;
  std::mutex mutex_;  // guards config_'s accounts and faults
  long long next_request_ = 1;
};

}  // namespace rdns::emulator
