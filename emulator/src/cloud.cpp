#include "cloud.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <unistd.h>

#include "acs_verifier.hpp"
#include "ptr_rules.hpp"

namespace rdns::emulator {
namespace {

using namespace std::chrono_literals;
using provision::ActionSpec;
// Query parameters in the order sent, decoded.
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr auto kClockWindow = 15min;  // the documented x-acs-date tolerance
constexpr const char* kMismatch =
    "PTR IP information mismatch. The IP may no longer belong to the current user.";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The query of a request target, decoded, in the order sent.
Params parse_query(const std::string& target) {
  Params params;
  const auto mark = target.find('?');
  if (mark == std::string::npos) return params;
  std::string_view rest(target);
  rest.remove_prefix(mark + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      params.emplace_back(
          acs::percent_decode(pair.substr(0, eq)),
          eq == std::string_view::npos ? "" : acs::percent_decode(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return params;
}

std::string header(const Incoming& request, const std::string& name) {
  const auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

std::string param(const std::map<std::string, std::string>& params, const std::string& name) {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

std::string strip_dot(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  return name;
}

Json record_json(const StoredPtr& record) {
  return {{"RecordId", record.id},
          {"IpAddress", record.ip},
          {"RR", rules::reverse_name(record.ip)},
          {"Type", "PTR"},
          {"Value", record.value},
          {"TTL", record.ttl},
          {"RegionId", record.region},
          {"Status", record.enabled ? "ENABLE" : "DISABLE"}};
}

std::string str(const Json& object, const char* key, const std::string& fallback = {}) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

Fault fault_from(const Json& item) {
  Fault fault;
  fault.action = str(item, "action", fault.action);
  fault.kind = str(item, "kind", fault.kind);
  fault.code = str(item, "code", fault.code);
  fault.message = str(item, "message", fault.message);
  fault.http_status = item.value("http_status", fault.http_status);
  fault.delay_ms = item.value("delay_ms", fault.delay_ms);
  fault.count = item.value("count", fault.count);
  static const std::set<std::string> kKinds = {"error", "slow", "drop", "drop_after"};
  if (!kKinds.contains(fault.kind)) throw std::runtime_error("unknown fault kind " + fault.kind);
  return fault;
}

}  // namespace

EmulatorConfig EmulatorConfig::from_json(const Json& document, const std::string& source) {
  if (!document.is_object()) throw std::runtime_error(source + ": must hold a JSON object");
  EmulatorConfig config;
  config.listen = str(document, "listen", config.listen);
  if (const auto dns = document.find("dns"); dns != document.end()) {
    config.resolver = str(*dns, "resolver");
    config.knot = str(*dns, "knot");
    config.verify_host = str(*dns, "verify_host", config.verify_host);
    for (const auto& zone : dns->value("zones", Json::array())) {
      config.zones.push_back(zone.get<std::string>());
    }
  }
  if (const auto billing = document.find("billing"); billing != document.end()) {
    config.daily_fee = billing->value("daily_fee", config.daily_fee);
    config.currency = str(*billing, "currency", config.currency);
  }
  if (const auto actions = document.find("actions"); actions != document.end()) {
    config.actions = provision::ActionTable::from_json(actions->dump(), source + " (actions)");
  }
  for (const auto& item : document.value("accounts", Json::array())) {
    Account account;
    account.id = str(item, "id");
    if (account.id.empty()) throw std::runtime_error(source + ": an account lacks \"id\"");
    for (const auto& key : item.value("access_keys", Json::array())) {
      account.keys.push_back({str(key, "id"), str(key, "secret"), str(key, "sts_token")});
      if (account.keys.back().id.empty() || account.keys.back().secret.empty()) {
        throw std::runtime_error(source + ": an access key of account " + account.id +
                                 " lacks id or secret");
      }
    }
    const Json regions = item.value("regions", Json::object());  // items() needs it alive
    for (const auto& [region, resources] : regions.items()) {
      RegionResources& target = account.regions[region];
      for (const auto& eip : resources.value("eips", Json::array())) {
        target.eips.push_back({str(eip, "ip"), str(eip, "allocation_id", "eip-" + str(eip, "ip")),
                               str(eip, "instance_id")});
      }
      for (const auto& instance : resources.value("instances", Json::array())) {
        Instance parsed{str(instance, "id"), {}};
        for (const auto& ip : instance.value("public_ips", Json::array())) {
          parsed.public_ips.push_back(ip.get<std::string>());
        }
        target.instances.push_back(parsed);
      }
    }
    config.accounts.push_back(account);
  }
  for (const auto& item : document.value("faults", Json::array())) {
    config.faults.push_back(fault_from(item));
  }
  return config;
}

Cloud::Cloud(EmulatorConfig config, std::function<void(const std::string&)> log)
    : config_(std::move(config)), log_(std::move(log)) {}

std::string Cloud::request_id() {
  return fmt::format("EMU-{:08X}-{:04X}", next_request_++, ::getpid() & 0xffff);
}

Reply Cloud::ok(Json body) {
  body["RequestId"] = request_id();
  return {200, body.dump(), false};
}

Reply Cloud::error(int status, const std::string& code, const std::string& message) {
  const Json body = {{"RequestId", request_id()},
                     {"HostId", "127.0.0.1"},
                     {"Code", code},
                     {"Message", message},
                     {"Recommend", "see docs/emulator.md"}};
  return {status, body.dump(), false};
}

Reply Cloud::handle(const Incoming& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (path.starts_with("/_emulator/")) return admin(request, path.substr(11));
  return api(request);
}

Reply Cloud::admin(const Incoming& request, const std::string& path) {
  std::lock_guard lock(mutex_);
  const Json body =
      request.body.empty() ? Json::object() : Json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return error(400, "InvalidJson", "the admin body is not JSON");
  if (path == "stats") {
    return ok({{"Requests", requests_},
               {"Connections", connections_.load()},
               {"Actions", action_counts_},
               {"Records", records_.size()}});
  }
  if (path == "faults") {
    if (request.method == "DELETE") {
      config_.faults.clear();
      return ok({{"Faults", 0}});
    }
    try {
      config_.faults.clear();
      for (const auto& item : body.value("faults", Json::array())) {
        config_.faults.push_back(fault_from(item));
      }
    } catch (const std::exception& failure) {
      return error(400, "InvalidFault", failure.what());
    }
    return ok({{"Faults", config_.faults.size()}});
  }
  if (path == "release-ip") {
    // The IP leaves whichever account holds it; its PTR record stays until reclaimed.
    const std::string ip = str(body, "ip");
    int released = 0;
    for (auto& account : config_.accounts) {
      for (auto& [region, resources] : account.regions) {
        released += static_cast<int>(
            std::erase_if(resources.eips, [&](const Eip& eip) { return eip.ip == ip; }));
        for (auto& instance : resources.instances) {
          released += static_cast<int>(std::erase(instance.public_ips, ip));
        }
      }
    }
    log_("admin: released " + ip);
    return ok({{"Released", released}});
  }
  if (path == "reclaim") {
    // The undocumented periodic sweep, modelled as: a record whose IP the
    // account no longer owns in its region is abnormal and is deleted.
    Json reclaimed = Json::array();
    std::vector<StoredPtr> kept;
    for (const auto& record : records_) {
      const auto account = std::find_if(config_.accounts.begin(), config_.accounts.end(),
                                        [&](const Account& a) { return a.id == record.account; });
      if (account != config_.accounts.end() && owns(*account, record.region, record.ip)) {
        kept.push_back(record);
      } else {
        reclaimed.push_back(record.id);
        publish(record, false);
      }
    }
    records_ = kept;
    log_("admin: reclaimed " + reclaimed.dump());
    return ok({{"Reclaimed", reclaimed}});
  }
  if (path == "advance-days") {
    // Billing: every record that exists at the day boundary, enabled or not.
    const int days = body.value("days", 1);
    for (auto& account : config_.accounts) {
      const auto count = std::count_if(records_.begin(), records_.end(),
                                       [&](const StoredPtr& r) { return r.account == account.id; });
      account.charged += static_cast<double>(count) * config_.daily_fee * days;
    }
    return ok({{"Days", days}});
  }
  if (path == "records") {
    Json list = Json::array();
    for (const auto& record : records_) list.push_back(record_json(record));
    return ok({{"Records", list}});
  }
  return error(404, "InvalidAdminPath", "no admin endpoint /_emulator/" + path);
}

Reply Cloud::api(const Incoming& request) {
  const Params query_list = parse_query(request.target);
  std::map<std::string, std::string> query(query_list.begin(), query_list.end());
  const bool v3 = header(request, "authorization").starts_with("ACS3-HMAC-SHA256 ");
  const std::string action = v3 ? header(request, "x-acs-action") : param(query, "Action");

  std::optional<Fault> fault;
  {
    std::lock_guard lock(mutex_);
    ++requests_;
    ++action_counts_[action.empty() ? "-" : action];
    for (auto& candidate : config_.faults) {
      if (candidate.count == 0 || (candidate.action != "*" && candidate.action != action)) continue;
      if (candidate.count > 0) --candidate.count;
      fault = candidate;
      break;
    }
  }
  if (fault) {
    log_(fmt::format("{}: injected fault {} {}", action, fault->kind, fault->code));
    if (fault->delay_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
    if (fault->kind == "drop") return {0, {}, true};
    if (fault->kind == "error") {
      std::lock_guard lock(mutex_);
      return error(fault->http_status, fault->code, fault->message);
    }
  }

  std::lock_guard lock(mutex_);
  Caller caller;
  if (auto refused = authenticate(request, query, action, caller)) {
    log_(fmt::format("{}: refused {}", action.empty() ? "-" : action, refused->body));
    return *refused;
  }
  Reply reply = dispatch(action, caller);
  log_(fmt::format("{} account {}: HTTP {}", action, caller.account->id, reply.status));
  if (fault && fault->kind == "drop_after") reply.drop = true;  // done, but the answer is lost
  return reply;
}

std::optional<Reply> Cloud::authenticate(const Incoming& request,
                                         const std::map<std::string, std::string>& query,
                                         const std::string& action, Caller& caller) {
  const std::string authorization = header(request, "authorization");
  const bool v3 = authorization.starts_with("ACS3-HMAC-SHA256 ");
  std::string key_id;
  std::string signature;
  std::string timestamp;
  std::string nonce;
  std::string token;
  std::vector<std::string> signed_names;
  if (v3) {
    // "ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex"
    std::string rest = authorization.substr(17);
    std::map<std::string, std::string> parts;
    for (std::size_t start = 0; start <= rest.size();) {
      auto end = rest.find(',', start);
      if (end == std::string::npos) end = rest.size();
      const std::string part = rest.substr(start, end - start);
      const auto eq = part.find('=');
      if (eq != std::string::npos) parts[part.substr(0, eq)] = part.substr(eq + 1);
      start = end + 1;
    }
    key_id = parts["Credential"];
    signature = parts["Signature"];
    for (std::size_t start = 0; start < parts["SignedHeaders"].size();) {
      auto end = parts["SignedHeaders"].find(';', start);
      if (end == std::string::npos) end = parts["SignedHeaders"].size();
      signed_names.push_back(parts["SignedHeaders"].substr(start, end - start));
      start = end + 1;
    }
    timestamp = header(request, "x-acs-date");
    nonce = header(request, "x-acs-signature-nonce");
    token = header(request, "x-acs-security-token");
    for (const char* required : {"host", "x-acs-action", "x-acs-version", "x-acs-date",
                                 "x-acs-signature-nonce", "x-acs-content-sha256"}) {
      if (std::find(signed_names.begin(), signed_names.end(), required) == signed_names.end() ||
          header(request, required).empty()) {
        return error(400, "IncompleteSignature",
                     std::string("The header ") + required + " is missing or not signed.");
      }
    }
    if (!acs::signed_names_canonical(signed_names)) {
      return error(400, "IncompleteSignature",
                   "SignedHeaders must be lower-case names in sorted order.");
    }
    for (const auto& [name, value] : request.headers) {
      if (name.starts_with("x-acs-") &&
          std::find(signed_names.begin(), signed_names.end(), name) == signed_names.end()) {
        return error(400, "IncompleteSignature", "The header " + name + " is not signed.");
      }
    }
    if (header(request, "x-acs-content-sha256") != acs::hex_sha256(request.body)) {
      return error(400, "InvalidParameter.ContentSHA256",
                   "x-acs-content-sha256 does not match the body.");
    }
  } else {
    key_id = param(query, "AccessKeyId");
    signature = param(query, "Signature");
    timestamp = param(query, "Timestamp");
    nonce = param(query, "SignatureNonce");
    token = param(query, "SecurityToken");
    for (const char* required : {"AccessKeyId", "Signature", "Timestamp", "SignatureNonce",
                                 "Action", "Version", "SignatureMethod"}) {
      if (param(query, required).empty()) {
        return error(400, std::string("MissingParameter.") + required,
                     std::string("The input parameter ") + required +
                         " that is mandatory for processing this request is not supplied.");
      }
    }
    if (param(query, "SignatureMethod") != "HMAC-SHA1") {
      return error(400, "InvalidParameter.SignatureMethod", "Only HMAC-SHA1 is supported.");
    }
  }
  if (action.empty()) return error(400, "MissingParameter.Action", "No action given.");

  const AccessKey* key = nullptr;
  for (auto& account : config_.accounts) {
    for (const auto& candidate : account.keys) {
      if (candidate.id == key_id) {
        key = &candidate;
        caller.account = &account;
      }
    }
  }
  if (key == nullptr) {
    return error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
  }

  const std::string expected =
      v3 ? acs::v3_signature(acs::v3_canonical_request(request.method, request.target,
                                                       request.headers, signed_names, request.body),
                             key->secret)
         : acs::v2_signature(request.method, request.target, key->secret);
  if (!acs::same_signature(signature, expected)) {
    return error(400, "SignatureDoesNotMatch",
                 "Specified signature is not matched with our calculation.");
  }
  if (key->sts_token != token) {
    return error(403, "InvalidSecurityToken.Mismatch",
                 key->sts_token.empty() ? "This key takes no security token."
                                        : "The security token is missing or wrong.");
  }
  const long long when = acs::utc_seconds(timestamp);
  const auto now = std::chrono::system_clock::now();
  const auto sent = std::chrono::system_clock::time_point(std::chrono::seconds(when));
  if (when < 0) return error(400, "InvalidTimeStamp.Format", "The timestamp is malformed.");
  if (sent < now - kClockWindow || sent > now + kClockWindow) {
    return error(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
  }
  std::erase_if(nonces_, [&](const auto& entry) { return entry.second < now - kClockWindow; });
  if (!nonces_.emplace(key->id + "/" + nonce, now).second) {
    return error(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
  }
  caller.params = query;
  return std::nullopt;
}

Reply Cloud::dispatch(const std::string& action, Caller& caller) {
  const provision::ActionTable& table = config_.actions;
  using Handler = Reply (Cloud::*)(Caller&);
  const std::pair<const ActionSpec*, Handler> handlers[] = {
      {&table.create, &Cloud::create},
      {&table.describe, &Cloud::describe},
      {&table.update, &Cloud::update},
      {&table.set_status, &Cloud::set_status},
      {&table.remove, &Cloud::remove},
      {&table.verify_txt, &Cloud::verify_txt},
      {&table.describe_eips, &Cloud::describe_eips},
      {&table.describe_instances, &Cloud::describe_instances}};
  for (const auto& [spec, handler] : handlers) {
    if (spec->action != action) continue;
    if (param(caller.params, spec->wire("region")).empty()) {
      return error(400, "MissingParameter.RegionId",
                   "The input parameter RegionId that is mandatory for processing this request "
                   "is not supplied.");
    }
    return (this->*handler)(caller);
  }
  return error(404, "InvalidAction.NotFound",
               "Specified api is not found, please check your url "
               "and method.");
}

bool Cloud::owns(const Account& account, const std::string& region, const std::string& ip) const {
  const auto it = account.regions.find(region);
  if (it == account.regions.end()) return false;
  for (const auto& eip : it->second.eips) {
    if (eip.ip == ip) return true;
  }
  for (const auto& instance : it->second.instances) {
    if (std::find(instance.public_ips.begin(), instance.public_ips.end(), ip) !=
        instance.public_ips.end()) {
      return true;
    }
  }
  return false;
}

std::string Cloud::token_for(const Account& account, const std::string& root) const {
  // Deterministic per account and domain, so a person can publish it once.
  return "emu-" + acs::hex_sha256("rdns-emulator|" + account.id + "|" + root).substr(0, 32);
}

std::optional<Reply> Cloud::check_ttl(const std::string& text, int& ttl) {
  if (text.empty()) return std::nullopt;
  if (text.size() > 6 || !std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return error(400, "InvalidParameter.TTL", "TTL must be a whole number of seconds.");
  }
  ttl = std::stoi(text);
  if (ttl < 1 || ttl > 86400) {
    return error(400, "InvalidParameter.TTL", "TTL must be between 1 and 86400 seconds.");
  }
  return std::nullopt;
}

std::optional<Reply> Cloud::check_value(const Caller& caller, const std::string& value) {
  if (value.find('*') != std::string::npos) {
    return error(400, "InvalidParameter.Value", "Wildcard domain names are not supported.");
  }
  if (!rules::acceptable_value(value)) {
    return error(400, "InvalidParameter.Value", "The record value must be a valid domain name.");
  }
  const std::string root = rules::root_domain(value);
  const std::string fqdn = config_.verify_host + "." + root;
  const std::string token = token_for(*caller.account, root);
  std::optional<std::vector<std::string>> texts;
  if (!config_.resolver.empty()) {
    texts = query_txt(ServerAddress::parse(config_.resolver), fqdn);
  }
  if (!texts) {
    return error(400, "PtrTxtVerifyFailed",
                 "The TXT record of " + fqdn + " could not be resolved; try again later.");
  }
  if (std::find(texts->begin(), texts->end(), token) == texts->end()) {
    return error(400, "PtrTxtVerifyFailed",
                 "The TXT record " + fqdn + " does not hold the verification value.");
  }
  return std::nullopt;
}

void Cloud::publish(const StoredPtr& record, bool present) {
  if (config_.knot.empty()) return;
  const std::string name = rules::reverse_name(record.ip);
  const std::string zone = zone_for(config_.zones, name);
  if (zone.empty()) {
    log_("publish: no configured zone holds " + name + "; not published");
    return;
  }
  const std::string failure = update_ptr(ServerAddress::parse(config_.knot), zone, name,
                                         present ? record.value : std::string(), record.ttl);
  log_(failure.empty() ? fmt::format("publish: {} {} {}", name, present ? "->" : "removed",
                                     present ? record.value : "")
                       : "publish: " + name + ": " + failure);
}

Reply Cloud::create(Caller& caller) {
  const ActionSpec& spec = config_.actions.create;
  const std::string region = param(caller.params, spec.wire("region"));
  const std::string ip = param(caller.params, spec.wire("ip"));
  const std::string name = param(caller.params, spec.wire("name"));
  const std::string value = param(caller.params, spec.wire("value"));
  for (const auto& [logical, text] :
       {std::pair{"ip", ip}, std::pair{"name", name}, std::pair{"value", value}}) {
    if (text.empty()) {
      const std::string wire = spec.wire(logical);
      return error(400, "MissingParameter." + wire,
                   "The input parameter " + wire +
                       " that is mandatory for processing this request is not supplied.");
    }
  }
  if (!is_ipv4(ip)) {
    return error(400, "InvalidParameter.IpAddress", "Only IPv4 addresses are supported.");
  }
  int ttl = rules::kDefaultTtl;
  if (auto refused = check_ttl(param(caller.params, spec.wire("ttl")), ttl)) return *refused;
  if (lower(strip_dot(name)) != rules::reverse_name(ip)) {
    return error(400, "InvalidParameter.RR",
                 "The PTR record name must be " + rules::reverse_name(ip) + ".");
  }
  if (!owns(*caller.account, region, ip)) return error(400, "PtrIpInfoMismatch", kMismatch);
  for (const auto& record : records_) {
    if (record.ip == ip) {
      return error(400, "PtrRecordDuplicate", "The IP address already has a PTR record.");
    }
  }
  if (auto refused = check_value(caller, value)) return *refused;
  StoredPtr record{fmt::format("ptr-{}", next_record_++),
                   caller.account->id,
                   region,
                   ip,
                   strip_dot(value),
                   ttl,
                   true};
  records_.push_back(record);
  publish(record, true);
  return ok({{"RecordId", record.id}});
}

Reply Cloud::describe(Caller& caller) {
  const ActionSpec& spec = config_.actions.describe;
  const std::string region = param(caller.params, spec.wire("region"));
  const std::string ip = param(caller.params, spec.wire("ip"));
  int page = 1;
  int size = 20;
  try {
    if (auto text = param(caller.params, spec.wire("page")); !text.empty()) page = std::stoi(text);
    if (auto text = param(caller.params, spec.wire("page_size")); !text.empty()) {
      size = std::stoi(text);
    }
  } catch (const std::exception&) {
    return error(400, "InvalidParameter.PageNumber", "Paging parameters must be numbers.");
  }
  if (page < 1 || size < 1 || size > 500) {
    return error(400, "InvalidParameter.PageSize", "PageSize must be 1-500, PageNumber >= 1.");
  }
  std::vector<const StoredPtr*> matching;
  int billable = 0;
  for (const auto& record : records_) {
    if (record.account != caller.account->id) continue;
    ++billable;  // disabled records are billed too
    if (record.region == region && (ip.empty() || record.ip == ip)) matching.push_back(&record);
  }
  Json list = Json::array();
  for (std::size_t i = static_cast<std::size_t>((page - 1) * size);
       i < matching.size() && list.size() < static_cast<std::size_t>(size); ++i) {
    list.push_back(record_json(*matching[i]));
  }
  return ok({{"TotalCount", matching.size()},
             {"PageNumber", page},
             {"PageSize", size},
             {"PtrRecords", {{"PtrRecord", list}}},
             {"Billing",
              {{"BillableRecords", billable},
               {"DailyFee", billable * config_.daily_fee},
               {"ChargedTotal", caller.account->charged},
               {"Currency", config_.currency}}}});
}

Reply Cloud::update(Caller& caller) {
  const ActionSpec& spec = config_.actions.update;
  const std::string id = param(caller.params, spec.wire("record_id"));
  const std::string value = param(caller.params, spec.wire("value"));
  auto record = std::find_if(records_.begin(), records_.end(), [&](const StoredPtr& r) {
    return r.id == id && r.account == caller.account->id;
  });
  if (record == records_.end()) {
    return error(400, "InvalidRecordId.NotFound", "The PTR record does not exist.");
  }
  if (value.empty()) {
    return error(400, "MissingParameter." + spec.wire("value"), "No record value given.");
  }
  int ttl = record->ttl;
  if (auto refused = check_ttl(param(caller.params, spec.wire("ttl")), ttl)) return *refused;
  if (!owns(*caller.account, record->region, record->ip)) {
    return error(400, "PtrIpInfoMismatch", kMismatch);
  }
  if (auto refused = check_value(caller, value)) return *refused;
  record->value = strip_dot(value);
  record->ttl = ttl;
  if (record->enabled) publish(*record, true);
  return ok({{"RecordId", record->id}});
}

Reply Cloud::set_status(Caller& caller) {
  const ActionSpec& spec = config_.actions.set_status;
  const std::string id = param(caller.params, spec.wire("record_id"));
  const std::string status = param(caller.params, spec.wire("status"));
  auto record = std::find_if(records_.begin(), records_.end(), [&](const StoredPtr& r) {
    return r.id == id && r.account == caller.account->id;
  });
  if (record == records_.end()) {
    return error(400, "InvalidRecordId.NotFound", "The PTR record does not exist.");
  }
  if (status != "Enable" && status != "Disable") {
    return error(400, "InvalidParameter.Status", "Status must be Enable or Disable.");
  }
  if (status == "Enable" && !owns(*caller.account, record->region, record->ip)) {
    return error(400, "PtrIpInfoMismatch", kMismatch);
  }
  record->enabled = status == "Enable";
  publish(*record, record->enabled);
  return ok({{"Status", status}});
}

Reply Cloud::remove(Caller& caller) {
  const ActionSpec& spec = config_.actions.remove;
  const std::string id = param(caller.params, spec.wire("record_id"));
  auto record = std::find_if(records_.begin(), records_.end(), [&](const StoredPtr& r) {
    return r.id == id && r.account == caller.account->id;
  });
  if (record == records_.end()) {
    return error(400, "InvalidRecordId.NotFound", "The PTR record does not exist.");
  }
  publish(*record, false);
  records_.erase(record);
  return ok({{"RecordId", id}});
}

Reply Cloud::verify_txt(Caller& caller) {
  const ActionSpec& spec = config_.actions.verify_txt;
  const std::string domain = param(caller.params, spec.wire("domain"));
  if (domain.empty() || !rules::acceptable_value(domain)) {
    return error(400, "InvalidParameter.DomainName", "DomainName must be a domain name.");
  }
  const std::string root = rules::root_domain(domain);
  return ok({{"DomainName", root},
             {"RR", config_.verify_host},
             {"Value", token_for(*caller.account, root)}});
}

Reply Cloud::describe_eips(Caller& caller) {
  const ActionSpec& spec = config_.actions.describe_eips;
  const std::string region = param(caller.params, spec.wire("region"));
  std::set<std::string> wanted;
  const std::string list = param(caller.params, spec.wire("ips"));
  for (std::size_t start = 0; start < list.size();) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    wanted.insert(list.substr(start, end - start));
    start = end + 1;
  }
  if (wanted.size() > 50) {
    return error(400, "InvalidParameter.EipAddress", "At most 50 EipAddress values per call.");
  }
  Json items = Json::array();
  if (const auto it = caller.account->regions.find(region); it != caller.account->regions.end()) {
    for (const auto& eip : it->second.eips) {
      if (!wanted.empty() && !wanted.contains(eip.ip)) continue;
      items.push_back({{"IpAddress", eip.ip},
                       {"AllocationId", eip.allocation_id},
                       {"InstanceId", eip.instance_id},
                       {"RegionId", region},
                       {"Status", eip.instance_id.empty() ? "Available" : "InUse"}});
    }
  }
  return ok({{"TotalCount", items.size()},
             {"PageNumber", 1},
             {"PageSize", 100},
             {"EipAddresses", {{"EipAddress", items}}}});
}

Reply Cloud::describe_instances(Caller& caller) {
  const ActionSpec& spec = config_.actions.describe_instances;
  const std::string region = param(caller.params, spec.wire("region"));
  std::set<std::string> wanted;
  const std::string text = param(caller.params, spec.wire("ips"));
  if (!text.empty()) {
    const Json list = Json::parse(text, nullptr, false);
    if (!list.is_array()) {
      return error(400, "InvalidParameter.PublicIpAddresses",
                   "PublicIpAddresses must be a JSON array.");
    }
    for (const auto& ip : list) {
      if (ip.is_string()) wanted.insert(ip.get<std::string>());
    }
    if (list.size() > 100) {
      return error(400, "InvalidParameter.PublicIpAddresses", "At most 100 addresses per call.");
    }
  }
  Json items = Json::array();
  if (const auto it = caller.account->regions.find(region); it != caller.account->regions.end()) {
    for (const auto& instance : it->second.instances) {
      const bool match =
          wanted.empty() || std::any_of(instance.public_ips.begin(), instance.public_ips.end(),
                                        [&](const std::string& ip) { return wanted.contains(ip); });
      if (!match) continue;
      items.push_back({{"InstanceId", instance.id},
                       {"RegionId", region},
                       {"Status", "Running"},
                       {"PublicIpAddress", {{"IpAddress", instance.public_ips}}}});
    }
  }
  return ok({{"TotalCount", items.size()},
             {"PageNumber", 1},
             {"PageSize", 100},
             {"Instances", {{"Instance", items}}}});
}

}  // namespace rdns::emulator
