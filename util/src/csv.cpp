#include <util/csv.hpp>

namespace rdns {

std::string csv_cell(std::string_view value) {
  std::string text;
  if (!value.empty()) {
    switch (value.front()) {
      case '=':
      case '+':
      case '-':
      case '@':
      case '\t':
      case '\r':
        text += '\'';
        break;
      default:
        break;
    }
  }
  text += value;
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    return text;
  }
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string csv_row(const std::vector<std::string>& values) {
  std::string row;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) row += ',';
    row += csv_cell(values[i]);
  }
  row += "\r\n";
  return row;
}

}  // namespace rdns
