#include "acs_verifier.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <utility>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace rdns::emulator::acs {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0x0f]);
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are.
std::string encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '_' ||
                            byte == '.' || byte == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kDigits[byte >> 4]);
      out.push_back(kDigits[byte & 0x0f]);
    }
  }
  return out;
}

// The query's pairs, each name and value encoded afresh.
Pairs encoded_query(std::string_view target) {
  Pairs pairs;
  const auto mark = target.find('?');
  if (mark == std::string_view::npos) return pairs;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      pairs.emplace_back(
          encode(percent_decode(pair.substr(0, eq))),
          eq == std::string_view::npos ? "" : encode(percent_decode(pair.substr(eq + 1))));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return pairs;
}

std::string joined(Pairs pairs) {
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string hmac(const EVP_MD* digest, std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  HMAC(digest, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &size);
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                   reinterpret_cast<const unsigned char*>(bytes.data()),
                                   static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(size));
  return out;
}

std::string header_value(const std::map<std::string, std::string>& headers,
                         const std::string& name) {
  const auto it = headers.find(name);
  if (it == headers.end()) return {};
  std::string_view value = it->second;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return std::string(value);
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_digit(text[i + 1]);
      const int low = hex_digit(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string hex_sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return hex(digest.data(), size);
}

std::string v3_canonical_request(std::string_view method, std::string_view target,
                                 const std::map<std::string, std::string>& headers,
                                 const std::vector<std::string>& signed_names,
                                 std::string_view body) {
  std::string request(method);
  request += '\n';
  request += target.substr(0, target.find('?'));
  request += '\n';
  request += joined(encoded_query(target));
  request += '\n';
  std::string names;
  for (const auto& name : signed_names) {
    request += name + ':' + header_value(headers, name) + '\n';
    names += (names.empty() ? "" : ";") + name;
  }
  request += '\n';
  request += names;
  request += '\n';
  request += hex_sha256(body);
  return request;
}

std::string v3_signature(std::string_view canonical_request, std::string_view secret) {
  const std::string string_to_sign = "ACS3-HMAC-SHA256\n" + hex_sha256(canonical_request);
  const std::string mac = hmac(EVP_sha256(), secret, string_to_sign);
  return hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string v2_signature(std::string_view method, std::string_view target,
                         std::string_view secret) {
  Pairs pairs = encoded_query(target);
  std::erase_if(pairs, [](const auto& pair) { return pair.first == "Signature"; });
  const std::string string_to_sign =
      std::string(method) + "&" + encode("/") + "&" + encode(joined(std::move(pairs)));
  return base64(hmac(EVP_sha1(), std::string(secret) + "&", string_to_sign));
}

bool signed_names_canonical(const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return false;
    for (const char c : names[i]) {
      if (c >= 'A' && c <= 'Z') return false;
    }
    if (i > 0 && !(names[i - 1] < names[i])) return false;
  }
  return true;
}

bool same_signature(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const char left = i < a.size() ? a[i] : '\0';
    const char right = i < b.size() ? b[i] : '\0';
    difference |= static_cast<unsigned char>(left ^ right);
  }
  return difference == 0;
}

long long utc_seconds(std::string_view iso8601) {
  // Exactly YYYY-MM-DDTHH:MM:SSZ, as both signature versions send it.
  if (iso8601.size() != 20) return -1;
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = iso8601[i] >= '0' && iso8601[i] <= '9';
    if (kShape[i] == 'd' ? !digit : iso8601[i] != kShape[i]) return -1;
  }
  const auto number = [&](std::size_t at, std::size_t width) {
    int value = 0;
    for (std::size_t i = at; i < at + width; ++i) value = value * 10 + (iso8601[i] - '0');
    return value;
  };
  std::tm when{};
  when.tm_year = number(0, 4) - 1900;
  when.tm_mon = number(5, 2) - 1;
  when.tm_mday = number(8, 2);
  when.tm_hour = number(11, 2);
  when.tm_min = number(14, 2);
  when.tm_sec = number(17, 2);
  if (when.tm_mon > 11 || when.tm_mday < 1 || when.tm_mday > 31 || when.tm_hour > 23 ||
      when.tm_min > 59 || when.tm_sec > 60) {
    return -1;
  }
  return static_cast<long long>(timegm(&when));
}

}  // namespace rdns::emulator::acs
