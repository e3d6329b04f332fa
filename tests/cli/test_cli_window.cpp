// The DNS window: without --concurrency it grows past its start of 100
// queries in flight while answers come back clean, also when some reverse
// delegations are lame, and with exact verdicts; an explicit --concurrency
// (flag, environment or configuration file) is a hard cap it never passes;
// a resolver that rate-limits drives it down; a query lost on the way is
// asked again long before its timeout. The summary line says how many
// queries were in flight at most, how often the window was halved and how
// many late queries were asked again.

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>
#include <lab/lossy_relay.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

/// A number from the run's summary line; -1 when the line is missing.
long summary_number(const std::string& err, const std::string& pattern) {
  const std::regex summary("audited [0-9]+ addresses .*" + pattern);
  std::smatch match;
  if (!std::regex_search(err, match, summary)) return -1;
  return std::stol(match[1]);
}

long peak_in_flight(const std::string& err) {
  return summary_number(err, R"(at most (\d+) in flight)");
}

long window_halvings(const std::string& err) {
  return summary_number(err, R"(window halved (\d+) times)");
}

long early_retries(const std::string& err) {
  return summary_number(err, R"(window halved \d+ times, (\d+) late queries asked again)");
}

double run_seconds(const std::string& err) {
  const std::regex summary(R"(audited [0-9]+ addresses .* in ([0-9.]+) s,)");
  std::smatch match;
  return std::regex_search(err, match, summary) ? std::stod(match[1]) : -1;
}

/// The run succeeded and never had more than `cap` queries in flight.
void check_capped(const rdns::test::ProcessResult& run, long cap) {
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(peak_in_flight(run.err) > 0);
  CHECK(peak_in_flight(run.err) <= cap);
}

/// Writes bench/gen_lame_zones.py's zones and ground truth for 198.18.0.0/prefix.
void generate_zones(const std::filesystem::path& dir, int prefix, bool clean) {
  std::vector<std::string> command = {
      "python3", std::string(rdns::test::source_dir()) + "/bench/gen_lame_zones.py", dir.string(),
      "198.18.0.0", std::to_string(prefix)};
  if (clean) command.emplace_back("--clean");
  REQUIRE(rdns::test::run_command(command).exit_code == 0);
}

/// Addresses of a JSONL audit whose status and finding codes differ from
/// the generator's expected.csv ("ip,status,codes"), plus those missing.
std::size_t wrong_verdicts(const std::filesystem::path& expected_csv, const std::string& jsonl) {
  std::map<std::string, std::string> expected;
  std::istringstream rows(rdns::test::read_file(expected_csv));
  std::string row;
  std::getline(rows, row);  // the header
  while (std::getline(rows, row)) {
    const auto comma = row.find(',');
    expected[row.substr(0, comma)] = row.substr(comma + 1);
  }
  std::size_t wrong = 0;
  std::istringstream lines(jsonl);
  std::string line;
  while (std::getline(lines, line)) {
    const auto result = nlohmann::json::parse(line);
    std::vector<std::string> codes;
    for (const auto& finding : result["findings"]) {
      if (finding["code"] != "TTL_NOTE") codes.push_back(finding["code"].get<std::string>());
    }
    std::sort(codes.begin(), codes.end());
    std::string joined;
    for (const std::string& code : codes) joined += (joined.empty() ? "" : " ") + code;
    const std::string status = result["status"].get<std::string>();
    const auto found = expected.find(result["ip"].get<std::string>());
    if (found == expected.end() || found->second != status + "," + joined) ++wrong;
    if (found != expected.end()) expected.erase(found);
  }
  return wrong + expected.size();
}

std::vector<std::string> jsonl_audit(const rdns::lab::DnsLab& lab, const std::string& range) {
  return {"audit",     "--resolver", lab.resolver_address(),
          "--no-db",   "--format",   "jsonl",
          "--fail-on", "never",      range};
}

}  // namespace

