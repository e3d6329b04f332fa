// rdnsctl audit --dnsbl against blocklists the lab serves
// (samples/zones/dnsbl.example.zone, defined by samples/dnsbl-rules.toml):
// listings decoded per list, error answers never listings, lists that fail
// the self-test not used, and a list key that never leaves the query names.

#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::read_file;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

const std::string kRules = std::string(rdns::test::source_dir()) + "/samples/dnsbl-rules.toml";

std::vector<std::string> dnsbl_audit(std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "audit",     "--resolver", rdns::lab::shared_lab().resolver_address(),
      "--timeout", "0.4",        "--retries",
      "1",         "--rules",    kRules};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// Each address's findings as "CODE severity: detail", from JSONL.
std::map<std::string, std::vector<std::string>> findings_by_ip(
    const std::string& jsonl, std::map<std::string, std::string>* status = nullptr) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream lines(jsonl);
  for (std::string line; std::getline(lines, line);) {
    const auto record = nlohmann::json::parse(line);
    const std::string ip = record["ip"];
    if (status != nullptr) (*status)[ip] = record["status"];
    auto& list = out[ip];
    for (const auto& finding : record["findings"]) {
      list.push_back(finding["code"].get<std::string>() + " " +
                     finding["severity"].get<std::string>() + ": " +
                     finding["detail"].get<std::string>());
    }
  }
  return out;
}

