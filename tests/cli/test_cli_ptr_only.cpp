// rdnsctl audit --ptr-only against the loopback lab: only PTR queries go
// out, the findings that need no forward data are reported, and nothing
// claims that FCrDNS passed.

#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

/// The samples' cases (samples/zones/README.md), all under one /24.
const std::vector<std::string> kAddresses = {"192.0.2.10", "192.0.2.12", "192.0.2.14",
                                             "192.0.2.18", "192.0.2.19", "192.0.2.22"};

std::vector<std::string> ptr_only_audit(const std::string& db, const std::string& format) {
  std::vector<std::string> args = {
      "audit",     "--ptr-only", "--resolver", rdns::lab::shared_lab().resolver_address(),
      "--timeout", "0.4",        "--retries",  "1",
      "--db",      db,           "--format",   format,
      "--fail-on", "never"};
  args.insert(args.end(), kAddresses.begin(), kAddresses.end());
  return args;
}

std::map<std::string, nlohmann::json> by_ip(const std::string& jsonl) {
  std::map<std::string, nlohmann::json> results;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    const auto result = nlohmann::json::parse(line);
    results[result["ip"]] = result;
  }
  return results;
}

std::vector<std::string> codes(const nlohmann::json& result) {
  std::vector<std::string> found;
  for (const auto& finding : result["findings"]) found.push_back(finding["code"]);
  return found;
}

}  // namespace

TEST_CASE("rdnsctl audit --ptr-only asks only PTRs and judges what needs no forward data") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto audit = run_rdnsctl(ptr_only_audit(db, "jsonl"));
  INFO(audit.err);
  REQUIRE(audit.exit_code == 0);
  // One query per address: no A or AAAA lookup of any PTR name.
  CHECK_THAT(audit.err, Catch::Contains(fmt::format("audited {} addresses with {} queries",
                                                    kAddresses.size(), kAddresses.size())));
  auto results = by_ip(audit.out);
  REQUIRE(results.size() == kAddresses.size());
  using V = std::vector<std::string>;
  // A PTR that forward-confirms in a full audit: present, not confirmed, not "pass".
  CHECK(results["192.0.2.10"]["status"] == "unknown");
  CHECK(codes(results["192.0.2.10"]) == V{"FORWARD_NOT_CHECKED"});
  CHECK(results["192.0.2.10"]["ptr"] == nlohmann::json::array({"mail.example.com"}));
  CHECK(results["192.0.2.10"]["forward"].empty());
  CHECK(results["192.0.2.12"]["status"] == "fail");
  CHECK(codes(results["192.0.2.12"]) == V{"NO_PTR"});
  // Its PTR name has no address: a full audit says PTR_NO_FORWARD, this one cannot.
  CHECK(codes(results["192.0.2.14"]) == V{"FORWARD_NOT_CHECKED"});
  CHECK(codes(results["192.0.2.18"]) == V{"MULTIPLE_PTR", "FORWARD_NOT_CHECKED"});
  CHECK(results["192.0.2.18"]["status"] == "unknown");
  CHECK(codes(results["192.0.2.19"]) == V{"GENERIC_PTR", "FORWARD_NOT_CHECKED"});
  CHECK(codes(results["192.0.2.22"]) == V{"INVALID_PTR_NAME", "FORWARD_NOT_CHECKED"});
  CHECK(results["192.0.2.22"]["status"] == "fail");
  for (const auto& [ip, result] : results) {
    INFO(ip);
    CHECK(result["status"] != "pass");
  }
}

TEST_CASE(
    "a --ptr-only run is stored, reported with its own label and not compared with "
    "FCrDNS runs") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  // A full audit of the same targets first.
  std::vector<std::string> full_args = {
      "audit",     "--resolver", rdns::lab::shared_lab().resolver_address(), "--db", db, "-q",
      "--fail-on", "never"};
  full_args.insert(full_args.end(), kAddresses.begin(), kAddresses.end());
  REQUIRE(run_rdnsctl(full_args).exit_code == 0);
  const auto audit = run_rdnsctl(ptr_only_audit(db, "json"));
  INFO(audit.err);
  REQUIRE(audit.exit_code == 0);
  const auto document = nlohmann::json::parse(audit.out);
  CHECK(document["summary"]["pass"] == 0);
  CHECK(document["summary"]["unknown"] == 4);
  CHECK(document["summary"]["fail"] == 2);

  const auto runs =
      nlohmann::json::parse(run_rdnsctl({"runs", "list", "--db", db, "--format", "json"}).out);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["state"] == "complete");
  CHECK(runs[1]["state"] == "complete");

  const auto html = run_rdnsctl({"report", "--db", db, "--format", "html"});
  INFO(html.err);
  REQUIRE(html.exit_code == 0);
  CHECK_THAT(html.out, Catch::Contains("FORWARD_NOT_CHECKED"));
  CHECK_THAT(html.out, Catch::Contains("PTR present, forward not checked"));
  // The full run of the same targets is not one to compare with: a PTR that
  // passed there is not "no longer passing" here.
  const auto diff = run_rdnsctl({"report", "diff", "--db", db});
  INFO(diff.out << diff.err);
  CHECK(diff.exit_code == 2);
  CHECK_THAT(diff.err, Catch::Contains("no earlier complete run of the same targets and checks"));
}
