#include <fmt/format.h>

#include <util/escape.hpp>

namespace rdns {
namespace {

void append_decimal_escape(std::string& out, unsigned char byte) {
  out += fmt::format("\\{:03d}", static_cast<unsigned>(byte));
}

bool is_printable_ascii(unsigned char byte) {
  return byte > 0x20 && byte < 0x7f;
}

}  // namespace

std::string escape_label(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  append_escaped_label(out, raw);
  return out;
}

void append_escaped_label(std::string& out, std::string_view raw) {
  for (const char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '.':
      case '\\':
      case '"':
      case ';':
      case '(':
      case ')':
        out += '\\';
        out += c;
        break;
      default:
        if (is_printable_ascii(byte)) {
          out += c;
        } else {
          append_decimal_escape(out, byte);
        }
    }
  }
}

std::string escape_text(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (const char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (byte == ' ' || is_printable_ascii(byte)) {
      out += c;
    } else {
      append_decimal_escape(out, byte);
    }
  }
  return out;
}

}  // namespace rdns
