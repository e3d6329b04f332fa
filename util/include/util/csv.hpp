#pragma once
/// RFC 4180 CSV cells, neutralised against spreadsheet formula injection.

#include <string>
#include <string_view>
#include <vector>

namespace rdns {

/// One cell: a value starting with '=', '+', '-', '@', tab or CR gets a
/// leading apostrophe so spreadsheets show it as text; a value holding a
/// comma, quote, CR or LF is quoted with inner quotes doubled.
std::string csv_cell(std::string_view value);

/// One record: the cells joined by commas and ended with CRLF.
std::string csv_row(const std::vector<std::string>& values);

}  // namespace rdns
