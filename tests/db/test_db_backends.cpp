// The storage contract, run against both backends: a SQLite file and a
// database on the test process's own PostgreSQL server (tests/lab PgServer).

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <libpq-fe.h>
#include <stdlib.h>

#include <db/database.hpp>
#include <db/result_writer.hpp>
#include <lab/pg_server.hpp>
#include <util/error.hpp>

#include "backend_location.hpp"

using rdns::Errc;
using rdns::Severity;
using rdns::Status;
using rdns::db::AddressRange;
using rdns::db::Database;
using rdns::db::DomainFindingRecord;
using rdns::db::ResultRecord;
using rdns::db::ResultWriter;
using rdns::db::RunCounts;
using rdns::db::RunState;
using rdns::test::BackendLocation;

namespace {

ResultRecord result(const std::string& ip, Status status = Status::pass) {
  ResultRecord record;
  record.ip = ip;
  record.family = ip.find(':') == std::string::npos ? "ipv4" : "ipv6";
  record.status = status;
  record.ptr = {"mx." + ip + ".example"};
  record.forward = {{record.ptr[0], {ip}}};
  return record;
}

/// A result whose text holds what COPY's text format must escape.
ResultRecord awkward_result() {
  ResultRecord record = result("192.0.2.77", Status::fail);
  record.ptr = {"tab\there.example", "back\\slash.example"};
  record.forward = {{"line\nbreak.example", {}}, {"cr\rname.example", {"192.0.2.77"}}};
  record.findings = {{"FORWARD_MISMATCH", Severity::error, "detail with \\N and \t and \n"},
                     {"MULTIPLE_PTR", Severity::warning, "quotes \" and 'single'"}};
  record.sources = {{"example.com", "MX mx1.example.com", "mx1.example.com"}};
  record.smtp = rdns::db::SmtpRecord{true, "mx1.example.com", "mx1\\x09.example.com", ""};
  return record;
}

std::int64_t begin(Database& database, const std::string& inventory = {}) {
  rdns::db::RunLabel label;
  label.inventory = inventory;
  label.identity = inventory.empty() ? std::string() : "inventory:" + inventory;
  return database.begin_run("audit", R"(["--db"])", {"127.0.0.1:53"}, "test", label);
}

}  // namespace

TEST_CASE("both backends store and read back results alike", "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const BackendLocation where(backend);
  Database database = Database::open(where.location());
  CHECK(database.schema_version() == Database::latest_schema_version());

  const std::int64_t run = begin(database);
  const std::vector<ResultRecord> stored = {result("2001:db8::10"), result("192.0.2.10"),
                                            awkward_result(), result("10.0.0.1", Status::warn),
                                            result("2001:db8::9", Status::unknown)};
  database.add_results(run, stored);
  const std::vector<ResultRecord> read = database.results(run);
  REQUIRE(read.size() == stored.size());
  // IPv4 before IPv6, each in numeric (not text) order.
  CHECK(read[0] == stored[3]);
  CHECK(read[1] == stored[1]);
  CHECK(read[2] == stored[2]);
  CHECK(read[3] == stored[4]);
  CHECK(read[4] == stored[0]);
  CHECK(database.result_addresses(run) == std::vector<std::string>{"10.0.0.1", "192.0.2.10",
                                                                   "192.0.2.77", "2001:db8::9",
                                                                   "2001:db8::10"});
  const RunCounts counts = database.count_results(run);
  CHECK(counts.total == 5);
  CHECK(counts.pass == 2);
  CHECK(counts.warn == 1);
  CHECK(counts.fail == 1);
  CHECK(counts.unknown == 1);

  SECTION("a result for a run that is not running is refused") {
    database.finish_run(run, RunState::complete, counts);
    CHECK_THROWS_AS(database.add_results(run, std::vector{result("192.0.2.99")}), rdns::Error);
    CHECK(database.results(run).size() == 5);
  }
  SECTION("an address of the wrong family is refused, and the batch with it") {
    ResultRecord wrong = result("192.0.2.98");
    wrong.family = "ipv6";
    CHECK_THROWS_AS(database.add_results(run, std::vector{result("192.0.2.97"), wrong}),
                    rdns::Error);
    CHECK(database.results(run).size() == 5);
  }
}

