#include "sigv4.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <provision/signing.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>

namespace rdns::provision::sigv4 {
namespace {

constexpr const char* kAlgorithm = "AWS4-HMAC-SHA256";

// Trims the value and folds each run of spaces into one, as the spec asks.
std::string canonical_value(std::string_view value) {
  std::string out;
  bool space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

// SigV4's UriEncode is the rule of RFC 3986 that Alibaba's signatures use too.
std::string uri_encode(std::string_view text) {
  return percent_encode(text);
}

std::string canonical_query(const Pairs& query) {
  return provision::canonical_query(query);
}

std::string amz_date(long long epoch_seconds) {
  return utc_text(epoch_seconds, "%Y%m%dT%H%M%SZ");
}

Signed sign(const Request& request, const Scope& scope) {
  // Header names lower-cased and sorted; repeated names join their values
  // with commas in the order given.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    const std::string key = ascii_lower(name);
    const auto same = std::find_if(headers.begin(), headers.end(),
                                   [&](const auto& header) { return header.first == key; });
    if (same != headers.end()) {
      same->second += "," + canonical_value(value);
    } else {
      headers.emplace_back(key, canonical_value(value));
    }
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string date;
  bool has_host = false;
  Signed out;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    if (name == "x-amz-date") date = value;
    if (name == "host") has_host = true;
    canonical_headers += name + ":" + value + "\n";
    out.signed_headers += (out.signed_headers.empty() ? "" : ";") + name;
  }
  if (!has_host || date.size() < 8) {
    throw Error(Errc::internal, "a SigV4 request needs the host and x-amz-date headers");
  }
  out.canonical_request = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, request.path,
                                      canonical_query(request.query), canonical_headers,
                                      out.signed_headers, sha256_hex(request.body));
  const std::string day = date.substr(0, 8);
  const std::string credential_scope =
      fmt::format("{}/{}/{}/aws4_request", day, scope.region, scope.service);
  out.string_to_sign = fmt::format("{}\n{}\n{}\n{}", kAlgorithm, date, credential_scope,
                                   sha256_hex(out.canonical_request));
  // The signing key: HMAC chained over the date, region, service and terminator.
  const std::string key = hmac_sha256(
      hmac_sha256(hmac_sha256(hmac_sha256("AWS4" + scope.secret_access_key, day), scope.region),
                  scope.service),
      "aws4_request");
  out.signature = hex_encode(hmac_sha256(key, out.string_to_sign));
  out.authorization =
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                  scope.access_key_id, credential_scope, out.signed_headers, out.signature);
  return out;
}

}  // namespace rdns::provision::sigv4
