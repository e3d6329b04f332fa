#include "common.hpp"

#include <algorithm>
#include <array>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <util/escape.hpp>

namespace rdns::reports::detail {
namespace {

/// family: 4, 6, or 9 when the text is no address.
int parse(const std::string& ip, std::array<unsigned char, 16>& bytes) {
  if (inet_pton(AF_INET, ip.c_str(), bytes.data()) == 1) return 4;
  if (inet_pton(AF_INET6, ip.c_str(), bytes.data()) == 1) return 6;
  return 9;
}

}  // namespace

std::string shown(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return std::string(text);
  }
  return escape_text(text);
}

void append(std::string& list, std::string_view separator, std::string_view value) {
  if (!list.empty()) list += separator;
  list += value;
}

bool address_less(const std::string& a, const std::string& b) {
  std::array<unsigned char, 16> x{}, y{};
  const int fa = parse(a, x), fb = parse(b, y);
  if (fa != fb) return fa < fb;
  if (fa == 9) return a < b;
  return x < y;
}

std::string address_sort_key(const std::string& ip) {
  std::array<unsigned char, 16> bytes{};
  const int family = parse(ip, bytes);
  if (family == 9) {
    std::string key = "9";
    key += shown(ip);
    return key;
  }
  std::string key = std::to_string(family);
  const std::size_t size = family == 4 ? 4 : 16;
  for (std::size_t i = 0; i < size; ++i) key += fmt::format("{:02x}", bytes[i]);
  return key;
}

AddressKey address_key(const std::string& ip) {
  AddressKey key{};
  std::array<unsigned char, 16> bytes{};
  key[0] = static_cast<unsigned char>(parse(ip, bytes));
  if (key[0] != 9) std::copy(bytes.begin(), bytes.end(), key.begin() + 1);
  return key;
}

std::string address_text(const AddressKey& key) {
  if (key[0] != 4 && key[0] != 6) return {};
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(key[0] == 4 ? AF_INET : AF_INET6, key.data() + 1, text, sizeof text);
  return text;
}

std::string network_of(const AddressKey& key, const std::string& ip) {
  const bool v4 = key[0] == 4;
  if (!v4 && key[0] != 6) return shown(ip);
  std::array<unsigned char, 16> prefix{};
  std::copy_n(key.begin() + 1, v4 ? 3 : 8, prefix.begin());
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4 ? AF_INET : AF_INET6, prefix.data(), text, sizeof text);
  return std::string(text) + (v4 ? "/24" : "/64");
}

std::string join_ptr(const db::ResultRecord& record) {
  std::string out;
  for (const auto& name : record.ptr) append(out, " ", shown(name));
  return out;
}

std::string join_forward(const db::ResultRecord& record) {
  std::string out;
  for (const auto& entry : record.forward) {
    std::string addresses;
    for (const auto& address : entry.addresses) {
      append(addresses, " ", shown(address));
    }
    append(out, "; ", shown(entry.name));
    out += '=';
    out += addresses;
  }
  return out;
}

}  // namespace rdns::reports::detail
