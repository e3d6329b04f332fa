#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <stdlib.h>

#include <db/database.hpp>
#include <db/result_writer.hpp>
#include <util/error.hpp>

#include "../../db/src/queries.hpp"
#include "old_schema.hpp"
#include "scratch_dir.hpp"

namespace fs = std::filesystem;
using rdns::Severity;
using rdns::Status;
using rdns::db::AddressRange;
using rdns::db::Database;
using rdns::db::FindingRecord;
using rdns::db::ForwardRecord;
using rdns::db::ResultRecord;
using rdns::db::ResultWriter;
using rdns::db::RunCounts;
using rdns::db::RunState;

namespace {

using TempDir = rdns::test::ScratchDir;

std::string read_bytes(const fs::path& path) {
  // Sized read: istreambuf_iterator trips GCC 12's -Wnull-dereference.
  std::string bytes(fs::file_size(path), '\0');
  std::ifstream file(path, std::ios::binary);
  file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
}

fs::path sibling(const fs::path& path, const char* suffix) {
  fs::path result = path;
  result += suffix;
  return result;
}

/// Writes with the plain SQLite library, as another program would.
void run_plain_sqlite(const fs::path& path, const std::string& sql) {
  sqlite3* handle = nullptr;
  const int opened =
      sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  const int executed =
      opened == SQLITE_OK ? sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, nullptr) : opened;
  sqlite3_close(handle);
  REQUIRE(executed == SQLITE_OK);
}

ResultRecord result(std::string ip, std::string family, Status status) {
  ResultRecord record;
  record.ip = std::move(ip);
  record.family = std::move(family);
  record.status = status;
  return record;
}

/// Records in the order a resolver might finish them, not address order.
std::vector<ResultRecord> sample_results() {
  ResultRecord v4_ten = result("192.0.2.10", "ipv4", Status::pass);
  v4_ten.ptr = {"mail.example.com."};
  v4_ten.forward = {{"mail.example.com.", {"192.0.2.10"}}};
  v4_ten.smtp = rdns::db::SmtpRecord{true, "mail.example.com", "mx\\032\"q", ""};

  ResultRecord v6 = result("2001:db8::25", "ipv6", Status::warn);
  v6.ptr = {"odd\\032name\\.with\\\\escapes.example.", "mx.example.net."};
  v6.forward = {{"odd\\032name\\.with\\\\escapes.example.", {}},
                {"mx.example.net.", {"2001:db8::25", "2001:db8::26"}}};
  v6.findings = {{"forward-mismatch", Severity::warning, "odd\\032name has no AAAA"}};

  ResultRecord v4_nine = result("192.0.2.9", "ipv4", Status::fail);
  v4_nine.findings = {{"no-ptr", Severity::error, "no PTR record"},
                      {"note", Severity::info, "second finding"}};

  ResultRecord v6_low = result("2001:db8::3", "ipv6", Status::unknown);
  v6_low.findings = {{"timeout", Severity::warning, "resolver timed out"}};
  v6_low.smtp = rdns::db::SmtpRecord{false, "", "", "timeout"};

  ResultRecord v4_low = result("10.0.0.1", "ipv4", Status::pass);
  v4_low.ptr = {"a.example."};
  v4_low.forward = {{"a.example.", {"10.0.0.1"}}};

  return {v4_ten, v6, v4_nine, v6_low, v4_low};
}

std::vector<ResultRecord> in_address_order(const std::vector<ResultRecord>& sample) {
  return {sample[4], sample[2], sample[0], sample[3], sample[1]};
}

void require_refused(const fs::path& path, const std::string& reason) {
  const std::string before = read_bytes(path);
  try {
    const Database opened = Database::open(path);
    FAIL("opened " << path << " at schema version " << opened.schema_version());
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::database);
    CHECK_THAT(error.what(), Catch::Contains(path.string()));
    CHECK_THAT(error.what(), Catch::Contains(reason));
  }
  const bool unchanged = read_bytes(path) == before;
  CHECK(unchanged);
  CHECK_FALSE(fs::exists(sibling(path, "-wal")));
  CHECK_FALSE(fs::exists(sibling(path, "-shm")));
  CHECK_FALSE(fs::exists(sibling(path, "-journal")));
}

