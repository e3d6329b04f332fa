#include "sigv4_verifier.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace rdns::emulator {
namespace {

Sigv4Verdict refuse(int status, std::string code, std::string message) {
  Sigv4Verdict verdict;
  verdict.http_status = status;
  verdict.code = std::move(code);
  verdict.message = std::move(message);
  return verdict;
}

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  std::ostringstream out;
  out << std::hex;
  for (std::size_t i = 0; i < size; ++i) {
    out << static_cast<int>(bytes[i] >> 4) << static_cast<int>(bytes[i] & 0xf);
  }
  return out.str();
}

std::string digest_hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return to_hex(digest.data(), size);
}

std::string keyed(const std::string& key, const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
  return {reinterpret_cast<const char*>(mac.data()), size};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The documentation's UriEncode: unreserved bytes as they are, every other
// byte as %XX in upper case; slash kept only in paths.
std::string encode(const std::string& text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out += {'%', kHex[byte >> 4], kHex[byte & 0xf]};
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, separator)) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Header values: trimmed, inner runs of whitespace folded to one space.
std::string header_value(const std::string& raw) {
  std::string out;
  for (const char c : trimmed(raw)) {
    const bool blank = c == ' ' || c == '\t';
    if (blank && !out.empty() && out.back() == ' ') continue;
    out.push_back(blank ? ' ' : c);
  }
  return out;
}

std::string canonical_uri(const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  return path.empty() ? "/" : encode(url_decode(path), true);
}

std::string canonical_query_of(const std::string& target) {
  const auto mark = target.find('?');
  if (mark == std::string::npos) return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& item : split(target.substr(mark + 1), '&')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    pairs.emplace_back(
        encode(url_decode(item.substr(0, eq)), false),
        eq == std::string::npos ? "" : encode(url_decode(item.substr(eq + 1)), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

std::string header(const Incoming& request, const std::string& name) {
  const auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

/// "Credential=a/b, SignedHeaders=c, Signature=d" -> {Credential: a/b, ...}
std::map<std::string, std::string> authorization_fields(const std::string& rest) {
  std::map<std::string, std::string> fields;
  for (const auto& part : split(rest, ',')) {
    const std::string item = trimmed(part);
    const auto eq = item.find('=');
    if (eq != std::string::npos) fields[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return fields;
}

/// Seconds since the epoch of "YYYYMMDDTHHMMSSZ"; -1 when malformed.
long long parse_amz_date(const std::string& text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return -1;
  std::tm parts{};
  std::istringstream in(text);
  in >> std::get_time(&parts, "%Y%m%dT%H%M%SZ");
  if (in.fail()) return -1;
  return static_cast<long long>(::timegm(&parts));
}

}  // namespace

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
        hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

Sigv4Verdict verify_sigv4(const Incoming& request, const Sigv4Policy& policy,
                          std::chrono::system_clock::time_point now) {
  constexpr const char* kScheme = "AWS4-HMAC-SHA256 ";
  const std::string authorization = header(request, "authorization");
  if (authorization.empty()) {
    return refuse(401, "MissingAuthenticationToken", "Request is missing Authentication Token");
  }
  if (!authorization.starts_with(kScheme)) {
    return refuse(400, "IncompleteSignature", "Only AWS4-HMAC-SHA256 is supported.");
  }
  auto fields = authorization_fields(authorization.substr(std::string(kScheme).size()));
  const std::vector<std::string> scope = split(fields["Credential"], '/');
  const std::vector<std::string> signed_names = split(fields["SignedHeaders"], ';');
  if (scope.size() != 5 || fields["SignedHeaders"].empty() || fields["Signature"].empty()) {
    return refuse(400, "IncompleteSignature",
                  "Authorization header requires Credential, SignedHeaders and Signature.");
  }
  const std::string& key_id = scope[0];
  const std::string& day = scope[1];
  const std::string& region = scope[2];
  if (scope[4] != "aws4_request" || scope[3] != policy.service) {
    return refuse(401, "AuthFailure",
                  "Credential should be scoped to a valid service and end in aws4_request.");
  }
  if (!policy.regions.contains(region)) {
    return refuse(401, "AuthFailure",
                  "Credential should be scoped to a valid region, not '" + region + "'.");
  }
  const Sigv4Key* key = policy.find_key ? policy.find_key(key_id) : nullptr;
  if (key == nullptr) {
    return refuse(401, "AuthFailure",
                  "AWS was not able to validate the provided access credentials");
  }
  for (const char* required : {"host", "x-amz-date"}) {
    if (std::find(signed_names.begin(), signed_names.end(), required) == signed_names.end()) {
      return refuse(400, "IncompleteSignature",
                    std::string("The header ") + required + " must be signed.");
    }
  }
  if (!std::is_sorted(signed_names.begin(), signed_names.end())) {
    return refuse(400, "IncompleteSignature", "SignedHeaders must be sorted and lower case.");
  }

  const std::string date = header(request, "x-amz-date");
  const long long sent = parse_amz_date(date);
  if (sent < 0 || date.substr(0, 8) != day) {
    return refuse(400, "IncompleteSignature",
                  "X-Amz-Date must be YYYYMMDDTHHMMSSZ on the day of the credential scope.");
  }
  const auto skew =
      std::chrono::abs(now - std::chrono::system_clock::time_point(std::chrono::seconds(sent)));
  if (skew > policy.clock_window) {
    return refuse(400, "RequestExpired",
                  "Request has expired: X-Amz-Date " + date + " is more than 5 minutes away.");
  }

  const std::string token = header(request, "x-amz-security-token");
  const bool token_signed = std::find(signed_names.begin(), signed_names.end(),
                                      "x-amz-security-token") != signed_names.end();
  if (!key->session_token.empty() && (token != key->session_token || !token_signed)) {
    return refuse(401, "AuthFailure", "The security token included in the request is invalid.");
  }
  if (key->session_token.empty() && !token.empty()) {
    return refuse(401, "AuthFailure", "This access key takes no security token.");
  }

  const std::string payload_hash = digest_hex(request.body);
  const std::string declared = header(request, "x-amz-content-sha256");
  if (!declared.empty() && declared != payload_hash && declared != "UNSIGNED-PAYLOAD") {
    return refuse(400, "XAmzContentSHA256Mismatch",
                  "The provided x-amz-content-sha256 header does not match the body.");
  }
  std::string canonical_headers;
  for (const auto& name : signed_names) {
    if (!request.headers.contains(name)) {
      return refuse(400, "IncompleteSignature", "Signed header " + name + " is missing.");
    }
    canonical_headers += name + ":" + header_value(header(request, name)) + "\n";
  }
  const std::string canonical_request = request.method + "\n" + canonical_uri(request.target) +
                                        "\n" + canonical_query_of(request.target) + "\n" +
                                        canonical_headers + "\n" + fields["SignedHeaders"] + "\n" +
                                        payload_hash;
  const std::string credential_scope = day + "/" + region + "/" + policy.service + "/aws4_request";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + date + "\n" + credential_scope + "\n" + digest_hex(canonical_request);
  const std::string signing_key =
      keyed(keyed(keyed(keyed("AWS4" + key->secret, day), region), policy.service), "aws4_request");
  const std::string mac = keyed(signing_key, string_to_sign);
  const std::string expected =
      to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
  const std::string& given = fields["Signature"];
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    return refuse(403, "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the signature you "
                  "provided. Check your AWS Secret Access Key and signing method.");
  }
  Sigv4Verdict verdict;
  verdict.ok = true;
  verdict.key = key;
  verdict.region = region;
  return verdict;
}

}  // namespace rdns::emulator
