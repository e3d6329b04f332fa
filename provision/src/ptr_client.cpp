#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <provision/ptr_client.hpp>
#include <util/ascii.hpp>

#include "responses.hpp"
#include "rpc.hpp"

namespace rdns::provision {
namespace {

using detail::Json;
using detail::RpcClient;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  for (;;) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

std::string reverse_name(const std::string& ipv4) {
  in_addr address{};
  if (::inet_pton(AF_INET, ipv4.c_str(), &address) != 1) {
    throw Error(Errc::input, "not an IPv4 address: \"" + ipv4 + "\" (PTR records are IPv4 only)");
  }
  const auto octets = split(ipv4, '.');
  return octets[3] + "." + octets[2] + "." + octets[1] + "." + octets[0] + ".in-addr.arpa";
}

bool is_valid_ptr_value(const std::string& value) {
  std::string name = value;
  if (name.ends_with('.')) name.pop_back();
  if (name.empty() || name.size() > 253) return false;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, name.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, name.c_str(), &v6) == 1)
    return false;
  const auto labels = split(name, '.');
  if (labels.size() < 2) return false;
  for (const auto& label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (unsigned char c : label) {
      if (std::isalnum(c) == 0 && c != '-') return false;  // '*' and '_' included
    }
  }
  // A top-level label of digits only would make the name look like an address.
  const auto& top = labels.back();
  return !std::all_of(top.begin(), top.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string root_domain(const std::string& value) {
  std::string name = ascii_lower(value);
  if (name.ends_with('.')) name.pop_back();
  const auto last = name.rfind('.');
  if (last == std::string::npos || last == 0) return name;
  const auto before = name.rfind('.', last - 1);
  return before == std::string::npos ? name : name.substr(before + 1);
}

namespace {

void validate_value_and_ttl(const std::string& value, int ttl) {
  if (!is_valid_ptr_value(value)) {
    throw Error(Errc::input, "PTR value \"" + value +
                                 "\" is not a host name (no wildcard, no IP literal, at least two "
                                 "labels)");
  }
  if (ttl < 1 || ttl > 86400) {
    throw Error(Errc::input, fmt::format("TTL {} is outside 1-86400 seconds", ttl));
  }
}

}  // namespace

void validate_ptr_request(const std::string& ip, const std::string& value, int ttl) {
  reverse_name(ip);
  validate_value_and_ttl(value, ttl);
}

/// PtrClient's state: the RPC caller.
class PtrClient::Impl {
 public:
  Impl(ClientConfig config, Credentials credentials)
      : rpc(std::move(config), std::move(credentials)) {}
  const ActionTable& table() const { return rpc.config().actions; }
  bool validating() const { return rpc.config().validation == LocalValidation::on; }
  /// A write: on a fresh connection, and remembers the RequestId of the
  /// answer, for the journal.
  Json write(const ActionSpec& spec, Params params, const detail::Reconcile& reconcile = {}) {
    last_request_id.clear();
    Json body = rpc.call(spec, std::move(params), reconcile, RpcClient::Reuse::fresh_connection);
    last_request_id = detail::decode_request_id(body);
    return body;
  }
  RpcClient rpc;
  std::string last_request_id;
};

PtrClient::PtrClient(ClientConfig config, Credentials credentials)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(credentials))) {}
PtrClient::~PtrClient() = default;

PtrRecord PtrClient::create(const std::string& ip, const std::string& value, int ttl) {
  if (impl_->validating()) validate_ptr_request(ip, value, ttl);
  const ActionSpec& spec = impl_->table().create;
  std::string name;
  try {
    name = reverse_name(ip);
  } catch (const Error&) {
    if (impl_->validating()) throw;
    name = ip;  // let the server judge it
  }
  const Params params = {{spec.wire("ip"), ip},
                         {spec.wire("name"), name},
                         {spec.wire("value"), value},
                         {spec.wire("ttl"), std::to_string(ttl)}};
  // Create is not idempotent: after an answer that never came (or a 5xx the
  // server may have acted on), look before creating a second time.
  auto reconcile = [&]() -> std::optional<Json> {
    for (const auto& record : describe(ip).records) {
      if (ascii_lower(record.value) == ascii_lower(value))
        return Json{{"RecordId", record.record_id}};
    }
    return std::nullopt;
  };
  Json body;
  try {
    body = impl_->write(spec, params, reconcile);
  } catch (const ApiError& error) {
    // The record this create asks for is already there (an earlier create
    // whose outcome this process never saw landed first): that is success.
    if (error.kind() != ApiErrorKind::duplicate) throw;
    auto found = reconcile();
    if (!found) throw;
    body = std::move(*found);
  }
  PtrRecord record;
  record.record_id = detail::decode_record_id(body);
  record.ip = ip;
  record.name = name;
  record.value = value;
  record.ttl = ttl;
  return record;
}

