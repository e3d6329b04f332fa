#pragma once
/// What `rdnsctl runs` says about a test's database.

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "run_rdnsctl.hpp"

namespace rdns::test {

/// The one run stored in `db`, as `runs list --format json` shows it.
inline nlohmann::json only_run(const std::string& db) {
  const auto list = run_rdnsctl({"runs", "list", "--db", db, "--format", "json"});
  REQUIRE(list.exit_code == 0);
  const auto runs = nlohmann::json::parse(list.out);
  REQUIRE(runs.size() == 1);
  return runs[0];
}

}  // namespace rdns::test
