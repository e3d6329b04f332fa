// rdnsctl report (CSV), report diff and report history, run as a user
// would, over runs stored in a real SQLite file.

#include <algorithm>
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <reports/report.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "csv_parser.hpp"
#include "report_fixture.hpp"

using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

using Row = std::map<std::string, std::string>;

std::vector<Row> csv_rows(const std::string& text) {
  const auto records = rdns::test::parse_csv(text);
  REQUIRE_FALSE(records.empty());
  const std::vector<std::string> header(std::begin(rdns::reports::kCsvColumns),
                                        std::end(rdns::reports::kCsvColumns));
  CHECK(records[0] == header);
  std::vector<Row> rows;
  for (std::size_t i = 1; i < records.size(); ++i) {
    REQUIRE(records[i].size() == header.size());
    Row row;
    for (std::size_t c = 0; c < header.size(); ++c) row[header[c]] = records[i][c];
    rows.push_back(row);
  }
  return rows;
}

std::vector<Row> rows_for(const std::vector<Row>& rows, const std::string& ip) {
  std::vector<Row> found;
  for (const auto& row : rows) {
    if (row.at("ip") == ip) found.push_back(row);
  }
  return found;
}

}  // namespace

TEST_CASE("rdnsctl report --format csv round-trips through an RFC 4180 parser", "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const auto out = dir.path() / "report.csv";
  const auto result = run_rdnsctl({"report", "--db", runs.path.string(), "--run", "latest",
                                   "--format", "csv", "-o", out.string()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.empty());
  const std::string text = rdns::test::read_file(out);
  // Printable ASCII plus the CRLF record ends (and line breaks inside no cell).
  CHECK(std::all_of(text.begin(), text.end(),
                    [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n'; }));
  const auto rows = csv_rows(text);
  // One row per IP and finding; 192.0.2.40 has two findings.
  CHECK(rows.size() == 10);
  for (const auto& row : rows) CHECK(row.at("run_id") == std::to_string(runs.newer));

  const auto pass = rows_for(rows, "192.0.2.10");
  REQUIRE(pass.size() == 1);
  CHECK(pass[0].at("status") == "pass");
  CHECK(pass[0].at("change").empty());
  CHECK(pass[0].at("code").empty());
  CHECK(pass[0].at("forward") == "mail.example.com=192.0.2.10");

  CHECK(rows_for(rows, "192.0.2.12")[0].at("change") == "fixed");
  const auto failing = rows_for(rows, "192.0.2.16");
  CHECK(failing[0].at("change") == "new_failure");
  CHECK(failing[0].at("code") == "FORWARD_MISMATCH");
  CHECK(failing[0].at("severity") == "error");
  CHECK(failing[0].at("fix").find("A/AAAA") != std::string::npos);
  CHECK(rows_for(rows, "192.0.2.18")[0].at("change") == "ptr_changed");

  // Hostile names come back byte for byte; markup is only text in a CSV.
  CHECK(rows_for(rows, "192.0.2.23")[0].at("ptr") == rdns::test::kEscapedImgPtr);
  const auto hostile = rows_for(rows, "192.0.2.40");
  REQUIRE(hostile.size() == 2);
  CHECK(hostile[0].at("ptr") == rdns::test::kRawImgPtr + " " + rdns::test::kScriptPtr);
  CHECK(hostile[0].at("forward") == rdns::test::kQuotesPtr + "=192.0.2.40");
  // Formula cells get a leading apostrophe; control and non-ASCII bytes are escaped.
  CHECK(hostile[1].at("detail") == "'-2+3 @SUM(A1) \\027[31mred\\195\\169");
  const auto formula = rows_for(rows, "192.0.2.41");
  CHECK(formula[0].at("ptr") == "'" + rdns::test::kFormulaPtr);
  CHECK(formula[0].at("detail") == "'=cmd|' /C calc'!A0");
  for (const auto& row : rows) {
    for (const auto& [column, value] : row) {
      INFO(column << ": " << value);
      if (!value.empty()) CHECK(std::string("=+-@\t\r").find(value[0]) == std::string::npos);
    }
  }
  CHECK(rows_for(rows, "2001:db8::25")[0].at("family") == "ipv6");
}

TEST_CASE("rdnsctl report writes to standard output by default and reports the first run",
          "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const auto result = run_rdnsctl({"report", "--db", runs.path.string(), "--run",
                                   std::to_string(runs.older), "--format", "csv"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto rows = csv_rows(result.out);
  CHECK(rows.size() == 5);
  for (const auto& row : rows) CHECK(row.at("change").empty());  // no previous run
}

TEST_CASE("rdnsctl report diff prints the changes as a table and as JSON", "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const std::string db = runs.path.string();
  const auto table = run_rdnsctl({"report", "diff", "1", "latest", "--db", db});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("run 1 -> run 2: 3 new failures, 1 fixed, 1 PTR changed, 0 changed, 3 "
                       "appeared, 1 disappeared, 1 unchanged") == 0);
  const auto json = run_rdnsctl({"report", "diff", "1", "2", "--db", db, "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto document = nlohmann::json::parse(json.out);
  CHECK(document["summary"]["new_failures"] == 3);
  CHECK(document["fixed"][0]["ip"] == "192.0.2.12");
  CHECK(document["disappeared"][0]["ip"] == "192.0.2.50");
}

TEST_CASE("rdnsctl report history lists runs with pass rate and changes", "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const std::string db = runs.path.string();
  const auto json = run_rdnsctl({"report", "history", "--db", db, "--format", "json"});
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  const auto list = nlohmann::json::parse(json.out);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == runs.newer);
  CHECK(list[0]["counts"]["total"] == 9);
  CHECK(list[0]["pass_rate"].get<double>() == Approx(4.0 / 9.0));
  CHECK(list[0]["since_previous"]["from_run"] == runs.older);
  CHECK(list[0]["since_previous"]["new_failures"] == 3);
  CHECK(list[0]["since_previous"]["fixed"] == 1);
  CHECK(list[1]["since_previous"].is_null());
  const auto table = run_rdnsctl({"report", "history", "--db", db});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("PASS%") != std::string::npos);
  CHECK(table.out.find("44.4") != std::string::npos);
}

TEST_CASE("rdnsctl report refuses bad input with exit 2 and changes nothing", "[reports]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const std::string db = runs.path.string();
  const std::string before = rdns::test::read_file(runs.path);

  SECTION("unknown run") {
    const auto result = run_rdnsctl({"report", "--db", db, "--run", "7", "--format", "csv"});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("no run 7 in " + db) != std::string::npos);
    CHECK(result.out.empty());
    const auto diff = run_rdnsctl({"report", "diff", "1", "9", "--db", db});
    CHECK(diff.exit_code == 2);
    CHECK(diff.err.find("no run 9") != std::string::npos);
    CHECK(run_rdnsctl({"report", "--db", db, "--run", "x1"}).exit_code == 2);
  }
  SECTION("missing database") {
    const auto missing = (dir.path() / "none.db").string();
    const auto result = run_rdnsctl({"report", "--db", missing, "--format", "csv"});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(missing) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(missing));
    CHECK(run_rdnsctl({"report", "history", "--db", missing}).exit_code == 2);
  }
  SECTION("unwritable output path") {
    const auto target = dir.path() / "no-such-dir" / "report.csv";
    const auto result =
        run_rdnsctl({"report", "--db", db, "--format", "csv", "-o", target.string()});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(target.string()) != std::string::npos);
    const auto directory = run_rdnsctl({"report", "--db", db, "-o", dir.path().string()});
    CHECK(directory.exit_code == 2);
    CHECK(directory.err.find("is a directory") != std::string::npos);
  }
  SECTION("a failed report leaves an existing file as it was") {
    const auto target = dir.path() / "report.csv";
    std::ofstream(target) << "previous report\n";
    const auto result = run_rdnsctl(
        {"report", "--db", db, "--run", "99", "--format", "csv", "-o", target.string()});
    CHECK(result.exit_code == 2);
    CHECK(rdns::test::read_file(target) == "previous report\n");
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                        std::filesystem::directory_iterator()) >= 2);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
    }
  }
  SECTION("bad format") {
    CHECK(run_rdnsctl({"report", "--db", db, "--format", "pdf"}).exit_code == 2);
    CHECK(run_rdnsctl({"report", "diff", "1", "--db", db}).exit_code == 2);
  }
  CHECK(rdns::test::read_file(runs.path) == before);
}
