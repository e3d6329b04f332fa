#pragma once
// Where one database test's database lives, for the tests that run against
// both backends: a SQLite file in a fresh directory, or a fresh database on
// the test process's shared PostgreSQL server (tests/lab PgServer).

#include <filesystem>
#include <stdexcept>
#include <string>

#include <stdlib.h>

#include <lab/pg_server.hpp>

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
    std::string pattern = (std::filesystem::temp_directory_path() / "rdns-backend-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    directory_ = pattern;
    location_ = (directory_ / "runs.db").string();
  }
  ~BackendLocation() {
    std::error_code ignored;
    if (!directory_.empty()) std::filesystem::remove_all(directory_, ignored);
  }
  BackendLocation(const BackendLocation&) = delete;
  BackendLocation& operator=(const BackendLocation&) = delete;

  const std::string& location() const { return location_; }

 private:
  std::filesystem::path directory_;
  std::string location_;
};

}  // namespace rdns::test
