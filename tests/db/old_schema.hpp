#pragma once
// The SQL that makes a SQLite file look like one an older rdnsctl wrote: the
// first `version` migrations and that version's identity, for the tests that
// open it and check what the newer migrations add.

#include <cstddef>
#include <string>

#include "../../db/src/migrations.hpp"

namespace rdns::test {

inline std::string schema_at_version(std::size_t version) {
  std::string sql;
  for (std::size_t i = 0; i < version; ++i) sql += std::string(rdns::db::kMigrations[i]);
  sql += "PRAGMA application_id = " + std::to_string(rdns::db::kApplicationId) +
         "; PRAGMA user_version = " + std::to_string(version) + ";";
  return sql;
}

}  // namespace rdns::test