PtrListing PtrClient::describe(const std::optional<std::string>& ip) {
  const ActionSpec& spec = impl_->table().describe;
  constexpr int kPageSize = 100;
  PtrListing listing;
  for (int page = 1;; ++page) {
    Params params = {{spec.wire("page"), std::to_string(page)},
                     {spec.wire("page_size"), std::to_string(kPageSize)}};
    if (ip) params.emplace_back(spec.wire("ip"), *ip);
    detail::PtrPage decoded = detail::decode_ptr_page(impl_->rpc.call(spec, params));
    const bool empty = decoded.records.empty();
    for (auto& record : decoded.records) listing.records.push_back(std::move(record));
    if (decoded.has_billing) listing.billing = decoded.billing;
    if (empty || static_cast<long long>(listing.records.size()) >= decoded.total_count) {
      return listing;
    }
  }
}

void PtrClient::update(const std::string& record_id, const std::string& value, int ttl) {
  if (impl_->validating()) validate_value_and_ttl(value, ttl);
  const ActionSpec& spec = impl_->table().update;
  impl_->write(spec, {{spec.wire("record_id"), record_id},
                      {spec.wire("value"), value},
                      {spec.wire("ttl"), std::to_string(ttl)}});
}

void PtrClient::set_status(const std::string& record_id, PtrStatus status) {
  const ActionSpec& spec = impl_->table().set_status;
  impl_->write(spec, {{spec.wire("record_id"), record_id},
                      {spec.wire("status"), status == PtrStatus::enabled ? "Enable" : "Disable"}});
}

void PtrClient::remove(const std::string& record_id) {
  const ActionSpec& spec = impl_->table().remove;
  // After an answer that never came, a record already gone was deleted by
  // that attempt: sending the delete again would only get "not found".
  auto reconcile = [&]() -> std::optional<Json> {
    for (const auto& record : describe().records) {
      if (record.record_id == record_id) return std::nullopt;
    }
    return Json::object();
  };
  impl_->write(spec, {{spec.wire("record_id"), record_id}}, reconcile);
}

const std::string& PtrClient::last_request_id() const {
  return impl_->last_request_id;
}

VerificationTxt PtrClient::verification_txt(const std::string& value) {
  const ActionSpec& spec = impl_->table().verify_txt;
  const std::string domain = root_domain(value);
  const Json body = impl_->rpc.call(spec, {{spec.wire("domain"), domain}});
  return detail::decode_verification_txt(body, domain);
}

/// OwnershipChecker's state: the RPC caller.
class OwnershipChecker::Impl {
 public:
  Impl(ClientConfig config, Credentials credentials)
      : rpc(std::move(config), std::move(credentials)) {}
  RpcClient rpc;
};

OwnershipChecker::OwnershipChecker(ClientConfig config, Credentials credentials)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(credentials))) {}
OwnershipChecker::~OwnershipChecker() = default;

std::vector<Ownership> OwnershipChecker::check(const std::vector<std::string>& ips) {
  // The documented batch limits: 50 EIPs a call, 100 public IPs a call.
  constexpr std::size_t kEipBatch = 50;
  constexpr std::size_t kInstanceBatch = 100;
  std::vector<std::string> unique;
  for (const auto& ip : ips) {
    reverse_name(ip);  // IPv4 only, as PTR records are
    if (std::find(unique.begin(), unique.end(), ip) == unique.end()) unique.push_back(ip);
  }
  std::map<std::string, Ownership> found;
  const ActionTable& table = impl_->rpc.config().actions;

  for (std::size_t at = 0; at < unique.size(); at += kEipBatch) {
    const auto end = std::min(unique.size(), at + kEipBatch);
    std::string list;
    for (auto i = at; i < end; ++i) list += (list.empty() ? "" : ",") + unique[i];
    const ActionSpec& spec = table.describe_eips;
    const Json body = impl_->rpc.call(
        spec,
        {{spec.wire("ips"), list}, {spec.wire("page"), "1"}, {spec.wire("page_size"), "100"}});
    for (auto& owned : detail::decode_eips(body)) found[owned.ip] = std::move(owned);
  }

  std::vector<std::string> rest;
  for (const auto& ip : unique) {
    if (!found.contains(ip)) rest.push_back(ip);
  }
  for (std::size_t at = 0; at < rest.size(); at += kInstanceBatch) {
    const auto end = std::min(rest.size(), at + kInstanceBatch);
    const Json list(std::vector<std::string>(rest.begin() + static_cast<long>(at),
                                             rest.begin() + static_cast<long>(end)));
    const ActionSpec& spec = table.describe_instances;
    const std::set<std::string> wanted(rest.begin() + static_cast<long>(at),
                                       rest.begin() + static_cast<long>(end));
    for (int page = 1;; ++page) {
      const Json body = impl_->rpc.call(spec, {{spec.wire("ips"), list.dump()},
                                               {spec.wire("page"), std::to_string(page)},
                                               {spec.wire("page_size"), "100"}});
      std::size_t instances = 0;
      for (auto& owned : detail::decode_instances(body, wanted, instances)) {
        found[owned.ip] = std::move(owned);
      }
      if (instances < 100) break;
    }
  }

  std::vector<Ownership> out;
  for (const auto& ip : ips) {
    if (const auto it = found.find(ip); it != found.end()) {
      out.push_back(it->second);
    } else {
      Ownership none;
      none.ip = ip;
      out.push_back(none);
    }
  }
  return out;
}

}  // namespace rdns::provision
