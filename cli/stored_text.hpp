#pragma once
/// Showing text the audit stored: DNS names and findings are saved already
/// escaped (presentation form), so escaping them again would double their
/// backslashes and change the names.

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace rdns::cli {

/// Printable ASCII, the backslashes of earlier escapes included, kept as is;
/// a control, DEL or non-ASCII byte (left by an older or foreign writer)
/// becomes \DDD, so nothing raw reaches a terminal or a CSV cell.
inline std::string shown_stored(std::string_view stored) {
  std::string out;
  out.reserve(stored.size());
  for (const char c : stored) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\{:03d}", static_cast<unsigned>(byte));
    }
  }
  return out;
}

}  // namespace rdns::cli
