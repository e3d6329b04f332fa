// diff_runs, diff_json, diff_text and summarize, fed values directly; and
// compare_with_previous over a real SQLite file and a PostgreSQL database.

#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <reports/diff.hpp>
#include <reports/report.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "../db/backend_location.hpp"
#include "report_fixture.hpp"

using rdns::Severity;
using rdns::Status;
using rdns::reports::ChangeKind;
using rdns::test::newer_run;
using rdns::test::older_run;

namespace {

const rdns::reports::Change* find_change(const std::vector<rdns::reports::Change>& changes,
                                         const std::string& ip) {
  for (const auto& change : changes) {
    if (change.ip == ip) return &change;
  }
  return nullptr;
}

const rdns::reports::Change* find_change(const rdns::reports::RunDiff& diff,
                                         const std::string& ip) {
  return find_change(diff.changes, ip);
}

}  // namespace

TEST_CASE("diff_runs sorts IPs into new failures, fixed, changed, appeared, disappeared",
          "[reports]") {
  const auto diff = rdns::reports::diff_runs(1, older_run(), 2, newer_run());
  CHECK(diff.from_run == 1);
  CHECK(diff.to_run == 2);
  CHECK(diff.unchanged == 1);  // 192.0.2.10
  CHECK(find_change(diff, "192.0.2.10") == nullptr);

  REQUIRE(find_change(diff, "192.0.2.12"));
  CHECK(find_change(diff, "192.0.2.12")->kind == ChangeKind::fixed);
  CHECK(find_change(diff, "192.0.2.16")->kind == ChangeKind::new_failure);
  CHECK(find_change(diff, "192.0.2.16")->fields ==
        std::vector<std::string>{"status", "forward", "codes"});
  const auto* changed = find_change(diff, "192.0.2.18");
  CHECK(changed->kind == ChangeKind::ptr_changed);  // in that class only, not also in changed
  CHECK(changed->ptr_changed());
  CHECK(find_change(diff, "192.0.2.23")->kind == ChangeKind::new_failure);  // new and failing
  CHECK_FALSE(find_change(diff, "192.0.2.23")->before.has_value());
  CHECK(find_change(diff, "192.0.2.41")->kind == ChangeKind::appeared);
  CHECK(find_change(diff, "192.0.2.50")->kind == ChangeKind::disappeared);
  CHECK_FALSE(find_change(diff, "192.0.2.50")->after.has_value());

  CHECK(diff.count(ChangeKind::new_failure) == 3);  // .16, .23, .40
  CHECK(diff.count(ChangeKind::fixed) == 1);
  CHECK(diff.count(ChangeKind::ptr_changed) == 1);
  CHECK(diff.count(ChangeKind::changed) == 0);
  CHECK(diff.count(ChangeKind::appeared) == 3);  // .41, .60, 2001:db8::25
  CHECK(diff.count(ChangeKind::disappeared) == 1);
  // Every address of either run is in exactly one class.
  std::set<std::string> addresses;
  for (const auto& r : older_run()) addresses.insert(r.ip);
  for (const auto& r : newer_run()) addresses.insert(r.ip);
  CHECK(diff.changes.size() + diff.unchanged == addresses.size());

  // Address order, IPv4 before IPv6, numerically.
  CHECK(diff.changes.front().ip == "192.0.2.12");
  CHECK(diff.changes.back().ip == "2001:db8::25");
}

TEST_CASE("diff_runs ignores PTR case and detail text, and fail to unknown is not fixed",
          "[reports]") {
  using rdns::test::record;
  const std::vector<rdns::db::ResultRecord> a = {
      record("192.0.2.1", Status::pass, {"MX.Example.com"},
             {{"TTL_NOTE", Severity::info, "TTL 60"}}),
      record("192.0.2.2", Status::fail, {}, {{"NO_PTR", Severity::error, "x"}})};
  const std::vector<rdns::db::ResultRecord> b = {
      record("192.0.2.1", Status::pass, {"mx.example.com"},
             {{"TTL_NOTE", Severity::info, "TTL 59"}}),
      record("192.0.2.2", Status::unknown, {}, {{"TEMPFAIL", Severity::warning, "timeout"}})};
  const auto diff = rdns::reports::diff_runs(1, a, 2, b);
  CHECK(diff.unchanged == 1);
  REQUIRE(diff.changes.size() == 1);
  CHECK(diff.changes[0].kind == ChangeKind::changed);
  CHECK(diff.changes[0].fields == std::vector<std::string>{"status", "codes"});
}

