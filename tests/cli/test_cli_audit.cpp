// rdnsctl audit and rdnsctl runs, run as a user would, against the loopback lab.

#include <algorithm>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>

#include "../audit/mta_sts_server.hpp"
#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

std::vector<std::string> lab_flags() {
  return {"--resolver", rdns::lab::shared_lab().resolver_address(), "--timeout", "0.4", "--retries",
          "1"};
}

std::vector<std::string> audit_args(std::vector<std::string> extra) {
  std::vector<std::string> args = {"audit"};
  for (auto& flag : lab_flags()) args.push_back(flag);
  for (auto& e : extra) args.push_back(e);
  return args;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("rdnsctl audit --format jsonl follows the documented contract") {
  TempDir dir;
  const auto result =
      run_rdnsctl(audit_args({"--format", "jsonl", "--db", (dir.path() / "runs.db").string(),
                              "192.0.2.10", "192.0.2.16", "192.0.2.28", "2001:db8::25"}));
  INFO(result.err);
  CHECK(result.exit_code == 1);  // FORWARD_MISMATCH is an error
  const auto lines = json_lines(result.out);
  REQUIRE(lines.size() == 4);
  std::map<std::string, nlohmann::json> by_ip;
  for (const auto& line : lines) {
    for (const char* key : {"ip", "family", "status", "ptr", "forward", "findings"}) {
      CHECK(line.contains(key));
    }
    by_ip[line["ip"]] = line;
  }
  CHECK(by_ip["192.0.2.10"]["status"] == "pass");
  CHECK(by_ip["192.0.2.10"]["ptr"] == nlohmann::json::array({"mail.example.com"}));
  CHECK(by_ip["192.0.2.10"]["forward"][0]["name"] == "mail.example.com");
  CHECK(by_ip["192.0.2.10"]["forward"][0]["addresses"] == nlohmann::json::array({"192.0.2.10"}));
  CHECK(by_ip["192.0.2.16"]["status"] == "fail");
  CHECK(by_ip["192.0.2.16"]["findings"][0]["code"] == "FORWARD_MISMATCH");
  CHECK(by_ip["192.0.2.16"]["findings"][0]["severity"] == "error");
  CHECK(by_ip["192.0.2.28"]["status"] == "unknown");
  CHECK(by_ip["192.0.2.28"]["findings"][0]["code"] == "TEMPFAIL");
  CHECK(by_ip["2001:db8::25"]["family"] == "ipv6");
}

TEST_CASE("rdnsctl audit exit codes follow --fail-on") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  CHECK(run_rdnsctl(audit_args({"--db", db, "192.0.2.10"})).exit_code == 0);
  CHECK(run_rdnsctl(audit_args({"--db", db, "192.0.2.12"})).exit_code == 1);
  CHECK(run_rdnsctl(audit_args({"--db", db, "--fail-on", "never", "192.0.2.12"})).exit_code == 0);
  CHECK(run_rdnsctl(audit_args({"--db", db, "192.0.2.19"})).exit_code == 0);
  CHECK(run_rdnsctl(audit_args({"--db", db, "--fail-on", "warning", "192.0.2.19"})).exit_code == 1);
  CHECK(run_rdnsctl(audit_args({"--db", db, "--fail-on", "info", "192.0.2.27"})).exit_code == 1);
  CHECK(run_rdnsctl(audit_args({"--db", db, "--fail-on", "bogus", "192.0.2.10"})).exit_code == 2);
  CHECK(run_rdnsctl({"audit", "--db", db}).exit_code == 2);
  CHECK(run_rdnsctl({"frobnicate"}).exit_code == 2);
}

