#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <provision/signing.hpp>
#include <util/ascii.hpp>

namespace rdns::provision {
namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

std::array<unsigned char, EVP_MAX_MD_SIZE> hmac(const EVP_MD* digest, std::string_view key,
                                                std::string_view data, unsigned int& length) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  if (HMAC(digest, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &length) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return out;
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::string canonical_query(const Params& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(percent_encode(name), percent_encode(value));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return to_hex(digest.data(), digest.size());
}

V3Signature sign_v3(const SignableRequest& request, std::string_view access_key_id,
                    std::string_view access_key_secret) {
  std::vector<std::pair<std::string, std::string>> signed_headers;
  for (const auto& [name, value] : request.headers) {
    std::string key = ascii_lower(name);
    if (key == "host" || key == "content-type" || key.starts_with("x-acs-")) {
      signed_headers.emplace_back(std::move(key), trim(value));
    }
  }
  std::sort(signed_headers.begin(), signed_headers.end());

  V3Signature result;
  std::string header_block;
  for (const auto& [name, value] : signed_headers) {
    header_block += name + ":" + value + "\n";
    if (!result.signed_headers.empty()) result.signed_headers.push_back(';');
    result.signed_headers += name;
  }
  result.canonical_request = request.method + "\n" + request.path + "\n" +
                             canonical_query(request.query) + "\n" + header_block + "\n" +
                             result.signed_headers + "\n" + sha256_hex(request.body);
  result.hashed_canonical_request = sha256_hex(result.canonical_request);
  const std::string string_to_sign = "ACS3-HMAC-SHA256\n" + result.hashed_canonical_request;
  unsigned int length = 0;
  const auto mac = hmac(EVP_sha256(), access_key_secret, string_to_sign, length);
  result.signature = to_hex(mac.data(), length);
  result.authorization = "ACS3-HMAC-SHA256 Credential=" + std::string(access_key_id) +
                         ",SignedHeaders=" + result.signed_headers +
                         ",Signature=" + result.signature;
  return result;
}

std::string v2_string_to_sign(std::string_view method, const Params& params) {
  return std::string(method) + "&" + percent_encode("/") + "&" +
         percent_encode(canonical_query(params));
}

std::string sign_v2(std::string_view method, const Params& params,
                    std::string_view access_key_secret) {
  const std::string key = std::string(access_key_secret) + "&";
  unsigned int length = 0;
  const auto mac = hmac(EVP_sha1(), key, v2_string_to_sign(method, params), length);
  std::array<unsigned char, 64> encoded{};
  const int size = EVP_EncodeBlock(encoded.data(), mac.data(), static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(size));
}

bool signatures_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string new_nonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("no random bytes for a signature nonce");
  }
  return to_hex(bytes.data(), bytes.size());
}

std::string utc_text(long long epoch_seconds, const char* format) {
  const std::time_t time = static_cast<std::time_t>(epoch_seconds);
  std::tm parts{};
  ::gmtime_r(&time, &parts);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), format, &parts);
  return text.data();
}

std::string iso8601_utc(long long epoch_seconds) {
  return utc_text(epoch_seconds, "%Y-%m-%dT%H:%M:%SZ");
}

long long parse_iso8601_utc(std::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return -1;
  }
  std::tm parts{};
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec) != 6) {
    return -1;
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return static_cast<long long>(::timegm(&parts));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned int length = 0;
  const auto mac = hmac(EVP_sha256(), key, data, length);
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

std::string hex_encode(std::string_view bytes) {
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

}  // namespace rdns::provision
