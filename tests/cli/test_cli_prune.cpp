// `rdnsctl runs prune` through the real binary, on history files written with
// the Database API as audits would have left them.

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <db/database.hpp>
#include <util/file_lock.hpp>

#include "run_rdnsctl.hpp"

using rdns::Status;
using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;
using Ids = std::vector<std::int64_t>;

namespace {

/// One complete run per entry of `identities`, in order (ids 1, 2, ...), each
/// with a result; "inventory:NAME" runs belong to inventory NAME.
std::string history(const TempDir& dir, const std::vector<std::string>& identities) {
  const std::filesystem::path path = dir.path() / "runs.db";
  rdns::db::Database database = rdns::db::Database::open(path);
  for (const std::string& identity : identities) {
    const std::string prefix = "inventory:";
    const std::string inventory =
        identity.rfind(prefix, 0) == 0 ? identity.substr(prefix.size()) : "";
    const std::int64_t run =
        database.begin_run("audit", "{}", {"127.0.0.1"}, "test", {inventory, identity, "dns"});
    rdns::db::ResultRecord result;
    result.ip = "192.0.2." + std::to_string(run);
    result.family = "ipv4";
    result.status = Status::pass;
    database.add_results(run, std::vector{result});
    database.finish_run(run, rdns::db::RunState::complete, {1, 1, 0, 0, 0});
  }
  return path.string();
}

/// The ids `runs list` shows, ascending.
Ids stored_ids(const std::string& db) {
  const ProcessResult list = run_rdnsctl({"runs", "list", "--db", db, "--format", "json"});
  REQUIRE(list.exit_code == 0);
  Ids ids;
  for (const auto& run : nlohmann::json::parse(list.out)) {
    ids.insert(ids.begin(), run["id"].get<std::int64_t>());
  }
  return ids;
}

const std::vector<std::string> kInterleaved = {"inventory:a", "inventory:b", "inventory:a",
                                               "targets:x",   "inventory:b", "inventory:a"};

}  // namespace

TEST_CASE("runs prune --keep removes older runs of each inventory and says which") {
  TempDir dir;
  const std::string db = history(dir, kInterleaved);
  const ProcessResult pruned = run_rdnsctl({"runs", "prune", "--keep", "1", "--db", db});
  INFO(pruned.err);
  CHECK(pruned.exit_code == 0);
  const std::string said = "removed 3 runs (ids 1, 2, 3) from " + db + "; ";
  REQUIRE_THAT(pruned.out, Catch::StartsWith(said));
  const std::regex sizes("[0-9.]+ (B|KiB|MiB) -> [0-9.]+ (B|KiB|MiB)\n");
  CHECK(std::regex_match(pruned.out.substr(said.size()), sizes));
  CHECK(pruned.err.empty());
  CHECK(stored_ids(db) == Ids{4, 5, 6});

  const ProcessResult again = run_rdnsctl({"runs", "prune", "--keep", "1", "--db", db});
  CHECK(again.exit_code == 0);
  CHECK(again.out == "nothing to remove\n");
}

TEST_CASE("runs prune --dry-run shows what would go and removes nothing") {
  TempDir dir;
  const std::string db = history(dir, kInterleaved);
  const ProcessResult preview =
      run_rdnsctl({"runs", "prune", "--keep", "2", "--dry-run", "--db", db});
  CHECK(preview.exit_code == 0);
  CHECK_THAT(preview.out, Catch::StartsWith("would remove 1 run (ids 1) from " + db + "; "));
  CHECK(stored_ids(db) == Ids{1, 2, 3, 4, 5, 6});

  const ProcessResult json_preview =
      run_rdnsctl({"runs", "prune", "--keep", "1", "--dry-run", "--format", "json", "--db", db});
  CHECK(json_preview.exit_code == 0);
  const auto report = nlohmann::json::parse(json_preview.out);
  CHECK(report["removed"] == Ids{1, 2, 3});
  CHECK(report["dry_run"] == true);
  CHECK(report["bytes_after"] == report["bytes_before"]);
  CHECK(stored_ids(db) == Ids{1, 2, 3, 4, 5, 6});
}

TEST_CASE("runs prune --format json reports the ids and the file sizes") {
  TempDir dir;
  const std::string db = history(dir, kInterleaved);
  const ProcessResult pruned = run_rdnsctl(
      {"runs", "prune", "--keep", "1", "--inventory", "a", "--format", "json", "--db", db});
  CHECK(pruned.exit_code == 0);
  const auto report = nlohmann::json::parse(pruned.out);
  CHECK(report["removed"] == Ids{1, 3});
  CHECK(report["dry_run"] == false);
  CHECK(report["bytes_before"].get<std::uintmax_t>() > 0);
  CHECK(report["bytes_after"].get<std::uintmax_t>() > 0);
  CHECK(report["bytes_after"] == std::filesystem::file_size(db));  // the WAL is emptied
  CHECK(stored_ids(db) == Ids{2, 4, 5, 6});
}

TEST_CASE("runs prune waits for no audit: a held lock exits 4 and removes nothing") {
  TempDir dir;
  const std::string db = history(dir, kInterleaved);
  auto held = rdns::FileLock::try_acquire(db + ".lock");
  REQUIRE(held);
  const ProcessResult locked = run_rdnsctl({"runs", "prune", "--keep", "1", "--db", db});
  CHECK(locked.exit_code == 4);
  CHECK_THAT(locked.err, Catch::Contains("another rdnsctl run is using this database"));
  CHECK(locked.out.empty());
  CHECK(stored_ids(db) == Ids{1, 2, 3, 4, 5, 6});
}

TEST_CASE("runs prune refuses a missing database without creating anything") {
  TempDir dir;
  const auto db = dir.path() / "typo" / "runs.db";
  const ProcessResult missing = run_rdnsctl({"runs", "prune", "--keep", "1", "--db", db.string()});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains(db.string()) && Catch::Contains("no database yet"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "typo"));
}

TEST_CASE("runs prune needs a rule, and a valid one") {
  TempDir dir;
  const std::string db = history(dir, kInterleaved);
  const ProcessResult no_rule = run_rdnsctl({"runs", "prune", "--db", db});
  CHECK(no_rule.exit_code == 2);
  CHECK_THAT(no_rule.err, Catch::Contains("give --keep N, --older-than DAYS or both"));
  const std::vector<std::vector<std::string>> bad_flags = {{"--keep", "0"},
                                                           {"--keep", "x"},
                                                           {"--older-than", "-1"},
                                                           {"--older-than", "36501"},
                                                           {"--format", "csv"}};
  for (const auto& flags : bad_flags) {
    std::vector<std::string> args = {"runs", "prune", "--db", db};
    args.insert(args.end(), flags.begin(), flags.end());
    const ProcessResult refused = run_rdnsctl(args);
    INFO(flags[0] << " " << flags[1] << ": " << refused.err);
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Catch::Contains(flags[0]));
  }
  CHECK(stored_ids(db) == Ids{1, 2, 3, 4, 5, 6});
}