/// An rdnsctl database, closed, so that everything is in the main file.
void make_our_database(const fs::path& path, int result_count) {
  {
    Database database = Database::open(path);
    const std::int64_t run = database.begin_run("audit", "{}", {"192.0.2.53"}, "0.1.0");
    ResultWriter writer(database, run);
    for (int i = 0; i < result_count; ++i) {
      ResultRecord record = result(
          "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), "ipv4", Status::warn);
      record.ptr = {"host-" + std::to_string(i) + ".example."};
      record.findings = {
          {"generic-ptr", Severity::warning, "looks dynamic: host-" + std::to_string(i)}};
      writer.add(std::move(record));
    }
    writer.flush();
    database.finish_run(run, RunState::complete, {result_count, 0, result_count, 0, 0});
  }
  // The writer keeps its -wal and -shm for readers without write access to
  // the directory, and checkpoints the WAL empty when it closes.
  REQUIRE(fs::file_size(sibling(path, "-wal")) == 0);
  fs::remove(sibling(path, "-wal"));
  fs::remove(sibling(path, "-shm"));
}

}  // namespace

TEST_CASE("a run and its results come back as stored, in address order", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "history.db");
  const std::vector<ResultRecord> sample = sample_results();

  const std::int64_t run = database.begin_run("audit", R"({"targets":["192.0.2.0/24"]})",
                                              {"192.0.2.53", "2001:db8::53"}, "0.1.0");
  const std::optional<rdns::db::RunInfo> running = database.find_run(run);
  REQUIRE(running);
  CHECK(running->state == RunState::running);
  CHECK(running->finished_at.empty());

  // Two calls, so the cached statements are reused across transactions.
  database.add_results(run, std::span(sample).first(2));
  database.add_results(run, std::span(sample).subspan(2));
  const RunCounts counts{5, 2, 1, 1, 1};
  database.finish_run(run, RunState::complete, counts);

  const std::vector<rdns::db::RunInfo> runs = database.list_runs(10);
  REQUIRE(runs.size() == 1);
  const rdns::db::RunInfo& info = runs.front();
  CHECK(info.id == run);
  CHECK(info.state == RunState::complete);
  CHECK(info.command == "audit");
  CHECK(info.arguments_json == R"({"targets":["192.0.2.0/24"]})");
  CHECK(info.resolvers == std::vector<std::string>{"192.0.2.53", "2001:db8::53"});
  CHECK(info.tool_version == "0.1.0");
  CHECK(info.counts == counts);
  const std::regex utc_timestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  CHECK(std::regex_match(info.started_at, utc_timestamp));
  CHECK(std::regex_match(info.finished_at, utc_timestamp));
  CHECK(info.started_at <= info.finished_at);

  REQUIRE(database.find_run(run));
  CHECK(database.find_run(run)->counts == counts);
  CHECK_FALSE(database.find_run(run + 1));
  CHECK(database.latest_run_id() == run);
  CHECK(database.results(run) == in_address_order(sample));
  CHECK(database.results(run + 1).empty());
  CHECK(to_string(RunState::interrupted) == "interrupted");
}

TEST_CASE("runs are listed newest first", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "history.db");
  CHECK(database.list_runs(10).empty());
  CHECK_FALSE(database.latest_run_id());

  const std::int64_t first = database.begin_run("audit", "{}", {}, "0.1.0");
  database.finish_run(first, RunState::interrupted, {});
  const std::int64_t second = database.begin_run("audit", "[]", {}, "0.1.0");
  CHECK(second > first);
  CHECK(database.latest_run_id() == second);

  const std::vector<rdns::db::RunInfo> runs = database.list_runs(10);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].id == second);
  CHECK(runs[0].state == RunState::running);
  CHECK(runs[1].id == first);
  CHECK(runs[1].state == RunState::interrupted);
  REQUIRE(database.list_runs(1).size() == 1);
  CHECK(database.list_runs(1)[0].id == second);
}

TEST_CASE("IPs are stored in canonical form", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "history.db");
  const std::int64_t run = database.begin_run("audit", "{}", {}, "0.1.0");
  const std::vector<ResultRecord> records = {result("2001:DB8:0:0::0:1", "ipv6", Status::pass)};
  database.add_results(run, records);
  REQUIRE(database.results(run).size() == 1);
  CHECK(database.results(run)[0].ip == "2001:db8::1");
}