TEST_CASE("a run without --smtp neither fixes nor breaks an SMTP finding", "[reports]") {
  using rdns::test::record;
  const std::vector<rdns::db::ResultRecord> with_smtp = {
      record("192.0.2.1", Status::warn, {"mx.example.com"},
             {{"HELO_MISMATCH", Severity::warning, "x"}}),
      record("192.0.2.2", Status::fail, {"mx2.example.com"},
             {{"HELO_INVALID", Severity::error, "raised by a rule"}}),
      record("192.0.2.3", Status::fail, {}, {{"NO_PTR", Severity::error, "x"}})};
  const std::vector<rdns::db::ResultRecord> dns_only = {
      record("192.0.2.1", Status::pass, {"mx.example.com"}, {}),
      record("192.0.2.2", Status::pass, {"mx2.example.com"}, {}),
      record("192.0.2.3", Status::pass, {"mx3.example.com"}, {})};
  rdns::db::RunInfo a;
  a.id = 1;
  a.checks = "dns,smtp";
  rdns::db::RunInfo b;
  b.id = 2;
  b.checks = "dns";
  const auto diff = rdns::reports::compare_runs(a, with_smtp, b, dns_only);
  CHECK(diff.unchanged == 2);  // .1 and .2: only SMTP findings differed
  REQUIRE(diff.changes.size() == 1);
  CHECK(diff.changes[0].ip == "192.0.2.3");
  CHECK(diff.changes[0].kind == ChangeKind::fixed);
  // Both with --smtp: the same results are a recovery and a change.
  b.checks = "dns,smtp";
  const auto both = rdns::reports::compare_runs(a, with_smtp, b, dns_only);
  CHECK(both.count(ChangeKind::fixed) == 2);
  CHECK(both.count(ChangeKind::changed) == 1);
}

TEST_CASE("diff_json has the documented shape and keeps hostile names as plain strings",
          "[reports]") {
  const auto diff = rdns::reports::diff_runs(1, older_run(), 2, newer_run());
  const auto document = nlohmann::json::parse(rdns::reports::diff_json(diff));
  CHECK(document["from_run"] == 1);
  CHECK(document["to_run"] == 2);
  CHECK(document["summary"] == nlohmann::json{{"new_failures", 3},
                                              {"fixed", 1},
                                              {"ptr_changed", 1},
                                              {"changed", 0},
                                              {"appeared", 3},
                                              {"disappeared", 1},
                                              {"unchanged", 1}});
  REQUIRE(document["new_failures"].size() == 3);
  const auto& first = document["new_failures"][0];
  CHECK(first["ip"] == "192.0.2.16");
  CHECK(first["before"]["status"] == "pass");
  CHECK(first["after"]["status"] == "fail");
  CHECK(first["after"]["findings"][0]["code"] == "FORWARD_MISMATCH");
  CHECK(first["fields"] == nlohmann::json::array({"status", "forward", "codes"}));
  CHECK(document["new_failures"][1]["before"].is_null());
  CHECK(document["new_failures"][1]["after"]["ptr"][0] == rdns::test::kEscapedImgPtr);
  CHECK(document["disappeared"][0]["after"].is_null());
  // A raw control byte from a foreign writer is escaped, never passed on.
  const std::string text = rdns::reports::diff_json(diff);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("\\\\027[31m") != std::string::npos);
}

