// The streamed CSV report and `report diff` (both runs merged in one pass,
// Database::visit_result_pairs) against what the in-memory comparison of
// the same records writes, byte for byte, over real SQLite files.

#include <algorithm>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <reports/diff.hpp>
#include <reports/report.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "report_fixture.hpp"

using rdns::Severity;
using rdns::Status;
using rdns::db::Database;
using rdns::db::ResultRecord;
using rdns::reports::ChangeKind;
using rdns::reports::DiffFormat;
using rdns::test::record;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

/// A run of `checks` ("dns" or "dns,smtp") of the fixture's identity.
std::int64_t store_checked_run(Database& database, const std::vector<ResultRecord>& records,
                               const std::string& checks) {
  const std::int64_t id =
      database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test", {"", "inventory:test", checks});
  for (std::size_t at = 0; at < records.size(); at += 5000) {
    const std::size_t end = std::min(records.size(), at + 5000);
    database.add_results(id, std::span(records).subspan(at, end - at));
  }
  database.finish_run(id, rdns::db::RunState::complete, rdns::test::counts_of(records));
  return id;
}

std::string streamed_diff(Database& database, std::int64_t from, std::int64_t to,
                          DiffFormat format) {
  std::ostringstream out;
  rdns::reports::write_diff(database, *database.find_run(from), *database.find_run(to), format,
                            out);
  return out.str();
}

/// The diff of the stored runs as compare_runs builds it in memory.
rdns::reports::RunDiff loaded_diff(Database& database, std::int64_t from, std::int64_t to) {
  return rdns::reports::compare_runs(*database.find_run(from), database.results(from),
                                     *database.find_run(to), database.results(to));
}

std::string streamed_csv(Database& database, std::int64_t run) {
  std::ostringstream out;
  rdns::reports::write_csv_report(database, run, out);
  return out.str();
}

std::string loaded_csv(Database& database, std::int64_t run) {
  std::ostringstream out;
  rdns::reports::write_csv_report(rdns::reports::load_report(database, run, 12), out);
  return out.str();
}

/// Address n of a large run: IPv4 numbers spread over a few /16s, every
/// tenth an IPv6 address, so the families interleave in insertion order.
std::string address(int n) {
  if (n % 10 == 9) return fmt::format("2001:db8::{:x}", n);
  return fmt::format("10.{}.{}.{}", n % 3, (n / 256) % 256, n % 256);
}

/// Two runs of about 20,000 addresses that differ in every way a diff
/// tells apart, built in memory: the expected diff comes from these
/// records, never from what the database returns.
std::pair<std::vector<ResultRecord>, std::vector<ResultRecord>> large_runs() {
  std::vector<ResultRecord> older;
  std::vector<ResultRecord> newer;
  for (int n = 0; n < 20000; ++n) {
    const std::string ip = address(n);
    const std::string name = fmt::format("host{}.example.com", n);
    ResultRecord before = record(ip, Status::pass, {name}, {}, {{name, {ip}}});
    ResultRecord after = before;
    if (n % 7 == 0) {
      after.status = Status::fail;
      after.findings = {{"FORWARD_MISMATCH", Severity::error, name + " resolves elsewhere"}};
    }
    if (n % 11 == 0) after.ptr = {fmt::format("renamed{}.example.com", n)};
    if (n % 19 == 0) before.status = Status::fail;
    if (n % 23 == 0) after.findings.push_back({"GENERIC_PTR", Severity::warning, "=cmd|x"});
    if (n % 13 != 0) older.push_back(before);
    if (n % 17 != 0) newer.push_back(after);
  }
  return {older, newer};
}

}  // namespace

TEST_CASE("report diff streams what diff_text and diff_json write, byte for byte", "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  Database database = Database::open(runs.path);
  for (const DiffFormat format : {DiffFormat::text, DiffFormat::json}) {
    const auto expected = loaded_diff(database, runs.older, runs.newer);
    REQUIRE(expected.changes.size() > 5);
    CHECK(streamed_diff(database, runs.older, runs.newer, format) ==
          (format == DiffFormat::text ? rdns::reports::diff_text(expected)
                                      : rdns::reports::diff_json(expected)));
  }
  SECTION("with a run that did not check SMTP: its findings are masked on both sides") {
    auto smtp = rdns::test::newer_run();
    smtp[0].findings = {{"HELO_MISMATCH", Severity::error, "greets as other.example"}};
    smtp[0].status = Status::fail;
    smtp.push_back(record("2001:db8::99", Status::fail, {},
                          {{"SMTP_UNAVAILABLE", Severity::error, "refused"}}));
    const std::int64_t with_smtp = store_checked_run(database, smtp, "dns,smtp");
    const std::int64_t dns_only = store_checked_run(database, rdns::test::older_run(), "dns");
    for (const auto& [from, to] :
         {std::pair{with_smtp, dns_only}, std::pair{dns_only, with_smtp}}) {
      const auto expected = loaded_diff(database, from, to);
      CHECK(streamed_diff(database, from, to, DiffFormat::text) ==
            rdns::reports::diff_text(expected));
      CHECK(streamed_diff(database, from, to, DiffFormat::json) ==
            rdns::reports::diff_json(expected));
    }
    CHECK(streamed_csv(database, dns_only) == loaded_csv(database, dns_only));
  }
  SECTION("runs with nothing in common, or nothing at all") {
    const std::int64_t empty = store_checked_run(database, {}, "dns");
    const std::int64_t also_empty = store_checked_run(database, {}, "dns");
    for (const auto& [from, to] : {std::pair{runs.older, empty}, std::pair{empty, runs.newer},
                                   std::pair{empty, also_empty}}) {
      const auto expected = loaded_diff(database, from, to);
      CHECK(streamed_diff(database, from, to, DiffFormat::text) ==
            rdns::reports::diff_text(expected));
      CHECK(streamed_diff(database, from, to, DiffFormat::json) ==
            rdns::reports::diff_json(expected));
    }
    CHECK(streamed_diff(database, empty, also_empty, DiffFormat::text) ==
          fmt::format("run {} -> run {}: 0 new failures, 0 fixed, 0 PTR changed, 0 changed, 0 "
                      "appeared, 0 disappeared, 0 unchanged\n",
                      empty, also_empty));
  }
}