TEST_CASE("an address's results across runs come newest first, by inventory", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "history.db");
  const auto run_of = [&](const std::string& inventory, Status status, RunState state) {
    const std::int64_t run =
        database.begin_run("audit", "{}", {}, "0.1.0",
                           {inventory, inventory.empty() ? "" : "inventory:" + inventory, "dns"});
    ResultRecord v6 = result("2001:db8::25", "ipv6", status);
    v6.ptr = {"mx.example.net."};
    v6.findings = {{"GENERIC_PTR", Severity::warning, "looks dynamic"}};
    const std::vector<ResultRecord> records = {v6, result("192.0.2.10", "ipv4", Status::pass)};
    database.add_results(run, records);
    if (state != RunState::running) database.finish_run(run, state, {});
    return run;
  };
  const std::int64_t first = run_of("web", Status::fail, RunState::complete);
  const std::int64_t ad_hoc = run_of("", Status::pass, RunState::interrupted);
  const std::int64_t third = run_of("web", Status::warn, RunState::complete);
  const std::int64_t running = run_of("web", Status::warn, RunState::running);

  const auto all = database.address_results("2001:db8::25", 100);
  REQUIRE(all.size() == 4);
  CHECK(all[0].run.id == running);
  CHECK(all[0].run.state == RunState::running);
  CHECK(all[1].run.id == third);
  CHECK(all[2].run.id == ad_hoc);
  CHECK(all[2].run.inventory.empty());
  CHECK(all[3].run.id == first);
  CHECK(all[3].run.identity == "inventory:web");
  CHECK(all[3].result.status == Status::fail);
  CHECK(all[3].result.ptr == std::vector<std::string>{"mx.example.net."});
  CHECK(all[3].result.findings.at(0).code == "GENERIC_PTR");

  const auto web = database.address_results("2001:db8::25", 2, "web");
  REQUIRE(web.size() == 2);
  CHECK(web[0].run.id == running);
  CHECK(web[1].run.id == third);
  CHECK(database.address_results("2001:db8::99", 100).empty());
  CHECK(database.address_results("2001:db8::25", 100, "mail").empty());

  // The report's recent states: every result of the chosen runs, one query.
  std::map<std::pair<std::int64_t, std::string>, Status> seen;
  const std::vector<std::int64_t> runs = {first, third};
  database.visit_statuses(runs, [&](std::int64_t run, const std::string& ip, Status status) {
    seen[{run, ip}] = status;
  });
  CHECK(seen.size() == 4);
  CHECK(seen[{first, "2001:db8::25"}] == Status::fail);
  CHECK(seen[{third, "2001:db8::25"}] == Status::warn);
  CHECK(seen[{third, "192.0.2.10"}] == Status::pass);
}

TEST_CASE("an address's results are found run by run through the primary key", "[db]") {
  TempDir dir;
  const fs::path path = dir / "history.db";
  Database::open(path);
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* plan = nullptr;
  const std::string sql = "EXPLAIN QUERY PLAN " + rdns::db::detail::address_results_sql();
  REQUIRE(sqlite3_prepare_v2(handle, sql.c_str(), -1, &plan, nullptr) == SQLITE_OK);
  std::string steps;
  while (sqlite3_step(plan) == SQLITE_ROW) {
    steps += reinterpret_cast<const char*>(sqlite3_column_text(plan, 3));
    steps += "\n";
  }
  sqlite3_finalize(plan);
  sqlite3_close(handle);
  INFO(steps);
  CHECK_THAT(steps, Catch::Contains("SCAN runs"));
  CHECK_THAT(steps, Catch::Contains("SEARCH results USING PRIMARY KEY (run_id=? AND ip=?)"));
  CHECK_THAT(steps, !Catch::Contains("SCAN results") && !Catch::Contains("TEMP B-TREE"));
}

TEST_CASE("bad input is rejected without storing part of a batch", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "history.db");
  const std::int64_t run = database.begin_run("audit", "{}", {}, "0.1.0");

  const std::vector<ResultRecord> wrong_family = {result("192.0.2.1", "ipv4", Status::pass),
                                                  result("192.0.2.2", "ipv6", Status::pass)};
  CHECK_THROWS_AS(database.add_results(run, wrong_family), rdns::Error);
  const std::vector<ResultRecord> not_an_ip = {result("mail.example.", "ipv4", Status::pass)};
  CHECK_THROWS_AS(database.add_results(run, not_an_ip), rdns::Error);
  const std::vector<ResultRecord> twice = {result("192.0.2.1", "ipv4", Status::pass),
                                           result("192.0.2.1", "ipv4", Status::fail)};
  CHECK_THROWS_AS(database.add_results(run, twice), rdns::Error);
  CHECK(database.results(run).empty());
  CHECK_THROWS_AS(database.begin_run("audit", "{not json", {}, "0.1.0"), rdns::Error);

  database.finish_run(run, RunState::failed, {});
  const std::vector<ResultRecord> late = {result("192.0.2.1", "ipv4", Status::pass)};
  CHECK_THROWS_AS(database.add_results(run, late), rdns::Error);
  CHECK_THROWS_AS(database.finish_run(run, RunState::complete, {}), rdns::Error);
  CHECK_THROWS_AS(database.finish_run(run + 1, RunState::complete, {}), rdns::Error);
}