TEST_CASE("rdnsctl audit exits 3 when no resolver answers at all") {
  TempDir dir;
  // A port that was free a moment ago: nothing answers there.
  const auto result = run_rdnsctl({"audit", "--no-db", "--resolver", "127.0.0.1:9", "--timeout",
                                   "0.2", "--retries", "0", "192.0.2.10"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("no resolver answered"));
  CHECK_THAT(result.out, Catch::Contains("TEMPFAIL"));
}

TEST_CASE("rdnsctl audit takes one value per --resolver and -i, leaving targets alone") {
  TempDir dir;
  const auto file = dir.path() / "ips.txt";
  std::ofstream(file) << "192.0.2.11\n";
  const auto result = run_rdnsctl({"audit", "--no-db", "--format", "jsonl", "--resolver",
                                   rdns::lab::shared_lab().resolver_address(), "192.0.2.10", "-i",
                                   file.string(), "198.51.100.10"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(json_lines(result.out).size() == 3);
}

TEST_CASE("rdnsctl audit reads files and stdin and names the bad line") {
  TempDir dir;
  const auto file = dir.path() / "ips.txt";
  std::ofstream(file) << "# mail servers\n192.0.2.10\n\n192.0.2.999\n";
  auto result = run_rdnsctl(audit_args({"--no-db", "-i", file.string()}));
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains(file.string() + ":4: '192.0.2.999'"));
  CHECK(result.out.empty());

  result = run_rdnsctl(
      audit_args({"--no-db", "--skip-invalid", "--format", "jsonl", "-i", file.string()}));
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("skipped"));
  CHECK(json_lines(result.out).size() == 1);

  result = run_rdnsctl(audit_args({"--no-db", "--format", "jsonl", "-"}),
                       "192.0.2.10\n192.0.2.10\n192.0.2.11 # again\n");
  CHECK(result.exit_code == 0);
  CHECK(json_lines(result.out).size() == 2);

  result = run_rdnsctl(audit_args({"--no-db", "-i", (dir.path() / "missing.txt").string()}));
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("missing.txt: cannot open input file"));

  result = run_rdnsctl(audit_args({"--no-db", "192.0.2.0/33"}));
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("'192.0.2.0/33'"));

  result = run_rdnsctl(audit_args({"--no-db", "10.0.0.0/8"}));
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("--max-ips"));

  result = run_rdnsctl(audit_args({"--no-db", "--max-ips", "4", "192.0.2.8/29"}));
  CHECK(result.exit_code == 2);
}

TEST_CASE("rdnsctl audit table escapes hostile DNS data and colours only when asked") {
  auto result = run_rdnsctl(audit_args({"--no-db", "192.0.2.23", "192.0.2.31", "192.0.2.10"}));
  CHECK(result.exit_code == 1);
  CHECK(result.out.find('\x1b') == std::string::npos);  // not a TTY: no colour, no raw ESC
  CHECK_THAT(result.out, Catch::Contains("\\027[31mred.example.com"));
  CHECK_THAT(result.out, Catch::Contains("<img\\032src=x\\032onerror=alert\\(1\\)>.example.com"));
  CHECK_THAT(result.out, Catch::Contains("3 addresses: 1 pass, 0 warn, 2 fail, 0 unknown"));

  result = run_rdnsctl(audit_args({"--no-db", "--color", "always", "192.0.2.10"}));
  CHECK_THAT(result.out, Catch::Contains("\x1b[32m"));
  result = run_rdnsctl(audit_args({"--no-db", "--color", "always", "192.0.2.31"}));
  // Colour codes are ours; the ESC byte from DNS is still escaped.
  CHECK_THAT(result.out, Catch::Contains("\\027[31mred"));
}

TEST_CASE("rdnsctl audit csv neutralises formulas and quotes per RFC 4180") {
  const auto result =
      run_rdnsctl(audit_args({"--no-db", "--format", "csv", "192.0.2.16", "192.0.2.29"}));
  std::istringstream in(result.out);
  std::string header;
  std::getline(in, header);
  CHECK(header == "ip,family,status,ptr,forward,code,severity,detail,sources\r");
  CHECK_THAT(result.out, Catch::Contains("192.0.2.29,ipv4,fail,'-dash.example.com,"));
  CHECK_THAT(result.out, Catch::Contains("FORWARD_MISMATCH,error,"));
}

