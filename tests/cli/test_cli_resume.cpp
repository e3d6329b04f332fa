// Interrupting and resuming real audit runs against a real database.

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sqlite3.h>

#include <lab/dns_lab.hpp>

#include "lab_audits.hpp"
#include "run_rdnsctl.hpp"
#include "stored_runs.hpp"

using rdns::test::only_run;
using rdns::test::paced_audit;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

constexpr std::int64_t kTargets = rdns::test::kPacedTargets;

/// Every target stored exactly once, counts adding up, run complete.
void check_complete(const std::string& db) {
  const auto run = only_run(db);
  CHECK(run["state"] == "complete");
  CHECK(run["counts"]["total"] == kTargets);
  const auto& counts = run["counts"];
  CHECK(counts["pass"].get<std::int64_t>() + counts["warn"].get<std::int64_t>() +
            counts["fail"].get<std::int64_t>() + counts["unknown"].get<std::int64_t>() ==
        kTargets);
  const auto show = run_rdnsctl({"runs", "show", "--db", db, "latest", "--format", "json"});
  const auto results = nlohmann::json::parse(show.out)["results"];
  std::set<std::string> ips;
  for (const auto& result : results) ips.insert(result["ip"].get<std::string>());
  CHECK(results.size() == static_cast<std::size_t>(kTargets));
  CHECK(ips.size() == static_cast<std::size_t>(kTargets));
}

/// Takes away the stored results whose address ends in an even digit (about
/// half, spread over every range) and marks the run interrupted, as a run
/// stopped part-way would be; returns those addresses as stored.
std::set<std::string> take_away_even_results(const std::string& db) {
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  std::set<std::string> taken;
  sqlite3_stmt* select = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle,
                             "SELECT ip FROM results WHERE substr(ip, -1) IN "
                             "('0', '2', '4', '6', '8')",
                             -1, &select, nullptr) == SQLITE_OK);
  while (sqlite3_step(select) == SQLITE_ROW) {
    taken.insert(reinterpret_cast<const char*>(sqlite3_column_text(select, 0)));
  }
  sqlite3_finalize(select);
  CHECK(sqlite3_exec(handle,
                     "UPDATE runs SET state = 'interrupted'; DELETE FROM results WHERE "
                     "substr(ip, -1) IN ('0', '2', '4', '6', '8');",
                     nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(handle);
  return taken;
}

/// The results of a `--format json` document, in the order shown.
std::vector<nlohmann::json> json_results(const std::string& text) {
  const auto document = nlohmann::json::parse(text);
  return document["results"].get<std::vector<nlohmann::json>>();
}

}  // namespace

TEST_CASE("rdnsctl audit --resume shows exactly the part it audited, in address order") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  std::vector<std::string> audit = paced_audit(db);
  // No pacing: this run is not interrupted by a signal.
  const auto pacing = std::find(audit.begin(), audit.end(), "--qps");
  audit.erase(pacing, pacing + 2);
  const auto first = run_rdnsctl(audit);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const auto whole = run_rdnsctl({"runs", "show", "--db", db, "latest", "--format", "json"});
  REQUIRE(whole.exit_code == 0);
  // What the complete run showed for the addresses that will be audited again.
  const std::set<std::string> taken = take_away_even_results(db);
  REQUIRE(taken.size() > 300);
  std::vector<nlohmann::json> expected;
  for (const auto& result : json_results(whole.out)) {
    if (taken.count(result["ip"].get<std::string>()) != 0) expected.push_back(result);
  }
  REQUIRE(expected.size() == taken.size());

  SECTION("json") {
    const auto resumed = run_rdnsctl({"audit", "--resume", "1", "--db", db, "--format", "json"});
    INFO(resumed.err);
    CHECK(resumed.exit_code == 1);  // the whole run has errors (NO_PTR)
    const auto document = nlohmann::json::parse(resumed.out);
    // The same verdicts, the earlier results left out, in the complete run's order.
    CHECK(json_results(resumed.out) == expected);
    CHECK(document["summary"]["total"] == taken.size());
    check_complete(db);
  }
  SECTION("table") {
    const auto resumed = run_rdnsctl({"audit", "--resume", "1", "--db", db, "--format", "table"});
    INFO(resumed.err);
    CHECK(resumed.exit_code == 1);  // the whole run has errors (NO_PTR)
    std::vector<std::string> shown;
    std::istringstream lines(resumed.out);
    for (std::string line; std::getline(lines, line);) {
      const std::string first_column = line.substr(0, line.find(' '));
      if (first_column.find_first_of(".:") != std::string::npos) shown.push_back(first_column);
    }
    std::vector<std::string> in_order;
    for (const auto& result : expected) in_order.push_back(result["ip"].get<std::string>());
    CHECK(shown == in_order);
    CHECK_THAT(resumed.out, Catch::Contains(std::to_string(taken.size()) + " addresses: "));
    check_complete(db);
  }
}