TEST_CASE("reopening keeps the data and the schema version", "[db]") {
  TempDir dir;
  const fs::path path = dir / "history.db";
  const std::vector<ResultRecord> sample = sample_results();
  std::int64_t run = 0;
  {
    Database database = Database::open(path);
    CHECK(database.schema_version() == Database::latest_schema_version());
    run = database.begin_run("audit", "{}", {"192.0.2.53"}, "0.1.0");
    database.add_results(run, sample);
    database.finish_run(run, RunState::complete, {5, 2, 1, 1, 1});
  }
  Database database = Database::open(path);
  CHECK(database.schema_version() == Database::latest_schema_version());
  CHECK(database.path() == path);
  CHECK(database.latest_run_id() == run);
  CHECK(database.results(run) == in_address_order(sample));
  CHECK(database.begin_run("audit", "{}", {}, "0.1.0") > run);

  Database moved = std::move(database);
  CHECK(moved.list_runs(10).size() == 2);
}

TEST_CASE("a second connection sees a database another one is writing", "[db]") {
  TempDir dir;
  const fs::path path = dir / "history.db";
  Database writer = Database::open(path);
  const std::int64_t run = writer.begin_run("audit", "{}", {}, "0.1.0");
  const std::vector<ResultRecord> sample = sample_results();
  writer.add_results(run, sample);
  REQUIRE(fs::exists(sibling(path, "-wal")));

  Database reader = Database::open(path);
  CHECK(reader.latest_run_id() == run);
  CHECK(reader.results(run) == in_address_order(sample));
}

TEST_CASE("absent and empty files become fresh databases", "[db]") {
  TempDir dir;
  const fs::path nested = dir / "a/b/history.db";
  CHECK(Database::open(nested).schema_version() == Database::latest_schema_version());
  CHECK(fs::exists(nested));

  const fs::path empty = dir / "empty.db";
  write_bytes(empty, "");
  CHECK(Database::open(empty).schema_version() == Database::latest_schema_version());

  const fs::path blank_sqlite = dir / "blank.db";
  run_plain_sqlite(blank_sqlite, "VACUUM");
  CHECK(Database::open(blank_sqlite).schema_version() == Database::latest_schema_version());
}

TEST_CASE("files that are not ours are refused untouched", "[db]") {
  TempDir dir;

  SECTION("a text file") {
    const fs::path path = dir / "notes.db";
    write_bytes(path, "These are my notes, not a database.\nSecond line.\n");
    require_refused(path, "not a SQLite database");
  }
  SECTION("random bytes") {
    const fs::path path = dir / "random.db";
    std::mt19937 generator(42);
    std::string bytes(8192, '\0');
    for (char& byte : bytes) {
      byte = static_cast<char>(generator() & 0xffU);
    }
    write_bytes(path, bytes);
    require_refused(path, "not a SQLite database");
  }
  SECTION("another program's SQLite database") {
    const fs::path path = dir / "foreign.db";
    run_plain_sqlite(path, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');");
    require_refused(path, "another application");
  }
  SECTION("a SQLite database with another application_id") {
    const fs::path path = dir / "other-app.db";
    run_plain_sqlite(path, "PRAGMA application_id = 1234; CREATE TABLE t (x);");
    require_refused(path, "another application");
  }
  SECTION("a directory") {
    const fs::path path = dir / "directory.db";
    fs::create_directory(path);
    CHECK_THROWS_AS(Database::open(path), rdns::Error);
  }
}

TEST_CASE("a database from a newer rdnsctl is refused untouched", "[db]") {
  TempDir dir;
  const fs::path path = dir / "newer.db";
  make_our_database(path, 10);
  run_plain_sqlite(
      path, "PRAGMA user_version = " + std::to_string(Database::latest_schema_version() + 1));
  REQUIRE_FALSE(fs::exists(sibling(path, "-wal")));
  require_refused(path, "newer");
}

TEST_CASE("a corrupt database is refused untouched", "[db]") {
  TempDir dir;
  const fs::path path = dir / "corrupt.db";
  make_our_database(path, 3000);

  std::string bytes = read_bytes(path);
  constexpr std::size_t kPageSize = 4096;
  const std::size_t pages = bytes.size() / kPageSize;
  REQUIRE(pages > 20);
  std::mt19937 generator(7);
  for (std::size_t offset = (pages / 2 - 2) * kPageSize; offset < (pages / 2 + 2) * kPageSize;
       ++offset) {
    bytes[offset] = static_cast<char>(generator() & 0xffU);
  }
  write_bytes(path, bytes);
  require_refused(path, "corrupt");
}

TEST_CASE("ResultWriter stores in batches, on flush and when destroyed", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "history.db");
  const std::int64_t run = database.begin_run("audit", "{}", {}, "0.1.0");
  const auto address = [](int i) { return "192.0.2." + std::to_string(i); };
  {
    ResultWriter writer(database, run, 3);
    writer.add(result(address(1), "ipv4", Status::pass));
    writer.add(result(address(2), "ipv4", Status::pass));
    CHECK(database.results(run).empty());
    CHECK(writer.pending() == 2);
    writer.add(result(address(3), "ipv4", Status::pass));
    CHECK(database.results(run).size() == 3);
    CHECK(writer.pending() == 0);

    writer.add(result(address(4), "ipv4", Status::pass));
    CHECK(database.results(run).size() == 3);
    writer.flush();
    CHECK(database.results(run).size() == 4);
    writer.flush();
    CHECK(database.results(run).size() == 4);

    writer.add(result(address(5), "ipv4", Status::pass));
  }
  CHECK(database.results(run).size() == 5);
}

