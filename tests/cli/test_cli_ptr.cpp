// rdnsctl ptr against the emulator and the loopback Knot + Unbound lab: each
// pre-write check refusing with the IP and rule named, and the record life
// cycle (set, show, disable, enable, delete) visible in DNS.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ptr_fixture.hpp"

namespace {

using rdns::test::contains;
using rdns::test::EmulatorProcess;
using rdns::test::ProcessResult;
using rdns::test::run_ptr;

// Publishes the verification TXT of domain as its owner would, from what
// verify-domain prints ("fqdn\tTXT\t\"value\"").
void publish_verification(const EmulatorProcess& emulator, const std::string& domain) {
  const ProcessResult shown = run_ptr(emulator, {"verify-domain", domain});
  const std::string line = shown.out.substr(0, shown.out.find('\n'));
  const auto tab = line.find('\t');
  const auto quote = line.find('"');
  REQUIRE(tab != std::string::npos);
  REQUIRE(quote != std::string::npos);
  rdns::test::publish_txt(line.substr(0, tab), line.substr(quote + 1, line.size() - quote - 2));
  const ProcessResult visible = run_ptr(emulator, {"verify-domain", domain, "--poll", "10"});
  INFO(line << "\n" << visible.out << visible.err);
  REQUIRE(visible.exit_code == 0);
}

int record_count(const EmulatorProcess& emulator) {
  const std::string stats = emulator.admin("GET", "stats");
  const auto at = stats.find("\"Records\":");
  REQUIRE(at != std::string::npos);
  return std::stoi(stats.substr(at + 10));
}

}  // namespace

