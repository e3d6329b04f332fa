// rdnsctl audit --shard: the shards of the lab sample, each run as its own
// process with its own database, together give what one whole run gives.

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>

#include "lab_audits.hpp"
#include "run_rdnsctl.hpp"
#include "stored_runs.hpp"
#include "test_paths.hpp"

using rdns::test::only_run;
using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::sample_audit;
using rdns::test::TempDir;

namespace {

/// What one run said: each address's verdict, and the domains' findings.
struct Verdicts {
  std::map<std::string, std::string> addresses;  ///< ip -> status, finding codes, sources
  std::multiset<std::string> domain_findings;    ///< "domain code"
};

/// Adds the jsonl lines of one run to `into`; an address seen before is a
/// failure (two shards audited it).
void add_verdicts(const std::string& jsonl, Verdicts& into) {
  std::istringstream lines(jsonl);
  for (std::string line; std::getline(lines, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record.contains("type")) {
      into.domain_findings.insert(record["domain"].get<std::string>() + " " +
                                  record["code"].get<std::string>());
      continue;
    }
    std::string verdict = record["status"].get<std::string>();
    for (const auto& finding : record["findings"])
      verdict += " " + finding["code"].get<std::string>();
    verdict += " " + record["sources"].dump();
    const std::string ip = record["ip"].get<std::string>();
    INFO(ip);
    CHECK(into.addresses.emplace(ip, verdict).second);
  }
}

ProcessResult audited(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}) {
  const auto result = run_rdnsctl(args, {}, env);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return result;
}

}  // namespace

TEST_CASE("rdnsctl audit --shard k/3 for k = 1..3 gives the whole run's verdicts") {
  TempDir dir;
  Verdicts whole;
  add_verdicts(audited(sample_audit((dir.path() / "whole.db").string(), {})).out, whole);
  REQUIRE(whole.addresses.size() > 30);
  REQUIRE_FALSE(whole.domain_findings.empty());

  Verdicts sharded;
  std::size_t shards_with_addresses = 0;
  for (int k = 1; k <= 3; ++k) {
    const std::string db = (dir.path() / ("shard" + std::to_string(k) + ".db")).string();
    const std::string shard = std::to_string(k) + "/3";
    const auto result = audited(sample_audit(db, {"--shard", shard}));
    CHECK_THAT(result.err, Catch::Contains("shard " + shard + ": "));
    const std::size_t before = sharded.addresses.size();
    Verdicts own;
    add_verdicts(result.out, own);
    // The domain's own findings (DMARC, MTA-STS, TLS-RPT, SPF) come once, from shard 1.
    CHECK(own.domain_findings.empty() == (k != 1));
    add_verdicts(result.out, sharded);
    if (sharded.addresses.size() > before) ++shards_with_addresses;

    const auto run = only_run(db);
    CHECK(run["state"] == "complete");
    CHECK(run["shard"] == shard);
    const auto show = run_rdnsctl({"runs", "show", "--db", db, "latest"});
    CHECK_THAT(show.out, Catch::StartsWith("run 1  complete  shard " + shard + "  started"));
  }
  CHECK(shards_with_addresses >= 2);
  CHECK(sharded.addresses == whole.addresses);
  CHECK(sharded.domain_findings == whole.domain_findings);
  CHECK(only_run((dir.path() / "whole.db").string())["shard"].is_null());
}

TEST_CASE("rdnsctl audit --shard auto reads a Kubernetes Indexed Job's completion index") {
  TempDir dir;
  const std::string named_db = (dir.path() / "named.db").string();
  const std::string auto_db = (dir.path() / "auto.db").string();
  Verdicts named;
  add_verdicts(audited(sample_audit(named_db, {"--shard", "3/3"})).out, named);
  Verdicts automatic;
  add_verdicts(audited(sample_audit(auto_db, {"--shard", "auto", "--shards", "3"}),
                       {"JOB_COMPLETION_INDEX=2"})
                   .out,
               automatic);
  CHECK(automatic.addresses == named.addresses);
  CHECK_FALSE(automatic.addresses.empty());
  CHECK(only_run(auto_db)["shard"] == "3/3");

  // The same through the environment, as a ConfigMap would set it.
  const std::string env_db = (dir.path() / "env.db").string();
  Verdicts from_environment;
  add_verdicts(audited(sample_audit(env_db, {}),
                       {"RDNSCTL_SHARD=auto", "RDNSCTL_SHARDS=3", "JOB_COMPLETION_INDEX=1"})
                   .out,
               from_environment);
  Verdicts second;
  add_verdicts(audited(sample_audit((dir.path() / "second.db").string(), {"--shard", "2/3"})).out,
               second);
  CHECK(from_environment.addresses == second.addresses);
  CHECK(only_run(env_db)["shard"] == "2/3");
}

TEST_CASE("rdnsctl audit --shard refuses bad values, naming the flag or the variable") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto refused = [&](const std::vector<std::string>& flags,
                           const std::vector<std::string>& env, const std::string& message) {
    const auto result = run_rdnsctl(sample_audit(db, flags), {}, env);
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains(message));
    CHECK(result.out.empty());
  };
  refused({"--shard", "0/3"}, {}, "--shard 0/3: expected K/N, shard K of N, with 1 <= K <= N");
  refused({"--shard", "4/3"}, {}, "--shard 4/3: expected K/N");
  refused({"--shard", "1/10001"}, {}, "N <= 10000");
  refused({"--shard", "two"}, {}, "--shard two: expected K/N");
  refused({"--shard", "auto"}, {"JOB_COMPLETION_INDEX=0"},
          "--shard auto: give the number of shards with --shards N");
  refused({"--shard", "auto", "--shards", "3"}, {"JOB_COMPLETION_INDEX="},
          "--shard auto: JOB_COMPLETION_INDEX is not set");
  refused({"--shard", "auto", "--shards", "3"}, {"JOB_COMPLETION_INDEX=3"},
          "--shard auto: JOB_COMPLETION_INDEX '3': expected a whole number from 0 to 2");
  refused({"--shard", "auto", "--shards", "3"}, {"JOB_COMPLETION_INDEX=x1"},
          "JOB_COMPLETION_INDEX 'x1'");
  refused({"--shards", "3"}, {}, "--shards goes with --shard auto");
  refused({"--shard", "1/3", "--shards", "3"}, {}, "--shards goes with --shard auto");
  refused({"--shards", "0", "--shard", "auto"}, {}, "--shards 0: expected a whole number");
  // Nothing was stored by any of them.
  CHECK_FALSE(std::filesystem::exists(db));

  // A resumed shard goes on with the shard it was started with.
  const auto resumed = run_rdnsctl({"audit", "--resume", "1", "--db", db, "--shard", "1/2"});
  CHECK(resumed.exit_code == 2);
  CHECK_THAT(resumed.err, Catch::Contains("--shard: --resume continues the run with its own"));
}
