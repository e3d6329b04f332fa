#include "responses.hpp"

#include <limits>

#include <fmt/format.h>

#include <util/error.hpp>

namespace rdns::provision::detail {
namespace {

[[noreturn]] void malformed(const char* field, const char* expected) {
  throw Error(Errc::cloud, fmt::format("the cloud API answered with a malformed body: {} is not {}",
                                       field, expected));
}

/// A string field; numbers are accepted as their decimal text (ids are
/// sometimes numeric). Absent or null is "".
std::string text_of(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  if (it->is_number_unsigned()) return std::to_string(it->get<unsigned long long>());
  malformed(key, "a string");
}

/// An integer field within [low, high]; absent or null is `fallback`.
long long integer_of(const Json& object, const char* key, long long fallback, long long low,
                     long long high) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (it->is_number_integer() && !it->is_number_unsigned()) {
    const long long value = it->get<long long>();
    if (value >= low && value <= high) return value;
  } else if (it->is_number_unsigned()) {
    const unsigned long long value = it->get<unsigned long long>();
    if (value <= static_cast<unsigned long long>(high)) return static_cast<long long>(value);
  }
  malformed(key, fmt::format("an integer from {} to {}", low, high).c_str());
}

double amount_of(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return 0;
  if (!it->is_number()) malformed(key, "a number");
  const double value = it->get<double>();
  if (!(value >= 0 && value < 1e15)) malformed(key, "a non-negative amount");
  return value;
}

/// The array at object[outer][inner], as the RPC APIs nest lists; empty
/// when absent.
const Json& nested_array(const Json& object, const char* outer, const char* inner) {
  static const Json kEmpty = Json::array();
  if (!object.is_object()) return kEmpty;
  const auto a = object.find(outer);
  if (a == object.end() || a->is_null()) return kEmpty;
  if (!a->is_object()) malformed(outer, "an object");
  const auto b = a->find(inner);
  if (b == a->end() || b->is_null()) return kEmpty;
  if (!b->is_array()) malformed(inner, "an array");
  return *b;
}

const Json& object_item(const Json& item, const char* list) {
  if (!item.is_object()) malformed(list, "a list of objects");
  return item;
}

}  // namespace

PtrPage decode_ptr_page(const Json& body) {
  constexpr long long kMaxTtl = std::numeric_limits<int>::max();
  PtrPage page;
  for (const Json& entry : nested_array(body, "PtrRecords", "PtrRecord")) {
    const Json& item = object_item(entry, "PtrRecord");
    PtrRecord record;
    record.record_id = text_of(item, "RecordId");
    record.ip = text_of(item, "IpAddress");
    record.name = text_of(item, "RR");
    record.value = text_of(item, "Value");
    record.ttl = static_cast<int>(integer_of(item, "TTL", record.ttl, 0, kMaxTtl));
    record.status = text_of(item, "Status") == "DISABLE" ? PtrStatus::disabled : PtrStatus::enabled;
    page.records.push_back(std::move(record));
  }
  if (const auto billing = body.find("Billing"); billing != body.end() && !billing->is_null()) {
    if (!billing->is_object()) malformed("Billing", "an object");
    page.has_billing = true;
    page.billing.billable_records = static_cast<int>(
        integer_of(*billing, "BillableRecords", 0, 0, std::numeric_limits<int>::max()));
    page.billing.daily_fee = amount_of(*billing, "DailyFee");
    page.billing.charged_total = amount_of(*billing, "ChargedTotal");
    page.billing.currency = text_of(*billing, "Currency");
  }
  page.total_count = integer_of(body, "TotalCount", 0, 0, std::numeric_limits<long long>::max());
  return page;
}

VerificationTxt decode_verification_txt(const Json& body, const std::string& domain) {
  VerificationTxt txt;
  txt.domain = text_of(body, "DomainName");
  if (txt.domain.empty()) txt.domain = domain;
  txt.host = text_of(body, "RR");
  txt.value = text_of(body, "Value");
  return txt;
}

std::string decode_record_id(const Json& body) {
  return text_of(body, "RecordId");
}

std::string decode_request_id(const Json& body) {
  // Only the journal keeps it: an odd RequestId must not fail a call that
  // was carried out.
  const auto it = body.is_object() ? body.find("RequestId") : body.end();
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<Ownership> decode_eips(const Json& body) {
  std::vector<Ownership> out;
  for (const Json& entry : nested_array(body, "EipAddresses", "EipAddress")) {
    const Json& item = object_item(entry, "EipAddress");
    Ownership owned;
    owned.ip = text_of(item, "IpAddress");
    owned.role = IpRole::eip;
    owned.resource_id = text_of(item, "AllocationId");
    owned.status = text_of(item, "Status");
    out.push_back(std::move(owned));
  }
  return out;
}

std::vector<Ownership> decode_instances(const Json& body, const std::set<std::string>& wanted,
                                        std::size_t& instances) {
  std::vector<Ownership> out;
  const Json& list = nested_array(body, "Instances", "Instance");
  instances = list.size();
  for (const Json& entry : list) {
    const Json& instance = object_item(entry, "Instance");
    for (const Json& address : nested_array(instance, "PublicIpAddress", "IpAddress")) {
      if (!address.is_string()) malformed("IpAddress", "a list of strings");
      if (!wanted.contains(address.get<std::string>())) continue;
      Ownership owned;
      owned.ip = address.get<std::string>();
      owned.role = IpRole::ecs_public_ip;
      owned.resource_id = text_of(instance, "InstanceId");
      owned.status = text_of(instance, "Status");
      out.push_back(std::move(owned));
    }
  }
  return out;
}

}  // namespace rdns::provision::detail