namespace {

/// What visit_result_pairs calls back with: each address with the record
/// each run has ("-" where it has none), in call order.
std::vector<std::string> merged(Database& database, std::int64_t from, std::int64_t to) {
  std::vector<std::string> pairs;
  database.visit_result_pairs(from, to, [&](const ResultRecord* before, const ResultRecord* after) {
    REQUIRE((before || after));
    if (before && after) CHECK(before->ip == after->ip);
    pairs.push_back((before ? before->ip : "-") + " " + (after ? after->ip : "-"));
  });
  return pairs;
}

}  // namespace

TEST_CASE("both backends merge two runs' results in address order", "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const BackendLocation where(backend);
  Database database = Database::open(where.location());
  const std::int64_t empty = begin(database);
  const std::int64_t older = begin(database);
  const std::int64_t newer = begin(database);
  // Text order would put 10.x before 9.x and "2001:db8::10" before "::9";
  // IPv4 comes first whatever the text.
  database.add_results(older,
                       std::vector{result("2001:db8::10"), result("10.0.0.1"), result("9.0.0.1"),
                                   result("2001:db8::9"), result("192.0.2.1", Status::fail)});
  database.add_results(
      newer, std::vector{result("::1"), result("10.0.0.1", Status::fail), result("255.255.255.255"),
                         result("2001:db8::9"), result("2001:db8::a")});

  SECTION("addresses only in the older run, only in the newer, and in both") {
    CHECK(merged(database, older, newer) ==
          std::vector<std::string>{"9.0.0.1 -", "10.0.0.1 10.0.0.1", "192.0.2.1 -",
                                   "- 255.255.255.255", "- ::1", "2001:db8::9 2001:db8::9",
                                   "- 2001:db8::a", "2001:db8::10 -"});
    // Each side is its own run's record.
    database.visit_result_pairs(older, newer,
                                [](const ResultRecord* before, const ResultRecord* after) {
                                  if (before && after && before->ip == "10.0.0.1") {
                                    CHECK(before->status == Status::pass);
                                    CHECK(after->status == Status::fail);
                                  }
                                });
  }
  SECTION("against an empty run, and two empty runs") {
    CHECK(merged(database, empty, newer) ==
          std::vector<std::string>{"- 10.0.0.1", "- 255.255.255.255", "- ::1", "- 2001:db8::9",
                                   "- 2001:db8::a"});
    CHECK(merged(database, older, empty).size() == 5);
    CHECK(merged(database, empty, empty).empty());
  }
  SECTION("a run with itself pairs every address with its own record") {
    database.visit_result_pairs(older, older,
                                [](const ResultRecord* before, const ResultRecord* after) {
                                  REQUIRE((before && after));
                                  CHECK(*before == *after);
                                });
  }
}

