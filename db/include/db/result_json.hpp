#pragma once
/// A result's list fields as JSON text: the form the results table stores
/// them in and `audit --format jsonl` prints, so both say the same.

#include <optional>
#include <string>

#include <db/database.hpp>

namespace rdns::db {

struct ResultJson {
  std::string ptr;                  ///< ["name", ...]
  std::string forward;              ///< [{"name", "addresses"}, ...]
  std::string sources;              ///< [{"domain", "via", "expected"}, ...]
  std::string findings;             ///< [{"code", "severity", "detail"}, ...]
  std::optional<std::string> smtp;  ///< {"greeted", ...}; none when SMTP was not checked
};

/// Throws Errc::internal for text JSON cannot carry (invalid UTF-8: the
/// caller skipped the escaping), naming the result's IP.
ResultJson result_json(const ResultRecord& result);

}  // namespace rdns::db
