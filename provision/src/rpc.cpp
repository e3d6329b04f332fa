#include "rpc.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <util/escape.hpp>

namespace rdns::provision::detail {

using namespace std::chrono_literals;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string authority_of(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const auto end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool is_loopback_literal(const std::string& authority) {
  const std::string host = authority.substr(0, authority.rfind(':'));
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

std::string network_code(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "Network.Timeout";
    case CURLE_COULDNT_CONNECT:
      return "Network.ConnectionRefused";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return "Network.ConnectionReset";
    default:
      return "Network.Error";
  }
}

bool is_tls_failure(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CONNECT_ERROR ||
         code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CACERT_BADFILE;
}

namespace {

std::string json_string(const Json& body, const char* key) {
  const auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

RpcClient::RpcClient(ClientConfig config, Credentials credentials)
    : config_(std::move(config)), credentials_(std::move(credentials)) {
  if (config_.region.empty()) throw Error(Errc::usage, "no region given for the cloud API");
  global_init();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw Error(Errc::internal, "curl_easy_init failed");
}

RpcClient::~RpcClient() {
  curl_easy_cleanup(curl_);
}

void RpcClient::log(const std::string& line) const {
  if (config_.log) config_.log(line);
}

ApiErrorKind RpcClient::classify(const std::string& code, const std::string& message,
                                 int status) const {
  if (code.starts_with("Throttling")) return ApiErrorKind::throttled;
  if (code == "InvalidTimeStamp.Expired" || code == "SignatureNonceUsed") {
    return ApiErrorKind::stale_request;
  }
  if (code.starts_with("InvalidAccessKeyId") || code == "SignatureDoesNotMatch" ||
      code.starts_with("Forbidden") || code.starts_with("InvalidSecurityToken") ||
      code == "IncompleteSignature") {
    return ApiErrorKind::auth;
  }
  if (contains(config_.actions.ip_not_owned_codes, code) ||
      message.find("PTR IP information mismatch") != std::string::npos) {
    return ApiErrorKind::ip_not_owned;
  }
  if (contains(config_.actions.verification_failed_codes, code)) {
    return ApiErrorKind::verification_failed;
  }
  if (code.find("Duplicate") != std::string::npos) return ApiErrorKind::duplicate;
  if (code.ends_with("NotFound") || code.ends_with("NotExist")) return ApiErrorKind::not_found;
  if (code == "InternalError" || code == "ServiceUnavailable" || status >= 500) {
    return ApiErrorKind::unavailable;
  }
  if (code.starts_with("MissingParameter") || code.starts_with("InvalidParameter") ||
      code.starts_with("Invalid")) {
    return ApiErrorKind::validation;
  }
  return ApiErrorKind::unknown;
}

RpcClient::Attempt RpcClient::perform(const ActionSpec& spec, const Params& params, Reuse reuse) {
  const std::string base = config_.endpoint.empty()
                               ? config_.actions.endpoint_for(spec.product, config_.region)
                               : config_.endpoint;
  const std::string host = authority_of(base);
  if (config_.scope == NetworkScope::loopback_only && !is_loopback_literal(host)) {
    throw Error(Errc::usage, "endpoint " + host + " is not on 127.0.0.0/8 (loopback-only client)");
  }
  const auto now = std::chrono::system_clock::now() + config_.clock_offset;
  const std::string timestamp =
      iso8601_utc(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  const std::string nonce = new_nonce();

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&headers](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown == nullptr) throw Error(Errc::internal, "curl_slist_append failed");
    static_cast<void>(headers.release());
    headers.reset(grown);
  };
  std::string url;
  std::string method;
  if (spec.signature == SignatureVersion::v3) {
    method = "POST";
    SignableRequest request;
    request.method = method;
    request.query = params;
    request.headers = {{"host", host},
                       {"x-acs-action", spec.action},
                       {"x-acs-version", spec.version},
                       {"x-acs-date", timestamp},
                       {"x-acs-signature-nonce", nonce},
                       {"x-acs-content-sha256", sha256_hex("")}};
    if (!credentials_.security_token.empty()) {
      request.headers.emplace_back("x-acs-security-token", credentials_.security_token.reveal());
    }
    const V3Signature signature =
        sign_v3(request, credentials_.access_key_id, credentials_.access_key_secret.reveal());
    for (const auto& [name, value] : request.headers) {
      if (name != "host") add_header(name + ": " + value);
    }
    add_header("Authorization: " + signature.authorization);
    // curl would add a form Content-Type to a POST; it is not signed, so none.
    add_header("Content-Type:");
    url = base + "/?" + canonical_query(params);
  } else {
    method = "GET";
    Params all = params;
    all.insert(all.end(), {{"Action", spec.action},
                           {"Version", spec.version},
                           {"Format", "JSON"},
                           {"AccessKeyId", credentials_.access_key_id},
                           {"SignatureMethod", "HMAC-SHA1"},
                           {"SignatureVersion", "1.0"},
                           {"SignatureNonce", nonce},
                           {"Timestamp", timestamp}});
    if (!credentials_.security_token.empty()) {
      all.emplace_back("SecurityToken", credentials_.security_token.reveal());
    }
    all.emplace_back("Signature", sign_v2(method, all, credentials_.access_key_secret.reveal()));
    url = base + "/?" + canonical_query(all);
  }
  add_header("Accept: application/json");

  std::string response;
  curl_easy_reset(curl_);  // keeps the connection cache: reuse survives the reset
  set_option(curl_, CURLOPT_URL, url.c_str());
  set_option(curl_, CURLOPT_HTTPHEADER, headers.get());
  if (method == "POST") {
    set_option(curl_, CURLOPT_POST, 1L);
    set_option(curl_, CURLOPT_POSTFIELDS, "");
    set_option(curl_, CURLOPT_POSTFIELDSIZE, 0L);
  }
  set_option(curl_, CURLOPT_WRITEFUNCTION, &collect);
  set_option(curl_, CURLOPT_WRITEDATA, &response);
  set_option(curl_, CURLOPT_NOSIGNAL, 1L);
  set_option(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout.count()));
  set_option(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.request_timeout.count()));
  set_option(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
  set_option(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
  set_option(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
  set_option(curl_, CURLOPT_FOLLOWLOCATION, 0L);
  if (reuse == Reuse::fresh_connection) {
    // libcurl silently re-sends a request whose reused connection closed
    // before any answer (same nonce: SignatureNonceUsed at best, a second
    // write at worst). A new connection is never retried that way.
    set_option(curl_, CURLOPT_FRESH_CONNECT, 1L);
  }
  if (config_.scope == NetworkScope::loopback_only) {
    // A proxy from the environment would carry loopback traffic off the machine.
    set_option(curl_, CURLOPT_PROXY, "");
  }

  log(fmt::format("cloud: {} {} to {}", method, spec.action, host));
  const CURLcode result = curl_easy_perform(curl_);
  Attempt attempt;
  if (result != CURLE_OK) {
    attempt.kind = is_tls_failure(result) ? ApiErrorKind::unknown : ApiErrorKind::network;
    attempt.code = is_tls_failure(result) ? "Network.TLS" : network_code(result);
    attempt.message = curl_easy_strerror(result);
    log(fmt::format("cloud: {} failed: {}", spec.action, attempt.code));
    return attempt;
  }
  long status = 0;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
  attempt.http_status = static_cast<int>(status);
  Json body = Json::parse(response, nullptr, false);
  if (body.is_object()) attempt.request_id = json_string(body, "RequestId");
  if (status >= 200 && status < 300 && body.is_object()) {
    log(fmt::format("cloud: {} HTTP {} RequestId {}", spec.action, status,
                    escape_text(attempt.request_id)));
    attempt.body = std::move(body);
    return attempt;
  }
  if (body.is_object()) {
    attempt.code = json_string(body, "Code");
    attempt.message = json_string(body, "Message");
  }
  if (attempt.code.empty()) attempt.code = fmt::format("HTTP{}", status);
  attempt.kind = classify(attempt.code, attempt.message, attempt.http_status);
  log(fmt::format("cloud: {} HTTP {} {} RequestId {}", spec.action, status,
                  escape_text(attempt.code), escape_text(attempt.request_id)));
  return attempt;
}

Json RpcClient::call(const ActionSpec& spec, Params params, const Reconcile& reconcile,
                     Reuse reuse) {
  if (reconcile) reuse = Reuse::fresh_connection;
  params.emplace_back(spec.wire("region"), config_.region);
  for (const auto& [name, value] : spec.fixed) params.emplace_back(name, value);

  thread_local std::mt19937_64 random{std::random_device{}()};
  const RetryPolicy& policy = config_.retry;
  bool resigned = false;
  bool maybe_done = false;  // an earlier attempt may have been carried out
  std::chrono::milliseconds waited{0};
  int backoffs = 0;
  for (int number = 1;; ++number) {
    if (maybe_done && reconcile) {
      if (auto found = reconcile()) return *found;
    }
    Attempt attempt = perform(spec, params, reuse);
    if (config_.on_attempt) {
      config_.on_attempt({spec.action, number, waited, attempt.body ? "OK" : attempt.code});
    }
    if (attempt.body) return std::move(*attempt.body);

    const bool more = number < policy.max_attempts;
    if (attempt.kind == ApiErrorKind::stale_request && !resigned && more) {
      // A fresh timestamp and nonce come with the next perform(); no wait.
      resigned = true;
      waited = 0ms;
      continue;
    }
    const bool ambiguous =
        attempt.kind == ApiErrorKind::unavailable || attempt.kind == ApiErrorKind::network;
    if (retried_with_backoff(attempt.kind) && more) {
      // Exponential backoff, "equal jitter": half the step fixed, half random,
      // so concurrent clients spread out and a wait is never near zero.
      const std::chrono::milliseconds step = std::min<std::chrono::milliseconds>(
          policy.max_delay, policy.base_delay * (1LL << std::min(backoffs, 20)));
      ++backoffs;
      std::uniform_int_distribution<long long> jitter(0, step.count() / 2);
      waited = std::chrono::milliseconds(step.count() - step.count() / 2 + jitter(random));
      std::this_thread::sleep_for(waited);
      maybe_done = maybe_done || ambiguous;
      continue;
    }
    const std::string host =
        config_.endpoint.empty()
            ? authority_of(config_.actions.endpoint_for(spec.product, config_.region))
            : authority_of(config_.endpoint);
    std::string text = fmt::format("{} at {}: {}", spec.action, host, escape_text(attempt.code));
    if (!attempt.message.empty()) text += ": " + escape_text(attempt.message);
    text += fmt::format(" (RequestId {}, HTTP {}, {} attempt{})",
                        attempt.request_id.empty() ? "-" : escape_text(attempt.request_id),
                        attempt.http_status, number, number == 1 ? "" : "s");
    throw ApiError(attempt.kind, attempt.code, text, attempt.request_id, attempt.http_status,
                   number);
  }
}

}  // namespace rdns::provision::detail