TEST_CASE("both backends list, find, compare and reopen runs alike", "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const BackendLocation where(backend);
  Database database = Database::open(where.location());

  CHECK_FALSE(database.latest_run_id().has_value());
  const std::int64_t first = begin(database, "mail");
  database.add_results(first, std::vector{result("192.0.2.1")});
  database.finish_run(first, RunState::complete, database.count_results(first));
  const std::int64_t other = begin(database, "web");
  const std::int64_t second =
      database.begin_run("audit", "{}", {"127.0.0.1:53", "[::1]:53"}, "test",
                         {"mail", "inventory:mail", "dns,smtp"}, rdns::db::RunShard{2, 4});
  CHECK(database.latest_run_id() == second);

  const auto runs = database.list_runs(10);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].id == second);
  CHECK(runs[0].state == RunState::running);
  CHECK(runs[0].resolvers == std::vector<std::string>{"127.0.0.1:53", "[::1]:53"});
  CHECK(runs[0].ran_smtp());
  REQUIRE(runs[0].shard.has_value());
  CHECK(*runs[0].shard == rdns::db::RunShard{2, 4});
  CHECK_FALSE(runs[1].shard.has_value());
  CHECK(runs[2].counts.total == 1);
  CHECK(runs[2].started_at.size() == 20);  // 2026-01-01T00:00:00Z
  CHECK(runs[2].finished_at.size() == 20);
  CHECK(database.list_runs(1).size() == 1);

  rdns::db::RunFilter mail;
  mail.inventory = "mail";
  CHECK(database.list_runs(10, mail).size() == 2);
  mail.finished_only = true;
  CHECK(database.list_runs(10, mail).size() == 1);
  rdns::db::RunFilter up_to;
  up_to.up_to_id = other;
  CHECK(database.list_runs(10, up_to).size() == 2);

  REQUIRE(database.previous_comparable_run(second).has_value());
  CHECK(database.previous_comparable_run(second)->id == first);
  CHECK_FALSE(database.previous_comparable_run(other).has_value());
  CHECK_FALSE(database.find_run(9999).has_value());

  // An ad-hoc run gets an identity of its own.
  const std::int64_t ad_hoc = begin(database);
  CHECK(database.find_run(ad_hoc)->identity == "run:" + std::to_string(ad_hoc));

  database.finish_run(second, RunState::interrupted, {});
  CHECK_THROWS_AS(database.finish_run(second, RunState::complete, {}), rdns::Error);
  database.reopen_run(second);
  CHECK(database.find_run(second)->state == RunState::running);
  CHECK(database.find_run(second)->finished_at.empty());
  try {
    database.reopen_run(first);
    FAIL("a complete run was reopened");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == Errc::usage);
  }
}

TEST_CASE("both backends keep targets, statuses, history and domain findings alike",
          "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const BackendLocation where(backend);
  Database database = Database::open(where.location());

  const std::int64_t first = begin(database, "mail");
  const std::vector<AddressRange> ranges = {
      {"198.51.100.0", "198.51.100.255"}, {"2001:db8::", "2001:db8::ff"}, {"10.0.0.0", "10.0.0.3"}};
  database.store_targets(first, ranges);
  CHECK(database.targets(first) == ranges);
  CHECK(database.targets(first + 100).empty());

  database.add_results(first, std::vector{result("192.0.2.1"), result("192.0.2.2", Status::fail)});
  database.finish_run(first, RunState::complete, database.count_results(first));
  const std::int64_t second = begin(database, "web");
  database.add_results(second, std::vector{result("192.0.2.1", Status::warn)});

  std::vector<std::string> seen;
  const std::vector<std::int64_t> both = {first, second};
  database.visit_statuses(both, [&](std::int64_t run, const std::string& ip, Status status) {
    seen.push_back(std::to_string(run) + " " + ip + " " + std::string(rdns::status_name(status)));
  });
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{std::to_string(first) + " 192.0.2.1 pass",
                                         std::to_string(first) + " 192.0.2.2 fail",
                                         std::to_string(second) + " 192.0.2.1 warn"});

  const auto history = database.address_results("192.0.2.1", 10);
  REQUIRE(history.size() == 2);
  CHECK(history[0].run.id == second);
  CHECK(history[0].result.status == Status::warn);
  CHECK(history[1].run.id == first);
  CHECK(database.address_results("192.0.2.1", 10, "mail").size() == 1);
  CHECK(database.address_results("192.0.2.1", 1).size() == 1);

  const std::vector<DomainFindingRecord> findings = {
      {"example.com", "SPF_PERMERROR", Severity::error, "too many lookups"},
      {"example.net", "NULL_MX", Severity::info, "no mail"}};
  database.add_domain_findings(second, findings);
  CHECK(database.domain_findings(second) == findings);
  CHECK(database.domain_findings(first).empty());
}

