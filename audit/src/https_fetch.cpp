#include "https_fetch.hpp"

#include <memory>

#include <curl/curl.h>
#include <fmt/format.h>

#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::audit {
namespace {

/// curl_easy_setopt, checked: no request goes out without a limit libcurl
/// refused (protocols, redirects, size, certificate checks).
template <typename Value>
void require_option(CURL* handle, CURLoption option, Value value) {
  const CURLcode result = curl_easy_setopt(handle, option, value);
  if (result != CURLE_OK) {
    throw Error(Errc::internal, fmt::format("libcurl refused an option of the policy fetch: {}",
                                            curl_easy_strerror(result)));
  }
}

struct Body {
  std::string text;
  std::size_t limit = 0;
  bool overflow = false;
};

size_t collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const size_t bytes = size * count;
  if (body->text.size() + bytes > body->limit) {
    body->overflow = true;
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  body->text.append(data, bytes);
  return bytes;
}

/// "host:port:addr,addr" for CURLOPT_RESOLVE, IPv6 addresses in brackets.
std::string resolve_entry(const HttpsRequest& request) {
  std::string entry = fmt::format("{}:{}:", request.host, request.port);
  for (std::size_t i = 0; i < request.addresses.size(); ++i) {
    const IpAddress& address = request.addresses[i];
    if (i > 0) entry += ',';
    entry +=
        address.family() == Family::ipv6 ? "[" + address.to_string() + "]" : address.to_string();
  }
  return entry;
}

bool all_loopback(const std::vector<IpAddress>& addresses) {
  for (const IpAddress& address : addresses) {
    const std::string text = address.to_string();
    if (text != "::1" && !text.starts_with("127.")) return false;
  }
  return true;
}

}  // namespace

HttpsResponse https_get(const HttpsRequest& request) {
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                 &curl_easy_cleanup);
  if (!curl) throw Error(Errc::internal, "cannot initialise libcurl");
  CURL* handle = curl.get();
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> resolve(
      curl_slist_append(nullptr, resolve_entry(request).c_str()), &curl_slist_free_all);
  const std::string url = fmt::format("https://{}:{}{}", request.host, request.port, request.path);
  Body body{{}, request.max_body, false};
  char error_text[CURL_ERROR_SIZE] = {};
  require_option(handle, CURLOPT_URL, url.c_str());
  require_option(handle, CURLOPT_RESOLVE, resolve.get());
  require_option(handle, CURLOPT_PROTOCOLS_STR, "https");
  require_option(handle, CURLOPT_FOLLOWLOCATION, 0L);  // RFC 8461 section 3.3
  require_option(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  require_option(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  require_option(handle, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!request.ca_file.empty()) require_option(handle, CURLOPT_CAINFO, request.ca_file.c_str());
  require_option(handle, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_body));
  require_option(handle, CURLOPT_WRITEFUNCTION, &collect);
  require_option(handle, CURLOPT_WRITEDATA, &body);
  require_option(handle, CURLOPT_ERRORBUFFER, error_text);
  require_option(handle, CURLOPT_NOSIGNAL, 1L);
  require_option(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  require_option(handle, CURLOPT_USERAGENT, "rdnsctl");
  if (all_loopback(request.addresses)) {
    // A proxy from the environment would carry loopback traffic off the machine.
    require_option(handle, CURLOPT_PROXY, "");
  }
  const CURLcode result = curl_easy_perform(handle);
  HttpsResponse response;
  if (result != CURLE_OK) {
    response.error = escape_text(error_text[0] != '\0' ? error_text : curl_easy_strerror(result));
    if (body.overflow || result == CURLE_FILESIZE_EXCEEDED) {
      response.outcome = HttpsResponse::Outcome::too_large;
    } else if (result == CURLE_PEER_FAILED_VERIFICATION) {
      response.outcome = HttpsResponse::Outcome::certificate;
    } else {
      response.outcome = HttpsResponse::Outcome::unreachable;
    }
    return response;
  }
  response.outcome = HttpsResponse::Outcome::ok;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  const char* type = nullptr;
  if (curl_easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) {
    response.content_type = type;
  }
  response.body = std::move(body.text);
  return response;
}

}  // namespace rdns::audit
