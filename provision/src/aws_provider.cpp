// The EC2 Query API over libcurl: form-encoded POSTs signed with SigV4, XML
// answers, EC2's error envelope, and retries with a fresh signature.

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>

#include <provision/api_error.hpp>
#include <provision/aws_provider.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "curl_easy.hpp"
#include "rpc.hpp"
#include "sigv4.hpp"
#include "xml.hpp"

namespace rdns::provision {
namespace {

using namespace std::chrono_literals;
using sigv4::Pairs;

constexpr const char* kVersion = "2016-11-15";
constexpr const char* kAttribute = "domain-name";
/// Filter values per DescribeAddresses call.
constexpr std::size_t kAddressBatch = 50;

ApiErrorKind classify(const std::string& code, int status) {
  if (code == "RequestLimitExceeded" || code.starts_with("Throttling")) {
    return ApiErrorKind::throttled;
  }
  if (code == "AuthFailure" || code == "SignatureDoesNotMatch" || code == "UnauthorizedOperation" ||
      code == "InvalidClientTokenId" || code == "IncompleteSignature" ||
      code == "MissingAuthenticationToken" || code == "RequestExpired" || code == "OptInRequired") {
    return ApiErrorKind::auth;
  }
  if (code.ends_with(".NotFound")) return ApiErrorKind::not_found;
  if (code == "InternalError" || code == "ServiceUnavailable" || code == "Unavailable" ||
      status >= 500) {
    return ApiErrorKind::unavailable;
  }
  if (code.starts_with("InvalidParameter") || code.starts_with("MissingParameter") ||
      code.starts_with("Invalid")) {
    return ApiErrorKind::validation;
  }
  return ApiErrorKind::unknown;
}

/// What the user can do about a code, appended to the error message.
std::string hint(const std::string& code, const std::string& origin) {
  if (code == "AuthFailure" || code == "SignatureDoesNotMatch" || code == "InvalidClientTokenId" ||
      code == "IncompleteSignature") {
    return "AWS refused the credentials from " + origin +
           ": check the key pair, the session token and the region";
  }
  if (code == "RequestExpired") return "the request's date was refused: check the clock";
  if (code == "UnauthorizedOperation") {
    return "the key's IAM policy must allow ec2:DescribeAddresses, "
           "ec2:DescribeAddressesAttribute, ec2:ModifyAddressAttribute and "
           "ec2:ResetAddressAttribute";
  }
  if (code == "InvalidAddress.NotFound" || code == "InvalidAllocationID.NotFound") {
    return "the address is not an Elastic IP of this account in this region";
  }
  if (code == "RequestLimitExceeded" || code.starts_with("Throttling")) {
    return "EC2 kept throttling the calls; try again later";
  }
  return {};
}

std::string strip_dot(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  return name;
}

/// An address's domain-name attribute as DescribeAddressesAttribute gives it.
struct AddressAttribute {
  std::string ip;
  std::string allocation_id;
  std::string ptr;            ///< without the trailing dot; empty when none is set
  std::string update_value;   ///< the PtrRecordUpdate's value, when there is one
  std::string update_status;  ///< PENDING, SUCCESSFUL, FAILED or empty
  std::string update_reason;
};

AddressAttribute attribute_from(const xml::Element& item) {
  AddressAttribute out;
  out.ip = item.child_text("publicIp");
  out.allocation_id = item.child_text("allocationId");
  out.ptr = strip_dot(item.child_text("ptrRecord"));
  if (const xml::Element* update = item.child("ptrRecordUpdate")) {
    out.update_value = strip_dot(update->child_text("value"));
    out.update_status = update->child_text("status");
    out.update_reason = update->child_text("reason");
  }
  return out;
}

PtrRecord record_from(const AddressAttribute& attribute) {
  PtrRecord record;
  record.record_id = attribute.allocation_id;
  record.ip = attribute.ip;
  record.name = reverse_name(attribute.ip);
  record.value = attribute.ptr;
  record.ttl = kAwsPtrTtl;
  record.status = PtrStatus::enabled;
  return record;
}

}  // namespace

std::string ec2_endpoint(const std::string& region) {
  return "https://ec2." + region + ".amazonaws.com";
}

/// Signs, sends and retries EC2 Query API calls.
class Ec2Client {
 public:
  Ec2Client(ClientConfig config, Credentials credentials)
      : config_(std::move(config)), credentials_(std::move(credentials)) {
    if (config_.region.empty()) throw Error(Errc::usage, "no region given for EC2");
    base_ = config_.endpoint.empty() ? ec2_endpoint(config_.region) : config_.endpoint;
    host_ = detail::authority_of(base_);
    if (config_.scope == NetworkScope::loopback_only && !detail::is_loopback_literal(host_)) {
      throw Error(Errc::usage,
                  "endpoint " + host_ + " is not on 127.0.0.0/8 (loopback-only client)");
    }
    detail::curl_global_once();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) throw Error(Errc::internal, "curl_easy_init failed");
  }
  ~Ec2Client() { curl_easy_cleanup(curl_); }
  Ec2Client(const Ec2Client&) = delete;
  Ec2Client& operator=(const Ec2Client&) = delete;