TEST_CASE("both backends prune alike and leave running runs", "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const BackendLocation where(backend);
  Database database = Database::open(where.location());
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(begin(database, "mail"));
    database.add_results(ids.back(), std::vector{result("192.0.2.1")});
    database.store_targets(ids.back(), std::vector<AddressRange>{{"192.0.2.1", "192.0.2.1"}});
    database.finish_run(ids.back(), RunState::complete, database.count_results(ids.back()));
  }
  const std::int64_t running = begin(database, "mail");

  rdns::db::PrunePolicy policy;
  policy.keep_runs = 1;
  policy.dry_run = true;
  CHECK(database.prune(policy).removed == std::vector<std::int64_t>{ids[0], ids[1], ids[2]});
  CHECK(database.list_runs(10).size() == 4);
  policy.dry_run = false;
  const auto outcome = database.prune(policy);
  CHECK(outcome.removed == std::vector<std::int64_t>{ids[0], ids[1], ids[2]});
  CHECK(outcome.bytes_before > 0);
  CHECK(database.list_runs(10).size() == 1);
  CHECK(database.find_run(running).has_value());
  CHECK(database.results(ids[0]).empty());
  CHECK(database.targets(ids[0]).empty());
  rdns::db::PrunePolicy none;
  CHECK_THROWS_AS(database.prune(none), rdns::Error);
}

TEST_CASE("both backends open read-only without writing", "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const BackendLocation where(backend);
  try {
    Database::open_read_only(where.location());
    FAIL("a database without runs was opened for reading");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == Errc::usage);
  }
  std::int64_t run = 0;
  {
    Database writer = Database::open(where.location());
    run = begin(writer);
    writer.add_results(run, std::vector{result("192.0.2.5")});
  }
  Database reader = Database::open_read_only(where.location());
  CHECK(reader.schema_version() == Database::latest_schema_version());
  CHECK(reader.results(run).size() == 1);
  CHECK_THROWS_AS(begin(reader), rdns::Error);
  CHECK_THROWS_AS(reader.add_results(run, std::vector{result("192.0.2.6")}), rdns::Error);
  // A second writer finds the schema in place and migrates nothing.
  CHECK(Database::open(where.location()).schema_version() == Database::latest_schema_version());
}

TEST_CASE("a batch written through ResultWriter arrives whole on both backends", "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const BackendLocation where(backend);
  Database database = Database::open(where.location());
  const std::int64_t run = begin(database);
  {
    ResultWriter writer(database, run, 700);
    for (int i = 0; i < 5000; ++i) {
      writer.add(result("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) +
                        "." + std::to_string(i & 255)));
    }
    writer.flush();
  }
  CHECK(database.count_results(run).total == 5000);
  CHECK(database.result_addresses(run).back() == "10.0.19.135");
}

TEST_CASE("PostgreSQL merges a re-sent batch without storing an address twice",
          "[db][postgresql]") {
  const BackendLocation where("postgresql");
  Database database = Database::open(where.location());
  const std::int64_t run = begin(database);
  const std::vector<ResultRecord> first = {result("192.0.2.1"), result("192.0.2.2")};
  database.add_results(run, first);
  // A shard killed after its commit sends the batch again when re-run.
  const std::vector<ResultRecord> again = {result("192.0.2.2", Status::fail), result("192.0.2.3")};
  database.add_results(run, again);
  const auto read = database.results(run);
  REQUIRE(read.size() == 3);
  CHECK(read[1] == first[1]);  // the first stored result stays
  CHECK(database.count_results(run).total == 3);
}