TEST_CASE("rdnsctl stores runs and shows them again") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto audit = run_rdnsctl(
      audit_args({"--db", db, "--format", "json", "192.0.2.10", "192.0.2.12", "203.0.113.5"}));
  INFO(audit.err);
  REQUIRE(audit.exit_code == 1);
  const auto document = nlohmann::json::parse(audit.out);
  CHECK(document["summary"]["total"] == 3);
  CHECK(document["summary"]["unknown"] == 1);
  const auto run_id = document["run_id"].get<std::int64_t>();

  const auto list = run_rdnsctl({"runs", "list", "--db", db, "--format", "json"});
  REQUIRE(list.exit_code == 0);
  const auto runs = nlohmann::json::parse(list.out);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["id"] == run_id);
  CHECK(runs[0]["state"] == "complete");
  // The stored counts are the summary's, status by status.
  for (const char* status : {"total", "pass", "warn", "fail", "unknown"}) {
    CHECK(runs[0]["counts"][status] == document["summary"][status]);
  }
  CHECK(runs[0]["counts"]["fail"] == 1);
  CHECK(runs[0]["resolvers"] ==
        nlohmann::json::array({rdns::lab::shared_lab().resolver_address()}));

  const auto show = run_rdnsctl({"runs", "show", "--db", db, "latest", "--format", "json"});
  REQUIRE(show.exit_code == 0);
  CHECK(nlohmann::json::parse(show.out)["results"] == document["results"]);

  // The streamed JSONL objects are the JSON document's results, key for key.
  const auto lines = run_rdnsctl({"runs", "show", "--db", db, "latest", "--format", "jsonl"});
  const auto streamed = json_lines(lines.out);
  REQUIRE(streamed.size() == document["results"].size());
  for (std::size_t i = 0; i < streamed.size(); ++i) CHECK(streamed[i] == document["results"][i]);

  const auto table = run_rdnsctl({"runs", "show", "--db", db, std::to_string(run_id)});
  CHECK_THAT(table.out, Catch::Contains("LAME_REVERSE"));
  CHECK(run_rdnsctl({"runs", "show", "--db", db, "999"}).exit_code == 2);
  CHECK(run_rdnsctl({"runs", "show", "--db", db, "abc"}).exit_code == 2);
  CHECK(run_rdnsctl({"runs", "list", "--db", (dir.path() / "none.db").string()}).exit_code == 2);
}

TEST_CASE("results read back from the database print as those kept in memory") {
  // A stored run's table and JSON are read back from the database in address
  // order; with --no-db the printer keeps and sorts them. Both must match.
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const std::vector<std::string> targets = {"203.0.113.5", "192.0.2.12", "2001:db8::10",
                                            "192.0.2.10"};
  const auto audited = [&](std::vector<std::string> flags) {
    for (const auto& target : targets) flags.push_back(target);
    const auto result = run_rdnsctl(audit_args(flags));
    INFO(result.err);
    CHECK(result.exit_code == 1);
    return result.out;
  };
  const std::string stored_table = audited({"--db", db, "--color", "never"});
  const std::string kept_table = audited({"--no-db", "--color", "never"});
  CHECK(stored_table == kept_table);
  CHECK_THAT(stored_table, Catch::Contains("LAME_REVERSE"));

  const std::string stored_json = audited({"--db", db, "--format", "json"});
  const std::string kept_json = audited({"--no-db", "--format", "json"});
  auto stored = nlohmann::json::parse(stored_json);
  auto kept = nlohmann::json::parse(kept_json);
  // Written piece by piece, the document is byte for byte what dump(2) writes.
  CHECK(stored_json == stored.dump(2) + "\n");
  CHECK(kept_json == kept.dump(2) + "\n");
  CHECK(stored["run_id"].is_number());
  CHECK(kept["run_id"].is_null());
  CHECK(stored["results"].size() == targets.size());
  stored["run_id"] = nullptr;
  CHECK(stored == kept);

  const auto shown = run_rdnsctl({"runs", "show", "--db", db, "latest", "--format", "json"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out == nlohmann::json::parse(shown.out).dump(2) + "\n");
  CHECK(nlohmann::json::parse(shown.out)["results"] == kept["results"]);
}

TEST_CASE("rdnsctl refuses a foreign or corrupt database and leaves it unchanged") {
  TempDir dir;
  const auto foreign = dir.path() / "notes.db";
  std::ofstream(foreign, std::ios::binary) << "these are my notes, not a database\n";
  const std::string before = rdns::test::read_file(foreign);
  const auto result = run_rdnsctl(audit_args({"--db", foreign.string(), "192.0.2.10"}));
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains(foreign.string()));
  CHECK(result.out.empty());
  CHECK(rdns::test::read_file(foreign) == before);
  CHECK_FALSE(std::filesystem::exists(foreign.string() + "-wal"));
}

