// rdnsctl against PostgreSQL: audit the lab's sample into a database on the
// test process's own server (tests/lab PgServer), then list, show, report,
// look up history and judge it through the same --db URL, as a user would.
// The URL's password must appear in no output and no stored run.

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <db/database.hpp>
#include <lab/dns_lab.hpp>
#include <lab/pg_server.hpp>

#include "run_rdnsctl.hpp"

using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

std::string sample_file() {
  return std::string(rdns::test::source_dir()) + "/samples/mail-ips.txt";
}

std::vector<std::string> audit_of_sample(const std::string& db) {
  return {
      "audit",     "--db", db,           "--resolver", rdns::lab::shared_lab().resolver_address(),
      "--timeout", "0.4",  "--retries",  "1",          "--format",
      "json",      "-i",   sample_file()};
}

/// Each result's address, status, PTR names and finding codes, in order.
std::vector<std::string> verdicts(const nlohmann::json& document) {
  std::vector<std::string> lines;
  for (const auto& result : document["results"]) {
    std::string line = result["ip"].get<std::string>() + " " + result["status"].get<std::string>() +
                       " " + result["ptr"].dump();
    for (const auto& finding : result["findings"]) line += " " + finding["code"].get<std::string>();
    lines.push_back(line);
  }
  return lines;
}

/// Fails the test when the password shows in anything the command printed.
void require_secret_kept(const ProcessResult& result, const std::string& password) {
  CHECK(result.out.find(password) == std::string::npos);
  CHECK(result.err.find(password) == std::string::npos);
}

}  // namespace

TEST_CASE("rdnsctl audits into PostgreSQL, then lists, shows and reports the run from it") {
  rdns::lab::PgServer& server = rdns::lab::shared_pg_server();
  const std::string url = server.create_database();
  const std::string& password = server.password();

  const ProcessResult audit = run_rdnsctl(audit_of_sample(url));
  INFO(audit.err);
  REQUIRE(audit.exit_code == 1);  // the sample holds failing addresses
  require_secret_kept(audit, password);
  const auto document = nlohmann::json::parse(audit.out);
  const auto run_id = document["run_id"].get<std::int64_t>();
  CHECK(document["summary"]["total"].get<int>() > 10);

  // The same audit into a SQLite file stores the same results (TTLs aside,
  // which the resolver's cache counts down between the two runs).
  TempDir dir;
  const std::string file = (dir.path() / "runs.db").string();
  const ProcessResult sqlite_audit = run_rdnsctl(audit_of_sample(file));
  REQUIRE(sqlite_audit.exit_code == 1);
  CHECK(verdicts(nlohmann::json::parse(sqlite_audit.out)) == verdicts(document));

  // The run keeps its command line for --resume, with the URL masked.
  const auto stored = rdns::db::Database::open_read_only(url).find_run(run_id);
  REQUIRE(stored.has_value());
  CHECK(stored->arguments_json.find(password) == std::string::npos);
  CHECK_THAT(stored->arguments_json, Catch::Contains("rdns:***@127.0.0.1"));

  const ProcessResult list = run_rdnsctl({"runs", "list", "--db", url, "--format", "json"});
  INFO(list.err);
  REQUIRE(list.exit_code == 0);
  require_secret_kept(list, password);
  const auto runs = nlohmann::json::parse(list.out);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["id"] == run_id);
  CHECK(runs[0]["state"] == "complete");
  CHECK(runs[0]["counts"]["total"] == document["summary"]["total"]);
  CHECK(runs[0]["counts"]["fail"] == document["summary"]["fail"]);

  const ProcessResult show =
      run_rdnsctl({"runs", "show", "--db", url, "latest", "--format", "json"});
  REQUIRE(show.exit_code == 0);
  require_secret_kept(show, password);
  CHECK(nlohmann::json::parse(show.out)["results"] == document["results"]);

  const ProcessResult csv = run_rdnsctl({"report", "--db", url, "--format", "csv", "-o", "-"});
  INFO(csv.err);
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(csv.out, Catch::Contains("192.0.2.12"));
  const ProcessResult html = run_rdnsctl({"report", "--db", url, "--format", "html", "-o", "-"});
  REQUIRE(html.exit_code == 0);
  require_secret_kept(html, password);
  CHECK_THAT(html.out, Catch::Contains("192.0.2.10"));

  const ProcessResult history = run_rdnsctl({"history", "192.0.2.12", "--db", url});
  INFO(history.err);
  CHECK(history.exit_code == 0);
  CHECK_THAT(history.out, Catch::Contains(std::to_string(run_id)));
  const ProcessResult check = run_rdnsctl({"check", "--db", url, "--run", "latest", "-c", "1"});
  CHECK_THAT(check.out, Catch::StartsWith("RDNS CRITICAL"));
  CHECK(check.exit_code == 2);
  require_secret_kept(check, password);
}

TEST_CASE("rdnsctl names a PostgreSQL database without its password when it fails") {
  rdns::lab::PgServer& server = rdns::lab::shared_pg_server();
  const std::string missing = server.url("no_such_database");
  const ProcessResult list = run_rdnsctl({"runs", "list", "--db", missing});
  CHECK(list.exit_code == 3);
  CHECK_THAT(list.err, Catch::Contains("rdns:***@127.0.0.1"));
  require_secret_kept(list, server.password());

  const ProcessResult empty = run_rdnsctl({"runs", "list", "--db", server.create_database()});
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.err, Catch::Contains("no runs yet"));
  require_secret_kept(empty, server.password());

  // The PTR journal connects like every other command: never taken for a
  // file name.
  const ProcessResult journal = run_rdnsctl({"ptr", "journal", "--db", missing});
  CHECK(journal.exit_code == 3);
  CHECK_THAT(journal.err, Catch::Contains("rdns:***@127.0.0.1"));
  CHECK_FALSE(std::filesystem::exists(missing));
  require_secret_kept(journal, server.password());
}