bool has(const std::vector<std::string>& findings, const std::string& start) {
  for (const auto& finding : findings) {
    if (finding.rfind(start, 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("--dnsbl decodes listings per list and never takes an error answer for one") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const std::string metrics = (dir.path() / "rdnsctl.prom").string();
  const auto result = run_rdnsctl(
      dnsbl_audit({"--db", db, "--format", "jsonl", "--prometheus-textfile", metrics,
                   "--dnsbl-list", "good.dnsbl.example", "192.0.2.10", "192.0.2.11", "192.0.2.12",
                   "192.0.2.13", "192.0.2.14", "192.0.2.15", "192.0.2.16", "2001:db8::25"}));
  INFO(result.err);
  CHECK(result.exit_code == 1);
  std::map<std::string, std::string> status;
  const auto found = findings_by_ip(result.out, &status);
  CHECK(found.at("192.0.2.10").empty());
  CHECK(status.at("192.0.2.10") == "pass");
  CHECK(has(found.at("192.0.2.11"),
            "DNSBL_LISTED error: good.dnsbl.example: 127.0.0.4 exploited host (botnet) "
            "(\"Listed: botnet activity"));
  CHECK(status.at("192.0.2.11") == "fail");
  CHECK(has(found.at("192.0.2.12"), "DNSBL_LISTED error: good.dnsbl.example: 127.0.0.10 end-user"));
  // Error answers: unknown, never listed.
  CHECK(has(found.at("192.0.2.13"),
            "DNSBL_ERROR warning: good.dnsbl.example: 127.255.255.254: the query came through a "
            "public resolver"));
  CHECK(has(found.at("192.0.2.14"),
            "DNSBL_ERROR warning: good.dnsbl.example: 198.51.100.1: an "
            "answer outside 127.0.0.0/8 is no listing"));
  CHECK(has(found.at("192.0.2.15"),
            "DNSBL_ERROR warning: good.dnsbl.example: 127.0.0.1: the list "
            "refuses the query"));
  for (const char* ip : {"192.0.2.13", "192.0.2.14", "192.0.2.15"}) {
    INFO(ip);
    CHECK(!has(found.at(ip), "DNSBL_LISTED"));
  }
  // A code the rules do not describe: a listing with the list's severity.
  CHECK(has(found.at("192.0.2.16"),
            "DNSBL_LISTED warning: good.dnsbl.example: 127.0.0.77 (a return code"));
  CHECK(has(found.at("2001:db8::25"), "DNSBL_LISTED error: good.dnsbl.example: 127.0.0.2 spam"));

  // Stored, judged by check, counted in the metrics.
  const auto shown = run_rdnsctl({"runs", "show", "latest", "--db", db, "--format", "jsonl"});
  CHECK(findings_by_ip(shown.out) == found);
  const auto check = run_rdnsctl({"check", "--run", "latest", "--db", db, "-c", "10"});
  CHECK_THAT(check.out, Catch::Contains("DNSBL_LISTED") && Catch::Contains(" listed=4;;;0;8"));
  CHECK(check.exit_code == 0);  // 7 failing addresses, within -c 10
  CHECK_THAT(read_file(metrics),
             Catch::Contains("rdnsctl_findings{code=\"DNSBL_LISTED\",severity=\"error\"} 3"));
  CHECK_THAT(read_file(metrics),
             Catch::Contains("rdnsctl_findings{code=\"DNSBL_ERROR\",severity=\"warning\"} 3"));
}

TEST_CASE("a blocklist that fails its self-test is not asked, and the run says why") {
  const auto result = run_rdnsctl(dnsbl_audit(
      {"--no-db", "--format", "jsonl", "--dnsbl-list", "good.dnsbl.example", "--dnsbl-list",
       "parked.dnsbl.example", "--dnsbl-list", "public.dnsbl.example", "--dnsbl-list",
       "rewrite.dnsbl.example", "--dnsbl-list", "dead.dnsbl.example", "192.0.2.10"}));
  INFO(result.err);
  CHECK_THAT(result.err, Catch::Contains("blocklist parked.dnsbl.example is not asked in this "
                                         "run: it failed its self-test: the test address "
                                         "127.0.0.1 is listed: the zone answers everything"));
  CHECK_THAT(
      result.err,
      Catch::Contains("blocklist public.dnsbl.example is not asked in this run: it failed") &&
          Catch::Contains("127.255.255.254: the query came through a public"));
  CHECK_THAT(
      result.err,
      Catch::Contains("blocklist rewrite.dnsbl.example is not asked in this run: it failed") &&
          Catch::Contains("198.51.100.1: an answer outside 127.0.0.0/8"));
  CHECK_THAT(result.err, Catch::Contains("blocklist dead.dnsbl.example is not asked in this run: "
                                         "it failed its self-test: no answer for the test "
                                         "address 127.0.0.2"));
  CHECK_THAT(result.err, !Catch::Contains("good.dnsbl.example is not asked"));
  const auto found = findings_by_ip(result.out);
  // The parked list would have "listed" 192.0.2.10: its answer is not used.
  CHECK(found.at("192.0.2.10") ==
        std::vector<std::string>{"DNSBL_UNTRUSTED warning: not asked in this run: "
                                 "parked.dnsbl.example, public.dnsbl.example, "
                                 "rewrite.dnsbl.example, dead.dnsbl.example (a failed self-test "
                                 "or a missing key; the run's warnings say which)"});
}

TEST_CASE("a blocklist key is used in the query names only, never shown or stored") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const std::string metrics = (dir.path() / "rdnsctl.prom").string();
  const std::string key = "labkey123";
  const auto keyed = run_rdnsctl(
      dnsbl_audit({"--db", db, "--format", "json", "--prometheus-textfile", metrics, "--dnsbl-list",
                   "keyed.dnsbl.example", "--dnsbl-key", key, "192.0.2.11", "192.0.2.10"}));
  INFO(keyed.err);
  CHECK(keyed.exit_code == 1);
  CHECK_THAT(keyed.out, Catch::Contains("keyed.dnsbl.example: 127.0.0.4 exploited host"));
  const auto shown = run_rdnsctl({"runs", "show", "latest", "--db", db, "--format", "json"});
  const auto report = run_rdnsctl({"report", "--db", db, "-o", "-"});
  for (const std::string& text :
       {keyed.out, keyed.err, shown.out, report.out, read_file(db), read_file(metrics)}) {
    CHECK(text.find(key) == std::string::npos);
  }
  // Without the key the list has nothing, not even its test entry.
  const auto unkeyed =
      run_rdnsctl(dnsbl_audit({"--no-db", "--dnsbl-list", "keyed.dnsbl.example", "192.0.2.11"}));
  CHECK_THAT(unkeyed.err,
             Catch::Contains("blocklist keyed.dnsbl.example is not asked in this run: it failed"));
  // A list that answers only with a key is not even tested without one.
  const auto needs_key =
      run_rdnsctl(dnsbl_audit({"--no-db", "--dnsbl-list", "dq-only.dnsbl.example", "192.0.2.11"}));
  CHECK_THAT(needs_key.err, Catch::Contains("blocklist dq-only.dnsbl.example is not asked in this "
                                            "run: it answers only with a key"));
  // From the environment, as the stored run's resume would take it.
  const auto from_env = run_rdnsctl(dnsbl_audit({"--no-db", "--format", "csv", "--dnsbl-list",
                                                 "keyed.dnsbl.example", "192.0.2.11"}),
                                    {}, {"RDNSCTL_DNSBL_KEY=" + key});
  CHECK_THAT(from_env.out, Catch::Contains("DNSBL_LISTED"));
}

TEST_CASE("--dnsbl-key and --dnsbl-list refuse bad values without echoing a key") {
  const auto bad_key =
      run_rdnsctl(dnsbl_audit({"--no-db", "--dnsbl", "--dnsbl-key", "secret.part", "192.0.2.10"}));
  CHECK(bad_key.exit_code == 2);
  CHECK_THAT(bad_key.err,
             Catch::Contains("--dnsbl-key") && Catch::Contains("expected letters and digits only"));
  CHECK(bad_key.err.find("secret.part") == std::string::npos);
  const auto unknown =
      run_rdnsctl(dnsbl_audit({"--no-db", "--dnsbl-list", "nope.example", "192.0.2.10"}));
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("--dnsbl-list nope.example: no such list in the rules") &&
                              Catch::Contains("zen.spamhaus.org"));
  // A public resolver: the lists would refuse every query; nothing is sent.
  const auto public_resolver =
      run_rdnsctl({"audit", "--no-db", "--resolver", "9.9.9.9", "--dnsbl", "192.0.2.10"});
  CHECK(public_resolver.exit_code == 2);
  CHECK_THAT(public_resolver.err,
             Catch::Contains("--dnsbl through the public resolver 9.9.9.9: blocklists refuse"));
}
