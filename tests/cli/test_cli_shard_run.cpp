// rdnsctl audit --run-name: the shards of one logical run, each its own
// process, share one stored run in one PostgreSQL database (tests/lab
// PgServer): four started at once give exactly what one whole run gives; a
// shard killed with SIGKILL and run again resumes, and the run completes
// with every address once; a shard that does not belong is refused. Against
// a SQLite file the shards take turns.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <db/database.hpp>
#include <lab/dns_lab.hpp>
#include <lab/pg_server.hpp>

#include "lab_audits.hpp"
#include "run_rdnsctl.hpp"
#include "stored_runs.hpp"
#include "test_paths.hpp"

using rdns::test::kPacedTargets;
using rdns::test::only_run;
using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::sample_audit;
using rdns::test::TempDir;

namespace {

/// The paced audit (three zones, 768 addresses) as one shard of a named run.
std::vector<std::string> paced_shard(const std::string& db, const std::string& shard,
                                     const std::string& name) {
  return rdns::test::paced_audit(db, {"--shard", shard, "--run-name", name});
}

/// A stored run's results and domain findings as `runs show --format json`
/// gives them: each address's status, PTR names and finding codes.
struct Stored {
  std::map<std::string, std::string> addresses;
  std::multiset<std::string> domain_findings;
  nlohmann::json document;
};

Stored shown(const std::string& db, const std::string& run) {
  const ProcessResult show = run_rdnsctl({"runs", "show", "--db", db, run, "--format", "json"});
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  Stored stored;
  stored.document = nlohmann::json::parse(show.out);
  for (const auto& result : stored.document["results"]) {
    std::string verdict = result["status"].get<std::string>() + " " + result["ptr"].dump();
    for (const auto& finding : result["findings"])
      verdict += " " + finding["code"].get<std::string>();
    verdict += " " + result["sources"].dump();
    CHECK(stored.addresses.emplace(result["ip"].get<std::string>(), verdict).second);
  }
  for (const auto& finding : stored.document["domain_findings"]) {
    stored.domain_findings.insert(finding["domain"].get<std::string>() + " " +
                                  finding["code"].get<std::string>());
  }
  return stored;
}

/// Every stored result of the run, counted per address: none twice.
std::size_t addresses_once(const std::string& url, std::int64_t run_id) {
  std::map<std::string, int> rows;
  rdns::db::Database database = rdns::db::Database::open_read_only(url);
  database.visit_results(run_id, [&](const rdns::db::ResultRecord& record) { ++rows[record.ip]; });
  for (const auto& [ip, count] : rows) {
    INFO(ip);
    CHECK(count == 1);
  }
  return rows.size();
}

}  // namespace