TEST_CASE("rdnsctl audit --domain shows each address's source and the expected PTR") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto result = run_rdnsctl(audit_args({"--db", db, "--format", "jsonl", "--domain",
                                              "good.spf.example", "--domain", "loop.spf.example"}));
  INFO(result.err);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("loop.spf.example: SPF_PERMERROR"));
  std::map<std::string, nlohmann::json> by_ip;
  std::vector<nlohmann::json> domain_lines;
  for (const auto& line : json_lines(result.out)) {
    if (line.contains("type")) {
      domain_lines.push_back(line);
    } else {
      by_ip[line["ip"]] = line;
    }
  }
  // The domain's findings are typed lines of their own; address lines have no type.
  const auto permerror =
      std::find_if(domain_lines.begin(), domain_lines.end(),
                   [](const nlohmann::json& line) { return line["code"] == "SPF_PERMERROR"; });
  REQUIRE(permerror != domain_lines.end());
  CHECK(domain_lines.size() == 7);  // and DMARC, MTA-STS, TLS-RPT of both domains
  const nlohmann::json& spf_line = *permerror;
  CHECK(spf_line["type"] == "domain");
  CHECK(spf_line["domain"] == "loop.spf.example");
  CHECK(spf_line["severity"] == "error");
  CHECK_THAT(spf_line["detail"].get<std::string>(), Catch::Contains("SPF loop through include"));
  REQUIRE(by_ip.count("192.0.2.12") == 1);
  const auto& missing = by_ip["192.0.2.12"];
  CHECK(missing["findings"][0]["code"] == "NO_PTR");
  CHECK_THAT(missing["findings"][0]["detail"].get<std::string>(),
             Catch::EndsWith("expected mx2.good.spf.example"));
  CHECK(missing["sources"][0] == nlohmann::json{{"domain", "good.spf.example"},
                                                {"via", "MX mx2.good.spf.example"},
                                                {"expected", "mx2.good.spf.example"}});

  const auto show = run_rdnsctl({"runs", "show", "--db", db, "latest", "--format", "json"});
  const auto document = nlohmann::json::parse(show.out);
  const auto& domain_findings = document["domain_findings"];
  CHECK(std::any_of(domain_findings.begin(), domain_findings.end(), [](const auto& finding) {
    return finding["code"] == "SPF_PERMERROR" && finding["domain"] == "loop.spf.example";
  }));
  bool found = false;
  for (const auto& r : document["results"]) {
    if (r["ip"] == "192.0.2.12") found = r["sources"] == missing["sources"];
  }
  CHECK(found);

  const auto csv =
      run_rdnsctl(audit_args({"--no-db", "--format", "csv", "--domain", "nomx.spf.example"}));
  CHECK_THAT(csv.out, Catch::Contains("nomx.spf.example implicit MX; nomx.spf.example SPF a"));

  const auto file = dir.path() / "domains.txt";
  std::ofstream(file) << "# our domains\ngood.spf.example\n\nbad domain\n";
  const auto bad = run_rdnsctl(audit_args({"--no-db", "--domains-file", file.string()}));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains(file.string() + ":4: 'bad domain'"));
}

TEST_CASE("rdnsctl audit --domain goes on when an SPF record authorises more than --max-ips") {
  const auto result = run_rdnsctl(audit_args(
      {"--no-db", "--format", "csv", "--max-ips", "5", "--domain", "broad.spf.example"}));
  INFO(result.err);
  CHECK(result.exit_code == 0);  // a warning and two remarks, no error
  CHECK_THAT(result.err, Catch::Contains("broad.spf.example: SPF_TOO_BROAD: SPF ip4:0.0.0.0/0"));
  CHECK_THAT(result.err, Catch::Contains("SENDERS_NOT_AUDITED: SPF ip4:192.0.2.16/28: the audit "
                                         "already holds as many addresses as --max-ips allows"));
  CHECK_THAT(result.out, Catch::Contains("192.0.2.10,ipv4,pass"));
  CHECK_THAT(result.out, !Catch::Contains("\r\n192.0.2.16,"));
  // The domain's findings are rows too: no address, the domain under sources.
  CHECK_THAT(result.out, Catch::Contains("\r\n,,,,,SPF_TOO_BROAD,warning,SPF ip4:0.0.0.0/0 "
                                         "authorises 2^32 addresses") &&
                             Catch::Contains(",broad.spf.example\r\n"));
}

