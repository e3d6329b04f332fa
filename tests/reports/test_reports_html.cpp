// write_html_report: the markup itself, checked as text. The browser tests
// (tests/browser/check_report.js) check how Chromium runs it.

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <db/database.hpp>
#include <reports/report.hpp>
#include <util/error.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "report_fixture.hpp"

namespace {

std::string render(const std::filesystem::path& path, std::int64_t run,
                   rdns::reports::PassingRows passing = rdns::reports::PassingRows::automatic) {
  auto database = rdns::db::Database::open(path);
  std::ostringstream out;
  rdns::reports::write_html_report(database, run, {12, passing}, out);
  return out.str();
}

/// The fixture's newer run, compared with the older.
std::string fixture_html(const std::filesystem::path& dir) {
  const auto runs = rdns::test::make_two_runs(dir / "runs.db");
  return render(runs.path, runs.newer);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// The address table's data island, parsed.
nlohmann::json island_of(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const auto start = html.find(open);
  REQUIRE(start != std::string::npos);
  const auto end = html.find("</script>", start);
  REQUIRE(end != std::string::npos);
  return nlohmann::json::parse(html.substr(start + open.size(), end - start - open.size()));
}

/// The island's row of ip; null when it has none.
nlohmann::json row_of(const nlohmann::json& island, const std::string& ip) {
  for (const auto& row : island["rows"]) {
    if (row[0] == ip) return row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("write_html_report escapes everything that came from DNS", "[reports]") {
  rdns::test::TempDir dir;
  const std::string html = fixture_html(dir.path());

  // Markup in PTR names and details is text: only its escaped form appears,
  // in the no-script list as HTML entities...
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;.example.com") != std::string::npos);
  CHECK(html.find("&lt;img\\032src=x\\032onerror=alert\\(1\\)&gt;.example.com") !=
        std::string::npos);
  CHECK(html.find("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;") != std::string::npos);
  // ...and in the data island as JSON escapes, with no '<', '>' or '&' raw.
  CHECK(html.find("\"a\\\"b'c\\u0026amp;d\\u003c!--.example.org\"") != std::string::npos);
  CHECK(html.find("\\u003c/script\\u003e\\u003cscript\\u003ealert(2)") != std::string::npos);
  CHECK(html.find("<!--") == std::string::npos);
  const auto island = island_of(html);
  const auto row = row_of(island, "192.0.2.40");
  REQUIRE(row.is_array());
  CHECK(row[4] == nlohmann::json({rdns::test::kRawImgPtr, rdns::test::kScriptPtr}));
  CHECK(row[5][0][0] == rdns::test::kQuotesPtr);
  CHECK(row[5][0][1] == 0);  // the row's own address
  // Two script elements: the data island and the report's own script; every
  // tag is one the template writes.
  CHECK(occurrences(html, "<script") == 2);
  CHECK(occurrences(html, "</script") == 2);
  const std::set<std::string> allowed = {
      "!DOCTYPE", "html",       "head",   "meta",    "title", "style", "body",   "header",
      "h1",       "h2",         "h3",     "span",    "dl",    "dt",    "dd",     "p",
      "main",     "section",    "div",    "figure",  "svg",   "g",     "text",   "rect",
      "line",     "figcaption", "table",  "caption", "thead", "tbody", "tr",     "th",
      "td",       "a",          "strong", "code",    "label", "input", "select", "option",
      "article",  "footer",     "script", "i",       "ol",    "li"};
  const std::regex tag("<\\/?([!A-Za-z][A-Za-z0-9]*)");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator();
       ++it) {
    INFO((*it)[0].str());
    CHECK(allowed.count((*it)[1].str()) == 1);
  }
  // Printable ASCII and newlines only: a control byte from a foreign writer is escaped.
  CHECK(std::all_of(html.begin(), html.end(),
                    [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\n'; }));
  CHECK(html.find("\\027[31mred\\195\\169") != std::string::npos);
}

TEST_CASE("the data island cannot be closed or bent by a PTR name", "[reports]") {
  using rdns::Status;
  rdns::test::TempDir dir;
  auto database = rdns::db::Database::open(dir.path() / "runs.db");
  // A raw U+2028 and U+2029 (a foreign writer's bytes) and markup that
  // would end the script element or open a comment.
  const std::string hostile = "</script><img src=x onerror=alert(3)>\xe2\x80\xa8\xe2\x80\xa9<!--";
  const auto run = rdns::test::store_run(
      database, {rdns::test::record("192.0.2.7", Status::pass, {hostile, "</SCRIPT >"}),
                 rdns::test::record("192.0.2.8", Status::warn, {"x&y"})});
  const std::string html = render(dir.path() / "runs.db", run);
  CHECK(occurrences(html, "</script") == 2);
  CHECK(html.find("</SCRIPT") == std::string::npos);
  CHECK(html.find("\xe2") == std::string::npos);
  const auto row = row_of(island_of(html), "192.0.2.7");
  REQUIRE(row.is_array());
  // Shown as the stored text escapes it: the bytes as \DDD, the markup as text.
  CHECK(row[4][0] == "</script><img src=x onerror=alert(3)>\\226\\128\\168\\226\\128\\169<!--");
  CHECK(row[4][1] == "</SCRIPT >");
  CHECK(row_of(island_of(html), "192.0.2.8")[4][0] == "x&y");
}

TEST_CASE("write_html_report is self-contained behind a strict Content-Security-Policy",
          "[reports]") {
  rdns::test::TempDir dir;
  const std::string html = fixture_html(dir.path());
  const std::regex csp(
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &apos;none&apos;; "
      "style-src &apos;sha256-[A-Za-z0-9+/]{43}=&apos;; script-src "
      "&apos;sha256-[A-Za-z0-9+/]{43}=&apos;;");
  CHECK(std::regex_search(html, csp));
  CHECK(html.find("unsafe-inline") == std::string::npos);
  // No attribute that would load anything: no src, no external href, no url().
  CHECK_FALSE(std::regex_search(html, std::regex("<[^>]*\\ssrc=")));
  CHECK(html.find("url(") == std::string::npos);
  const std::regex href("href=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), href); it != std::sregex_iterator();
       ++it) {
    CHECK((*it)[1].str().rfind("#code-", 0) == 0);
  }
}

TEST_CASE("write_html_report shows summary, changes, table and fixes", "[reports]") {
  rdns::test::TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  std::string html = render(runs.path, runs.newer);
  CHECK(html.find("<span class=\"big\" id=\"total-count\">9</span>") != std::string::npos);
  CHECK(html.find("<span class=\"big\" id=\"pass-rate\">44.4%</span>") != std::string::npos);
  CHECK(html.find("id=\"status-chart\"") != std::string::npos);
  CHECK(html.find("id=\"trend-chart\"") != std::string::npos);
  CHECK(html.find("id=\"by-family\"") != std::string::npos);
  CHECK(html.find("id=\"by-domain\"") == std::string::npos);  // no source domains yet
  CHECK(html.find("<h3 id=\"newly-failing\">Newly failing <span class=\"muted\">(3)</span>") !=
        std::string::npos);
  CHECK(html.find("<h3 id=\"fixed\">Recovered <span class=\"muted\">(1)</span>") !=
        std::string::npos);
  // Each address in one class: 192.0.2.12's PTR changed too, but it recovered.
  CHECK(html.find("<h3 id=\"ptr-changed\">PTR changed <span class=\"muted\">(1)</span>") !=
        std::string::npos);
  // The listed changes carry the previous run's record: status and PTR before.
  CHECK(html.find("<td class=\"ip\">192.0.2.50</td><td><span class=\"st st-pass\">pass</span> "
                  "&rarr; <span class=\"st st--\">-</span></td><td "
                  "class=\"names\"><div>gone.example.com</div></td>") != std::string::npos);
  CHECK(html.find("<td class=\"ip\">192.0.2.16</td><td><span class=\"st st-pass\">pass</span> "
                  "&rarr; <span class=\"st st-fail\">fail</span></td>") != std::string::npos);
  // Every address in the island, in address order; the not passing ones in
  // the no-script list too, failures first.
  const auto island = island_of(html);
  REQUIRE(island["rows"].size() == 9);
  CHECK(island["rows"][0][0] == "192.0.2.10");
  CHECK(island["rows"][8][0] == "2001:db8::25");
  CHECK(island["passing_listed"] == true);
  CHECK(occurrences(html, "<tr data-status=") == 5);
  CHECK(html.find("<tr data-status=\"fail\"><td class=\"ip\">192.0.2.16</td>") <
        html.find("<tr data-status=\"warn\">"));
  CHECK(html.find("id=\"passing-counted\"") == std::string::npos);
  // By network: the /24 and the /64.
  CHECK(html.find("<td class=\"ip\">192.0.2.0/24</td><td class=\"num\">8</td>") !=
        std::string::npos);
  CHECK(html.find("<td class=\"ip\">2001:db8::/64</td><td class=\"num\">1</td>") !=
        std::string::npos);
  for (const char* code :
       {"FORWARD_MISMATCH", "INVALID_PTR_NAME", "MULTIPLE_PTR", "GENERIC_PTR", "TEMPFAIL"}) {
    INFO(code);
    CHECK(html.find(std::string("<article class=\"code\" id=\"code-") + code + "\">") !=
          std::string::npos);
  }
  CHECK(html.find("How to fix:") != std::string::npos);

  {
    auto database = rdns::db::Database::open(runs.path);
    auto records = rdns::test::newer_run();
    records[0].sources = {{"example.com", "MX mail.example.com", "mail.example.com"}};
    const auto with_domain = rdns::test::store_run(database, records);
    html = render(runs.path, with_domain);
  }
  CHECK(html.find("id=\"by-domain\"") != std::string::npos);

  // The first run has nothing to compare with and no trend yet.
  html = render(runs.path, runs.older);
  CHECK(html.find("This is the first run") != std::string::npos);
  CHECK(html.find("id=\"trend-chart\"") == std::string::npos);
}

TEST_CASE("load_report skips runs in progress and keeps the requested history", "[reports]") {
  rdns::test::TempDir dir;
  auto database = rdns::db::Database::open(dir.path() / "runs.db");
  using rdns::test::store_run;
  const auto first = store_run(database, rdns::test::older_run());
  store_run(database, rdns::test::older_run(), rdns::db::RunState::running);
  const auto third = store_run(database, rdns::test::newer_run(), rdns::db::RunState::interrupted);
  const auto fourth = store_run(database, rdns::test::newer_run());
  auto data = rdns::reports::load_report(database, fourth, 12);
  // Compared only with a complete run: the interrupted third is in the
  // trend, but a partial run is no baseline.
  REQUIRE(data.previous.has_value());
  CHECK(data.previous->id == first);
  CHECK(data.history.size() == 3);
  CHECK(data.history.front().id == first);
  CHECK(data.history.back().id == fourth);
  data = rdns::reports::load_report(database, fourth, 2);
  CHECK(data.history.size() == 2);
  CHECK(data.history.front().id == third);
  CHECK_THROWS_AS(rdns::reports::load_report(database, 42, 12), rdns::Error);
}

namespace {

/// The state letters of ip's recent-states cells, oldest first.
std::string recent_cells_of(const std::string& html, const std::string& ip) {
  const auto row = row_of(island_of(html), ip);
  REQUIRE(row.is_array());
  return row[3].get<std::string>();
}

}  // namespace

TEST_CASE("write_html_report shows each address's states in the last ten runs", "[reports]") {
  rdns::test::TempDir dir;
  auto database = rdns::db::Database::open(dir.path() / "runs.db");
  using rdns::test::store_run;
  // Runs 1-10 alternate the older and newer fixture runs; run 11 is still
  // running (no settled state, so not shown); run 12 is the newer again.
  for (int i = 1; i <= 10; ++i) {
    store_run(database, i % 2 == 1 ? rdns::test::older_run() : rdns::test::newer_run());
  }
  store_run(database, rdns::test::older_run(), rdns::db::RunState::running);
  const auto reported = store_run(database, rdns::test::newer_run());
  const auto data = rdns::reports::load_report(database, reported, 12);
  std::vector<std::int64_t> ids;
  for (const auto& run : data.recent_runs) ids.push_back(run.id);
  CHECK(ids == std::vector<std::int64_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 12});
  const std::string html = render(dir.path() / "runs.db", reported);

  // 192.0.2.12 fails in the older runs and passes in the newer ones;
  // 192.0.2.23 and .60 are audited by the newer runs only; 192.0.2.18
  // warns in the older runs.
  CHECK(recent_cells_of(html, "192.0.2.12") == "pfpfpfpfpp");
  CHECK(recent_cells_of(html, "192.0.2.23") == "fnfnfnfnff");
  CHECK(recent_cells_of(html, "192.0.2.18") == "pwpwpwpwpp");
  CHECK(recent_cells_of(html, "192.0.2.60") == "ununununuu");
  CHECK(island_of(html)["rows"].size() == 9);
  // The runs the cells stand for, named once: for the script's tooltips
  // and in the column header's.
  const std::regex list("<ol id=\"recent-runs\" hidden>((<li>run [0-9]+, [0-9T:Z-]+</li>)*)</ol>");
  std::smatch items;
  REQUIRE(std::regex_search(html, items, list));
  const std::string listed = std::regex_replace(items[1].str(), std::regex(", [0-9T:Z-]+"), "");
  CHECK(listed ==
        "<li>run 2</li><li>run 3</li><li>run 4</li><li>run 5</li><li>run 6</li><li>run 7</li>"
        "<li>run 8</li><li>run 9</li><li>run 10</li><li>run 12</li>");
  CHECK(std::regex_search(html, std::regex("title=\"[^\"]*oldest left: #2 \\([^)]*\\) #3 ")));
  CHECK(html.find("run 11") == std::string::npos);

  // The first run of its identity shows itself alone.
  const std::string first = render(dir.path() / "runs.db", 1);
  CHECK(recent_cells_of(first, "192.0.2.12") == "f");
}

TEST_CASE("the report shows domain health and blocklist listings, escaped", "[reports]") {
  using rdns::Severity;
  using rdns::Status;
  rdns::test::TempDir dir;
  auto database = rdns::db::Database::open(dir.path() / "runs.db");
  const std::vector<rdns::db::ResultRecord> records = {
      rdns::test::record(
          "192.0.2.11", Status::fail, {"mail.example.com"},
          {{"DNSBL_LISTED", Severity::error, "zen.example: 127.0.0.4 XBL (\"<b>botnet</b>\")"}}),
      rdns::test::record(
          "192.0.2.13", Status::unknown, {"mail.example.com"},
          {{"DNSBL_ERROR", Severity::warning, "zen.example: 127.255.255.254: public resolver"}}),
      rdns::test::record("192.0.2.10", Status::pass, {"mail.example.com"})};
  // Domain findings are stored while the run is still running, as the audit does.
  const std::int64_t run = rdns::test::store_run(database, records, rdns::db::RunState::running);
  const std::vector<rdns::db::DomainFindingRecord> domain_findings = {
      {"ok.example", "SPF_NONE", Severity::info, "no SPF record"},
      {"bad.example", "SPF_PERMERROR", Severity::error, "malformed term <script>x</script>"}};
  database.add_domain_findings(run, domain_findings);
  database.finish_run(run, rdns::db::RunState::complete, rdns::test::counts_of(records));

  const auto data = rdns::reports::load_report(database, run, 12);
  const std::string html = render(dir.path() / "runs.db", run);
  REQUIRE(html.find("id=\"domain-health\"") != std::string::npos);
  // Worst domain first, its status and fix, the data escaped.
  const auto bad = html.find("<td>bad.example</td>");
  const auto ok = html.find("<td>ok.example</td>");
  REQUIRE(bad != std::string::npos);
  REQUIRE(ok != std::string::npos);
  CHECK(bad < ok);
  CHECK(html.find("malformed term &lt;script&gt;x&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("<script>x</script>") == std::string::npos);
  CHECK(html.find("id=\"code-SPF_PERMERROR\"") != std::string::npos);  // its explanation

  REQUIRE(html.find("id=\"blocklists\"") != std::string::npos);
  CHECK(html.find("<tr><td>zen.example</td><td class=\"num\">1</td></tr>") != std::string::npos);
  const auto listed = html.find(
      "<td class=\"ip\">192.0.2.11</td><td><a class=\"sev-error\" "
      "href=\"#code-DNSBL_LISTED\">DNSBL_LISTED</a>");
  const auto error = html.find("<td class=\"ip\">192.0.2.13</td>");
  CHECK(listed != std::string::npos);
  CHECK(error != std::string::npos);
  CHECK(html.find("&lt;b&gt;botnet&lt;/b&gt;") != std::string::npos);

  // The CSV: the domains' rows first, without an address.
  std::ostringstream csv;
  rdns::reports::write_csv_report(data, csv);
  CHECK_THAT(csv.str(),
             Catch::Contains(",,,,,,,SPF_PERMERROR,error,malformed term <script>x</script>,") &&
                 Catch::Contains(",bad.example\r\n"));

  // Without either, neither section.
  rdns::test::TempDir plain_dir;
  const std::string plain = fixture_html(plain_dir.path());
  CHECK(plain.find("id=\"domain-health\"") == std::string::npos);
  CHECK(plain.find("id=\"blocklists\"") == std::string::npos);
}

TEST_CASE("a report can count passing addresses instead of listing them", "[reports]") {
  rdns::test::TempDir dir;
  const auto runs = rdns::test::make_two_runs(dir.path() / "runs.db");
  const std::string html = render(runs.path, runs.newer, rdns::reports::PassingRows::counted);
  const auto island = island_of(html);
  CHECK(island["passing_listed"] == false);
  // The five that do not pass, none of the four passing ones.
  REQUIRE(island["rows"].size() == 5);
  for (const auto& row : island["rows"]) CHECK(row[1] != 3);
  CHECK(html.find("id=\"passing-counted\"") != std::string::npos);
  CHECK(html.find("The 4 passing addresses are counted above") != std::string::npos);
  // Still counted everywhere above the table.
  CHECK(html.find("<span class=\"big\" id=\"total-count\">9</span>") != std::string::npos);
  CHECK(html.find("<td class=\"ip\">192.0.2.0/24</td><td class=\"num\">8</td><td "
                  "class=\"num\">3</td>") != std::string::npos);
  // The threshold of the default: a run this small lists them.
  CHECK(rdns::reports::lists_passing(rdns::reports::PassingRows::automatic, 250000));
  CHECK_FALSE(rdns::reports::lists_passing(rdns::reports::PassingRows::automatic, 250001));
  CHECK(rdns::reports::lists_passing(rdns::reports::PassingRows::listed, 1048576));
  CHECK_FALSE(rdns::reports::lists_passing(rdns::reports::PassingRows::counted, 1));
}

TEST_CASE("the no-script list stops at a thousand addresses and points to the CSV", "[reports]") {
  using rdns::Severity;
  using rdns::Status;
  rdns::test::TempDir dir;
  auto database = rdns::db::Database::open(dir.path() / "runs.db");
  std::vector<rdns::db::ResultRecord> records;
  for (int i = 0; i < 1010; ++i) {
    std::string ip = "198.51.";
    ip.append(std::to_string(100 + i / 256)).append(".").append(std::to_string(i % 256));
    // The warnings come first in address order, the failures still lead the list.
    records.push_back(i < 20 ? rdns::test::record(ip, Status::warn, {"a.example"},
                                                  {{"GENERIC_PTR", Severity::warning, "x"}})
                             : rdns::test::record(ip, Status::fail, {},
                                                  {{"NO_PTR", Severity::error, "NXDOMAIN"}}));
  }
  const auto run = rdns::test::store_run(database, records);
  const std::string html = render(dir.path() / "runs.db", run);
  CHECK(occurrences(html, "<tr data-status=\"fail\">") == 990);
  CHECK(occurrences(html, "<tr data-status=\"warn\">") == 10);
  CHECK(html.find("10 more addresses that do not pass are not listed here: <code>rdnsctl report "
                  "--format csv</code> lists them all.") != std::string::npos);
  CHECK(island_of(html)["rows"].size() == 1010);
}