TEST_CASE("rdnsctl audit: four shards of one named run started at once equal one whole run") {
  rdns::lab::PgServer& server = rdns::lab::shared_pg_server();
  const std::string whole_url = server.create_database();
  const ProcessResult whole_run = run_rdnsctl(sample_audit(whole_url, {}));
  INFO(whole_run.err);
  REQUIRE(whole_run.exit_code == 0);
  const Stored whole = shown(whole_url, "latest");
  REQUIRE(whole.addresses.size() > 30);

  const std::string url = server.create_database();
  TempDir dir;
  std::vector<pid_t> shards;
  for (int k = 1; k <= 4; ++k) {
    const std::string index = std::to_string(k);
    shards.push_back(rdns::test::spawn_rdnsctl(
        sample_audit(url, {"--shard", index + "/4", "--run-name", "nightly-1"}),
        dir.path() / (index + ".out"), dir.path() / (index + ".err")));
  }
  int completed_it = 0;
  for (int k = 1; k <= 4; ++k) {
    const std::string err = rdns::test::read_file(dir.path() / (std::to_string(k) + ".err"));
    INFO(err);
    CHECK(rdns::test::wait_exit(shards[static_cast<std::size_t>(k - 1)]) == 0);
  }
  for (int k = 1; k <= 4; ++k) {
    const std::string err = rdns::test::read_file(dir.path() / (std::to_string(k) + ".err"));
    INFO(err);
    CHECK_THAT(err, Catch::Contains("shard " + std::to_string(k) + "/4 done"));
    if (err.find("complete: all 4 shards") != std::string::npos) ++completed_it;
  }
  CHECK(completed_it == 1);  // the last shard to end, and only it

  const auto run = only_run(url);
  CHECK(run["state"] == "complete");
  CHECK(run["name"] == "nightly-1");
  CHECK(run["shard"].is_null());
  CHECK(run["shards"]["count"] == 4);
  CHECK(run["shards"]["complete"] == 4);
  CHECK(run["counts"]["total"].get<std::size_t>() == whole.addresses.size());

  const Stored sharded = shown(url, "latest");
  CHECK(sharded.addresses == whole.addresses);
  CHECK(sharded.domain_findings == whole.domain_findings);
  const auto& parts = sharded.document["shards"];
  REQUIRE(parts.size() == 4);
  std::int64_t summed = 0;
  for (const auto& part : parts) {
    CHECK(part["state"] == "complete");
    CHECK(part["attempts"] == 1);
    summed += part["counts"]["total"].get<std::int64_t>();
  }
  CHECK(summed == run["counts"]["total"].get<std::int64_t>());
  CHECK(addresses_once(url, run["id"].get<std::int64_t>()) == whole.addresses.size());

  const ProcessResult table = run_rdnsctl({"runs", "list", "--db", url});
  CHECK_THAT(table.out, Catch::Contains("nightly-1 (4/4 shards complete)"));
  const ProcessResult header = run_rdnsctl({"runs", "show", "--db", url, "latest"});
  CHECK_THAT(header.out, Catch::Contains("name nightly-1 (4/4 shards complete)"));
  CHECK_THAT(header.out, Catch::Contains("4/4      complete"));

  const ProcessResult report = run_rdnsctl({"report", "--db", url, "--format", "csv", "-o", "-"});
  INFO(report.err);
  REQUIRE(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains("192.0.2.12"));
  const ProcessResult html = run_rdnsctl({"report", "--db", url, "--format", "html", "-o", "-"});
  REQUIRE(html.exit_code == 0);
  CHECK_THAT(html.out, Catch::Contains("192.0.2.10"));
  CHECK_THAT(html.out, Catch::Contains("<dd id=\"shard-progress\">4 of 4 complete</dd>"));
  CHECK_THAT(html.out, Catch::Contains("<td>4/4</td><td>complete</td>"));

  const ProcessResult check = run_rdnsctl({"check", "--db", url, "--run", "latest", "-c", "1"});
  CHECK_THAT(check.out, Catch::StartsWith("RDNS CRITICAL"));  // the sample holds failures
}

