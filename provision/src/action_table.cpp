#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <provision/api_error.hpp>
#include <provision/client_config.hpp>

namespace rdns::provision {
namespace {

using Json = nlohmann::json;

ActionSpec spec(std::string product, std::string action, std::string version,
                std::map<std::string, std::string> params,
                std::map<std::string, std::string> fixed = {}) {
  ActionSpec result;
  result.product = std::move(product);
  result.action = std::move(action);
  result.version = std::move(version);
  result.params = std::move(params);
  result.fixed = std::move(fixed);
  return result;
}

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  throw Error(Errc::input, source + ": " + what);
}

void overlay_strings(std::map<std::string, std::string>& target, const Json& object,
                     const std::string& source, const std::string& key) {
  if (!object.is_object()) bad(source, "\"" + key + "\" must be an object of strings");
  for (const auto& [name, value] : object.items()) {
    if (!value.is_string()) bad(source, "\"" + key + "." + name + "\" must be a string");
    target[name] = value.get<std::string>();
  }
}

void overlay_spec(ActionSpec& target, const Json& object, const std::string& source,
                  const std::string& key) {
  if (!object.is_object()) bad(source, "\"actions." + key + "\" must be an object");
  for (const auto& [name, value] : object.items()) {
    const std::string path = "actions." + key + "." + name;
    if (name == "params") {
      overlay_strings(target.params, value, source, path);
    } else if (name == "fixed") {
      overlay_strings(target.fixed, value, source, path);
    } else if (!value.is_string()) {
      bad(source, "\"" + path + "\" must be a string");
    } else if (name == "product") {
      target.product = value.get<std::string>();
    } else if (name == "action") {
      target.action = value.get<std::string>();
    } else if (name == "version") {
      target.version = value.get<std::string>();
    } else if (name == "signature") {
      const auto text = value.get<std::string>();
      if (text != "v3" && text != "v2") bad(source, "\"" + path + "\" must be \"v3\" or \"v2\"");
      target.signature = text == "v3" ? SignatureVersion::v3 : SignatureVersion::v2;
    } else {
      bad(source, "unknown key \"" + path + "\"");
    }
  }
}

}  // namespace

std::string ActionSpec::wire(const std::string& logical) const {
  const auto it = params.find(logical);
  return it == params.end() ? logical : it->second;
}

ActionTable ActionTable::defaults() {
  // Alidns has no public PTR action; these names follow its record actions
  // (AddDomainRecord, DescribeDomainRecords, ...) and are configuration.
  constexpr const char* kDns = "2015-01-09";
  ActionTable table;
  table.create = spec("alidns", "AddPtrRecord", kDns,
                      {{"region", "RegionId"},
                       {"ip", "IpAddress"},
                       {"name", "RR"},
                       {"value", "Value"},
                       {"ttl", "TTL"}},
                      {{"Type", "PTR"}});
  table.describe = spec("alidns", "DescribePtrRecords", kDns,
                        {{"region", "RegionId"},
                         {"ip", "IpAddress"},
                         {"page", "PageNumber"},
                         {"page_size", "PageSize"}});
  table.update =
      spec("alidns", "UpdatePtrRecord", kDns,
           {{"region", "RegionId"}, {"record_id", "RecordId"}, {"value", "Value"}, {"ttl", "TTL"}},
           {{"Type", "PTR"}});
  table.set_status =
      spec("alidns", "SetPtrRecordStatus", kDns,
           {{"region", "RegionId"}, {"record_id", "RecordId"}, {"status", "Status"}});
  table.remove =
      spec("alidns", "DeletePtrRecord", kDns, {{"region", "RegionId"}, {"record_id", "RecordId"}});
  table.verify_txt =
      spec("alidns", "GetTxtRecordForVerify", kDns,
           {{"region", "RegionId"}, {"domain", "DomainName"}}, {{"Type", "ADD_PTR"}});
  table.describe_eips = spec("vpc", "DescribeEipAddresses", "2016-04-28",
                             {{"region", "RegionId"},
                              {"ips", "EipAddress"},
                              {"page", "PageNumber"},
                              {"page_size", "PageSize"}});
  table.describe_instances = spec("ecs", "DescribeInstances", "2014-05-26",
                                  {{"region", "RegionId"},
                                   {"ips", "PublicIpAddresses"},
                                   {"page", "PageNumber"},
                                   {"page_size", "PageSize"}});
  table.endpoints = {{"alidns", "alidns.{region}.aliyuncs.com"},
                     {"vpc", "vpc.{region}.aliyuncs.com"},
                     {"ecs", "ecs.{region}.aliyuncs.com"}};
  table.endpoint_exceptions = {{"vpc/cn-hangzhou", "vpc.aliyuncs.com"},
                               {"ecs/cn-hangzhou", "ecs-cn-hangzhou.aliyuncs.com"}};
  table.ip_not_owned_codes = {"PtrIpInfoMismatch"};
  table.verification_failed_codes = {"PtrTxtVerifyFailed"};
  return table;
}