TEST_CASE("results are visited one at a time in the order results() returns", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "runs.db");
  const std::int64_t run = database.begin_run("audit", "[\"audit\"]", {}, "test");
  database.add_results(run, sample_results());
  const std::int64_t other = database.begin_run("audit", "[\"audit\"]", {}, "test");
  database.add_results(other, std::vector<ResultRecord>{result("10.0.0.2", "ipv4", Status::pass)});

  std::vector<ResultRecord> visited;
  database.visit_results(run, [&](const ResultRecord& record) { visited.push_back(record); });
  CHECK(visited == database.results(run));
  CHECK(visited.size() == sample_results().size());
  std::vector<std::string> addresses;
  database.visit_result_addresses(run, [&](const std::string& ip) { addresses.push_back(ip); });
  CHECK(addresses == database.result_addresses(run));

  // A visitor that stops (a closed pipe) leaves the statement usable.
  CHECK_THROWS_AS(
      database.visit_results(run, [](const ResultRecord&) { throw std::runtime_error("stop"); }),
      std::runtime_error);
  CHECK(database.results(run) == visited);
  visited.clear();
  database.visit_results(999, [&](const ResultRecord& record) { visited.push_back(record); });
  CHECK(visited.empty());
}

TEST_CASE("a run's targets, addresses and counts support resuming it", "[db]") {
  TempDir dir;
  Database database = Database::open(dir / "runs.db");
  const std::int64_t run = database.begin_run("audit", "[\"audit\"]", {}, "test");
  const std::vector<AddressRange> ranges = {{"192.0.2.0", "192.0.2.255"},
                                            {"2001:DB8::", "2001:db8::ff"}};
  database.store_targets(run, ranges);
  const std::vector<AddressRange> canonical = {{"192.0.2.0", "192.0.2.255"},
                                               {"2001:db8::", "2001:db8::ff"}};
  CHECK(database.targets(run) == canonical);
  CHECK_THROWS(
      database.store_targets(run, std::vector<AddressRange>{{"192.0.2.1", "2001:db8::1"}}));

  const auto sample = sample_results();
  database.add_results(run, sample);
  CHECK(database.result_addresses(run) == std::vector<std::string>{"10.0.0.1", "192.0.2.9",
                                                                   "192.0.2.10", "2001:db8::3",
                                                                   "2001:db8::25"});
  const RunCounts counts = database.count_results(run);
  CHECK(counts == RunCounts{5, 2, 1, 1, 1});

  database.finish_run(run, RunState::interrupted, counts);
  database.reopen_run(run);
  CHECK(database.find_run(run)->state == RunState::running);
  CHECK(database.find_run(run)->finished_at.empty());
  database.add_results(run, std::vector<ResultRecord>{result("192.0.2.77", "ipv4", Status::pass)});
  database.finish_run(run, RunState::complete, database.count_results(run));
  CHECK(database.find_run(run)->counts.total == 6);
  CHECK_THROWS_AS(database.reopen_run(run), rdns::Error);
}

