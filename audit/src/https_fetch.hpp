#pragma once
/// One HTTPS GET with libcurl for policy files (MTA-STS): to addresses the
/// audit's own resolvers found, never following a redirect, with a bounded
/// body and the certificate checked against the system store or a CA file.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <audit/ip.hpp>

namespace rdns::audit {

struct HttpsRequest {
  std::string host;  ///< the name in the URL, SNI and certificate
  std::uint16_t port = 443;
  std::string path;                  ///< e.g. "/.well-known/mta-sts.txt"
  std::vector<IpAddress> addresses;  ///< where `host` is reached; not asked of the system
  std::string ca_file;               ///< PEM bundle; empty: the system store
  std::chrono::milliseconds timeout{10000};
  std::size_t max_body = 64 * 1024;
};

struct HttpsResponse {
  enum class Outcome {
    ok,           ///< an HTTP response arrived (any status)
    unreachable,  ///< connection, TLS handshake or timeout: maybe temporary
    certificate,  ///< the server's certificate is not valid for the host
    too_large,    ///< the body exceeds max_body
  };
  Outcome outcome = Outcome::unreachable;
  std::string error;  ///< libcurl's explanation (escaped) unless ok
  long status = 0;
  std::string content_type;  ///< raw, as the server sent it
  std::string body;
};

HttpsResponse https_get(const HttpsRequest& request);

}  // namespace rdns::audit
