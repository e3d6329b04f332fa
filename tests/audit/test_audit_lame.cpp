// Lame reverse delegations (bench/gen_lame_zones.py: one /24 in ten delegated
// to loopback addresses where nothing listens) behind the lab's small,
// fast-failing unbound and behind a stock one: at the default concurrency
// every verdict equals the generator's ground truth.

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include <audit/auditor.hpp>
#include <lab/dns_lab.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "test_paths.hpp"

using namespace rdns::audit;
using rdns::lab::ResolverProfile;

namespace {

struct Truth {
  std::string status;
  std::set<std::string> codes;
};

std::map<std::string, Truth> ground_truth(const std::filesystem::path& csv) {
  std::map<std::string, Truth> truth;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string ip, status, codes;
    std::getline(fields, ip, ',');
    std::getline(fields, status, ',');
    std::getline(fields, codes);
    Truth& entry = truth[ip];
    entry.status = status;
    std::istringstream words(codes);
    for (std::string code; words >> code;) entry.codes.insert(code);
  }
  return truth;
}

}  // namespace

TEST_CASE("lame reverse zones get exact verdicts behind a small and a stock unbound", "[lame]") {
  const auto profile = GENERATE(ResolverProfile::small, ResolverProfile::stock);
  INFO((profile == ResolverProfile::small ? "small unbound" : "stock unbound"));
  rdns::test::TempDir dir;
  const auto generated = rdns::test::run_command(
      {"python3", std::string(rdns::test::source_dir()) + "/bench/gen_lame_zones.py",
       dir.path().string(), "198.18.0.0", "20"});
  REQUIRE(generated.exit_code == 0);
  const auto truth = ground_truth(dir.path() / "expected.csv");
  REQUIRE(truth.size() == 4096);

  rdns::lab::DnsLab lab(dir.path() / "zones", rdns::lab::Updates::refused, profile);
  AuditOptions options;  // the default window of 100 queries in flight
  options.resolvers = {lab.resolver_address()};
  options.timeout = std::chrono::milliseconds(400);
  options.retries = 2;
  TargetSet targets(1u << 20);
  targets.add("198.18.0.0/20", "test");
  Auditor auditor(options, Rules::defaults());
  std::map<std::string, IpResult> results;
  const AuditSummary summary = auditor.run(targets, [&](IpResult&& result) {
    results.emplace(result.observation.ip.to_string(), std::move(result));
  });
  CHECK(summary.resolver_failure.empty());
  CHECK(results.size() == truth.size());

  std::size_t wrong = 0;
  std::ostringstream first_wrong;
  for (const auto& [ip, expected] : truth) {
    const auto found = results.find(ip);
    if (found == results.end()) continue;
    std::set<std::string> codes;
    for (const auto& finding : found->second.verdict.findings) {
      codes.emplace(code_name(finding.code));
    }
    codes.erase("TTL_NOTE");
    const std::string status(status_name(found->second.verdict.status));
    if (status == expected.status && codes == expected.codes) continue;
    if (++wrong <= 10) {
      first_wrong << ip << ": " << status;
      for (const auto& code : codes) first_wrong << " " << code;
      for (const auto& finding : found->second.verdict.findings) {
        first_wrong << " [" << finding.detail << "]";
      }
      first_wrong << " (expected " << expected.status;
      for (const auto& code : expected.codes) first_wrong << " " << code;
      first_wrong << ")\n";
    }
  }
  INFO(wrong << " verdicts differ from the ground truth, first ones:\n" << first_wrong.str());
  CHECK(wrong == 0);

  // Behind the stock unbound nothing else fails, so each dead delegation's
  // first address is confirmed at once with one try, not after the main
  // pass with a second whole timeout schedule; the others under it are
  // settled without a query.
  std::size_t pioneers = 0;
  std::size_t settled = 0;
  for (const auto& [ip, result] : results) {
    const PtrObservation& ptr = result.observation.ptr;
    if (!ptr.lame_below) continue;
    if (ptr.failure.find("not asked again") != std::string::npos) {
      ++settled;
      continue;
    }
    ++pioneers;
    INFO(ip << ": " << ptr.failure);
    if (profile == ResolverProfile::stock) CHECK(ptr.failure == "no answer after 1 try");
  }
  CHECK(pioneers == 2);  // 198.18.3.0/24 and 198.18.13.0/24
  CHECK(settled == 2 * 255);
}
