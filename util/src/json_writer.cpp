#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <util/error.hpp>
#include <util/json_writer.hpp>

namespace rdns {

JsonWriter& JsonWriter::string(std::string_view text) {
  // One pass: runs of characters that need no escape are appended whole
  // (a result's names and reasons are almost all such text), and the first
  // non-ASCII byte hands the whole string to the validating path instead.
  const std::size_t start = out_.size();
  out_ += '"';
  std::size_t plain_from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x80 && byte != '"' && byte != '\\') continue;
    if (byte >= 0x80) {
      out_.resize(start);
      return non_ascii_string(text);
    }
    out_.append(text.substr(plain_from, i - plain_from));
    if (byte < 0x20) {
      out_ += fmt::format("\\u{:04x}", byte);
    } else {
      out_ += '\\';
      out_ += static_cast<char>(byte);
    }
    plain_from = i + 1;
  }
  out_.append(text.substr(plain_from));
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::non_ascii_string(std::string_view text) {
  // Rare (stored text is escaped ASCII): let the library validate the UTF-8.
  try {
    out_ += nlohmann::json(std::string(text)).dump();
  } catch (const nlohmann::json::exception& error) {
    throw Error(Errc::internal,
                fmt::format("cannot write {} of {}: {}", what_, subject_, error.what()));
  }
  return *this;
}

JsonWriter& JsonWriter::strings(const std::vector<std::string>& values) {
  std::size_t bytes = 2;
  for (const std::string& value : values) bytes += value.size() + 3;
  reserve(bytes);
  raw("[");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) raw(",");
    string(values[i]);
  }
  return raw("]");
}

}  // namespace rdns
