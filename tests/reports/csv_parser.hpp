#pragma once
// A strict RFC 4180 reader, written apart from util/csv so the report's CSV
// is checked against the RFC rather than against its own writer.

#include <stdexcept>
#include <string>
#include <vector>

namespace rdns::test {

/// Records of CRLF-terminated CSV; throws on anything RFC 4180 does not allow
/// (a bare quote inside an unquoted field, a lone CR or LF outside quotes, an
/// unterminated quoted field, a missing final CRLF).
inline std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) throw std::runtime_error("unterminated quoted field");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
        if (text[i] == '"') throw std::runtime_error("quote inside an unquoted field");
        field += text[i++];
      }
    }
    if (i >= text.size()) throw std::runtime_error("missing CRLF after the last record");
    if (text[i] == ',') {
      record.push_back(std::move(field));
      field.clear();
      ++i;
    } else if (text.compare(i, 2, "\r\n") == 0) {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      i += 2;
    } else {
      throw std::runtime_error("bare CR or LF outside quotes");
    }
  }
  return records;
}

}  // namespace rdns::test
