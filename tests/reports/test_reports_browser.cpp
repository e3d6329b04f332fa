// The HTML report in a real headless Chromium (Debian's chromium, driven by
// tests/browser/check_report.js through puppeteer-core): rows, sorting,
// filtering, hostile names shown as text with nothing run, no request made.
// scripts/test.sh installs Chromium and the driver; a missing one fails here.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "report_fixture.hpp"
#include "test_paths.hpp"

using rdns::Severity;
using rdns::Status;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

const std::filesystem::path kDriver =
    std::filesystem::path(rdns::test::source_dir()) / "tests" / "browser" / "check_report.js";

/// Test artefacts (screenshots) stay in the build tree, out of git.
std::filesystem::path artefact(const std::string& name) {
  const auto dir = std::filesystem::path(rdns::test::build_dir()) / "test-artifacts";
  std::filesystem::create_directories(dir);
  return dir / name;
}

nlohmann::json check_in_chromium(const std::filesystem::path& report,
                                 std::vector<std::string> extra) {
  REQUIRE(std::filesystem::exists(kDriver.parent_path() / "node_modules" / "puppeteer-core"));
  std::vector<std::string> argv = {"node", kDriver.string(), report.string()};
  for (auto& arg : extra) argv.push_back(std::move(arg));
  const auto result = rdns::test::run_command(argv);
  INFO("stdout: " << result.out << "\nstderr: " << result.err);
  REQUIRE_FALSE(result.out.empty());
  const auto json = nlohmann::json::parse(result.out);
  CHECK(result.exit_code == (json.value("ok", false) ? 0 : 1));
  return json;
}

}  // namespace

TEST_CASE("the HTML report runs in headless Chromium and keeps hostile names inert",
          "[reports][browser]") {
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const auto report = dir.path() / "report.html";
  const auto generated = run_rdnsctl(
      {"report", "--db", runs.path.string(), "--format", "html", "-o", report.string()});
  INFO(generated.err);
  REQUIRE(generated.exit_code == 0);

  const auto screenshot = artefact("report-fixture.png");
  std::filesystem::remove(screenshot);
  const auto json = check_in_chromium(
      report,
      {"--rows", "9", "--hostile", rdns::test::kEscapedImgPtr, "--hostile", rdns::test::kRawImgPtr,
       "--hostile", rdns::test::kScriptPtr, "--hostile", rdns::test::kQuotesPtr, "--hostile",
       rdns::test::kFormulaPtr, "--recent", "192.0.2.12=f p", "--recent", "192.0.2.23=n f",
       "--screenshot", screenshot.string()});
  INFO(json.dump(2));
  CHECK(json["ok"] == true);
  CHECK(json["failures"].empty());
  CHECK(json["rows"] == 9);
  CHECK(json["blocked_requests"].empty());
  CHECK(json["dialogs"].empty());
  CHECK(json["payload_calls"].empty());
  CHECK(json["violations"].empty());
  CHECK(json["page_errors"].empty());
  REQUIRE(std::filesystem::exists(screenshot));
  CHECK(rdns::test::read_file(screenshot).substr(1, 3) == "PNG");
}

TEST_CASE("a report of a real audit of the sample zones renders the <img> PTR as text",
          "[reports][browser][lab]") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto audit = run_rdnsctl({"audit", "--resolver", rdns::lab::shared_lab().resolver_address(),
                                  "--timeout", "0.4", "--retries", "1", "--db", db, "192.0.2.10",
                                  "192.0.2.16", "192.0.2.23", "192.0.2.31", "2001:db8::25"});
  INFO(audit.err);
  REQUIRE(audit.exit_code == 1);
  const auto report = dir.path() / "audit.html";
  REQUIRE(run_rdnsctl({"report", "--db", db, "-o", report.string()}).exit_code == 0);
  const auto pdf = artefact("report-sample-audit.pdf");
  std::filesystem::remove(pdf);
  const auto json = check_in_chromium(
      report, {"--rows", "5", "--hostile", "<img\\032src=x\\032onerror=alert\\(1\\)>.example.com",
               "--hostile", "\\027[31mred.example.com", "--max-pages", "4", "--pdf", pdf.string(),
               "--screenshot", artefact("report-sample-audit.png").string()});
  INFO(json.dump(2));
  CHECK(json["ok"] == true);
  // On paper: the failing addresses with their findings and how to fix them;
  // the passing one only counted.
  const auto text = rdns::test::run_command({"pdftotext", "-layout", pdf.string(), "-"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("192.0.2.31") && Catch::Contains("INVALID_PTR_NAME") &&
                           Catch::Contains("192.0.2.16") && Catch::Contains("FORWARD_MISMATCH") &&
                           Catch::Contains("How to fix") &&
                           Catch::Contains("Passing addresses are counted above"));
}

