// rdnsctl check as Nagios/Icinga runs it: exit codes 0/1/2/3, one status
// line with performance data, -w/-c thresholds; against the loopback lab.

#include <algorithm>
#include <filesystem>
#include <regex>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"

using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

constexpr int kOk = 0;
constexpr int kWarning = 1;
constexpr int kCritical = 2;
constexpr int kUnknown = 3;

ProcessResult check(const std::string& db, std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "check",     "--resolver", rdns::lab::shared_lab().resolver_address(),
      "--timeout", "0.4",        "--retries",
      "1",         "--db",       db};
  for (auto& e : extra) args.push_back(e);
  return run_rdnsctl(args);
}

/// The plugin guidelines' output: a first line "TEXT | 'label'=value[UOM];warn;crit;min;max ...",
/// then `long_lines` lines of long output.
void check_plugin_output(const ProcessResult& result, const std::string& state,
                         std::size_t long_lines = 0) {
  INFO(result.out << result.err);
  REQUIRE(!result.out.empty());
  CHECK(result.out.back() == '\n');
  CHECK(static_cast<std::size_t>(std::count(result.out.begin(), result.out.end(), '\n')) ==
        1 + long_lines);
  CHECK(result.out.rfind("RDNS " + state + " - ", 0) == 0);
  const auto bar = result.out.find(" | ");
  REQUIRE(bar != std::string::npos);
  // Trailing empty fields may be left out: "total=3;;;0"; thresholds are ranges.
  static const std::regex perfdata(
      R"(^[a-z]+=[0-9.]+s?(;[@~0-9:]*){0,4}( [a-z]+=[0-9.]+s?(;[@~0-9:]*){0,4})*$)");
  const std::string data = result.out.substr(bar + 3, result.out.find('\n') - bar - 3);
  CHECK(std::regex_match(data, perfdata));
}

}  // namespace

TEST_CASE("rdnsctl check exits with the Nagios state its thresholds give") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  // 192.0.2.10 passes; 192.0.2.12 (NO_PTR) and 192.0.2.16 (FORWARD_MISMATCH) fail.
  const ProcessResult ok = check(db, {"192.0.2.10"});
  CHECK(ok.exit_code == kOk);
  check_plugin_output(ok, "OK");
  CHECK_THAT(ok.out, Catch::Contains("0 of 1 addresses fail"));
  CHECK_THAT(ok.out, Catch::Contains("total=1;;;0 pass=1;;;0;1"));

  // Default -c 0: any failing address is CRITICAL; the long output names it.
  const ProcessResult critical = check(db, {"192.0.2.10", "192.0.2.12"});
  CHECK(critical.exit_code == kCritical);
  check_plugin_output(critical, "CRITICAL", 1);
  CHECK_THAT(critical.out, Catch::Contains("fail=1;;0;0;2"));
  CHECK_THAT(critical.out, Catch::EndsWith("\n192.0.2.12 fails: NO_PTR\n"));

  const ProcessResult warning = check(db, {"-w", "0", "-c", "1", "192.0.2.10", "192.0.2.12"});
  CHECK(warning.exit_code == kWarning);
  check_plugin_output(warning, "WARNING", 1);
  CHECK_THAT(warning.out, Catch::Contains("fail=1;0;1;0;2"));

  // Percentages of the addresses audited: 2 of 3 fail.
  const std::vector<std::string> three = {"192.0.2.10", "192.0.2.12", "192.0.2.16"};
  auto with = [&](std::vector<std::string> flags) {
    flags.insert(flags.end(), three.begin(), three.end());
    return flags;
  };
  CHECK(check(db, with({"-w", "10%", "-c", "50%"})).exit_code == kCritical);  // 2 > 1.5
  CHECK(check(db, with({"-w", "10%", "-c", "70%"})).exit_code == kWarning);   // 2 <= 2.1
  CHECK(check(db, with({"-w", "70%", "-c", "100%"})).exit_code == kOk);

  // A probe leaves the history alone unless --store; `--run` judges a stored run.
  CHECK_FALSE(std::filesystem::exists(db));
  CHECK(check(db, with({"--store", "-w", "10%", "-c", "70%"})).exit_code == kWarning);
  const ProcessResult stored = check(db, {"--run", "latest", "-c", "1"});
  CHECK(stored.exit_code == kCritical);
  check_plugin_output(stored, "CRITICAL", 2);
  CHECK_THAT(stored.out, Catch::Contains("2 of 3 addresses fail"));
  CHECK_THAT(stored.out, Catch::Contains("\n192.0.2.12 fails: NO_PTR\n192.0.2.16 fails: "));
  const ProcessResult runs = run_rdnsctl({"runs", "list", "--db", db, "--format", "json"});
  CHECK_THAT(runs.out, Catch::Contains("\"check\""));
  CHECK(check(db, {"--run", "latest", "--max-age", "1h"}).exit_code == kCritical);
}