TEST_CASE("rdnsctl audit: a shard killed with SIGKILL and run again resumes its named run") {
  rdns::lab::PgServer& server = rdns::lab::shared_pg_server();
  const std::string url = server.create_database();
  TempDir dir;

  const ProcessResult second = run_rdnsctl(paced_shard(url, "2/2", "paced"));
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.err, Catch::Contains("waits for 1 more shard"));
  // The report of the unfinished run names the shard that never started.
  const ProcessResult waiting = run_rdnsctl({"report", "--db", url, "--format", "html", "-o", "-"});
  REQUIRE(waiting.exit_code == 0);
  CHECK_THAT(waiting.out, Catch::Contains("<dd id=\"shard-progress\">1 of 2 complete</dd>"));
  CHECK_THAT(waiting.out, Catch::Contains("<td>1/2</td><td>not started</td>"));
  CHECK_THAT(waiting.out, Catch::Contains("<td>2/2</td><td>complete</td>"));
  // Until the run completes, its listed counts are those of its ended shards.
  const auto half = only_run(url);
  CHECK(half["state"] == "running");
  CHECK(half["counts"]["total"].get<std::int64_t>() > 0);
  CHECK(half["counts"]["total"].get<std::int64_t>() < kPacedTargets);

  const pid_t first = rdns::test::spawn_rdnsctl(paced_shard(url, "1/2", "paced"),
                                                dir.path() / "1.out", dir.path() / "1.err");
  // Killed once it has stored results.
  REQUIRE(rdns::test::wait_for_lines(dir.path() / "1.out", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(first, SIGKILL);
  CHECK(rdns::test::wait_exit(first) == 128 + SIGKILL);
  const auto killed = only_run(url);
  CHECK(killed["state"] == "running");
  CHECK(killed["shards"]["complete"] == 1);
  const std::int64_t run_id = killed["id"].get<std::int64_t>();
  const auto stored_before = static_cast<std::int64_t>(addresses_once(url, run_id));
  CHECK(stored_before < kPacedTargets);

  // The incomplete run vouches for nothing, and says which shard is missing.
  const ProcessResult incomplete =
      run_rdnsctl({"check", "--db", url, "--run", std::to_string(run_id)});
  CHECK(incomplete.exit_code == 3);
  CHECK_THAT(incomplete.out, Catch::StartsWith("RDNS UNKNOWN"));
  CHECK_THAT(incomplete.out, Catch::Contains("1 of 2 shards complete: 1/2 running"));
  // Resuming by id is for runs of their own; a shard resumes itself.
  const ProcessResult by_id =
      run_rdnsctl({"audit", "--resume", std::to_string(run_id), "--db", url});
  CHECK(by_id.exit_code == 2);
  CHECK_THAT(by_id.err, Catch::Contains("--run-name paced --shard K/2"));

  const ProcessResult rerun = run_rdnsctl(paced_shard(url, "1/2", "paced"));
  INFO(rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK_THAT(rerun.err, Catch::Contains("shard 1/2 of run " + std::to_string(run_id) +
                                        " resumes (attempt 2)"));
  CHECK_THAT(rerun.err, Catch::Contains("complete: all 2 shards"));
  // It audited only what the killed attempt had not stored.
  const auto lines =
      static_cast<std::int64_t>(std::count(rerun.out.begin(), rerun.out.end(), '\n'));
  CHECK(lines == kPacedTargets - stored_before);

  const auto complete = only_run(url);
  CHECK(complete["state"] == "complete");
  CHECK(complete["counts"]["total"] == kPacedTargets);
  CHECK(addresses_once(url, run_id) == static_cast<std::size_t>(kPacedTargets));
  const Stored stored = shown(url, std::to_string(run_id));
  const auto& parts = stored.document["shards"];
  REQUIRE(parts.size() == 2);
  CHECK(parts[0]["attempts"] == 2);
  CHECK(parts[1]["attempts"] == 1);
  // The re-run shard's counts cover its first attempt's results too.
  CHECK(parts[0]["counts"]["total"].get<std::int64_t>() +
            parts[1]["counts"]["total"].get<std::int64_t>() ==
        kPacedTargets);

  const ProcessResult judged = run_rdnsctl({"check", "--db", url, "--run", std::to_string(run_id)});
  CHECK_THAT(judged.out, Catch::StartsWith("RDNS "));
  CHECK(judged.exit_code != 3);

  // A complete shard run again audits nothing.
  const ProcessResult again = run_rdnsctl(paced_shard(url, "1/2", "paced"));
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.empty());
  CHECK_THAT(again.err, Catch::Contains("already complete: nothing to audit"));

  // A shard that does not belong is refused, naming the run, and changes nothing.
  const ProcessResult other_count = run_rdnsctl(paced_shard(url, "1/3", "paced"));
  CHECK(other_count.exit_code == 2);
  CHECK_THAT(other_count.err, Catch::Contains("run 'paced'"));
  CHECK_THAT(other_count.err, Catch::Contains("has 2 shards, not 3"));
  std::vector<std::string> other_targets = paced_shard(url, "1/2", "paced");
  other_targets.back() = "2001:db8::/121";  // the last of the targets
  const ProcessResult different = run_rdnsctl(other_targets);
  CHECK(different.exit_code == 2);
  CHECK_THAT(different.err, Catch::Contains("run 'paced'"));
  CHECK_THAT(different.err, Catch::Contains("other targets or settings"));
  CHECK_THAT(different.err, Catch::Contains("2001:db8::/121"));
  const auto after = only_run(url);
  CHECK(after["state"] == "complete");
  CHECK(shown(url, std::to_string(run_id)).document["shards"][0]["attempts"] == 2);
}

TEST_CASE("rdnsctl audit: the shards of a named run take turns on a SQLite file") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const pid_t first = rdns::test::spawn_rdnsctl(paced_shard(db, "1/2", "turns"),
                                                dir.path() / "1.out", dir.path() / "1.err");
  REQUIRE(rdns::test::wait_for_lines(dir.path() / "1.out", 1));
  // While the first holds the file's lock, a second is refused at once.
  const ProcessResult locked = run_rdnsctl(paced_shard(db, "2/2", "turns"));
  CHECK(locked.exit_code == 4);
  CHECK_THAT(locked.err, Catch::Contains("take turns on a SQLite file"));
  CHECK_THAT(locked.err, Catch::Contains("postgresql://"));
  CHECK(rdns::test::wait_exit(first) == 0);

  const ProcessResult turn = run_rdnsctl(paced_shard(db, "2/2", "turns"));
  INFO(turn.err);
  REQUIRE(turn.exit_code == 0);
  CHECK_THAT(turn.err, Catch::Contains("complete: all 2 shards"));
  const auto run = only_run(db);
  CHECK(run["state"] == "complete");
  CHECK(run["counts"]["total"] == kPacedTargets);
  CHECK(run["shards"]["complete"] == 2);
}