TEST_CASE("a diff of 20,000 addresses streams the diff built from the records in memory",
          "[reports]") {
  TempDir dir;
  const auto path = dir.path() / "runs.db";
  const auto [older, newer] = large_runs();
  std::int64_t from = 0;
  std::int64_t to = 0;
  {
    Database database = Database::open(path);
    from = store_checked_run(database, older, "dns");
    to = store_checked_run(database, newer, "dns");
  }
  const auto expected = rdns::reports::diff_runs(from, older, to, newer);
  for (const ChangeKind kind :
       {ChangeKind::new_failure, ChangeKind::fixed, ChangeKind::ptr_changed, ChangeKind::changed,
        ChangeKind::appeared, ChangeKind::disappeared}) {
    CAPTURE(rdns::reports::to_string(kind));
    CHECK(expected.count(kind) > 10);
  }
  // Through the binary, as a user runs it: the same bytes on standard output.
  const auto text = run_rdnsctl(
      {"report", "diff", std::to_string(from), std::to_string(to), "--db", path.string()});
  INFO(text.err);
  CHECK(text.out == rdns::reports::diff_text(expected));
  const auto json = run_rdnsctl({"report", "diff", std::to_string(from), std::to_string(to), "--db",
                                 path.string(), "--format", "json"});
  CHECK(json.out == rdns::reports::diff_json(expected));

  // The comparison the webhook, the metrics and check use (no address was
  // unknown, so it is the diff's): the same counts and changes, streamed.
  Database database = Database::open(path);
  const auto streamed = rdns::reports::compare_with_previous(database, *database.find_run(to),
                                                             rdns::reports::kChangeKinds);
  REQUIRE(streamed);
  CHECK(streamed->previous.id == from);
  CHECK(streamed->counts.unchanged == expected.unchanged);
  REQUIRE(streamed->changes.size() == expected.changes.size());
  for (std::size_t i = 0; i < expected.changes.size(); ++i) {
    CAPTURE(expected.changes[i].ip);
    CHECK(streamed->changes[i].ip == expected.changes[i].ip);
    CHECK(streamed->changes[i].kind == expected.changes[i].kind);
    CHECK(streamed->changes[i].fields == expected.changes[i].fields);
    CHECK(streamed->counts.count(expected.changes[i].kind) ==
          expected.count(expected.changes[i].kind));
  }
}

TEST_CASE("the streamed CSV report is the CSV of the loaded report, byte for byte", "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  {
    Database database = Database::open(runs.path);
    CHECK(streamed_csv(database, runs.older) == loaded_csv(database, runs.older));
    const std::string csv = streamed_csv(database, runs.newer);
    CHECK(csv == loaded_csv(database, runs.newer));
    // Formula-looking cells stay escaped, and the changes are filled in.
    CHECK(csv.find("\"'=HYPERLINK(") != std::string::npos);
    CHECK(csv.find(",new_failure,") != std::string::npos);
    CHECK(csv.find(",fixed,") != std::string::npos);

    const auto [older, newer] = large_runs();
    store_checked_run(database, older, "dns");
    const std::int64_t large = store_checked_run(database, newer, "dns");
    const std::string large_csv = loaded_csv(database, large);
    CHECK(streamed_csv(database, large) == large_csv);
    const auto out = dir.path() / "large.csv";
    const auto result =
        run_rdnsctl({"report", "--db", runs.path.string(), "--format", "csv", "-o", out.string()});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(rdns::test::read_file(out) == large_csv);
  }
}

TEST_CASE("report diff keeps its changes under TMPDIR and says so when it cannot", "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const std::string db = runs.path.string();
  const auto missing = dir.path() / "no-such-directory";
  const auto refused =
      run_rdnsctl({"report", "diff", "--db", db}, {}, {"TMPDIR=" + missing.string()});
  CHECK(refused.exit_code == 3);
  CHECK_THAT(refused.err, Catch::Contains("temporary file for the diff in " + missing.string()));
  CHECK(refused.out.empty());

  std::filesystem::create_directory(missing);
  const auto written =
      run_rdnsctl({"report", "diff", "--db", db}, {}, {"TMPDIR=" + missing.string()});
  INFO(written.err);
  CHECK(written.exit_code == 0);
  Database database = Database::open_read_only(runs.path);
  CHECK(written.out == rdns::reports::diff_text(loaded_diff(database, runs.older, runs.newer)));
  // The spooled files are gone once the diff is written.
  CHECK(std::filesystem::is_empty(missing));
}
