// The DNS window behind a fast, healthy resolver: without --concurrency it
// grows past its start of 100 queries in flight while answers come back
// clean; an explicit --concurrency (flag, environment or configuration file)
// is a hard cap it never passes. The summary line says how many queries were
// in flight at most.

#include <algorithm>
#include <fstream>
#include <regex>
#include <string>

#include <catch2/catch.hpp>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

/// "at most N in flight" from the run's summary line; -1 when it is missing.
long peak_in_flight(const std::string& err) {
  static const std::regex summary(R"(audited 4096 addresses .* at most (\d+) in flight)");
  std::smatch match;
  if (!std::regex_search(err, match, summary)) return -1;
  return std::stol(match[1]);
}

/// The run succeeded and never had more than `cap` queries in flight.
void check_capped(const rdns::test::ProcessResult& run, long cap) {
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(peak_in_flight(run.err) > 0);
  CHECK(peak_in_flight(run.err) <= cap);
}

}  // namespace

TEST_CASE("the window grows past its start unless --concurrency caps it") {
  TempDir dir;
  // A clean /20: every address has a PTR and a matching A record.
  const auto generated = rdns::test::run_command(
      {"python3", std::string(rdns::test::source_dir()) + "/bench/gen_lame_zones.py",
       dir.path().string(), "198.18.0.0", "20", "--clean"});
  REQUIRE(generated.exit_code == 0);
  rdns::lab::DnsLab lab(dir.path() / "zones", rdns::lab::Updates::refused,
                        rdns::lab::ResolverProfile::stock);
  const std::vector<std::string> audit = {"audit",     "--resolver", lab.resolver_address(),
                                          "--no-db",   "--format",   "jsonl",
                                          "--fail-on", "never",      "198.18.0.0/20"};
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