TEST_CASE("rdnsctl audit stops cleanly on SIGINT and --resume finishes the run") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto out = dir.path() / "first.jsonl";
  const pid_t pid = rdns::test::spawn_rdnsctl(paced_audit(db), out, dir.path() / "first.err");
  REQUIRE(rdns::test::wait_for_lines(out, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  CHECK(rdns::test::wait_exit(pid) == 130);
  const std::string err = rdns::test::read_file(dir.path() / "first.err");
  CHECK_THAT(err, Catch::Contains("--resume 1"));
  const auto run = only_run(db);
  CHECK(run["state"] == "interrupted");
  const auto partial = run["counts"]["total"].get<std::int64_t>();
  CHECK(partial > 0);
  CHECK(partial < kTargets);
  // What was printed before the interruption is exactly what was stored.
  std::size_t printed = 0;
  std::istringstream lines(rdns::test::read_file(out));
  for (std::string line; std::getline(lines, line);) ++printed;
  CHECK(printed == static_cast<std::size_t>(partial));

  const auto resumed = run_rdnsctl({"audit", "--resume", "1", "--db", db, "--format", "jsonl"});
  INFO(resumed.err);
  CHECK(resumed.exit_code == 1);  // the stored run has errors (NO_PTR)
  std::size_t printed_after = 0;
  std::istringstream more(resumed.out);
  for (std::string line; std::getline(more, line);) ++printed_after;
  CHECK(printed_after == static_cast<std::size_t>(kTargets - partial));
  check_complete(db);
  CHECK(run_rdnsctl({"audit", "--resume", "1", "--db", db}).exit_code == 2);  // complete
}

TEST_CASE("rdnsctl audit --resume recovers a run killed with SIGKILL at several points") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const pid_t first =
      rdns::test::spawn_rdnsctl(paced_audit(db), dir.path() / "1.out", dir.path() / "1.err");
  // Killed once it has stored results: an earlier kill leaves no run to resume.
  REQUIRE(rdns::test::wait_for_lines(dir.path() / "1.out", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(first, SIGKILL);
  CHECK(rdns::test::wait_exit(first) == 128 + SIGKILL);
  CHECK(only_run(db)["state"] == "running");

  // Kill the resumed run too, later on, then resume to the end.
  for (const int delay_ms : {900, 100}) {
    const auto resumed_out = dir.path() / "r.out";
    const pid_t resumed =
        rdns::test::spawn_rdnsctl({"audit", "--resume", "1", "--db", db, "--format", "jsonl"},
                                  resumed_out, dir.path() / "r.err");
    rdns::test::wait_for_lines(resumed_out, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(resumed, SIGKILL);
    rdns::test::wait_exit(resumed);
  }
  const auto last = run_rdnsctl({"audit", "--resume", "1", "--db", db, "--format", "jsonl"});
  INFO(last.err);
  CHECK(last.exit_code == 1);
  check_complete(db);
}

TEST_CASE("rdnsctl audit --resume refuses bad requests") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  CHECK(run_rdnsctl({"audit", "--resume", "7", "--db", db}).exit_code == 2);
  CHECK(run_rdnsctl({"audit", "--resume", "1", "--no-db"}).exit_code == 2);
  CHECK(run_rdnsctl({"audit", "--resume", "1", "--db", db, "192.0.2.1"}).exit_code == 2);
}
