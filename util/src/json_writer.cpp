#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <util/error.hpp>
#include <util/json_writer.hpp>

namespace rdns {

JsonWriter& JsonWriter::string(std::string_view text) {
  const bool ascii = std::all_of(text.begin(), text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii) {
    // Rare (stored text is escaped ASCII): let the library validate the UTF-8.
    try {
      out_ += nlohmann::json(std::string(text)).dump();
    } catch (const nlohmann::json::exception& error) {
      throw Error(Errc::internal,
                  fmt::format("cannot write {} of {}: {}", what_, subject_, error.what()));
    }
    return *this;
  }
  out_ += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += c;
    } else if (byte < 0x20) {
      out_ += fmt::format("\\u{:04x}", byte);
    } else {
      out_ += c;
    }
  }
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::strings(const std::vector<std::string>& values) {
  raw("[");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) raw(",");
    string(values[i]);
  }
  return raw("]");
}

}  // namespace rdns
