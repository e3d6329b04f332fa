#pragma once
// Where one database test's database lives, for the tests that run against
// both backends: a SQLite file in a fresh directory, or a fresh database on
// the test process's shared PostgreSQL server (tests/lab PgServer).

#include <optional>
#include <string>

#include <lab/pg_server.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace rdns::test {

/// Where one test's database lives: a file in a fresh directory, or a fresh
/// database on the shared PostgreSQL server.
class BackendLocation {
 public:
  explicit BackendLocation(const std::string& backend) {
    if (backend == "postgresql") {
      location_ = rdns::lab::shared_pg_server().create_database();
      return;
    }
    directory_.emplace();
    location_ = (directory_->path() / "runs.db").string();
  }
  BackendLocation(const BackendLocation&) = delete;
  BackendLocation& operator=(const BackendLocation&) = delete;

  const std::string& location() const { return location_; }

 private:
  std::optional<TempDir> directory_;  ///< for a file only
  std::string location_;
};

}  // namespace rdns::test