  /// Whether an attempt may go over a kept-alive connection (see rpc.hpp:
  /// writes never do, so libcurl cannot re-send one behind the client's back).
  enum class Use { read, write };

  /// Calls action with params; throttling, 5xx and network failures are
  /// retried with backoff, each attempt freshly signed. Returns the answer's root.
  xml::Element call(const std::string& action, const Pairs& params, Use use = Use::read) {
    std::mt19937_64 random{std::random_device{}()};
    std::chrono::milliseconds waited{0};
    for (int number = 1;; ++number) {
      Attempt attempt = perform(action, params, use);
      if (config_.on_attempt) {
        config_.on_attempt({action, number, waited, attempt.answer ? "OK" : attempt.code});
      }
      if (attempt.answer) {
        last_request_id_ = attempt.request_id;
        return std::move(*attempt.answer);
      }
      if (retried_with_backoff(attempt.kind) && number < config_.retry.max_attempts) {
        // Exponential backoff with "equal jitter", as the Alibaba client does.
        const auto step = std::min<std::chrono::milliseconds>(
            config_.retry.max_delay, config_.retry.base_delay * (1LL << std::min(number - 1, 20)));
        std::uniform_int_distribution<long long> jitter(0, step.count() / 2);
        waited = std::chrono::milliseconds(step.count() - step.count() / 2 + jitter(random));
        std::this_thread::sleep_for(waited);
        continue;
      }
      std::string text = fmt::format("{} at {}: {}", action, host_, escape_text(attempt.code));
      if (!attempt.message.empty()) text += ": " + escape_text(attempt.message);
      if (const std::string advice = hint(attempt.code, credentials_.origin); !advice.empty()) {
        text += " (" + advice + ")";
      }
      text += fmt::format(" (RequestID {}, HTTP {}, {} attempt{})",
                          attempt.request_id.empty() ? "-" : escape_text(attempt.request_id),
                          attempt.http_status, number, number == 1 ? "" : "s");
      throw ApiError(attempt.kind, attempt.code, text, attempt.request_id, attempt.http_status,
                     number);
    }
  }

  const std::string& last_request_id() const { return last_request_id_; }
  const ClientConfig& config() const { return config_; }

 private:
  struct Attempt {
    std::optional<xml::Element> answer;
    ApiErrorKind kind = ApiErrorKind::unknown;
    std::string code;
    std::string message;
    std::string request_id;
    int http_status = 0;
  };

  void log(const std::string& line) const {
    if (config_.log) config_.log(line);
  }

  std::string form(const std::string& action, const Pairs& params) const {
    std::string body = "Action=" + sigv4::uri_encode(action) + "&Version=" + kVersion;
    for (const auto& [name, value] : params) {
      body += "&" + sigv4::uri_encode(name) + "=" + sigv4::uri_encode(value);
    }
    return body;
  }

