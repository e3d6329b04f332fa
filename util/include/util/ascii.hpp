#pragma once
/// ASCII case folding for protocol text (DNS names, SPF terms, codes): only
/// A-Z change, whatever the locale, so other bytes pass through unchanged.

#include <string>

namespace rdns {

inline std::string ascii_lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

inline std::string ascii_upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

}  // namespace rdns