TEST_CASE("rdnsctl audit --domain checks DMARC, MTA-STS over HTTPS and TLS-RPT") {
  const rdns::test::MtaStsServer server(
      {{"mta-sts.good.auth.example",
        {200, "text/plain",
         "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\n"}}},
      {"mta-sts.good.auth.example"});
  const std::vector<std::string> domains = {"--domain", "good.auth.example", "--domain",
                                            "syntax.auth.example"};
  auto args = audit_args({"--no-db", "--format", "json", "--mta-sts-port",
                          std::to_string(server.port()), "--ca-file", server.ca_file()});
  args.insert(args.end(), domains.begin(), domains.end());
  const auto result = run_rdnsctl(args);
  INFO(result.err);
  CHECK(result.exit_code == 1);  // syntax's DMARC_INVALID is an error
  std::map<std::string, std::set<std::string>> codes;
  const auto document = nlohmann::json::parse(result.out);
  for (const auto& finding : document["domain_findings"]) {
    codes[finding["domain"].get<std::string>()].insert(finding["code"].get<std::string>());
  }
  CHECK(codes.count("good.auth.example") == 0);
  CHECK(codes["syntax.auth.example"].count("DMARC_INVALID") == 1);
  // The ESC byte of the record is escaped in the detail, and the detail once
  // more on the terminal.
  CHECK_THAT(result.err, Catch::Contains("syntax.auth.example: DMARC_INVALID: "
                                         "_dmarc.syntax.auth.example: '\\\\027[31mred'"));
  CHECK(result.err.find('\x1b') == std::string::npos);

  // Without the test CA the policy host's certificate is not trusted.
  const auto untrusted =
      run_rdnsctl(audit_args({"--no-db", "--format", "json", "--mta-sts-port",
                              std::to_string(server.port()), "--domain", "good.auth.example"}));
  CHECK(untrusted.exit_code == 1);
  CHECK_THAT(untrusted.err, Catch::Contains("good.auth.example: MTASTS_INVALID: "
                                            "https://mta-sts.good.auth.example:" +
                                            std::to_string(server.port())));

  const auto missing = run_rdnsctl(
      audit_args({"--no-db", "--ca-file", "/nonexistent/ca.pem", "--domain", "good.auth.example"}));
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("/nonexistent/ca.pem"));
}

TEST_CASE("rdnsctl report groups addresses found through --domain by source domain") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  REQUIRE(run_rdnsctl(audit_args({"--db", db, "-q", "--domain", "good.spf.example"})).exit_code ==
          1);
  const auto report = run_rdnsctl({"report", "--db", db, "--format", "html"});
  INFO(report.err);
  REQUIRE(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains("good.spf.example"));
}

TEST_CASE("rdnsctl audit shows a progress line only on a terminal and not with --quiet") {
  // script(1) gives the command a pseudo-terminal; the paced run lasts long
  // enough for the progress timer to fire.
  const auto on_tty = [](const std::string& extra) {
    std::string command = rdns::test::shell_quote(rdns::test::rdnsctl_binary()) +
                          " audit --no-db --format jsonl --resolver " +
                          rdns::lab::shared_lab().resolver_address() + " --timeout 0.4 --qps 60 " +
                          extra + " 192.0.2.0/28 >/dev/null";
    return rdns::test::run_command({"script", "-qefc", command, "/dev/null"});
  };
  const auto shown = on_tty("");
  INFO(shown.out << shown.err);
  CHECK_THAT(shown.out,
             Catch::Contains("/16 (") && Catch::Contains("IPs/s") && Catch::Contains("ETA"));
  const auto quiet = on_tty("-q");
  CHECK_THAT(quiet.out, !Catch::Contains("IPs/s"));
  // Not a terminal: no progress line in the captured stderr.
  const auto piped = run_rdnsctl(audit_args({"--no-db", "--qps", "60", "192.0.2.0/28"}));
  CHECK_THAT(piped.err, !Catch::Contains("IPs/s"));
}