TEST_CASE("diff_text lists each kind and escapes control bytes", "[reports]") {
  auto newer = newer_run();
  newer[1].ptr = {"evil\x1b]0;title\x07.example.com"};
  const std::string text =
      rdns::reports::diff_text(rdns::reports::diff_runs(1, older_run(), 2, newer));
  CHECK(text.find("run 1 -> run 2: 3 new failures, 1 fixed, 1 PTR changed, 0 changed") == 0);
  CHECK(text.find("New failures:") != std::string::npos);
  CHECK(text.find("Disappeared") != std::string::npos);
  CHECK(text.find("192.0.2.16") != std::string::npos);
  CHECK(text.find("codes none -> FORWARD_MISMATCH") != std::string::npos);
  CHECK(text.find("ptr multi.example.com other.example.net -> multi.example.com") !=
        std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
}

TEST_CASE("summarize counts by status, code, family and source domain", "[reports]") {
  rdns::reports::ReportData data;
  data.run.id = 2;
  data.results = newer_run();
  auto summary = rdns::reports::summarize(data);
  CHECK(summary.counts == rdns::test::counts_of(newer_run()));
  REQUIRE(summary.by_family.size() == 2);
  CHECK(summary.by_family[0].key == "ipv4");
  CHECK(summary.by_family[0].counts.total == 8);
  CHECK(summary.by_family[1].key == "ipv6");
  CHECK(summary.by_family[1].pass_rate() == 1.0);
  REQUIRE_FALSE(summary.by_code.empty());
  CHECK(summary.by_code[0].code == "INVALID_PTR_NAME");  // on two IPs
  CHECK(summary.by_code[0].ips == 2);
  CHECK(summary.by_source_domain.empty());  // no result carries a source domain yet
  CHECK_FALSE(summary.since_previous.has_value());

  data.source_domains["192.0.2.10"] = {"example.com"};
  data.source_domains["192.0.2.16"] = {"example.com", "example.com"};
  data.source_domains["2001:db8::25"] = {"example.org"};
  data.previous = rdns::db::RunInfo{};
  data.previous->id = 1;
  data.previous_results = older_run();
  summary = rdns::reports::summarize(data);
  REQUIRE(summary.by_source_domain.size() == 2);
  CHECK(summary.by_source_domain[0].key == "example.com");
  CHECK(summary.by_source_domain[0].counts.total == 2);
  CHECK(summary.by_source_domain[0].pass_rate() == 0.5);
  REQUIRE(summary.since_previous.has_value());
  CHECK(summary.since_previous->count(ChangeKind::fixed) == 1);
}

namespace {

std::int64_t store_checked(rdns::db::Database& database,
                           const std::vector<rdns::db::ResultRecord>& records,
                           const std::string& checks,
                           rdns::db::RunState state = rdns::db::RunState::complete) {
  const std::int64_t id =
      database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test", {"", "inventory:test", checks});
  database.add_results(id, records);
  database.finish_run(id, state, rdns::test::counts_of(records));
  return id;
}

rdns::db::ResultRecord failing(const std::string& ip) {
  return rdns::test::record(ip, Status::fail, {}, {{"NO_PTR", Severity::error, "NXDOMAIN"}});
}
rdns::db::ResultRecord passing(const std::string& ip) {
  return rdns::test::record(ip, Status::pass, {"mail.example.com"}, {},
                            {{"mail.example.com", {ip}}});
}
rdns::db::ResultRecord tempfail(const std::string& ip) {
  return rdns::test::record(ip, Status::unknown, {},
                            {{"TEMPFAIL", Severity::warning, "SERVFAIL from 127.0.0.1"}});
}

}  // namespace

TEST_CASE("compare_with_previous looks through an unknown to the last verdict", "[reports]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const rdns::test::BackendLocation where(backend);
  auto database = rdns::db::Database::open(where.location());
  using rdns::db::RunState;
  const std::int64_t verdicts =
      store_checked(database,
                    {failing("192.0.2.10"), passing("192.0.2.12"), failing("192.0.2.16"),
                     passing("192.0.2.18"), failing("192.0.2.20")},
                    "dns");
  // Neither an interrupted run nor another run's identity is a verdict.
  store_checked(database, {passing("192.0.2.10"), failing("192.0.2.12")}, "dns",
                RunState::interrupted);
  {
    const std::int64_t other =
        database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test", {"", "targets:x", "dns"});
    const std::vector<rdns::db::ResultRecord> records = {passing("192.0.2.20")};
    database.add_results(other, records);
    database.finish_run(other, RunState::complete, rdns::test::counts_of(records));
  }
  store_checked(database, {tempfail("192.0.2.20")}, "dns");  // unknown twice in a row
  const std::int64_t previous =
      store_checked(database,
                    {tempfail("192.0.2.10"), tempfail("192.0.2.12"), tempfail("192.0.2.16"),
                     tempfail("192.0.2.18"), tempfail("192.0.2.20")},
                    "dns");
  const std::int64_t now =
      store_checked(database,
                    {failing("192.0.2.10"), failing("192.0.2.12"), passing("192.0.2.16"),
                     tempfail("192.0.2.18"), failing("192.0.2.20")},
                    "dns");

  const auto comparison = rdns::reports::compare_with_previous(database, *database.find_run(now),
                                                               rdns::reports::kChangeKinds);
  REQUIRE(comparison);
  CHECK(comparison->previous.id == previous);
  const auto& diff = comparison->changes;
  const auto* still_failing = find_change(diff, "192.0.2.10");
  REQUIRE(still_failing);
  CHECK(still_failing->kind == ChangeKind::changed);  // failing before the outage too
  REQUIRE(still_failing->last_verdict);
  CHECK(still_failing->last_verdict->run_id == verdicts);
  CHECK(still_failing->last_verdict->status == Status::fail);
  const auto* newly = find_change(diff, "192.0.2.12");
  REQUIRE(newly);
  CHECK(newly->kind == ChangeKind::new_failure);
  REQUIRE(newly->last_verdict);
  CHECK(newly->last_verdict->status == Status::pass);
  const auto* recovered = find_change(diff, "192.0.2.16");
  REQUIRE(recovered);
  CHECK(recovered->kind == ChangeKind::fixed);
  CHECK(recovered->before->status == Status::unknown);
  CHECK(find_change(diff, "192.0.2.18") == nullptr);  // unknown in both: nothing to judge
  const auto* long_outage = find_change(diff, "192.0.2.20");
  REQUIRE(long_outage);
  CHECK(long_outage->kind == ChangeKind::changed);
  REQUIRE(long_outage->last_verdict);
  CHECK(long_outage->last_verdict->run_id == verdicts);
  CHECK(comparison->counts.count(ChangeKind::new_failure) == 1);
  CHECK(comparison->counts.count(ChangeKind::fixed) == 1);
  CHECK(comparison->counts.count(ChangeKind::changed) == 2);
  CHECK(comparison->counts.unchanged == 1);
  // Asked for the alerts only, it keeps those, with the verdict they were judged on.
  const auto alerts = rdns::reports::compare_with_previous(database, *database.find_run(now),
                                                           rdns::reports::kAlertKinds);
  REQUIRE(alerts);
  REQUIRE(alerts->changes.size() == 2);
  CHECK(alerts->changes[0].ip == "192.0.2.12");
  CHECK(alerts->changes[1].ip == "192.0.2.16");
  REQUIRE(alerts->changes[1].last_verdict);
  CHECK(alerts->changes[1].last_verdict->run_id == verdicts);
  CHECK(alerts->counts.of_kind == comparison->counts.of_kind);
  CHECK(rdns::reports::compare_with_previous(database, *database.find_run(now))->changes.empty());

  // A diff of the two runs compares them as stored.
  const auto literal = rdns::reports::compare_runs(comparison->previous, database.results(previous),
                                                   *database.find_run(now), database.results(now));
  CHECK(literal.count(ChangeKind::new_failure) == 3);
  CHECK(literal.count(ChangeKind::fixed) == 0);
}

TEST_CASE("an earlier verdict under other checks is not looked through to", "[reports]") {
  rdns::test::TempDir dir;
  auto database = rdns::db::Database::open(dir.path() / "runs.db");
  // Failing with SMTP findings counted; the runs compared now have none.
  store_checked(database, {failing("192.0.2.10"), failing("192.0.2.12")}, "dns");
  store_checked(database, {failing("192.0.2.10")}, "dns,smtp");
  store_checked(database, {tempfail("192.0.2.10"), tempfail("192.0.2.12")}, "dns");
  const std::int64_t now =
      store_checked(database, {failing("192.0.2.10"), failing("192.0.2.12")}, "dns");
  const auto comparison = rdns::reports::compare_with_previous(database, *database.find_run(now),
                                                               rdns::reports::kChangeKinds);
  REQUIRE(comparison);
  const auto* behind_smtp = find_change(comparison->changes, "192.0.2.10");
  REQUIRE(behind_smtp);
  CHECK(behind_smtp->kind == ChangeKind::new_failure);
  CHECK_FALSE(behind_smtp->last_verdict);
  // The search stops at the first run checked otherwise, for every address.
  const auto* beyond = find_change(comparison->changes, "192.0.2.12");
  REQUIRE(beyond);
  CHECK(beyond->kind == ChangeKind::new_failure);
}
