#pragma once
/// A result's list fields as JSON text: the form the results table stores
/// them in and `audit --format jsonl` prints, so both say the same.

#include <db/database.hpp>

namespace rdns::db {

/// Throws Errc::internal for text JSON cannot carry (invalid UTF-8: the
/// caller skipped the escaping), naming the result's IP.
ResultJson result_json(const ResultRecord& result);

}  // namespace rdns::db
