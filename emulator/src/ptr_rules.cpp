#include "ptr_rules.hpp"

#include <algorithm>
#include <vector>

#include <arpa/inet.h>

namespace rdns::emulator::rules {
namespace {

std::string_view without_final_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

std::vector<std::string_view> labels_of(std::string_view name) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    labels.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return labels;
    start = dot + 1;
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_letter_digit_hyphen(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool acceptable_label(std::string_view label) {
  return !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
         std::all_of(label.begin(), label.end(), is_letter_digit_hyphen);
}

}  // namespace

bool acceptable_value(std::string_view value) {
  const std::string_view name = without_final_dot(value);
  if (name.empty() || name.size() > 253) return false;
  const auto labels = labels_of(name);
  if (labels.size() < 2 || !std::all_of(labels.begin(), labels.end(), acceptable_label)) {
    return false;
  }
  // An all-digit top label would make "192.0.2.1" a host name.
  return !std::all_of(labels.back().begin(), labels.back().end(), is_digit);
}

std::string root_domain(std::string_view value) {
  std::string name(without_final_dot(value));
  std::transform(name.begin(), name.end(), name.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  const auto last = name.rfind('.');
  if (last == std::string::npos || last == 0) return name;
  const auto before = name.rfind('.', last - 1);
  return before == std::string::npos ? name : name.substr(before + 1);
}

std::string reverse_name(std::string_view ipv4) {
  in_addr address{};
  if (::inet_pton(AF_INET, std::string(ipv4).c_str(), &address) != 1) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&address.s_addr);
  std::string name;
  for (int i = 3; i >= 0; --i) name += std::to_string(bytes[i]) + ".";
  return name + "in-addr.arpa";
}

}  // namespace rdns::emulator::rules