TEST_CASE("rdnsctl ptr set refuses each failed pre-write check", "[cli][ptr]") {
  EmulatorProcess emulator;
  publish_verification(emulator, "mailcorp.test");
  std::string everything;
  auto refused = [&](const std::vector<std::string>& args, const std::string& expected) {
    const ProcessResult result = run_ptr(emulator, args);
    everything += result.out + result.err;
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(contains(result.err, expected));
  };
  refused({"set", "2001:db8::25", "mx1.mailcorp.test"}, "2001:db8::25 IPV4_ONLY");
  refused({"set", "198.51.100.300", "mx1.mailcorp.test"}, "198.51.100.300 IPV4_ONLY");
  refused({"set", "198.51.100.30", "mx1.mailcorp.test"}, "198.51.100.30 IP_OWNED");
  refused({"set", "198.51.100.99", "mx1.mailcorp.test"}, "198.51.100.99 IP_OWNED");
  refused({"set", "198.51.100.10", "*.mailcorp.test"}, "198.51.100.10 VALID_NAME");
  refused({"set", "198.51.100.10", "198.51.100.10"}, "198.51.100.10 VALID_NAME");
  refused({"set", "198.51.100.10", "mailcorp"}, "198.51.100.10 VALID_NAME");
  refused({"set", "198.51.100.10", "mx.unverified.test"},
          "198.51.100.10 DOMAIN_VERIFIED: unverified.test is not verified: publish "
          "alidnsptrcheck.unverified.test TXT \"emu-");
  refused({"set", "198.51.100.10", "mx.wrongtxt.test"}, "found only \"emu-not-the-right-value\"");
  refused({"set", "198.51.100.11", "mx1.mailcorp.test"},
          "198.51.100.11 FORWARD_CONFIRMED: mx1.mailcorp.test resolves to 198.51.100.10, not "
          "198.51.100.11");
  refused({"set", "198.51.100.11", "nohost.mailcorp.test"},
          "nohost.mailcorp.test has no A record: the name does not exist (NXDOMAIN)");
  refused({"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "0"}, "198.51.100.10 TTL_RANGE");
  refused({"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "86401"},
          "198.51.100.10 TTL_RANGE");
  // Several rules fail at once: each is reported.
  const ProcessResult many = run_ptr(emulator, {"set", "198.51.100.30", "mx.unverified.test"});
  CHECK(contains(many.err, "IP_OWNED"));
  CHECK(contains(many.err, "DOMAIN_VERIFIED"));
  CHECK(contains(many.err, "FORWARD_CONFIRMED"));
  CHECK(record_count(emulator) == 0);  // nothing refused reached a write

  SECTION("--allow-unconfirmed writes with a loud warning") {
    const ProcessResult forced = run_ptr(emulator, {"set", "198.51.100.11", "mx1.mailcorp.test",
                                                    "--ttl", "1", "--allow-unconfirmed"});
    INFO(forced.out + forced.err);
    CHECK(forced.exit_code == 0);
    CHECK(contains(forced.err, "WARNING: 198.51.100.11 FORWARD_CONFIRMED"));
    CHECK(rdns::test::authority_ptr("11.100.51.198.in-addr.arpa") ==
          std::vector<std::string>{"mx1.mailcorp.test."});
    CHECK(run_ptr(emulator, {"delete", "198.51.100.11"}).exit_code == 0);
  }
  everything += emulator.output();
  CHECK_FALSE(contains(everything, rdns::test::kPlantedSecret));
}

TEST_CASE("rdnsctl ptr verify-domain shows the record and checks propagation", "[cli][ptr]") {
  EmulatorProcess emulator;
  const ProcessResult absent = run_ptr(emulator, {"verify-domain", "unverified.test"});
  CHECK(absent.exit_code == 1);
  CHECK(contains(absent.out, "alidnsptrcheck.unverified.test\tTXT\t\"emu-"));
  CHECK(contains(absent.out, "not verified yet"));
  const ProcessResult wrong = run_ptr(emulator, {"verify-domain", "mx.wrongtxt.test"});
  CHECK(wrong.exit_code == 1);
  CHECK(contains(wrong.out, "another value"));
  publish_verification(emulator, "mailcorp.test");
  const ProcessResult present =
      run_ptr(emulator, {"verify-domain", "mailcorp.test", "--poll", "10"});
  CHECK(present.exit_code == 0);
  CHECK(contains(present.out, "mailcorp.test: verified"));
}

TEST_CASE("rdnsctl ptr life cycle: set, show, disable, enable, delete", "[cli][ptr]") {
  EmulatorProcess emulator;
  publish_verification(emulator, "mailcorp.test");
  const std::string reverse = "10.100.51.198.in-addr.arpa";

  const ProcessResult created =
      run_ptr(emulator, {"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "1"});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  CHECK(contains(created.out,
                 "198.51.100.10: created mx1.mailcorp.test, TTL 1 (ptr-1, operation 1)"));
  CHECK(contains(created.out, "198.51.100.10: visible in DNS after"));
  CHECK(rdns::test::authority_ptr(reverse) == std::vector<std::string>{"mx1.mailcorp.test."});

  const ProcessResult again =
      run_ptr(emulator, {"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "1"});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "unchanged"));

  const ProcessResult shown = run_ptr(emulator, {"show", "198.51.100.10"});
  CHECK(shown.exit_code == 0);
  CHECK(contains(shown.out, "198.51.100.10\tmx1.mailcorp.test\t1\tenabled\tptr-1"));
  CHECK(contains(shown.out, "dns\tmx1.mailcorp.test\tFCrDNS pass"));

  const ProcessResult disabled = run_ptr(emulator, {"disable", "198.51.100.10"});
  CHECK(disabled.exit_code == 0);
  CHECK(contains(disabled.out, "visible in DNS"));
  CHECK(contains(disabled.out, "still billed"));
  CHECK(rdns::test::authority_ptr(reverse).empty());
  CHECK(contains(run_ptr(emulator, {"list"}).out, "198.51.100.10\tmx1.mailcorp.test\t1\tdisabled"));

  const ProcessResult enabled = run_ptr(emulator, {"enable", "198.51.100.10"});
  CHECK(enabled.exit_code == 0);
  CHECK(rdns::test::authority_ptr(reverse) == std::vector<std::string>{"mx1.mailcorp.test."});

  // No --ttl: the A record's TTL (60 in the zone, less if the resolver has it cached).
  const ProcessResult defaulted = run_ptr(emulator, {"set", "198.51.100.20", "mx3.mailcorp.test"});
  CHECK(defaulted.exit_code == 0);
  CHECK(contains(defaulted.out, "198.51.100.20: created mx3.mailcorp.test, TTL "));
  CHECK_FALSE(contains(defaulted.out, "TTL 600"));

  CHECK(run_ptr(emulator, {"delete", "198.51.100.10"}).exit_code == 0);
  CHECK(run_ptr(emulator, {"delete", "198.51.100.20", "--wait", "0"}).exit_code == 0);
  CHECK(rdns::test::authority_ptr(reverse).empty());
  const ProcessResult none = run_ptr(emulator, {"delete", "198.51.100.10"});
  CHECK(none.exit_code == 2);
  CHECK(contains(none.err, "198.51.100.10 has no PTR record"));
}
