#include <memory>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>
#include <notify/webhook.hpp>

#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::notify {
namespace {

/// curl_easy_setopt, checked: a request must not go out without an option
/// libcurl refused (a protocol limit, a timeout, proxy bypass).
template <typename Value>
void set_option(CURL* handle, CURLoption option, Value value) {
  const CURLcode result = curl_easy_setopt(handle, option, value);
  if (result != CURLE_OK) {
    const curl_easyoption* known = curl_easy_option_by_id(option);
    throw Error(Errc::internal,
                fmt::format("libcurl refused option {}: {}", known != nullptr ? known->name : "?",
                            curl_easy_strerror(result)));
  }
}

/// The host part of a URL (between "://" and the next '/', '?' or '#',
/// after any user information), for the proxy decision and messages.
std::string authority(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  const auto start = scheme_end + 3;
  std::string part = url.substr(start, url.find_first_of("/?#", start) - start);
  const auto at = part.rfind('@');
  if (at != std::string::npos) part.erase(0, at + 1);
  return part;
}

bool is_loopback(const std::string& host_and_port) {
  std::string host = host_and_port;
  if (host.rfind("[::1]", 0) == 0) return true;
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

size_t discard(char* /*data*/, size_t size, size_t count, void* /*user*/) {
  return size * count;
}

/// One try: empty when the receiver took the document, else why not;
/// `retry` says whether another try may go better.
std::string post_once(const WebhookOptions& options, const std::string& json, bool& retry) {
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                 &curl_easy_cleanup);
  if (!curl) throw Error(Errc::internal, "cannot initialise libcurl");
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
      curl_slist_append(nullptr, "Content-Type: application/json"), &curl_slist_free_all);
  CURL* handle = curl.get();
  set_option(handle, CURLOPT_URL, options.url.c_str());
  set_option(handle, CURLOPT_HTTPHEADER, headers.get());
  set_option(handle, CURLOPT_POST, 1L);
  set_option(handle, CURLOPT_POSTFIELDS, json.data());
  set_option(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json.size()));
  set_option(handle, CURLOPT_USERAGENT, "rdnsctl/" RDNSCTL_VERSION);
  set_option(handle, CURLOPT_WRITEFUNCTION, &discard);
  set_option(handle, CURLOPT_NOSIGNAL, 1L);
  set_option(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  set_option(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  set_option(handle, CURLOPT_FOLLOWLOCATION, 0L);
  if (is_loopback(authority(options.url))) {
    // A proxy from the environment would carry loopback traffic off the machine.
    set_option(handle, CURLOPT_PROXY, "");
  }
  const CURLcode result = curl_easy_perform(handle);
  if (result != CURLE_OK) {
    retry = true;
    return curl_easy_strerror(result);
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return {};
  retry = status >= 500 || status == 429;
  return fmt::format("HTTP {}", status);
}

}  // namespace

std::string redacted_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(not a URL)";
  return url.substr(0, scheme_end + 3) + authority(url) + "/...";
}

int post_json(const WebhookOptions& options, const std::string& json) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    throw Error(Errc::usage, fmt::format("webhook {}: expected an http:// or https:// URL",
                                         escape_text(redacted_url(options.url))));
  }
  std::chrono::milliseconds wait = options.backoff;
  for (int attempt = 1;; ++attempt) {
    bool retry = false;
    const std::string failure = post_once(options, json, retry);
    if (failure.empty()) return attempt;
    if (!retry || attempt > options.retries) {
      throw Error(Errc::io, fmt::format("webhook {}: {} (after {} {})",
                                        escape_text(redacted_url(options.url)), failure, attempt,
                                        attempt == 1 ? "try" : "tries"));
    }
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
}

std::string http_library_version() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  std::string text = std::string("libcurl ") + info->version;
  if (info->ssl_version != nullptr) text += std::string(" (") + info->ssl_version + ")";
  return text;
}

}  // namespace rdns::notify
