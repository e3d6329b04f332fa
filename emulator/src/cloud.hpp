#pragma once
// The emulated cloud: accounts, their IPs and PTR records, the API actions
// with the seed's rules, request authentication, faults and billing. No
// HTTP here; server.cpp feeds it parsed requests.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <provision/client_config.hpp>

#include "dns.hpp"
#include "http_message.hpp"

namespace rdns::emulator {

using Json = nlohmann::json;

/// An AccessKey the emulator accepts.
struct AccessKey {
  std::string id;
  std::string secret;
  std::string sts_token;  ///< when set, requests must carry it
};

/// An ECS instance and its static public IPs.
struct Instance {
  std::string id;
  std::vector<std::string> public_ips;
};

/// An EIP allocation.
struct Eip {
  std::string ip;
  std::string allocation_id;
  std::string instance_id;
};

/// What one account owns in one region.
struct RegionResources {
  std::vector<Eip> eips;
  std::vector<Instance> instances;
};

/// A tenant: keys, resources per region, charges so far.
struct Account {
  std::string id;
  std::vector<AccessKey> keys;
  std::map<std::string, RegionResources> regions;
  double charged = 0;
};

/// A PTR record held by the emulator.
struct StoredPtr {
  std::string id;
  std::string account;
  std::string region;
  std::string ip;
  std::string value;
  int ttl = 600;
  bool enabled = true;
};

/// An injected misbehaviour, matched by action ("*" for any).
struct Fault {
  std::string action = "*";
  std::string kind = "error";  ///< error, slow, drop, drop_after
  int http_status = 503;
  std::string code = "ServiceUnavailable";
  std::string message = "The request has failed due to a temporary failure of the server.";
  int delay_ms = 0;
  int count = 1;  ///< how many requests it hits; -1 for all
};

/// Everything the state file holds (docs/emulator.md).
struct EmulatorConfig {
  std::string listen = "127.0.0.1:0";
  std::string resolver;            ///< TXT checks; empty fails every check
  std::string knot;                ///< dynamic updates; empty publishes nothing
  std::vector<std::string> zones;  ///< reverse zones Knot serves, for the update's zone section
  std::string verify_host = "alidnsptrcheck";
  double daily_fee = 1.0;
  std::string currency = "CNY";
  std::vector<Account> accounts;
  std::vector<Fault> faults;
  provision::ActionTable actions = provision::ActionTable::defaults();

  /// Parses the state file; throws std::runtime_error naming the file and key.
  static EmulatorConfig from_json(const Json& document, const std::string& source);
};

/// The emulated cloud; every public call is thread-safe.
class Cloud {
 public:
  Cloud(EmulatorConfig config, std::function<void(const std::string&)> log);

  /// Answers one request (API or /_emulator/ admin). May sleep (slow fault).
  Reply handle(const Incoming& request);
  void count_connection() { ++connections_; }

 private:
  /// A request that passed authentication.
  struct Caller {
    Account* account = nullptr;
    std::map<std::string, std::string> params;
  };

  Reply admin(const Incoming& request, const std::string& path);
  Reply api(const Incoming& request);
  std::optional<Reply> authenticate(const Incoming& request,
                                    const std::map<std::string, std::string>& query,
                                    const std::string& action, Caller& caller);
  Reply dispatch(const std::string& action, Caller& caller);

  Reply create(Caller& caller);
  Reply describe(Caller& caller);
  Reply update(Caller& caller);
  Reply set_status(Caller& caller);
  Reply remove(Caller& caller);
  Reply verify_txt(Caller& caller);
  Reply describe_eips(Caller& caller);
  Reply describe_instances(Caller& caller);

  std::optional<Reply> check_value(const Caller& caller, const std::string& value);
  std::optional<Reply> check_ttl(const std::string& text, int& ttl);
  bool owns(const Account& account, const std::string& region, const std::string& ip) const;
  std::string token_for(const Account& account, const std::string& root) const;
  void publish(const StoredPtr& record, bool present);
  Reply ok(Json body);
  Reply error(int status, const std::string& code, const std::string& message);
  std::string request_id();

  EmulatorConfig config_;
  std::function<void(const std::string&)> log_;
  std::mutex mutex_;  // guards everything below and config_'s accounts and faults
  std::vector<StoredPtr> records_;
  std::map<std::string, std::chrono::system_clock::time_point> nonces_;
  std::map<std::string, int> action_counts_;
  long long requests_ = 0;
  long long next_record_ = 1;
  std::atomic<long long> connections_{0};
  std::atomic<long long> next_request_{1};
};

}  // namespace rdns::emulator
