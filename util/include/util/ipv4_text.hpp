#pragma once
/// An IPv4 address in dotted-quad form without the C library's
/// inet_ntop, which formats through printf: once per stored result, its
/// machinery cost more than the rest of the conversion.

#include <array>
#include <charconv>
#include <string>

namespace rdns {

/// "192.0.2.1" for the bytes {192, 0, 2, 1} (network order).
inline std::string ipv4_text(const unsigned char* bytes) {
  std::array<char, 16> text{};  // "255.255.255.255" and room to spare
  char* end = text.data();
  for (int i = 0; i < 4; ++i) {
    if (i > 0) *end++ = '.';
    end = std::to_chars(end, text.data() + text.size(), bytes[i]).ptr;
  }
  return std::string(text.data(), end);
}

}  // namespace rdns