TEST_CASE("a version 1 database is migrated to the latest schema on open", "[db]") {
  TempDir dir;
  const fs::path path = dir / "old.db";
  // What a binary with only the first migration wrote.
  run_plain_sqlite(path, rdns::test::schema_at_version(1) +
                             "INSERT INTO runs (id, command, started_at, state, arguments, "
                             "resolvers, tool_version) VALUES (7, 'audit', '2026-01-01T00:00:00Z', "
                             "'complete', '[]', '[]', 'old');"
                             "INSERT INTO results VALUES (7, '192.0.2.9', 'ipv4', x'c0000209', "
                             "'fail', '[]', '[]');"
                             "INSERT INTO findings (run_id, ip, code, severity, detail) VALUES "
                             "(7, '192.0.2.9', 'NO_PTR', 'error', 'first'),"
                             "(7, '192.0.2.9', 'TTL_NOTE', 'info', 'second');");
  Database upgraded = Database::open(path);
  CHECK(upgraded.schema_version() == Database::latest_schema_version());
  CHECK(upgraded.find_run(7)->tool_version == "old");
  CHECK(upgraded.targets(7).empty());
  const auto results = upgraded.results(7);
  REQUIRE(results.size() == 1);
  CHECK(results[0].findings == std::vector<FindingRecord>{{"NO_PTR", Severity::error, "first"},
                                                          {"TTL_NOTE", Severity::info, "second"}});
  CHECK(results[0].sources.empty());
}

TEST_CASE("a version 7 database gains the shard of each run, none for its old runs", "[db]") {
  TempDir dir;
  const fs::path path = dir / "v7.db";
  run_plain_sqlite(path, rdns::test::schema_at_version(7) +
                             "INSERT INTO runs (id, command, started_at, state, arguments, "
                             "resolvers, tool_version) VALUES (3, 'audit', '2026-01-01T00:00:00Z', "
                             "'complete', '[]', '[]', 'old');");
  Database upgraded = Database::open(path);
  CHECK(upgraded.schema_version() == Database::latest_schema_version());
  CHECK_FALSE(upgraded.find_run(3)->shard);

  const std::int64_t sharded =
      upgraded.begin_run("audit", "[]", {}, "new", {}, rdns::db::RunShard{2, 4});
  const std::int64_t whole = upgraded.begin_run("audit", "[]", {}, "new");
  CHECK(upgraded.find_run(sharded)->shard == rdns::db::RunShard{2, 4});
  CHECK_FALSE(upgraded.find_run(whole)->shard);
  const auto listed = upgraded.list_runs(10);
  REQUIRE(listed.size() == 3);
  CHECK_FALSE(listed[0].shard);
  CHECK(listed[1].shard == rdns::db::RunShard{2, 4});
}

TEST_CASE("a version 8 database gains named runs, its old sharded runs unnamed", "[db]") {
  TempDir dir;
  const fs::path path = dir / "v8.db";
  run_plain_sqlite(path, rdns::test::schema_at_version(8) +
                             "INSERT INTO runs (id, command, started_at, state, arguments, "
                             "resolvers, tool_version, shard_index, shard_count) VALUES (5, "
                             "'audit', '2026-01-01T00:00:00Z', 'complete', '[]', '[]', 'old', 2, "
                             "4);");
  Database upgraded = Database::open(path);
  CHECK(upgraded.schema_version() == Database::latest_schema_version());
  const auto old = upgraded.find_run(5);
  CHECK(old->shard == rdns::db::RunShard{2, 4});
  CHECK(old->name.empty());
  CHECK(old->parts == 0);
  CHECK(upgraded.run_shards(5).empty());

  const auto joined = upgraded.join_named_run("after-upgrade", "audit", "[]", {}, "new", {},
                                              rdns::db::RunShard{1, 2}, [](const auto&) {});
  CHECK(joined.created);
  CHECK(upgraded.find_run(joined.run_id)->parts == 2);
  CHECK(upgraded.list_runs(10).size() == 2);
}

