#pragma once
/// Delivery of a JSON document to a webhook (chat, ticketing, an alert
/// router) with retries, for the notifications rdnsctl sends after a run.

#include <chrono>
#include <string>

namespace rdns::notify {

/// Where to post and how patiently.
struct WebhookOptions {
  std::string url;  ///< http:// or https://; may hold a secret token, so never shown whole
  int retries = 3;  ///< tries after the first
  std::chrono::milliseconds timeout{10000};  ///< per try, connection included
  std::chrono::milliseconds backoff{1000};   ///< before the first retry, doubled for each next
};

/// The part of `url` safe to show: scheme, host and port, without user
/// information, path or query (webhook URLs often carry their token there).
std::string redacted_url(const std::string& url);

/// POSTs `json` (Content-Type: application/json) and returns how many tries
/// it took. Retries when the connection fails, on HTTP 5xx and 429; gives up
/// at once on any other status outside 2xx, since the receiver refused the
/// document itself. Loopback URLs never go through a proxy. Throws
/// Errc::usage for a URL that is not http(s), Errc::io naming the redacted
/// URL and the last failure once the tries are spent.
int post_json(const WebhookOptions& options, const std::string& json);

/// The HTTP library in use and its TLS library, e.g. "libcurl 7.88.1 (OpenSSL/3.0.11)".
std::string http_library_version();

}  // namespace rdns::notify
