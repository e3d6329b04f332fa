#include "ec2.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <unistd.h>

#include "dns.hpp"

namespace rdns::emulator {
namespace {

constexpr const char* kVersion = "2016-11-15";
constexpr const char* kNamespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string element(const char* name, const std::string& text) {
  return fmt::format("<{0}>{1}</{0}>", name, xml_escape(text));
}

/// name=value pairs of a form body or a query string, decoded.
void add_form(std::string_view text, std::map<std::string, std::string>& params) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      params[url_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
}

std::string param(const std::map<std::string, std::string>& params, const std::string& name) {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

/// The values of Prefix.1, Prefix.2, ... in order.
std::vector<std::string> numbered(const std::map<std::string, std::string>& params,
                                  const std::string& prefix) {
  std::vector<std::string> values;
  for (int i = 1; params.contains(prefix + "." + std::to_string(i)); ++i) {
    values.push_back(param(params, prefix + "." + std::to_string(i)));
  }
  return values;
}

std::string str(const Json& object, const char* key, const std::string& fallback = {}) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

/// EC2's rules for a reverse DNS name, from its documentation: a fully
/// qualified name of LDH labels (1-63 bytes, no leading or trailing hyphen),
/// 253 bytes at most, an optional trailing dot. Written here, not taken from
/// the client, so the emulator judges the client's values on its own.
bool acceptable_domain(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  if (name.empty() || name.size() > 253) return false;
  int labels = 0;
  std::size_t start = 0;
  for (;;) {
    const auto dot = name.find('.', start);
    const std::string label = name.substr(start, dot == std::string::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-') return false;
    }
    ++labels;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const std::string last = name.substr(name.rfind('.') + 1);
  const bool numeric_tld =
      std::all_of(last.begin(), last.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  return labels >= 2 && !numeric_tld;
}

/// "4.3.2.1.in-addr.arpa" for "1.2.3.4", built here for the same reason.
std::string arpa_name(const std::string& ip) {
  std::vector<std::string> octets;
  std::size_t start = 0;
  for (std::size_t dot; (dot = ip.find('.', start)) != std::string::npos; start = dot + 1) {
    octets.push_back(ip.substr(start, dot - start));
  }
  octets.push_back(ip.substr(start));
  std::string name;
  for (auto it = octets.rbegin(); it != octets.rend(); ++it) name += *it + ".";
  return name + "in-addr.arpa";
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string without_dot(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  return name;
}

Ec2Fault fault_from(const Json& item) {
  Ec2Fault fault;
  fault.action = str(item, "action", fault.action);
  fault.code = str(item, "code", fault.code);
  fault.message = str(item, "message", fault.message);
  fault.http_status = item.value("http_status", fault.http_status);
  fault.count = item.value("count", fault.count);
  return fault;
}

}  // namespace

Ec2Config Ec2Config::from_json(const Json& document, const std::string& source) {
  Ec2Config config;
  const auto ec2 = document.find("ec2");
  if (ec2 == document.end()) return config;
  if (!ec2->is_object()) throw std::runtime_error(source + ": \"ec2\" must be an object");
  config.pending = std::chrono::milliseconds(ec2->value("pending_ms", 2000));
  config.ptr_ttl = ec2->value("ptr_ttl", config.ptr_ttl);
  for (const auto& region : ec2->value("regions", Json::array())) {
    config.regions.push_back(region.get<std::string>());
  }
  for (const auto& item : ec2->value("faults", Json::array())) {
    config.faults.push_back(fault_from(item));
  }
  for (const auto& item : ec2->value("accounts", Json::array())) {
    Ec2Account account;
    account.id = str(item, "id");
    if (account.id.empty()) throw std::runtime_error(source + ": an ec2 account lacks \"id\"");
    for (const auto& key : item.value("access_keys", Json::array())) {
      account.keys.push_back({str(key, "id"), str(key, "secret"), str(key, "session_token")});
      if (account.keys.back().id.empty() || account.keys.back().secret.empty()) {
        throw std::runtime_error(source + ": an access key of ec2 account " + account.id +
                                 " lacks id or secret");
      }
    }
    const Json regions = item.value("regions", Json::object());
    for (const auto& [region, resources] : regions.items()) {
      auto& addresses = account.regions[region];
      for (const auto& address : resources.value("addresses", Json::array())) {
        Ec2Address parsed;
        parsed.ip = str(address, "ip");
        parsed.allocation_id = str(address, "allocation_id", "eipalloc-" + parsed.ip);
        parsed.instance_id = str(address, "instance_id");
        if (!parsed.instance_id.empty()) parsed.association_id = "eipassoc-" + parsed.instance_id;
        parsed.ptr = without_dot(str(address, "ptr"));
        addresses.push_back(parsed);
      }
    }
    config.accounts.push_back(account);
  }
  return config;
}

Ec2Api::Ec2Api(Ec2Config config, const EmulatorConfig& dns,
               std::function<void(const std::string&)> log)
    : config_(std::move(config)),
      resolver_(dns.resolver),
      knot_(dns.knot),
      zones_(dns.zones),
      log_(std::move(log)) {
  for (const auto& account : config_.accounts) {
    for (const auto& [region, addresses] : account.regions) policy_.regions.insert(region);
  }
  policy_.regions.insert(config_.regions.begin(), config_.regions.end());
  policy_.find_key = [this](const std::string& id) -> const Sigv4Key* {
    for (const auto& account : config_.accounts) {
      for (const auto& key : account.keys) {
        if (key.id == id) return &key;
      }
    }
    return nullptr;
  };
}

bool Ec2Api::accepts(const Incoming& request) {
  const auto path = request.target.substr(0, request.target.find('?'));
  if (path.starts_with("/_emulator/")) return path.starts_with("/_emulator/ec2/");
  const auto authorization = request.headers.find("authorization");
  if (authorization != request.headers.end()) {
    return authorization->second.starts_with("AWS4-HMAC-SHA256");
  }
  // Unsigned: a form POST is EC2's (the Alibaba-style API sends none).
  const auto type = request.headers.find("content-type");
  return request.method == "POST" && type != request.headers.end() &&
         type->second.starts_with("application/x-www-form-urlencoded");
}

std::string Ec2Api::request_id() {
  const long long number = next_request_++;
  return fmt::format("ec2e{:04x}-{:04x}-4000-8000-{:012x}", ::getpid() & 0xffff,
                     (number >> 16) & 0xffff, number);
}

Reply Ec2Api::ok(const std::string& action, const std::string& body) {
  Reply reply;
  reply.body = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{0}Response xmlns=\"{1}\">{2}{3}</{0}Response>",
      action, kNamespace, element("requestId", request_id()), body);
  return reply;
}

Reply Ec2Api::error(int status, const std::string& code, const std::string& message) {
  Reply reply;
  reply.status = status;
  reply.body = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>{}{}</Error></"
      "Errors>{}</Response>",
      element("Code", code), element("Message", message), element("RequestID", request_id()));
  return reply;
}

Reply Ec2Api::handle(const Incoming& request) {
  std::lock_guard lock(mutex_);
  const auto path = request.target.substr(0, request.target.find('?'));
  if (path.starts_with("/_emulator/ec2/")) return admin(request, path.substr(15));
  settle();

  Caller caller;
  if (const auto mark = request.target.find('?'); mark != std::string::npos) {
    add_form(std::string_view(request.target).substr(mark + 1), caller.params);
  }
  add_form(request.body, caller.params);
  const std::string action = param(caller.params, "Action");
  for (auto& fault : config_.faults) {
    if (fault.count == 0 || (fault.action != "*" && fault.action != action)) continue;
    if (fault.count > 0) --fault.count;
    log_(fmt::format("ec2 {}: injected fault {}", action, fault.code));
    return error(fault.http_status, fault.code, fault.message);
  }

  const Sigv4Verdict verdict = verify_sigv4(request, policy_, std::chrono::system_clock::now());
  if (!verdict.ok) {
    log_(fmt::format("ec2 {}: refused {}", action.empty() ? "-" : action, verdict.code));
    return error(verdict.http_status, verdict.code, verdict.message);
  }
  for (auto& account : config_.accounts) {
    for (const auto& key : account.keys) {
      if (&key == verdict.key) caller.account = &account;
    }
  }
  caller.region = verdict.region;
  Reply reply = dispatch(action, caller);
  log_(fmt::format("ec2 {} account {} {}: HTTP {}", action, caller.account->id, caller.region,
                   reply.status));
  return reply;
}

Reply Ec2Api::dispatch(const std::string& action, Caller& caller) {
  if (action.empty()) return error(400, "MissingAction", "The request must contain an Action.");
  if (param(caller.params, "Version") != kVersion) {
    return error(400, "InvalidParameterValue",
                 std::string("Version must be ") + kVersion + " for this endpoint.");
  }
  using Handler = Reply (Ec2Api::*)(Caller&);
  static const std::map<std::string, Handler> kHandlers = {
      {"DescribeAddresses", &Ec2Api::describe_addresses},
      {"DescribeAddressesAttribute", &Ec2Api::describe_attribute},
      {"ModifyAddressAttribute", &Ec2Api::modify_attribute},
      {"ResetAddressAttribute", &Ec2Api::reset_attribute}};
  const auto handler = kHandlers.find(action);
  if (handler == kHandlers.end()) {
    return error(400, "InvalidAction",
                 "The action " + action + " is not valid for this web service.");
  }
  return (this->*handler->second)(caller);
}

Ec2Address* Ec2Api::address_of(Caller& caller, const std::string& allocation_id) {
  for (auto& address : caller.account->regions[caller.region]) {
    if (address.allocation_id == allocation_id) return &address;
  }
  return nullptr;
}

Reply Ec2Api::describe_addresses(Caller& caller) {
  std::set<std::string> ips;
  std::set<std::string> allocations;
  for (const auto& ip : numbered(caller.params, "PublicIp")) ips.insert(ip);
  for (const auto& id : numbered(caller.params, "AllocationId")) allocations.insert(id);
  const auto& addresses = caller.account->regions[caller.region];
  // PublicIp and AllocationId name addresses that must exist; filters only narrow.
  for (const auto& ip : ips) {
    if (std::none_of(addresses.begin(), addresses.end(),
                     [&](const Ec2Address& a) { return a.ip == ip; })) {
      return error(400, "InvalidAddress.NotFound", "Address '" + ip + "' not found.");
    }
  }
  std::map<std::string, std::set<std::string>> filters;
  for (int i = 1; caller.params.contains(fmt::format("Filter.{}.Name", i)); ++i) {
    const std::string name = param(caller.params, fmt::format("Filter.{}.Name", i));
    if (name != "public-ip" && name != "allocation-id") {
      return error(400, "InvalidParameterValue", "The filter '" + name + "' is invalid");
    }
    for (const auto& value : numbered(caller.params, fmt::format("Filter.{}.Value", i))) {
      filters[name].insert(value);
    }
  }
  std::string items;
  for (const auto& address : addresses) {
    const bool wanted =
        (ips.empty() || ips.contains(address.ip)) &&
        (allocations.empty() || allocations.contains(address.allocation_id)) &&
        (!filters.contains("public-ip") || filters["public-ip"].contains(address.ip)) &&
        (!filters.contains("allocation-id") ||
         filters["allocation-id"].contains(address.allocation_id));
    if (!wanted) continue;
    items += "<item>" + element("publicIp", address.ip) +
             element("allocationId", address.allocation_id) + element("domain", "vpc");
    if (!address.association_id.empty()) {
      items += element("instanceId", address.instance_id) +
               element("associationId", address.association_id);
    }
    items += element("networkBorderGroup", caller.region) + element("publicIpv4Pool", "amazon") +
             "</item>";
  }
  return ok("DescribeAddresses", "<addressesSet>" + items + "</addressesSet>");
}

namespace {

std::string attribute_xml(const Ec2Address& address) {
  std::string out =
      element("publicIp", address.ip) + element("allocationId", address.allocation_id);
  if (!address.ptr.empty()) out += element("ptrRecord", address.ptr + ".");
  if (!address.update_status.empty()) {
    out += "<ptrRecordUpdate>";
    if (!address.update_value.empty()) out += element("value", address.update_value + ".");
    out += element("status", address.update_status);
    if (!address.update_reason.empty()) out += element("reason", address.update_reason);
    out += "</ptrRecordUpdate>";
  }
  return out;
}

}  // namespace

Reply Ec2Api::describe_attribute(Caller& caller) {
  if (param(caller.params, "Attribute") != "domain-name") {
    return error(400, "InvalidParameterValue",
                 "Value (" + param(caller.params, "Attribute") +
                     ") for parameter attribute is invalid. Expected: 'domain-name'.");
  }
  int max_results = 1000;
  std::size_t first = 0;
  try {
    if (auto text = param(caller.params, "MaxResults"); !text.empty())
      max_results = std::stoi(text);
    if (auto text = param(caller.params, "NextToken"); !text.empty()) first = std::stoul(text);
  } catch (const std::exception&) {
    return error(400, "InvalidParameterValue", "MaxResults and NextToken must be numbers.");
  }
  if (max_results < 1 || max_results > 1000) {
    return error(400, "InvalidParameterValue", "MaxResults must be between 1 and 1000.");
  }
  std::vector<const Ec2Address*> chosen;
  const auto wanted = numbered(caller.params, "AllocationId");
  for (const auto& id : wanted) {
    const Ec2Address* address = address_of(caller, id);
    if (address == nullptr) {
      return error(400, "InvalidAllocationID.NotFound",
                   "The allocation ID '" + id + "' does not exist");
    }
    chosen.push_back(address);
  }
  if (wanted.empty()) {
    for (const auto& address : caller.account->regions[caller.region]) chosen.push_back(&address);
  }
  std::string items;
  std::size_t index = first;
  for (; index < chosen.size() && index < first + static_cast<std::size_t>(max_results); ++index) {
    items += "<item>" + attribute_xml(*chosen[index]) + "</item>";
  }
  std::string body = "<addressSet>" + items + "</addressSet>";
  if (index < chosen.size()) body += element("nextToken", std::to_string(index));
  return ok("DescribeAddressesAttribute", body);
}

std::string Ec2Api::forward_problem(const std::string& name, const std::string& ip) const {
  if (resolver_.empty()) return "no resolver is configured to check it";
  const auto addresses = query_a(ServerAddress::parse(resolver_), name);
  if (!addresses) return "the resolver did not answer";
  if (std::find(addresses->begin(), addresses->end(), ip) != addresses->end()) return {};
  return addresses->empty() ? "it has no A record" : "its A record does not hold " + ip;
}

Reply Ec2Api::modify_attribute(Caller& caller) {
  const std::string id = param(caller.params, "AllocationId");
  const std::string name = param(caller.params, "DomainName");
  if (id.empty() || name.empty()) {
    return error(400, "MissingParameter",
                 "The request must contain the parameters AllocationId and DomainName.");
  }
  Ec2Address* address = address_of(caller, id);
  if (address == nullptr) {
    return error(400, "InvalidAllocationID.NotFound",
                 "The allocation ID '" + id + "' does not exist");
  }
  if (!acceptable_domain(name)) {
    return error(400, "InvalidParameterValue", "Invalid domain name: '" + name + "'.");
  }
  // AWS requires the forward record first: the name must resolve to the address.
  if (const std::string problem = forward_problem(name, address->ip); !problem.empty()) {
    return error(400, "InvalidParameterValue",
                 fmt::format("The forward DNS record of {} does not resolve to {} ({}): create "
                             "the A record first.",
                             without_dot(name), address->ip, problem));
  }
  address->update_value = lower(without_dot(name));
  address->update_status = "PENDING";
  address->update_reason.clear();
  address->applies_at = std::chrono::steady_clock::now() + config_.pending;
  return ok("ModifyAddressAttribute", "<address>" + attribute_xml(*address) + "</address>");
}

Reply Ec2Api::reset_attribute(Caller& caller) {
  const std::string id = param(caller.params, "AllocationId");
  if (id.empty()) {
    return error(400, "MissingParameter", "The request must contain the parameter AllocationId.");
  }
  if (param(caller.params, "Attribute") != "domain-name") {
    return error(400, "InvalidParameterValue", "Attribute must be 'domain-name'.");
  }
  Ec2Address* address = address_of(caller, id);
  if (address == nullptr) {
    return error(400, "InvalidAllocationID.NotFound",
                 "The allocation ID '" + id + "' does not exist");
  }
  address->update_value.clear();
  address->update_status = "PENDING";
  address->update_reason.clear();
  address->applies_at = std::chrono::steady_clock::now() + config_.pending;
  return ok("ResetAddressAttribute", "<address>" + attribute_xml(*address) + "</address>");
}

void Ec2Api::settle() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& account : config_.accounts) {
    for (auto& [region, addresses] : account.regions) {
      for (auto& address : addresses) {
        if (address.update_status == "PENDING" && address.applies_at <= now) apply(address);
      }
    }
  }
}

void Ec2Api::apply(Ec2Address& address) {
  // The forward record is checked again when the update applies: one removed
  // meanwhile fails the update, as it would at AWS.
  if (!address.update_value.empty()) {
    if (const std::string problem = forward_problem(address.update_value, address.ip);
        !problem.empty()) {
      address.update_status = "FAILED";
      address.update_reason = "The forward DNS record of " + address.update_value +
                              " no longer resolves to " + address.ip + " (" + problem + ")";
      log_("ec2 update of " + address.ip + " FAILED: " + address.update_reason);
      return;
    }
  }
  address.ptr = address.update_value;
  address.update_status = "SUCCESSFUL";
  publish(address);
}

void Ec2Api::publish(const Ec2Address& address) {
  if (knot_.empty()) return;
  const std::string name = arpa_name(address.ip);
  const std::string zone = zone_for(zones_, name);
  if (zone.empty()) {
    log_("ec2 publish: no configured zone holds " + name + "; not published");
    return;
  }
  const std::string failure =
      update_ptr(ServerAddress::parse(knot_), zone, name, address.ptr, config_.ptr_ttl);
  log_(failure.empty() ? fmt::format("ec2 publish: {} {} {}", name,
                                     address.ptr.empty() ? "removed" : "->", address.ptr)
                       : "ec2 publish: " + name + ": " + failure);
}

Reply Ec2Api::admin(const Incoming& request, const std::string& path) {
  const Json body =
      request.body.empty() ? Json::object() : Json::parse(request.body, nullptr, false);
  Reply reply;
  if (body.is_discarded()) return {400, R"({"Code":"InvalidJson"})", false};
  if (path == "faults") {
    config_.faults.clear();
    if (request.method != "DELETE") {
      for (const auto& item : body.value("faults", Json::array())) {
        config_.faults.push_back(fault_from(item));
      }
    }
    reply.body = Json{{"Faults", config_.faults.size()}}.dump();
    return reply;
  }
  if (path == "addresses") {
    settle();
    Json list = Json::array();
    for (const auto& account : config_.accounts) {
      for (const auto& [region, addresses] : account.regions) {
        for (const auto& address : addresses) {
          list.push_back({{"Account", account.id},
                          {"Region", region},
                          {"PublicIp", address.ip},
                          {"AllocationId", address.allocation_id},
                          {"PtrRecord", address.ptr},
                          {"UpdateStatus", address.update_status}});
        }
      }
    }
    reply.body = Json{{"Addresses", list}}.dump();
    return reply;
  }
  return {404, R"({"Code":"InvalidAdminPath"})", false};
}

}  // namespace rdns::emulator