ActionTable ActionTable::from_json(std::string_view json, const std::string& source) {
  Json document;
  try {
    document = Json::parse(json);
  } catch (const Json::parse_error& error) {
    bad(source, fmt::format("not valid JSON (at byte {})", error.byte));
  }
  if (!document.is_object()) bad(source, "must hold a JSON object");
  ActionTable table = defaults();
  const std::map<std::string, ActionSpec*> specs = {
      {"create", &table.create},
      {"describe", &table.describe},
      {"update", &table.update},
      {"set_status", &table.set_status},
      {"delete", &table.remove},
      {"verify_txt", &table.verify_txt},
      {"describe_eips", &table.describe_eips},
      {"describe_instances", &table.describe_instances}};
  for (const auto& [key, value] : document.items()) {
    if (key == "actions") {
      if (!value.is_object()) bad(source, "\"actions\" must be an object");
      for (const auto& [name, object] : value.items()) {
        const auto it = specs.find(name);
        if (it == specs.end()) bad(source, "unknown action \"" + name + "\"");
        overlay_spec(*it->second, object, source, name);
      }
    } else if (key == "endpoints") {
      overlay_strings(table.endpoints, value, source, key);
    } else if (key == "endpoint_exceptions") {
      overlay_strings(table.endpoint_exceptions, value, source, key);
    } else if (key == "ip_not_owned_codes" || key == "verification_failed_codes") {
      auto& target =
          key == "ip_not_owned_codes" ? table.ip_not_owned_codes : table.verification_failed_codes;
      if (!value.is_array()) bad(source, "\"" + key + "\" must be an array of strings");
      target.clear();
      for (const auto& code : value) {
        if (!code.is_string()) bad(source, "\"" + key + "\" must be an array of strings");
        target.push_back(code.get<std::string>());
      }
    } else {
      bad(source, "unknown key \"" + key + "\"");
    }
  }
  return table;
}

ActionTable ActionTable::from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(Errc::input, "cannot read the action table " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return from_json(text.str(), path.string());
}

std::string ActionTable::endpoint_for(const std::string& product, const std::string& region) const {
  if (const auto it = endpoint_exceptions.find(product + "/" + region);
      it != endpoint_exceptions.end()) {
    return "https://" + it->second;
  }
  const auto it = endpoints.find(product);
  if (it == endpoints.end()) {
    throw Error(Errc::input, "no endpoint configured for product \"" + product + "\"");
  }
  std::string host = it->second;
  if (const auto at = host.find("{region}"); at != std::string::npos) {
    host.replace(at, 8, region);
  }
  return "https://" + host;
}

bool retried_with_backoff(ApiErrorKind kind) {
  return kind == ApiErrorKind::throttled || kind == ApiErrorKind::unavailable ||
         kind == ApiErrorKind::network;
}

const char* to_string(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::throttled:
      return "throttled";
    case ApiErrorKind::unavailable:
      return "unavailable";
    case ApiErrorKind::network:
      return "network";
    case ApiErrorKind::stale_request:
      return "stale_request";
    case ApiErrorKind::auth:
      return "auth";
    case ApiErrorKind::validation:
      return "validation";
    case ApiErrorKind::ip_not_owned:
      return "ip_not_owned";
    case ApiErrorKind::duplicate:
      return "duplicate";
    case ApiErrorKind::verification_failed:
      return "verification_failed";
    case ApiErrorKind::not_found:
      return "not_found";
    case ApiErrorKind::conflict:
      return "conflict";
    case ApiErrorKind::unknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace rdns::provision