TEST_CASE("the browser check fails a report that runs a payload or makes a request",
          "[reports][browser]") {
  // A control for the check itself: the same report with markup injected
  // the way a missing escape would inject it.
  TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const auto report = dir.path() / "report.html";
  REQUIRE(run_rdnsctl({"report", "--db", runs.path.string(), "-o", report.string()}).exit_code ==
          0);
  std::string html = rdns::test::read_file(report);
  // Into the no-script list, which the script hides but the browser still parses.
  const std::string cell = "<td class=\"ip\">192.0.2.16</td>";
  REQUIRE(html.find(cell) != std::string::npos);
  html.replace(html.find(cell), cell.size(),
               "<td class=\"ip\">192.0.2.16<img src=x onerror=alert(1)>"
               "<img src=\"http://127.0.0.1:9/pixel.png\"></td>");
  std::ofstream(report, std::ios::binary | std::ios::trunc) << html;
  // And a wrong expectation of the recent states is caught too.
  const auto json = check_in_chromium(report, {"--rows", "9", "--recent", "192.0.2.12=p p"});
  INFO(json.dump(2));
  CHECK(json["ok"] == false);
  CHECK_THAT(json["failures"].dump(),
             Catch::Contains("recent states of 192.0.2.12 are \\\"f p\\\""));
  CHECK_FALSE(json["blocked_requests"].empty());  // with the CSP bypassed, the image is requested
  CHECK_FALSE(json["payload_calls"].empty());
  CHECK_FALSE(json["violations"].empty());  // and with it, the CSP blocks both
}

TEST_CASE("a report of many addresses scrolls through all of them with few rows in the page",
          "[reports][browser]") {
  TempDir dir;
  const auto path = dir.path() / "runs.db";
  {
    auto database = rdns::db::Database::open(path);
    std::vector<rdns::db::ResultRecord> records;
    for (int i = 0; i < 1200; ++i) {
      // Built with append(), not "literal" + std::string: at -O3 GCC 12 warns
      // falsely (-Wrestrict) inside the libstdc++ replace() that operator+ uses.
      std::string ip = "198.51.";
      ip.append(std::to_string(100 + i / 256)).append(".").append(std::to_string(i % 256));
      if (i % 3 == 0) {
        records.push_back(
            rdns::test::record(ip, Status::fail, {}, {{"NO_PTR", Severity::error, "NXDOMAIN"}}));
      } else {
        std::string name = "m";
        name.append(std::to_string(i)).append(".example.com");
        records.push_back(rdns::test::record(ip, Status::pass, {name}));
      }
    }
    rdns::test::store_run(database, records);
  }
  const auto report = dir.path() / "report.html";
  REQUIRE(run_rdnsctl({"report", "--db", path.string(), "-o", report.string()}).exit_code == 0);
  // check_report.js scrolls through the whole list and checks that no more
  // than a screenful and a margin of rows were ever in the page. 400 failing addresses: about a
  // page per 40 on paper, the 800 passing only counted.
  const auto json = check_in_chromium(report, {"--rows", "1200", "--max-pages", "15"});
  INFO(json.dump(2));
  CHECK(json["ok"] == true);
}

TEST_CASE("a PTR that would close the data island shows as text and runs nothing",
          "[reports][browser]") {
  TempDir dir;
  const auto path = dir.path() / "runs.db";
  {
    auto database = rdns::db::Database::open(path);
    rdns::test::store_run(
        database,
        {rdns::test::record("192.0.2.70", Status::pass,
                            {"</script><img src=x onerror=alert(4)>\xe2\x80\xa8.example.com"}),
         rdns::test::record("192.0.2.71", Status::fail, {"<!--<script>alert(5)</script>"},
                            {{"INVALID_PTR_NAME", Severity::error, "</script><script>alert(6)"}})});
  }
  const auto report = dir.path() / "report.html";
  REQUIRE(run_rdnsctl({"report", "--db", path.string(), "-o", report.string()}).exit_code == 0);
  const auto json = check_in_chromium(
      report, {"--rows", "2", "--hostile",
               "</script><img src=x onerror=alert(4)>\\226\\128\\168.example.com", "--hostile",
               "<!--<script>alert(5)</script>", "--hostile", "</script><script>alert(6)"});
  INFO(json.dump(2));
  CHECK(json["ok"] == true);
  CHECK(json["payload_calls"].empty());
  CHECK(json["page_errors"].empty());
}