TEST_CASE("rdnsctl check takes the plugin guidelines' range syntax") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  // 2 of 3 fail.
  const std::vector<std::string> three = {"192.0.2.10", "192.0.2.12", "192.0.2.16"};
  auto state = [&](std::vector<std::string> flags) {
    flags.insert(flags.end(), three.begin(), three.end());
    const ProcessResult result = check(db, flags);
    INFO(result.out << result.err);
    return result.exit_code;
  };
  CHECK(state({"-c", "1"}) == kCritical);                   // more than 1
  CHECK(state({"-c", "2"}) == kOk);                         // 0..2
  CHECK(state({"-c", "3:"}) == kCritical);                  // fewer than 3
  CHECK(state({"-c", "2:"}) == kOk);                        // 2 or more is fine
  CHECK(state({"-c", "~:1"}) == kCritical);                 // more than 1, no lower bound
  CHECK(state({"-c", "~:2"}) == kOk);                       //
  CHECK(state({"-c", "@2:3"}) == kCritical);                // inside 2..3
  CHECK(state({"-c", "@0:1"}) == kOk);                      //
  CHECK(state({"-w", "@50%:70%", "-c", "5"}) == kWarning);  // 1.5..2.1: 2 is inside
  CHECK(state({"-w", "50%:", "-c", "80%:"}) == kCritical);  // 2 < 2.4
  const ProcessResult perf =
      check(db, {"-w", "@1:2", "-c", "~:60%", "192.0.2.10", "192.0.2.12", "192.0.2.16"});
  check_plugin_output(perf, "CRITICAL", 2);
  CHECK_THAT(perf.out, Catch::Contains("fail=2;@1:2;~:1;0;3"));
  for (const char* bad : {"5:3", "@", "1:2:3", "~", "x:", "1.5", "-1"}) {
    INFO(bad);
    const ProcessResult refused = check(db, {"-c", bad, "192.0.2.10"});
    CHECK(refused.exit_code == kUnknown);
    CHECK_THAT(refused.out, Catch::StartsWith("RDNS UNKNOWN - -c '"));
  }
}

TEST_CASE("rdnsctl check reports what it cannot judge as UNKNOWN") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  SECTION("bad thresholds and flags") {
    const ProcessResult bad = check(db, {"-w", "many", "192.0.2.10"});
    CHECK(bad.exit_code == kUnknown);
    CHECK(bad.out.rfind("RDNS UNKNOWN - -w 'many'", 0) == 0);
    CHECK(check(db, {"-c", "120%", "192.0.2.10"}).exit_code == kUnknown);
    const ProcessResult flag = check(db, {"--no-such-flag", "192.0.2.10"});
    CHECK(flag.exit_code == kUnknown);
    CHECK_THAT(flag.out, Catch::StartsWith("RDNS UNKNOWN - ") && Catch::Contains("--no-such-flag"));
    CHECK(check(db, {}).exit_code == kUnknown);  // nothing to audit
  }
  SECTION("no resolver answers") {
    const ProcessResult silent = run_rdnsctl({"check", "--db", db, "--resolver", "127.0.0.1:9",
                                              "--timeout", "0.2", "--retries", "0", "192.0.2.10"});
    CHECK(silent.exit_code == kUnknown);
    check_plugin_output(silent, "UNKNOWN");
    CHECK_THAT(silent.out, Catch::Contains("no resolver answered (127.0.0.1:9)"));
  }
  SECTION("a stored run that did not complete, or none") {
    CHECK(check(db, {"--run", "latest"}).exit_code == kUnknown);  // no database yet
    run_rdnsctl({"audit", "--db", db, "--resolver", "127.0.0.1:9", "--timeout", "0.2", "--retries",
                 "0", "192.0.2.10"});
    const ProcessResult failed = check(db, {"--run", "latest"});
    CHECK(failed.exit_code == kUnknown);
    CHECK_THAT(failed.out, Catch::Contains("run 1 is failed, not complete"));
  }
  SECTION("every address unknown is never OK") {
    // 192.0.2.28's PTR target SERVFAILs: TEMPFAIL, status unknown.
    const ProcessResult lame = check(db, {"-c", "5", "192.0.2.28"});
    INFO(lame.out << lame.err);
    CHECK(lame.exit_code == kUnknown);
    CHECK_THAT(lame.out, Catch::Contains("all 1 addresses are unknown"));
  }
  SECTION("a stored run older than --max-age") {
    REQUIRE(check(db, {"--store", "192.0.2.10"}).exit_code == kOk);
    CHECK(check(db, {"--run", "latest", "--max-age", "26h"}).exit_code == kOk);
    // Make the run two days old, as a timer that stopped running would leave it.
    sqlite3* handle = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
    CHECK(sqlite3_exec(handle,
                       "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
                       "'-2 days')",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(handle);
    const ProcessResult stale = check(db, {"--run", "latest", "--max-age", "26h"});
    CHECK(stale.exit_code == kUnknown);
    CHECK_THAT(stale.out, Catch::Contains("longer ago than --max-age 26h"));
    CHECK(check(db, {"--run", "latest", "--max-age", "3d"}).exit_code == kOk);
    CHECK(check(db, {"--run", "latest", "--max-age", "soon"}).exit_code == kUnknown);
  }
}