TEST_CASE("a version 9 database keeps every result and its checks when results is rebuilt",
          "[db]") {
  TempDir dir;
  const fs::path path = dir / "v9.db";
  run_plain_sqlite(
      path, rdns::test::schema_at_version(9) +
                "INSERT INTO runs (id, command, started_at, state, arguments, "
                "resolvers, tool_version) VALUES (4, 'audit', '2026-01-01T00:00:00Z', "
                "'complete', '[]', '[]', 'old');"
                "INSERT INTO results (run_id, ip, family, address, status, ptr, "
                "forward, sources, findings, smtp) VALUES (4, '192.0.2.9', 'ipv4', "
                "x'c0000209', 'warn', '[\"mx.example\"]', '[]', '[]', "
                "'[{\"code\":\"GENERIC_PTR\",\"severity\":\"warning\",\"detail\":\"d\"}]', "
                "NULL),"
                "(4, '2001:db8::3', 'ipv6', x'20010db8000000000000000000000003', "
                "'pass', '[]', '[]', '[]', '[]', '{\"greeted\":true,\"greeting_name\":\"mx\","
                "\"ehlo_name\":\"mx\",\"failure\":\"\"}');");
  {
    Database upgraded = Database::open(path);
    CHECK(upgraded.schema_version() == Database::latest_schema_version());
    const auto results = upgraded.results(4);
    REQUIRE(results.size() == 2);
    CHECK(results[0].ip == "192.0.2.9");
    CHECK(results[0].status == Status::warn);
    CHECK(results[0].ptr == std::vector<std::string>{"mx.example"});
    CHECK(results[0].findings ==
          std::vector<FindingRecord>{{"GENERIC_PTR", Severity::warning, "d"}});
    CHECK(results[1].ip == "2001:db8::3");
    CHECK(results[1].family == "ipv6");
    REQUIRE(results[1].smtp);
    CHECK(results[1].smtp->ehlo_name == "mx");
    CHECK(upgraded.address_results("192.0.2.9", 10).size() == 1);
  }
  // The rebuilt table still refuses what the old one refused.
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &handle) == SQLITE_OK);
  for (const char* invalid :
       {"INSERT INTO results (run_id, ip, family, address, status, ptr, forward) VALUES "
        "(4, '192.0.2.10', 'ipv5', x'c000020a', 'pass', '[]', '[]')",
        "INSERT INTO results (run_id, ip, family, address, status, ptr, forward) VALUES "
        "(4, '192.0.2.10', 'ipv4', x'c000020a', 'fine', '[]', '[]')"}) {
    CHECK(sqlite3_exec(handle, invalid, nullptr, nullptr, nullptr) == SQLITE_CONSTRAINT);
  }
  CHECK(sqlite3_exec(handle,
                     "INSERT INTO results (run_id, ip, family, address, status, ptr, forward) "
                     "VALUES (4, '192.0.2.10', 'ipv4', x'c000020a', 'unknown', '[]', '[]')",
                     nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(handle);
}

namespace {

/// The first column of the first row `sql` returns, read with the plain
/// SQLite library: what the file holds, not what Database makes of it.
std::string plain_sqlite_text(const fs::path& path, const std::string& sql) {
  sqlite3* handle = nullptr;
  sqlite3_stmt* query = nullptr;
  std::string text;
  if (sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(handle, sql.c_str(), -1, &query, nullptr) == SQLITE_OK &&
      sqlite3_step(query) == SQLITE_ROW) {
    text = reinterpret_cast<const char*>(sqlite3_column_text(query, 0));
  }
  sqlite3_finalize(query);
  sqlite3_close(handle);
  return text;
}

/// Checks that `read` refuses the damaged database, naming it and the value.
template <typename Read>
void require_damage_named(const fs::path& path, const std::string& value, Read read) {
  try {
    read();
    FAIL("read a stored '" << value << "' without an error");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::database);
    CHECK_THAT(error.what(), Catch::Contains(path.string()));
    CHECK_THAT(error.what(), Catch::Contains("'" + value + "'"));
  }
}

/// Stores a run of the sample results and a domain finding, and closes the
/// database so another program may edit the file.
std::int64_t store_sample_run(const fs::path& path) {
  Database database = Database::open(path);
  const std::int64_t run = database.begin_run("audit", "{}", {}, "0.1.0");
  database.add_results(run, sample_results());
  database.add_domain_findings(run, std::vector<rdns::db::DomainFindingRecord>{
                                        {"example.com", "SPF_NONE", Severity::info, "no SPF"}});
  return run;
}

}  // namespace

TEST_CASE("statuses and severities are stored as their names", "[db]") {
  TempDir dir;
  const fs::path path = dir / "history.db";
  store_sample_run(path);
  CHECK(plain_sqlite_text(path, "SELECT status FROM results WHERE ip = '192.0.2.9'") == "fail");
  CHECK(plain_sqlite_text(path, "SELECT status FROM results WHERE ip = '2001:db8::3'") ==
        "unknown");
  CHECK(plain_sqlite_text(path, "SELECT findings FROM results WHERE ip = '192.0.2.9'") ==
        R"([{"code":"no-ptr","severity":"error","detail":"no PTR record"},)"
        R"({"code":"note","severity":"info","detail":"second finding"}])");
  CHECK(plain_sqlite_text(path, "SELECT severity FROM domain_findings") == "info");
}