  Attempt perform(const std::string& action, const Pairs& params, Use use) {
    const auto now = std::chrono::system_clock::now() + config_.clock_offset;
    sigv4::Request request;
    request.method = "POST";
    request.body = form(action, params);
    request.headers = {
        {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"host", host_},
        {"x-amz-date",
         sigv4::amz_date(
             std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count())}};
    if (!credentials_.security_token.empty()) {
      request.headers.emplace_back("x-amz-security-token", credentials_.security_token.reveal());
    }
    const sigv4::Signed signature =
        sigv4::sign(request, {credentials_.access_key_id, credentials_.access_key_secret.reveal(),
                              config_.region, "ec2"});

    std::unique_ptr<curl_slist, detail::SlistDeleter> headers;
    auto add_header = [&headers](const std::string& line) {
      curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
      if (grown == nullptr) throw Error(Errc::internal, "curl_slist_append failed");
      static_cast<void>(headers.release());
      headers.reset(grown);
    };
    for (const auto& [name, value] : request.headers) {
      if (name != "host") add_header(name + ": " + value);
    }
    add_header("Authorization: " + signature.authorization);
    add_header("Accept: text/xml");

    std::string response;
    curl_easy_reset(curl_);
    const std::string url = base_.ends_with('/') ? base_ : base_ + "/";
    detail::set_option(curl_, CURLOPT_URL, url.c_str());
    detail::set_option(curl_, CURLOPT_HTTPHEADER, headers.get());
    detail::set_option(curl_, CURLOPT_POST, 1L);
    detail::set_option(curl_, CURLOPT_POSTFIELDS, request.body.c_str());
    detail::set_option(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    detail::set_option(curl_, CURLOPT_WRITEFUNCTION, &detail::append_to_string);
    detail::set_option(curl_, CURLOPT_WRITEDATA, &response);
    detail::set_option(curl_, CURLOPT_NOSIGNAL, 1L);
    detail::set_option(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(config_.connect_timeout.count()));
    detail::set_option(curl_, CURLOPT_TIMEOUT_MS,
                       static_cast<long>(config_.request_timeout.count()));
    detail::set_option(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
    detail::set_option(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
    detail::set_option(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    detail::set_option(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    if (use == Use::write) detail::set_option(curl_, CURLOPT_FRESH_CONNECT, 1L);
    if (config_.scope == NetworkScope::loopback_only) detail::set_option(curl_, CURLOPT_PROXY, "");

    log(fmt::format("ec2: POST {} to {}", action, host_));
    Attempt attempt;
    const CURLcode result = curl_easy_perform(curl_);
    if (result != CURLE_OK) {
      const bool tls = detail::is_tls_failure(result);
      attempt.kind = tls ? ApiErrorKind::unknown : ApiErrorKind::network;
      attempt.code = tls ? "Network.TLS" : detail::network_code(result);
      attempt.message = curl_easy_strerror(result);
      log(fmt::format("ec2: {} failed: {}", action, attempt.code));
      return attempt;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    attempt.http_status = static_cast<int>(status);
    std::optional<xml::Element> root;
    try {
      root = xml::parse(response, action + " answer");
    } catch (const Error& error) {
      attempt.message = error.what();
    }
    if (root && status >= 200 && status < 300) {
      attempt.request_id = root->child_text("requestId");
      log(fmt::format("ec2: {} HTTP {} RequestID {}", action, status,
                      escape_text(attempt.request_id)));
      attempt.answer = std::move(root);
      return attempt;
    }
    // <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
    if (root) {
      attempt.request_id = root->child_text("RequestID");
      const xml::Element* errors = root->child("Errors");
      const xml::Element* first = errors == nullptr ? nullptr : errors->child("Error");
      if (first != nullptr) {
        attempt.code = first->child_text("Code");
        attempt.message = first->child_text("Message");
      }
    }
    if (attempt.code.empty()) attempt.code = fmt::format("HTTP{}", status);
    attempt.kind = classify(attempt.code, attempt.http_status);
    log(fmt::format("ec2: {} HTTP {} {} RequestID {}", action, status, escape_text(attempt.code),
                    escape_text(attempt.request_id)));
    return attempt;
  }

  ClientConfig config_;
  Credentials credentials_;
  std::string base_;
  std::string host_;
  CURL* curl_ = nullptr;
  std::string last_request_id_;
};

class AwsPtrProvider::Impl {
 public:
  Impl(const ClientConfig& config, const Credentials& credentials, AwsProviderOptions options)
      : client_(config, credentials), options_(options) {}

  std::vector<Ownership> ownership(const std::vector<std::string>& ips) {
    std::map<std::string, Ownership> found;
    for (std::size_t start = 0; start < ips.size(); start += kAddressBatch) {
      Pairs params{{"Filter.1.Name", "public-ip"}};
      for (std::size_t i = start; i < std::min(ips.size(), start + kAddressBatch); ++i) {
        params.emplace_back(fmt::format("Filter.1.Value.{}", i - start + 1), ips[i]);
      }
      const xml::Element answer = client_.call("DescribeAddresses", params);
      const xml::Element* set = answer.child("addressesSet");
      for (const xml::Element* item :
           set == nullptr ? std::vector<const xml::Element*>{} : set->all("item")) {
        Ownership owned;
        owned.ip = item->child_text("publicIp");
        owned.role = IpRole::eip;
        owned.resource_id = item->child_text("allocationId");
        owned.status = item->child_text("associationId").empty() ? "unassociated" : "associated";
        allocations_[owned.ip] = owned.resource_id;
        found[owned.ip] = owned;
      }
    }
    std::vector<Ownership> out;
    for (const auto& ip : ips) {
      const auto it = found.find(ip);
      out.push_back(it != found.end() ? it->second : Ownership{ip, IpRole::not_owned, {}, {}, {}});
    }
    return out;
  }

  PtrListing list() {
    PtrListing listing;
    std::string token;
    do {
      Pairs params{{"Attribute", kAttribute}, {"MaxResults", "1000"}};
      if (!token.empty()) params.emplace_back("NextToken", token);
      const xml::Element answer = client_.call("DescribeAddressesAttribute", params);
      for (const auto& attribute : attributes_of(answer)) {
        allocations_[attribute.ip] = attribute.allocation_id;
        if (!attribute.ptr.empty()) listing.records.push_back(record_from(attribute));
      }
      token = answer.child_text("nextToken");
    } while (!token.empty());
    return listing;
  }

  std::vector<PtrRecord> read(const std::string& ip) {
    const auto allocation = allocation_of(ip);
    if (!allocation) return {};
    const auto attribute = attribute_of(*allocation);
    if (!attribute || attribute->ptr.empty()) return {};
    return {record_from(*attribute)};
  }

  std::string write(const std::string& ip, const std::string& value) {
    const std::string allocation = require_allocation(ip);
    client_.call("ModifyAddressAttribute", {{"AllocationId", allocation}, {"DomainName", value}},
                 Ec2Client::Use::write);
    const std::string request_id = client_.last_request_id();
    await_update(ip, allocation, "ModifyAddressAttribute");
    request_id_ = request_id;
    return allocation;
  }

  void remove(const std::string& ip) {
    const std::string allocation = require_allocation(ip);
    const auto attribute = attribute_of(allocation);
    // Nothing set and nothing on its way: already deleted.
    if (!attribute || (attribute->ptr.empty() && attribute->update_status != "PENDING")) {
      request_id_.clear();
      return;
    }
    client_.call("ResetAddressAttribute", {{"AllocationId", allocation}, {"Attribute", kAttribute}},
                 Ec2Client::Use::write);
    const std::string request_id = client_.last_request_id();
    await_update(ip, allocation, "ResetAddressAttribute");
    request_id_ = request_id;
  }

  const std::string& last_request_id() const { return request_id_; }

 private:
  static std::vector<AddressAttribute> attributes_of(const xml::Element& answer) {
    std::vector<AddressAttribute> out;
    const xml::Element* set = answer.child("addressSet");
    if (set == nullptr) return out;
    for (const xml::Element* item : set->all("item")) out.push_back(attribute_from(*item));
    return out;
  }

  std::optional<AddressAttribute> attribute_of(const std::string& allocation) {
    const xml::Element answer = client_.call(
        "DescribeAddressesAttribute", {{"AllocationId.1", allocation}, {"Attribute", kAttribute}});
    for (auto& attribute : attributes_of(answer)) {
      if (attribute.allocation_id == allocation) return attribute;
    }
    return std::nullopt;
  }

  std::optional<std::string> allocation_of(const std::string& ip) {
    if (const auto it = allocations_.find(ip); it != allocations_.end()) return it->second;
    const Ownership owned = ownership({ip}).front();
    if (owned.role == IpRole::not_owned) return std::nullopt;
    return owned.resource_id;
  }

  std::string require_allocation(const std::string& ip) {
    if (auto allocation = allocation_of(ip)) return *allocation;
    throw ApiError(ApiErrorKind::ip_not_owned, "InvalidAddress.NotFound",
                   fmt::format("{} is not an Elastic IP of this account in {}", escape_text(ip),
                               client_.config().region),
                   {}, 0, 1);
  }

  /// Polls until the address's PtrRecordUpdate leaves PENDING: FAILED and a
  /// timeout are errors (the journal records the write as failed).
  void await_update(const std::string& ip, const std::string& allocation, const char* action) {
    const auto deadline = std::chrono::steady_clock::now() + options_.update_timeout;
    for (;;) {
      const auto attribute = attribute_of(allocation);
      const std::string status = attribute ? attribute->update_status : std::string();
      if (status == "FAILED") {
        throw ApiError(
            ApiErrorKind::unknown, "PtrRecordUpdate.Failed",
            fmt::format("{} of {}: AWS reports the PtrRecordUpdate FAILED: {}", action,
                        escape_text(ip),
                        attribute->update_reason.empty() ? std::string("no reason given")
                                                         : escape_text(attribute->update_reason)),
            client_.last_request_id(), 200, 1);
      }
      if (status != "PENDING") return;
      if (std::chrono::steady_clock::now() >= deadline) {
        throw ApiError(
            ApiErrorKind::unknown, "PtrRecordUpdate.Pending",
            fmt::format(
                "{} of {}: the PtrRecordUpdate to {} is still PENDING after {} s; AWS may "
                "still apply it (rdnsctl ptr show {} tells)",
                action, escape_text(ip), escape_text(attribute->update_value),
                std::chrono::duration_cast<std::chrono::seconds>(options_.update_timeout).count(),
                escape_text(ip)),
            client_.last_request_id(), 200, 1);
      }
      std::this_thread::sleep_for(options_.poll_interval);
    }
  }

  Ec2Client client_;
  AwsProviderOptions options_;
  std::map<std::string, std::string> allocations_;  // IP -> AllocationId, as seen
  std::string request_id_;
};

AwsPtrProvider::AwsPtrProvider(const ClientConfig& config, const Credentials& credentials,
                               AwsProviderOptions options)
    : impl_(std::make_unique<Impl>(config, credentials, options)) {}

AwsPtrProvider::~AwsPtrProvider() = default;

const std::string& AwsPtrProvider::name() const {
  static const std::string kName = "aws";
  return kName;
}

ProviderCapabilities AwsPtrProvider::capabilities() const {
  ProviderCapabilities capabilities;
  capabilities.supports_disable = false;
  capabilities.needs_domain_verification = false;
  capabilities.fixed_ttl = kAwsPtrTtl;
  capabilities.owned_means = "an Elastic IP of this account in this region";
  capabilities.ipv6_refusal = "Elastic IPs are IPv4 addresses";
  return capabilities;
}

std::vector<Ownership> AwsPtrProvider::ownership(const std::vector<std::string>& ips) {
  return impl_->ownership(ips);
}

PtrListing AwsPtrProvider::list() {
  return impl_->list();
}

std::vector<PtrRecord> AwsPtrProvider::read(const std::string& ip) {
  return impl_->read(ip);
}

std::string AwsPtrProvider::write(const std::string& ip, const std::string& value, int /*ttl*/,
                                  const std::string& /*current_record_id*/) {
  return impl_->write(ip, value);
}

void AwsPtrProvider::remove(const std::string& ip, const std::string& /*current_record_id*/) {
  impl_->remove(ip);
}

void AwsPtrProvider::set_status(const std::string& /*ip*/, const std::string& /*current_record_id*/,
                                PtrStatus /*status*/) {
  throw Error(Errc::usage,
              "the aws provider cannot disable or enable a PTR record (EC2 has no such state); "
              "delete it with rdnsctl ptr delete");
}

std::optional<VerificationTxt> AwsPtrProvider::verification_txt(const std::string& /*value*/) {
  return std::nullopt;
}

const std::string& AwsPtrProvider::last_request_id() const {
  return impl_->last_request_id();
}

}  // namespace rdns::provision
