// The provisioning workflow end to end, with the real binary, the emulator
// and the loopback Knot + Unbound: an audit finds NO_PTR and
// FORWARD_MISMATCH, `fix` proposes names, `ptr plan` and `ptr apply` write
// them, DNS shows them, and a new audit passes.

#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ptr_fixture.hpp"

namespace {

using rdns::test::contains;
using rdns::test::EmulatorProcess;
using rdns::test::ProcessResult;
using rdns::test::run_ptr;

ProcessResult audit(const std::string& db) {
  return rdns::test::run_rdnsctl({"audit", "--domain", "mailcorp.test", "--resolver",
                                  rdns::lab::emulator_lab().resolver_address(), "--db", db,
                                  "--timeout", "0.5", "--retries", "1", "-q"});
}

}  // namespace

TEST_CASE("rdnsctl fix, plan and apply: an audit's failures end up as passing PTRs",
          "[cli][ptr][fix][e2e]") {
  EmulatorProcess emulator;
  rdns::test::TempDir dir;
  const std::string db = (dir.path() / "rdnsctl.db").string();
  const std::string other = (dir.path() / "other.db").string();
  const std::string lab_resolver = rdns::lab::emulator_lab().resolver_address();
  auto ptr = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db});
    return run_ptr(emulator, args);
  };

  // The operator's starting point: the domain verified; 198.51.100.10 has no
  // PTR (created and deleted, so Knot holds none whatever ran before);
  // 198.51.100.11 points at mx1, whose A record is .10.
  const ProcessResult shown = ptr({"verify-domain", "mailcorp.test"});
  const std::string line = shown.out.substr(0, shown.out.find('\n'));
  const auto quote = line.find('"');
  rdns::test::publish_txt(line.substr(0, line.find('\t')),
                          line.substr(quote + 1, line.size() - quote - 2));
  REQUIRE(ptr({"verify-domain", "mailcorp.test", "--poll", "10"}).exit_code == 0);
  REQUIRE(
      run_ptr(emulator, {"--db", other, "set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "1"})
          .exit_code == 0);
  REQUIRE(run_ptr(emulator, {"--db", other, "delete", "198.51.100.10"}).exit_code == 0);
  REQUIRE(run_ptr(emulator, {"--db", other, "set", "198.51.100.11", "mx1.mailcorp.test", "--ttl",
                             "1", "--allow-unconfirmed"})
              .exit_code == 0);

  const ProcessResult before = audit(db);
  INFO(before.out << before.err);
  CHECK(before.exit_code == 1);
  CHECK(contains(before.out, "NO_PTR"));
  CHECK(contains(before.out, "FORWARD_MISMATCH"));

  const std::string desired = (dir.path() / "desired.csv").string();
  const ProcessResult fixed =
      rdns::test::run_rdnsctl({"fix", "--run", "latest", "--db", db, "--resolver", lab_resolver,
                               "--ttl", "1", "-o", desired});
  INFO(fixed.out << fixed.err);
  CHECK(fixed.exit_code == 0);
  CHECK(contains(fixed.out, "2 proposed, 0 cannot be fixed automatically"));
  const std::string csv = rdns::test::read_file(desired);
  INFO(csv);
  CHECK(contains(csv, "\n198.51.100.10,mx1.mailcorp.test,1\n"));
  CHECK(contains(csv, "\n198.51.100.11,mx2.mailcorp.test,1\n"));
  CHECK(contains(csv,
                 "# 198.51.100.11: FORWARD_MISMATCH; mx2.mailcorp.test is MX "
                 "mx2.mailcorp.test of mailcorp.test and its A record holds the IP"));

  const std::string plan_file = (dir.path() / "plan.json").string();
  const ProcessResult plan = ptr({"plan", desired, "-o", plan_file});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(contains(plan.out, "+ 198.51.100.10\tmx1.mailcorp.test TTL 1\tcreate"));
  CHECK(contains(plan.out, "~ 198.51.100.11\tmx1.mailcorp.test TTL 1 -> mx2.mailcorp.test TTL 1"));

  const ProcessResult applied = ptr({"apply", plan_file});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);
  CHECK(contains(applied.out, "198.51.100.10: visible in DNS after"));
  CHECK(contains(applied.out, "198.51.100.11: visible in DNS after"));
  CHECK(rdns::test::authority_ptr("10.100.51.198.in-addr.arpa") ==
        std::vector<std::string>{"mx1.mailcorp.test."});
  CHECK(rdns::test::authority_ptr("11.100.51.198.in-addr.arpa") ==
        std::vector<std::string>{"mx2.mailcorp.test."});

  const ProcessResult after = audit(db);
  INFO(after.out << after.err);
  CHECK(after.exit_code == 0);
  CHECK_FALSE(contains(after.out, "NO_PTR"));
  CHECK_FALSE(contains(after.out, "FORWARD_MISMATCH"));

  ptr({"delete", "198.51.100.10", "--wait", "0"});
  ptr({"delete", "198.51.100.11", "--wait", "0"});
}

TEST_CASE("rdnsctl fix lists what it cannot fix and why", "[cli][fix]") {
  rdns::test::TempDir dir;
  const std::string db = (dir.path() / "rdnsctl.db").string();
  // 198.51.100.30 has no PTR and nothing names it; 2001:db8::25 is IPv6.
  const ProcessResult audited = rdns::test::run_rdnsctl(
      {"audit", "198.51.100.30", "2001:db8::25", "--resolver",
       rdns::lab::emulator_lab().resolver_address(), "--db", db, "--timeout", "0.5", "-q"});
  CHECK(audited.exit_code == 1);
  const ProcessResult fixed =
      rdns::test::run_rdnsctl({"fix", "--run", "latest", "--db", db, "--resolver",
                               rdns::lab::emulator_lab().resolver_address()});
  INFO(fixed.out << fixed.err);
  CHECK(fixed.exit_code == 1);
  CHECK(contains(fixed.err, "cannot fix 198.51.100.30: no name is known for it"));
  CHECK(contains(fixed.out, "# cannot fix 198.51.100.30"));
  CHECK(contains(fixed.err, "cannot fix 2001:db8::25: IPv6"));
}
