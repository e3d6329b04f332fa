// rdnsctl history IP: one address across stored runs, run as a user would,
// against runs written through db::Database and against real lab audits.

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <db/database.hpp>
#include <lab/dns_lab.hpp>

#include "../reports/report_fixture.hpp"
#include "run_rdnsctl.hpp"

using rdns::Severity;
using rdns::Status;
using rdns::test::record;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

const std::string kIp = "192.0.2.12";
/// A PTR with a raw escape sequence, as an older or foreign writer might
/// have stored it: no terminal may receive the ESC byte.
const std::string kRawControlPtr = "\x1b[31mred.example.com";

/// Stores one run of `inventory` (empty: an ad-hoc run with its own
/// identity) holding `records`; finished unless `state` is running.
std::int64_t store(rdns::db::Database& database, const std::string& inventory,
                   const std::vector<rdns::db::ResultRecord>& records,
                   rdns::db::RunState state = rdns::db::RunState::complete) {
  const std::string identity = inventory.empty() ? "" : "inventory:" + inventory;
  const std::int64_t id =
      database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test", {inventory, identity, "dns"});
  database.add_results(id, records);
  if (state != rdns::db::RunState::running) {
    database.finish_run(id, state, rdns::test::counts_of(records));
  }
  return id;
}

/// kIp through every kind of change in inventory "web" (runs 1, 3-8; run 8
/// still running), an ad-hoc run (2) between them, and a run (9) that did
/// not audit it. The expected CHANGE of each run, newest first.
std::string make_sequence(const std::filesystem::path& dir) {
  const auto path = dir / "runs.db";
  rdns::db::Database database = rdns::db::Database::open(path);
  const auto no_ptr = [] {
    return record(kIp, Status::fail, {},
                  {{"NO_PTR", Severity::error, "12.2.0.192.in-addr.arpa: NXDOMAIN"}});
  };
  const auto hostile = [] {
    return record(kIp, Status::fail, {rdns::test::kFormulaPtr},
                  {{"INVALID_PTR_NAME", Severity::error, "not a valid host name"}});
  };
  store(database, "web", {no_ptr(), record("2001:db8::25", Status::pass, {"mail6.example.com"})});
  store(database, "", {record(kIp, Status::pass, {kRawControlPtr})});
  store(database, "web", {no_ptr()});
  store(database, "web", {record(kIp, Status::pass, {"mail12.example.com"})});
  store(database, "web", {record(kIp, Status::pass, {"relay12.example.com"})});
  store(database, "web",
        {record(kIp, Status::warn, {"relay12.example.com"},
                {{"GENERIC_PTR", Severity::warning, "dynamic"}})});
  store(database, "web", {hostile()});
  store(database, "web", {hostile()}, rdns::db::RunState::running);
  store(database, "web", {record("192.0.2.10", Status::pass, {"mail.example.com"})});
  return path.string();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

/// The words of a table line (columns are separated by blanks).
std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

}  // namespace

TEST_CASE("rdnsctl history lists an address's runs newest first with what changed", "[cli]") {
  TempDir dir;
  const std::string db = make_sequence(dir.path());
  const auto result = run_rdnsctl({"history", kIp, "--db", db});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.empty());
  const auto lines = lines_of(result.out);
  REQUIRE(lines.size() == 9);
  CHECK(words_of(lines[0]) == std::vector<std::string>{"RUN", "STARTED", "STATE", "INVENTORY",
                                                       "STATUS", "PTR", "CODES", "CHANGE"});
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"8", "unchanged"}, {"7", "newly failing"}, {"6", "changed"}, {"5", "PTR changed"},
      {"4", "recovered"}, {"3", "unchanged"},     {"2", "first"},   {"1", "first"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(lines[i + 1]);
    CHECK(words_of(lines[i + 1]).front() == expected[i].first);
    CHECK_THAT(lines[i + 1], Catch::EndsWith("  " + expected[i].second));
  }
  CHECK_THAT(lines[1], Catch::Contains(" running ") && Catch::Contains(" web "));
  CHECK_THAT(lines[3], Catch::Contains(" warn ") && Catch::Contains(" relay12.example.com ") &&
                           Catch::Contains(" GENERIC_PTR "));
  CHECK_THAT(lines[7], Catch::Contains(" (audit) ") && Catch::Contains("\\027[31mred.example.com"));
  CHECK_THAT(lines[8], Catch::Contains(" complete ") && Catch::Contains(" - ") &&
                           Catch::Contains(" NO_PTR "));
  // Nothing raw from DNS reaches the terminal.
  CHECK(result.out.find('\x1b') == std::string::npos);
}