TEST_CASE("stored results in any JSON spelling read back; malformed JSON is damage", "[db]") {
  TempDir dir;
  const fs::path path = dir / "history.db";
  const std::int64_t run = store_sample_run(path);

  SECTION("whitespace, escapes, other key orders and unknown keys, as PostgreSQL writes them") {
    run_plain_sqlite(path, R"(UPDATE results SET
        ptr = ' [ "a\u00e9\"\\\/b.example" , "\ud83d\ude00\t" ] ',
        forward = '[{"addresses" : ["192.0.2.9"], "name" : "f.example", "ttl" : [1, {"x": null}]}]',
        findings = '[ {"severity" : "error", "detail" : "d\n", "code" : "NO_PTR", "n": -1.5e3} ]',
        sources = '[{"via":"MX m","expected":"","domain":"example.com","more":true}]',
        smtp = '{"failure":"","ehlo_name":"e","greeting_name":"g","greeted":true}'
      WHERE ip = '192.0.2.9';)");
    Database database = Database::open(path);
    const auto results = database.results(run);
    const auto found = std::find_if(results.begin(), results.end(),
                                    [](const ResultRecord& r) { return r.ip == "192.0.2.9"; });
    REQUIRE(found != results.end());
    CHECK(found->ptr == std::vector<std::string>{"a\xc3\xa9\"\\/b.example", "\xf0\x9f\x98\x80\t"});
    CHECK(found->forward == std::vector<rdns::db::ForwardRecord>{{"f.example", {"192.0.2.9"}}});
    CHECK(found->findings ==
          std::vector<rdns::db::FindingRecord>{{"NO_PTR", Severity::error, "d\n"}});
    CHECK(found->sources == std::vector<rdns::db::SourceRecord>{{"example.com", "MX m", ""}});
    CHECK(found->smtp == rdns::db::SmtpRecord{true, "g", "e", ""});
  }
  const std::string damage =
      GENERATE(as<std::string>{},  //
               "ptr = '[\"a\"'", "ptr = '[\"a\" \"b\"]'", "ptr = '[1]'", "ptr = '[\"a\"] x'",
               "ptr = '[\"\\ud83d\"]'", "findings = '[{\"code\":\"X\",\"detail\":\"y\"}]'",
               "forward = '[{\"name\":\"n\"}]'", "smtp = '{\"greeted\":1}'");
  SECTION("malformed JSON or a missing member") {
    CAPTURE(damage);
    run_plain_sqlite(path, "UPDATE results SET " + damage + " WHERE ip = '192.0.2.9';");
    Database database = Database::open(path);
    try {
      database.results(run);
      FAIL("read a damaged result without an error");
    } catch (const rdns::Error& error) {
      CHECK(error.code() == rdns::Errc::database);
      CHECK_THAT(error.what(), Catch::Contains(path.string()));
      CHECK_THAT(error.what(), Catch::Contains("192.0.2.9"));
    }
  }
}

TEST_CASE("a stored status or severity outside the vocabulary is refused, naming the database",
          "[db]") {
  TempDir dir;
  const fs::path path = dir / "history.db";
  const std::int64_t run = store_sample_run(path);

  SECTION("a result's status") {
    // The schema's CHECK keeps rdnsctl from writing this; another program
    // (or a hand edit) need not respect it.
    run_plain_sqlite(path,
                     "PRAGMA ignore_check_constraints = ON;"
                     "UPDATE results SET status = 'great' WHERE ip = '192.0.2.9';");
    Database database = Database::open(path);
    require_damage_named(path, "great", [&] { database.results(run); });
    require_damage_named(path, "great", [&] { database.address_results("192.0.2.9", 10); });
    require_damage_named(path, "great", [&] { database.count_results(run); });
    const std::vector<std::int64_t> runs = {run};
    require_damage_named(path, "great", [&] {
      database.visit_statuses(runs, [](std::int64_t, const std::string&, Status) {});
    });
  }
  SECTION("a finding's severity") {
    run_plain_sqlite(path,
                     "UPDATE results SET findings = "
                     R"('[{"code":"NO_PTR","severity":"fatal","detail":"x"}]')"
                     " WHERE ip = '192.0.2.9';");
    Database database = Database::open(path);
    require_damage_named(path, "fatal", [&] { database.results(run); });
  }
  SECTION("a domain finding's severity") {
    run_plain_sqlite(path,
                     "PRAGMA ignore_check_constraints = ON;"
                     "UPDATE domain_findings SET severity = 'Error';");
    Database database = Database::open(path);
    require_damage_named(path, "Error", [&] { database.domain_findings(run); });
  }
}