TEST_CASE("PostgreSQL stores batches in flight together that share an address",
          "[db][postgresql]") {
  const BackendLocation where("postgresql");
  Database database = Database::open(where.location());
  const std::int64_t run = begin(database);
  // Both sessions connected first.
  database.add_results(run, std::vector<ResultRecord>{result("10.3.0.1")});
  database.add_results(run, std::vector<ResultRecord>{result("10.3.0.2")});
  // The first batch reaches 10.9.9.9 last, the second one first: sent on
  // two sessions at once, each would wait for the other's rows.
  std::vector<ResultRecord> first;
  for (int i = 0; i < 20000; ++i) {
    first.push_back(result("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)));
  }
  first.push_back(result("10.9.9.9"));
  const std::vector<ResultRecord> second = {result("10.9.9.9", Status::fail), result("10.1.0.1")};
  database.add_results(run, first);
  database.add_results(run, second);
  CHECK(database.count_results(run).total == 20004);
  const auto read = database.results(run);
  const auto shared = std::find_if(read.begin(), read.end(),
                                   [](const ResultRecord& r) { return r.ip == "10.9.9.9"; });
  REQUIRE(shared != read.end());
  CHECK(shared->status == Status::pass);  // the first batch's result stays
}

TEST_CASE("PostgreSQL commits the batch still in flight when the database closes",
          "[db][postgresql]") {
  const BackendLocation where("postgresql");
  std::int64_t run = 0;
  {
    Database database = Database::open(where.location());
    run = begin(database);
    database.add_results(run, std::vector<ResultRecord>{result("192.0.2.1")});
    // add_results returned while the server may still store the rows; the
    // next one settles the first batch, closing settles the second.
    database.add_results(run, std::vector<ResultRecord>{result("192.0.2.2"), result("192.0.2.3")});
  }
  Database reopened = Database::open(where.location());
  CHECK(reopened.count_results(run).total == 3);
  CHECK(reopened.result_addresses(run) ==
        std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
}

TEST_CASE("PostgreSQL URLs never show their password", "[db][postgresql]") {
  rdns::lab::PgServer& server = rdns::lab::shared_pg_server();
  const BackendLocation where("postgresql");
  Database database = Database::open(where.location());
  const std::string shown = database.path().string();
  CHECK(shown.find(server.password()) == std::string::npos);
  CHECK(shown.find("rdns:***@127.0.0.1") != std::string::npos);

  SECTION("in a connection error") {
    const std::string missing = server.url("no_such_database");
    try {
      Database::open(missing);
      FAIL("a missing database was opened");
    } catch (const rdns::Error& error) {
      const std::string message = error.what();
      CHECK(message.find(server.password()) == std::string::npos);
      CHECK(message.find("no_such_database") != std::string::npos);
    }
  }
  SECTION("in a password given as a parameter") {
    const std::string url = "postgresql://127.0.0.1:" + std::to_string(server.port()) +
                            "/no_such_database?user=rdns&password=" + server.password() +
                            "&sslmode=disable";
    try {
      Database::open(url);
      FAIL("a missing database was opened");
    } catch (const rdns::Error& error) {
      const std::string message = error.what();
      CHECK(message.find(server.password()) == std::string::npos);
      CHECK(message.find("password=***&sslmode=disable") != std::string::npos);
    }
  }
  SECTION("when the password is wrong") {
    std::string url = where.location();
    const auto at = url.find(server.password());
    url.replace(at, server.password().size(), "wrong-password-given");
    try {
      Database::open(url);
      FAIL("a wrong password was accepted");
    } catch (const rdns::Error& error) {
      CHECK(error.code() == Errc::io);
      CHECK(std::string(error.what()).find("wrong-password-given") == std::string::npos);
    }
  }
}

TEST_CASE("PostgreSQL refuses a database of another application", "[db][postgresql]") {
  const BackendLocation where("postgresql");
  PGconn* connection = PQconnectdb(where.location().c_str());
  REQUIRE(PQstatus(connection) == CONNECTION_OK);
  PQclear(PQexec(connection, "CREATE TABLE invoices (id integer)"));
  PQfinish(connection);
  try {
    Database::open(where.location());
    FAIL("a foreign database was adopted");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == Errc::database);
    CHECK(std::string(error.what()).find("another application") != std::string::npos);
  }
}

TEST_CASE("PostgreSQL keeps its results index, which its history query reads", "[db][postgresql]") {
  const BackendLocation where("postgresql");
  Database::open(where.location());
  PGconn* connection = PQconnectdb(where.location().c_str());
  REQUIRE(PQstatus(connection) == CONNECTION_OK);
  PGresult* indexes = PQexec(connection,
                             "SELECT count(*) FROM pg_indexes WHERE tablename = 'results' "
                             "AND indexname = 'results_by_ip'");
  REQUIRE(PQresultStatus(indexes) == PGRES_TUPLES_OK);
  CHECK(std::string(PQgetvalue(indexes, 0, 0)) == "1");
  PQclear(indexes);
  PQfinish(connection);
}