TEST_CASE("rdnsctl history keeps to one inventory and compares beyond --limit", "[cli]") {
  TempDir dir;
  const std::string db = make_sequence(dir.path());
  auto result = run_rdnsctl({"history", kIp, "--db", db, "--inventory", "web"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto lines = lines_of(result.out);
  REQUIRE(lines.size() == 8);
  CHECK(result.out.find("(audit)") == std::string::npos);
  CHECK_THAT(lines[7], Catch::StartsWith("1 ") && Catch::EndsWith("  first"));

  // The oldest line shown is still compared with the run before it.
  result = run_rdnsctl({"history", kIp, "--db", db, "--limit", "3"});
  REQUIRE(result.exit_code == 0);
  lines = lines_of(result.out);
  REQUIRE(lines.size() == 4);
  CHECK_THAT(lines[3], Catch::StartsWith("6 ") && Catch::EndsWith("  changed"));

  CHECK(run_rdnsctl({"history", kIp, "--db", db, "--limit", "0"}).exit_code == 2);
  result = run_rdnsctl({"history", kIp, "--db", db, "--inventory", "mail"});
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK_THAT(result.err, Catch::Contains("no stored results for 192.0.2.12 in inventory mail"));
}

TEST_CASE("rdnsctl history --format json and csv have the documented shape", "[cli]") {
  TempDir dir;
  const std::string db = make_sequence(dir.path());
  const auto json_result = run_rdnsctl({"history", kIp, "--db", db, "--format", "json"});
  INFO(json_result.err);
  REQUIRE(json_result.exit_code == 0);
  const auto document = nlohmann::json::parse(json_result.out);
  CHECK(document["ip"] == kIp);
  const auto& runs = document["runs"];
  REQUIRE(runs.size() == 8);
  CHECK(runs[0]["run_id"] == 8);
  CHECK(runs[0]["state"] == "running");
  CHECK(runs[0]["inventory"] == "web");
  CHECK(runs[0]["change"] == "unchanged");
  CHECK(runs[0]["compared_with_run"] == 7);
  CHECK(runs[1]["change"] == "new_failure");
  CHECK(runs[1]["status"] == "fail");
  CHECK(runs[1]["ptr"] == nlohmann::json::array({rdns::test::kFormulaPtr}));
  CHECK(runs[1]["codes"] == nlohmann::json::array({"INVALID_PTR_NAME"}));
  CHECK(runs[1]["findings"][0]["severity"] == "error");
  CHECK(runs[1]["changed_fields"] == nlohmann::json::array({"status", "ptr", "codes"}));
  CHECK(runs[3]["change"] == "ptr_changed");
  CHECK(runs[4]["change"] == "fixed");
  CHECK(runs[6]["inventory"] == "");
  CHECK(runs[6]["ptr"] == nlohmann::json::array({"\\027[31mred.example.com"}));
  CHECK(runs[6]["change"] == "first");
  CHECK(runs[6]["compared_with_run"].is_null());
  for (const auto& run : runs) {
    for (const char* key : {"run_id", "started_at", "state", "inventory", "status", "ptr", "codes",
                            "findings", "change", "changed_fields", "compared_with_run"}) {
      INFO(key);
      CHECK(run.contains(key));
    }
  }

  const auto csv = run_rdnsctl({"history", kIp, "--db", db, "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  const auto lines = lines_of(csv.out);
  REQUIRE(lines.size() == 9);
  CHECK(lines[0] == "run_id,started_at,state,inventory,status,ptr,codes,change\r");
  CHECK_THAT(lines[1], Catch::StartsWith("8,") && Catch::EndsWith(",unchanged\r"));
  // A PTR that a spreadsheet would run as a formula is neutralised.
  CHECK_THAT(lines[2], Catch::Contains(",\"'=HYPERLINK(\"\"http://127.0.0.1/x\"\",\"\"y\"\")\","));
  CHECK_THAT(lines[2], Catch::EndsWith(",INVALID_PTR_NAME,new_failure\r"));
  CHECK(csv.out.find('\x1b') == std::string::npos);
}

TEST_CASE("rdnsctl history canonicalises the IP and refuses what is none", "[cli]") {
  TempDir dir;
  const std::string db = make_sequence(dir.path());
  const auto v6 = run_rdnsctl({"history", "2001:DB8:0:0::25", "--db", db, "--format", "json"});
  INFO(v6.err);
  REQUIRE(v6.exit_code == 0);
  const auto document = nlohmann::json::parse(v6.out);
  CHECK(document["ip"] == "2001:db8::25");
  CHECK(document["runs"].size() == 1);

  // As the audit takes it: an IPv4-mapped address is the IPv4 address.
  const auto mapped = run_rdnsctl({"history", "::ffff:192.0.2.12", "--db", db});
  CHECK(mapped.exit_code == 0);
  CHECK(lines_of(mapped.out).size() == 9);

  auto result = run_rdnsctl({"history", "192.0.2.999", "--db", db});
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("'192.0.2.999' is not an IP address"));
  // One address, not a range.
  result = run_rdnsctl({"history", "192.0.2.0/24", "--db", db});
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("'192.0.2.0/24' is not an IP address"));
  result = run_rdnsctl({"history", "\x1b[2J", "--db", db});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find('\x1b') == std::string::npos);
  CHECK(run_rdnsctl({"history", "--db", db}).exit_code == 2);
  CHECK(run_rdnsctl({"history", kIp, "--db", db, "--format", "xml"}).exit_code == 2);
  // A database that does not exist is not created.
  result = run_rdnsctl({"history", kIp, "--db", (dir.path() / "none.db").string()});
  CHECK(result.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "none.db"));

  // An address never audited: a note, an empty list, success.
  result = run_rdnsctl({"history", "192.0.2.99", "--db", db, "--format", "json"});
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("no stored results for 192.0.2.99"));
  CHECK(nlohmann::json::parse(result.out) ==
        nlohmann::json{{"ip", "192.0.2.99"}, {"runs", nlohmann::json::array()}});
  result = run_rdnsctl({"history", "192.0.2.99", "--db", db, "--format", "csv"});
  CHECK(result.exit_code == 0);
  CHECK(lines_of(result.out).size() == 1);
}

