// The audit engine against real DNS: the sample zones served by knotd and
// resolved through unbound, both on loopback (tests/lab).

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <audit/auditor.hpp>
#include <lab/dns_lab.hpp>
#include <util/error.hpp>

#include "lab_options.hpp"

using namespace rdns::audit;
using rdns::Status;
using rdns::test::lab_options;

namespace {

std::map<std::string, IpResult> audit_all(const std::vector<std::string>& targets,
                                          AuditOptions options = lab_options(),
                                          AuditSummary* summary = nullptr) {
  TargetSet set(1u << 16);
  for (const auto& target : targets) set.add(target, "test");
  Auditor auditor(options, Rules::defaults());
  std::map<std::string, IpResult> results;
  const AuditSummary done = auditor.run(set, [&](IpResult&& result) {
    const std::string key = result.observation.ip.to_string();
    CHECK(results.count(key) == 0);
    results.emplace(key, std::move(result));
  });
  if (summary != nullptr) *summary = done;
  return results;
}

std::set<std::string> codes(const IpResult& result) {
  std::set<std::string> out;
  for (const auto& finding : result.verdict.findings) out.emplace(code_name(finding.code));
  return out;
}

struct Expectation {
  std::string ip;
  Status status;
  std::set<std::string> codes;
};

/// One UDP socket that receives queries and never answers.
class SilentResolver {
 public:
  SilentResolver() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentResolver() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// An observation's list, as a vector to compare with one.
template <typename List>
std::vector<typename List::value_type> as_vector(const List& list) {
  return {list.begin(), list.end()};
}

}  // namespace

TEST_CASE("Auditor::run classifies every sample case through knotd and unbound") {
  const std::vector<Expectation> cases = {
      {"192.0.2.10", Status::pass, {}},
      {"192.0.2.11", Status::pass, {}},
      {"192.0.2.12", Status::fail, {"NO_PTR"}},
      {"192.0.2.13", Status::fail, {"NO_PTR"}},
      {"192.0.2.14", Status::fail, {"PTR_NO_FORWARD"}},
      {"192.0.2.15", Status::fail, {"PTR_NO_FORWARD"}},
      {"192.0.2.16", Status::fail, {"FORWARD_MISMATCH"}},
      {"192.0.2.17", Status::fail, {"FAMILY_MISMATCH"}},
      {"192.0.2.18", Status::warn, {"MULTIPLE_PTR"}},
      {"192.0.2.19", Status::warn, {"GENERIC_PTR"}},
      {"192.0.2.20", Status::warn, {"GENERIC_PTR"}},
      {"192.0.2.21", Status::warn, {"PROVIDER_DEFAULT_PTR"}},
      {"192.0.2.22", Status::fail, {"INVALID_PTR_NAME"}},
      {"192.0.2.23", Status::fail, {"INVALID_PTR_NAME"}},
      {"192.0.2.24", Status::fail, {"INVALID_PTR_NAME"}},
      {"192.0.2.25", Status::fail, {"INVALID_PTR_NAME"}},
      {"192.0.2.26", Status::warn, {"PTR_TARGET_CNAME"}},
      {"192.0.2.27", Status::pass, {"TTL_NOTE"}},
      {"192.0.2.28", Status::unknown, {"TEMPFAIL"}},
      {"192.0.2.29", Status::fail, {"INVALID_PTR_NAME"}},
      {"192.0.2.30", Status::fail, {"INVALID_PTR_NAME"}},
      {"192.0.2.31", Status::fail, {"INVALID_PTR_NAME"}},
      {"198.51.100.10", Status::pass, {}},
      {"198.51.100.65", Status::pass, {"CLASSLESS_DELEGATION"}},
      {"198.51.100.66", Status::fail, {"CLASSLESS_DELEGATION", "NO_PTR"}},
      {"198.51.100.67", Status::pass, {"CLASSLESS_DELEGATION"}},
      {"203.0.113.5", Status::unknown, {"TEMPFAIL", "LAME_REVERSE"}},
      {"2001:db8::25", Status::pass, {}},
      {"2001:db8::26", Status::fail, {"FAMILY_MISMATCH"}},
      {"2001:db8::27", Status::fail, {"NO_PTR"}},
      {"2001:db8::28", Status::fail, {"FORWARD_MISMATCH"}},
  };
  std::vector<std::string> targets;
  for (const auto& c : cases) targets.push_back(c.ip);
  AuditSummary summary;
  const auto results = audit_all(targets, lab_options(), &summary);
  CHECK(summary.addresses == cases.size());
  CHECK(summary.responses > 0);
  for (const auto& expected : cases) {
    INFO("IP " << expected.ip);
    REQUIRE(results.count(expected.ip) == 1);
    const IpResult& result = results.at(expected.ip);
    CHECK(result.verdict.status == expected.status);
    CHECK(codes(result) == expected.codes);
  }
}

TEST_CASE("Auditor::run records what DNS said: names, aliases and addresses") {
  const auto results = audit_all(
      {"192.0.2.18", "198.51.100.65", "192.0.2.26", "192.0.2.23", "2001:db8::25", "192.0.2.11"});
  const IpObservation& multi = results.at("192.0.2.18").observation;
  REQUIRE(multi.ptr.names.size() == 2);
  REQUIRE(multi.forward.size() == 2);
  for (const auto& forward : multi.forward) {
    if (forward.name == DnsName::from_dotted("multi.example.com")) {
      CHECK(as_vector(forward.addresses) ==
            std::vector<IpAddress>{*IpAddress::parse("192.0.2.18")});
    } else {
      CHECK(forward.name == DnsName::from_dotted("other.example.net"));
      CHECK(as_vector(forward.addresses) ==
            std::vector<IpAddress>{*IpAddress::parse("192.0.2.200")});
    }
  }

  const IpObservation& classless = results.at("198.51.100.65").observation;
  CHECK(classless.ptr.aliases ==
        std::vector<DnsName>{DnsName::from_dotted("65.64-26.100.51.198.in-addr.arpa")});
  CHECK(as_vector(classless.ptr.names) ==
        std::vector<DnsName>{DnsName::from_dotted("relay.example.org")});

  const IpObservation& alias = results.at("192.0.2.26").observation;
  REQUIRE(alias.forward.size() == 1);
  CHECK(alias.forward[0].aliases ==
        std::vector<DnsName>{DnsName::from_dotted("mail26.example.com")});
  CHECK(as_vector(alias.forward[0].addresses) ==
        std::vector<IpAddress>{*IpAddress::parse("192.0.2.26")});

  const IpObservation& hostile = results.at("192.0.2.23").observation;
  REQUIRE(hostile.ptr.names.size() == 1);
  CHECK(hostile.ptr.names[0].label(0) == "<img src=x onerror=alert(1)>");
  CHECK(hostile.ptr.names[0].presentation() ==
        "<img\\032src=x\\032onerror=alert\\(1\\)>.example.com");
  CHECK(hostile.forward[0].outcome == Outcome::skipped);

  const auto record = to_record(results.at("2001:db8::25"));
  CHECK(record.ip == "2001:db8::25");
  CHECK(record.family == "ipv6");
  CHECK(record.status == Status::pass);
  CHECK(record.ptr == std::vector<std::string>{"mail6.example.com"});
  REQUIRE(record.forward.size() == 1);
  CHECK(record.forward[0].addresses == std::vector<std::string>{"2001:db8::25"});

  // The zone writes MX2.Example.COM; whatever case DNS hands back, the
  // forward lookup of the lower-case A record confirms it.
  CHECK(results.at("192.0.2.11").verdict.status == Status::pass);
}

TEST_CASE("Auditor::run audits a CIDR range once per address") {
  const auto results = audit_all({"192.0.2.8/29", "192.0.2.10", "192.0.2.12/31"});
  CHECK(results.size() == 8);
  CHECK(results.count("192.0.2.8") == 1);
  CHECK(results.count("192.0.2.15") == 1);
}

TEST_CASE("Auditor::run stops with no verdict built on silence when the resolver never replies") {
  SilentResolver silent;
  AuditOptions options;
  options.resolvers = {silent.address()};
  options.timeout = std::chrono::milliseconds(150);
  options.retries = 1;
  AuditSummary summary;
  const auto started = std::chrono::steady_clock::now();
  const auto results = audit_all({"192.0.2.10", "192.0.2.12", "2001:db8::27"}, options, &summary);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // Never NO_PTR: an address is reported only as TEMPFAIL, or not at all.
  for (const auto& [ip, result] : results) {
    INFO("IP " << ip);
    CHECK(codes(result) == std::set<std::string>{"TEMPFAIL"});
  }
  CHECK(summary.responses == 0);
  CHECK(summary.usable == 0);
  CHECK(summary.queries >= 2);
  // One query's schedule (0.45 s) unanswered, then a health check's.
  CHECK_THAT(summary.resolver_failure, Catch::Contains("no answer after 2 tries"));
  CHECK(seconds < 2.0);
}

TEST_CASE("Auditor::run keeps to the queries-per-second cap") {
  AuditOptions options = lab_options();
  options.qps = 100;
  std::vector<std::string> targets = {"192.0.2.0/27"};  // 32 NXDOMAIN-heavy lookups and more
  AuditSummary summary;
  const auto start = std::chrono::steady_clock::now();
  audit_all(targets, options, &summary);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // A burst of qps/10 is allowed; everything beyond it waits for tokens.
  const double minimum = (static_cast<double>(summary.queries) - 10.0) / 100.0;
  CHECK(summary.queries >= 32);
  CHECK(elapsed >= minimum * 0.95);
}

TEST_CASE("Auditor rejects a malformed resolver") {
  AuditOptions options;
  options.resolvers = {"resolver.example"};
  CHECK_THROWS_AS(Auditor(options, Rules::defaults()), rdns::Error);
  options.resolvers = {"127.0.0.1:99999"};
  CHECK_THROWS_AS(Auditor(options, Rules::defaults()), rdns::Error);
}

TEST_CASE("normalize_resolver accepts the documented forms") {
  AuditOptions options;
  for (const char* resolver : {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353", "[::1]"}) {
    INFO(resolver);
    options.resolvers = {resolver};
    CHECK_NOTHROW(Auditor(options, Rules::defaults()));
  }
}

TEST_CASE("a run whose progress timer fires as it ends still ends", "[audit]") {
  // With no interval the timer has always just fired: its wait has
  // completed and cannot be cancelled when the last address is done. Armed
  // again from there, it kept the event loop, and the run, alive for good.
  AuditOptions options = lab_options();
  options.progress_interval = std::chrono::milliseconds(0);
  for (int attempt = 0; attempt < 20; ++attempt) {
    CAPTURE(attempt);
    // On the heap and shared with the thread: a run that does not end is
    // left behind without pulling its state from under it.
    struct Run {
      TargetSet targets{16};
      std::unique_ptr<Auditor> auditor;
      std::uint64_t progress_calls = 0;
      std::size_t results = 0;
    };
    auto run = std::make_shared<Run>();
    for (const char* ip : {"192.0.2.10", "192.0.2.12", "192.0.2.16"}) run->targets.add(ip, "test");
    run->auditor = std::make_unique<Auditor>(options, Rules::defaults());
    run->auditor->set_progress([run = run.get()](std::uint64_t) { ++run->progress_calls; });
    std::promise<void> ended;
    std::future<void> done = ended.get_future();
    std::thread([run, ended = std::move(ended)]() mutable {
      run->auditor->run(run->targets, [&](IpResult&&) { ++run->results; });
      ended.set_value();
    }).detach();
    REQUIRE(done.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    CHECK(run->results == 3);
  }
}
