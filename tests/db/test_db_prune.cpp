// Retention: Database::prune keeps the newest runs of each identity and the
// recent ones, never a running run, and gives the space back to the file
// system, on real SQLite files.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <db/database.hpp>
#include <util/error.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace fs = std::filesystem;
using rdns::Severity;
using rdns::Status;
using rdns::db::AddressRange;
using rdns::db::Database;
using rdns::db::PruneOutcome;
using rdns::db::PrunePolicy;
using rdns::db::ResultRecord;
using rdns::db::RunLabel;
using rdns::db::RunState;
using rdns::test::TempDir;
using Ids = std::vector<std::int64_t>;

namespace {

/// `results` distinct addresses for run `run`, each with a finding, so the
/// rows are about the size an audit stores.
std::vector<ResultRecord> results_for(std::int64_t run, int results) {
  std::vector<ResultRecord> records;
  for (int i = 0; i < results; ++i) {
    ResultRecord record;
    record.ip = "10." + std::to_string(run % 256) + "." + std::to_string(i / 256) + "." +
                std::to_string(i % 256);
    record.family = "ipv4";
    record.status = Status::warn;
    record.ptr = {"host-" + std::to_string(i) + ".dynamic.example."};
    record.findings = {
        {"generic-ptr", Severity::warning, "looks dynamic: host-" + std::to_string(i)}};
    records.push_back(std::move(record));
  }
  return records;
}

/// Stores a run of `identity` with results, targets and a domain finding,
/// so a prune has every kind of dependent row to take along.
std::int64_t add_run(Database& database, const std::string& identity,
                     const std::string& inventory = "", int results = 3,
                     RunState state = RunState::complete) {
  const std::int64_t run = database.begin_run("audit", "{}", {"127.0.0.1"}, "test",
                                              RunLabel{inventory, identity, "dns"});
  database.store_targets(run, std::vector<AddressRange>{{"10.0.0.0", "10.0.0.255"}});
  database.add_domain_findings(run,
                               std::vector<rdns::db::DomainFindingRecord>{
                                   {"example.com", "spf-missing", Severity::warning, "no SPF"}});
  database.add_results(run, results_for(run, results));
  if (state != RunState::running) {
    database.finish_run(run, state, {results, 0, results, 0, 0});
  }
  return run;
}

Ids run_ids(Database& database) {
  Ids ids;
  for (const auto& run : database.list_runs(1000)) ids.insert(ids.begin(), run.id);
  return ids;
}

/// Runs SQL with the plain SQLite library, as another program would, on a
/// file no Database has open; returns the first column of the first row.
std::int64_t sql(const fs::path& path, const std::string& statement) {
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          nullptr) == SQLITE_OK);
  sqlite3_stmt* prepared = nullptr;
  const int prepare = sqlite3_prepare_v2(handle, statement.c_str(), -1, &prepared, nullptr);
  INFO(statement << ": " << sqlite3_errmsg(handle));
  std::int64_t value = 0;
  int step = SQLITE_DONE;
  if (prepare == SQLITE_OK) {
    step = sqlite3_step(prepared);
    if (step == SQLITE_ROW) value = sqlite3_column_int64(prepared, 0);
  }
  sqlite3_finalize(prepared);
  sqlite3_close(handle);
  REQUIRE(prepare == SQLITE_OK);
  REQUIRE((step == SQLITE_ROW || step == SQLITE_DONE));
  return value;
}

/// How many rows of `table` belong to run `run`.
std::int64_t rows_of(const fs::path& path, const std::string& table, std::int64_t run) {
  return sql(path, "SELECT count(*) FROM " + table + " WHERE run_id = " + std::to_string(run));
}

void make_old(const fs::path& path, std::int64_t run, int days) {
  sql(path, "UPDATE runs SET started_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-" +
                std::to_string(days) + " days') WHERE id = " + std::to_string(run));
}

std::uintmax_t bytes_on_disk(const fs::path& path) {
  std::error_code missing;
  const std::uintmax_t wal = fs::file_size(path.string() + "-wal", missing);
  return fs::file_size(path) + (missing ? 0 : wal);
}

PrunePolicy keep_newest(std::int64_t runs) {
  PrunePolicy policy;
  policy.keep_runs = runs;
  return policy;
}

PrunePolicy keep_recent(std::int64_t days) {
  PrunePolicy policy;
  policy.keep_days = days;
  return policy;
}

/// prune(policy) fails with `code`, its message holding every fragment.
void require_refusal(Database& database, const PrunePolicy& policy, rdns::Errc code,
                     const std::vector<std::string>& fragments) {
  try {
    database.prune(policy);
    FAIL("prune went through");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == code);
    for (const std::string& fragment : fragments)
      CHECK_THAT(error.what(), Catch::Contains(fragment));
  }
}

void require_usage_error(Database& database, const PrunePolicy& policy, const std::string& text) {
  require_refusal(database, policy, rdns::Errc::usage, {text});
}

}  // namespace