TEST_CASE("the window grows past its start unless --concurrency caps it") {
  TempDir dir;
  // A clean /20: every address has a PTR and a matching A record.
  generate_zones(dir.path(), 20, true);
  rdns::lab::DnsLab lab(dir.path() / "zones", rdns::lab::Updates::refused,
                        rdns::lab::ResolverProfile::stock);
  const std::vector<std::string> audit = jsonl_audit(lab, "198.18.0.0/20");
  const auto with = [&](std::vector<std::string> flags) {
    std::vector<std::string> args = audit;
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  };

  SECTION("not given: the window grows past 100 and every address gets a result") {
    const auto run = run_rdnsctl(audit);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(peak_in_flight(run.err) > 100);
    CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 4096);
  }
  SECTION("given on the command line: never more than that in flight") {
    check_capped(run_rdnsctl(with({"--concurrency", "40"})), 40);
  }
  SECTION("given as the default value itself: still a hard cap") {
    check_capped(run_rdnsctl(with({"--concurrency", "100"})), 100);
  }
  SECTION("given in the environment: a hard cap too") {
    check_capped(run_rdnsctl(audit, {}, {"RDNSCTL_CONCURRENCY=40"}), 40);
  }
  SECTION("given in the configuration file: a hard cap too") {
    const auto config = dir.path() / "config.toml";
    std::ofstream(config) << "concurrency = 40\n";
    check_capped(run_rdnsctl(with({"--config", config.string()})), 40);
  }
}

TEST_CASE("behind lame delegations the default window still grows and every verdict is exact") {
  TempDir dir;
  // One /24 in ten delegated to servers that never answer, behind the lab's
  // small unbound, which SERVFAILs them after about 2 s: those lookups must
  // neither hold the window down nor cost any address its true verdict.
  generate_zones(dir.path(), 20, false);
  rdns::lab::DnsLab lab(dir.path() / "zones");
  const auto run = run_rdnsctl(jsonl_audit(lab, "198.18.0.0/20"));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(peak_in_flight(run.err) > 100);
  CHECK(wrong_verdicts(dir.path() / "expected.csv", run.out) == 0);
}

TEST_CASE("a resolver that rate-limits drives the window down") {
  TempDir dir;
  generate_zones(dir.path(), 22, true);
  // It answers kLabRateLimitQps queries a second and drops the rest: every
  // second's burst beyond that times out, and each timeout period's losses
  // halve the window, down to a few queries in flight.
  rdns::lab::DnsLab lab(dir.path() / "zones", rdns::lab::Updates::refused,
                        rdns::lab::ResolverProfile::rate_limited);
  std::vector<std::string> audit = jsonl_audit(lab, "198.18.0.0/22");
  audit.insert(audit.end(), {"--timeout", "0.2"});
  const auto run = run_rdnsctl(audit);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(window_halvings(run.err) >= 2);
  // Every address gets its exact verdict: no pass or fail is built on a
  // dropped query, and no /24 whose first lookup fails for its own reasons
  // (the CNAME loop's and the long chain's SERVFAIL) is judged lame because
  // the limit dropped the one-try probe of its zone.
  CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 1024);
  CHECK(wrong_verdicts(dir.path() / "expected.csv", run.out) == 0);
}

TEST_CASE("a lost query is asked again long before its timeout") {
  TempDir dir;
  generate_zones(dir.path(), 22, true);
  // The stock unbound, which takes all the window may send: the small one
  // drops what exceeds its request list, a loss of its own that may take a
  // retry too.
  rdns::lab::DnsLab lab(dir.path() / "zones", rdns::lab::Updates::refused,
                        rdns::lab::ResolverProfile::stock);
  // One question in 50 loses its first copy on the way to the resolver.
  rdns::lab::LossyRelay relay(lab.resolver_address(), 50);
  std::vector<std::string> audit = jsonl_audit(lab, "198.18.0.0/22");
  audit[2] = relay.address();

  SECTION("by default: every lost query asked again, no timeout waited for") {
    // A first try of 10 s: a run that waited for any lost query's timeout
    // would take longer than that.
    audit.insert(audit.end(), {"--timeout", "10"});
    const auto run = run_rdnsctl(audit);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    REQUIRE(relay.lost() >= 10);
    // Lost queries were asked again early, and none waited for its timeout.
    CHECK(early_retries(run.err) > 0);
    CHECK(run_seconds(run.err) > 0);
    CHECK(run_seconds(run.err) < 10);
    CHECK(window_halvings(run.err) == 0);
    CHECK(wrong_verdicts(dir.path() / "expected.csv", run.out) == 0);
  }
  SECTION("under a --qps cap: asked again too, within the cap") {
    audit.insert(audit.end(), {"--timeout", "10", "--qps", "2000"});
    const auto run = run_rdnsctl(audit);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    REQUIRE(relay.lost() >= 10);
    CHECK(early_retries(run.err) > 0);
    CHECK(run_seconds(run.err) < 10);
    // Every query the relay saw, retries included, within the cap (and its
    // burst of a tenth of a second).
    CHECK(static_cast<double>(relay.queries()) <= 2000 * (run_seconds(run.err) + 0.1) * 1.1);
    CHECK(wrong_verdicts(dir.path() / "expected.csv", run.out) == 0);
  }
}