TEST_CASE("rdnsctl history of real audits shows a hostile PTR escaped", "[cli][lab]") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  for (int i = 0; i < 2; ++i) {
    const auto audit = run_rdnsctl({"audit", "--quiet", "--db", db, "--resolver",
                                    rdns::lab::shared_lab().resolver_address(), "--timeout", "0.4",
                                    "--retries", "1", "192.0.2.10", "192.0.2.23"});
    INFO(audit.err);
    REQUIRE(audit.exit_code == 1);
  }
  const std::string stored = "<img\\032src=x\\032onerror=alert\\(1\\)>.example.com";
  const auto table = run_rdnsctl({"history", "192.0.2.23", "--db", db});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  const auto lines = lines_of(table.out);
  REQUIRE(lines.size() == 3);
  // Same targets and checks: the second audit is compared with the first.
  CHECK_THAT(lines[1], Catch::StartsWith("2 ") && Catch::Contains(" fail ") &&
                           Catch::Contains(" " + stored + " ") &&
                           Catch::Contains("INVALID_PTR_NAME") && Catch::EndsWith("  unchanged"));
  CHECK_THAT(lines[2], Catch::StartsWith("1 ") && Catch::EndsWith("  first"));
  CHECK(table.out.find("<img src") == std::string::npos);

  const auto json = run_rdnsctl({"history", "192.0.2.23", "--db", db, "--format", "json"});
  REQUIRE(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out)["runs"][0]["ptr"] == nlohmann::json::array({stored}));
}