TEST_CASE("keep_runs keeps the newest runs of each identity, with their rows", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  {
    Database database = Database::open(path);
    // Interleaved as scheduled inventories and ad-hoc runs would be.
    const Ids made = {
        add_run(database, "inventory:a", "a"), add_run(database, "inventory:b", "b"),  // 1, 2
        add_run(database, "inventory:a", "a"), add_run(database, "targets:x"),         // 3, 4
        add_run(database, "inventory:b", "b"), add_run(database, "inventory:a", "a"),  // 5, 6
        add_run(database, "targets:x"),        add_run(database, "inventory:b", "b"),  // 7, 8
        add_run(database, "targets:x"),        add_run(database, ""),                  // 9, 10
    };
    REQUIRE(made == Ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});

    const PruneOutcome outcome = database.prune(keep_newest(2));
    CHECK(outcome.removed == Ids{1, 2, 4});
    CHECK(run_ids(database) == Ids{3, 5, 6, 7, 8, 9, 10});
    for (const std::int64_t kept : run_ids(database)) {
      INFO("run " << kept);
      CHECK(database.results(kept) == results_for(kept, 3));
      CHECK(database.targets(kept).size() == 1);
      CHECK(database.domain_findings(kept).size() == 1);
    }
    CHECK(database.prune(keep_newest(2)).removed.empty());  // the rule holds already
  }
  for (const std::int64_t removed : {1, 2, 4}) {
    INFO("run " << removed);
    CHECK(rows_of(path, "results", removed) == 0);
    CHECK(rows_of(path, "run_targets", removed) == 0);
    CHECK(rows_of(path, "domain_findings", removed) == 0);
  }
  CHECK(rows_of(path, "results", 3) == 3);
}

TEST_CASE("keep_days removes runs begun before the cut-off", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  {
    Database database = Database::open(path);
    for (int i = 0; i < 4; ++i) add_run(database, "inventory:a", "a");
  }
  make_old(path, 1, 400);
  make_old(path, 2, 40);
  make_old(path, 3, 10);

  Database database = Database::open(path);
  CHECK(database.prune(keep_recent(365)).removed == Ids{1});
  CHECK(database.prune(keep_recent(30)).removed == Ids{2});
  CHECK(database.prune(keep_recent(30)).removed.empty());
  CHECK(database.prune(keep_recent(5)).removed == Ids{3});
  CHECK(run_ids(database) == Ids{4});
  CHECK(database.results(4) == results_for(4, 3));
}

TEST_CASE("with both rules a run goes only when it is neither newest nor recent", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  {
    Database database = Database::open(path);
    for (int i = 0; i < 4; ++i) add_run(database, "inventory:a", "a");  // 1..4
    add_run(database, "inventory:b", "b");                              // 5
  }
  make_old(path, 1, 90);
  make_old(path, 2, 90);
  make_old(path, 5, 90);  // old, but the newest of its inventory

  Database database = Database::open(path);
  PrunePolicy policy = keep_newest(1);
  policy.keep_days = 30;
  // 3 is not among the newest but recent: it stays.
  CHECK(database.prune(policy).removed == Ids{1, 2});
  CHECK(run_ids(database) == Ids{3, 4, 5});
}

TEST_CASE("a running run is never removed", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  {
    Database database = Database::open(path);
    add_run(database, "inventory:a", "a", 3, RunState::running);  // 1: killed mid-run
    add_run(database, "inventory:a", "a", 3, RunState::interrupted);
    add_run(database, "inventory:a", "a");
    add_run(database, "inventory:a", "a", 3, RunState::running);  // 4: still going
  }
  make_old(path, 1, 90);

  Database database = Database::open(path);
  CHECK(database.prune(keep_newest(1)).removed == Ids{2, 3});
  CHECK(database.prune(keep_recent(0)).removed.empty());
  CHECK(run_ids(database) == Ids{1, 4});
  CHECK(database.results(1) == results_for(1, 3));
  database.add_results(4, results_for(40, 1));  // the running run goes on
}

TEST_CASE("an inventory filter prunes only that inventory's runs", "[db]") {
  TempDir dir;
  Database database = Database::open(dir.path() / "history.db");
  for (int i = 0; i < 3; ++i) {
    add_run(database, "inventory:a", "a");
    add_run(database, "inventory:b", "b");
    add_run(database, "targets:x");
  }
  PrunePolicy policy = keep_newest(1);
  policy.inventory = "b";
  CHECK(database.prune(policy).removed == Ids{2, 5});
  policy.inventory = "unknown";
  CHECK(database.prune(policy).removed.empty());
  CHECK(run_ids(database) == Ids{1, 3, 4, 6, 7, 8, 9});
}

TEST_CASE("a dry run reports what a prune would remove and changes nothing", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  {
    Database database = Database::open(path);
    for (int i = 0; i < 3; ++i) add_run(database, "inventory:a", "a", 200);
  }
  const std::string before = rdns::test::read_file(path);
  Database database = Database::open(path);
  PrunePolicy policy = keep_newest(1);
  policy.dry_run = true;
  const PruneOutcome preview = database.prune(policy);
  CHECK(preview.removed == Ids{1, 2});
  CHECK(preview.bytes_after == preview.bytes_before);
  CHECK(preview.bytes_before == bytes_on_disk(path));
  CHECK(run_ids(database) == Ids{1, 2, 3});
  CHECK(database.results(1).size() == 200);
  const bool unchanged = rdns::test::read_file(path) == before;
  CHECK(unchanged);

  policy.dry_run = false;
  CHECK(database.prune(policy).removed == preview.removed);
}

TEST_CASE("pruning shrinks the database file", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  std::uintmax_t stored = 0;
  {
    Database database = Database::open(path);
    for (int i = 0; i < 4; ++i) add_run(database, "inventory:a", "a", 3000);
  }
  CHECK(sql(path, "PRAGMA auto_vacuum") == 2);  // incremental, from the first page on
  stored = bytes_on_disk(path);

  Database database = Database::open(path);
  const PruneOutcome outcome = database.prune(keep_newest(1));
  INFO("before " << stored << " bytes, after " << outcome.bytes_after);
  CHECK(outcome.removed == Ids{1, 2, 3});
  CHECK(outcome.bytes_before >= stored);
  CHECK(outcome.bytes_after == bytes_on_disk(path));
  // One run of four is left: the file holds about a quarter of the data.
  CHECK(outcome.bytes_after * 2 < stored);
  CHECK(database.results(4).size() == 3000);
}

TEST_CASE("a database without auto-vacuum is converted when pruned, and shrinks", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  // An empty SQLite file whose first page exists: SQLite no longer accepts
  // auto_vacuum for it, as for databases made before rdnsctl set it.
  sql(path, "CREATE TABLE scratch (x)");
  sql(path, "DROP TABLE scratch");
  {
    Database database = Database::open(path);
    for (int i = 0; i < 3; ++i) add_run(database, "targets:x", "", 3000);
  }
  REQUIRE(sql(path, "PRAGMA auto_vacuum") == 0);
  const std::uintmax_t stored = bytes_on_disk(path);
  {
    Database database = Database::open(path);
    const PruneOutcome outcome = database.prune(keep_newest(1));
    CHECK(outcome.removed == Ids{1, 2});
    CHECK(outcome.bytes_after * 2 < stored);
    CHECK(database.results(3) == results_for(3, 3000));
  }
  CHECK(sql(path, "PRAGMA auto_vacuum") == 2);
  CHECK(bytes_on_disk(path) * 2 < stored);
  CHECK(Database::open(path).results(3).size() == 3000);  // open runs PRAGMA quick_check
}

TEST_CASE("prune refuses a policy without rules or out of range", "[db]") {
  TempDir dir;
  Database database = Database::open(dir.path() / "history.db");
  add_run(database, "inventory:a", "a");
  add_run(database, "inventory:a", "a");
  require_usage_error(database, PrunePolicy{}, "give a number of runs to keep, an age in days");
  require_usage_error(database, keep_newest(0), "at least 1, not 0");
  require_usage_error(database, keep_newest(-3), "at least 1, not -3");
  require_usage_error(database, keep_recent(-1), "from 0 to 36500, not -1");
  require_usage_error(database, keep_recent(rdns::db::kMaxPruneDays + 1), "not 36501");
  CHECK(run_ids(database) == Ids{1, 2});
}

TEST_CASE("a database opened read-only is not pruned", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  {
    Database database = Database::open(path);
    add_run(database, "inventory:a", "a");
    add_run(database, "inventory:a", "a");
  }
  Database reader = Database::open_read_only(path);
  require_refusal(reader, keep_newest(1), rdns::Errc::database, {path.string(), "read-only"});
  PrunePolicy preview = keep_newest(1);
  preview.dry_run = true;
  CHECK(reader.prune(preview).removed == Ids{1});
  CHECK(run_ids(reader) == Ids{1, 2});
}

TEST_CASE("a prune that fails part-way removes nothing", "[db]") {
  TempDir dir;
  const fs::path path = dir.path() / "history.db";
  {
    Database database = Database::open(path);
    for (int i = 0; i < 4; ++i) add_run(database, "inventory:a", "a");
  }
  // SQLite itself refuses the third deletion, after two have been made.
  sql(path,
      "CREATE TRIGGER keep_run_3 BEFORE DELETE ON runs WHEN old.id = 3 "
      "BEGIN SELECT RAISE(ABORT, 'run 3 is kept'); END");
  Database database = Database::open(path);
  require_refusal(database, keep_newest(1), rdns::Errc::database, {path.string(), "run 3 is kept"});
  CHECK(run_ids(database) == Ids{1, 2, 3, 4});
  CHECK(database.results(1) == results_for(1, 3));
}
