// rdnsctl ptr --provider rfc2136 end to end: the real binary updating the
// TSIG lab's Knot, FCrDNS confirmed through the lab's Unbound afterwards,
// the key from the environment or a key file, refusals with their exit
// codes, and the secret nowhere in the output or the database.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <lab/dns_lab.hpp>

#include "../provision/rfc2136_fixture.hpp"
#include "run_rdnsctl.hpp"

namespace {

using rdns::test::ProcessResult;
using rdns::test::read_file;
using rdns::test::run_rdnsctl;
using rdns::test::served_ptrs;
using rdns::test::TempDir;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Rfc2136Cli {
  TempDir dir;
  std::string db = (dir.path() / "rdnsctl.db").string();
  std::string everything;  ///< every stdout and stderr, to look for the secret

  /// `rdnsctl ptr --provider rfc2136 <lab flags> args...` with env.
  ProcessResult ptr(const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {"RDNSCTL_TSIG_KEY=" +
                                                           rdns::test::lab_key_text()}) {
    const auto& lab = rdns::lab::rfc2136_lab();
    std::vector<std::string> full{"ptr",
                                  "--provider",
                                  "rfc2136",
                                  "--dns-server",
                                  lab.authority_address(),
                                  "--dns-prefix",
                                  "192.0.2.0/24",
                                  "--loopback-only",
                                  "--resolver",
                                  lab.resolver_address(),
                                  "--authority",
                                  lab.authority_address(),
                                  "--db",
                                  db,
                                  "--wait",
                                  "10"};
    full.insert(full.end(), args.begin(), args.end());
    ProcessResult result = run_rdnsctl(full, {}, env);
    everything += result.out + result.err;
    return result;
  }
};

}  // namespace

TEST_CASE("rdnsctl ptr set --provider rfc2136 writes the PTR and FCrDNS passes",
          "[cli][ptr][rfc2136]") {
  Rfc2136Cli cli;
  const std::string ip = "192.0.2.20";
  const std::string owner = "20.2.0.192.in-addr.arpa.";

  const ProcessResult set = cli.ptr({"set", ip, "cli1.rfc2136.test"});
  INFO(set.out << set.err);
  REQUIRE(set.exit_code == 0);
  CHECK(contains(set.out, ip + ": created cli1.rfc2136.test, TTL 60 (cli1.rfc2136.test"));
  CHECK(contains(set.out, ip + ": visible in DNS"));
  CHECK(served_ptrs(owner) == std::vector<std::string>{"cli1.rfc2136.test"});

  // FCrDNS through the lab's unbound: the PTR and the name's A record agree.
  const ProcessResult show = cli.ptr({"show", ip});
  INFO(show.out << show.err);
  CHECK(show.exit_code == 0);
  CHECK(contains(show.out, ip + "\tcli1.rfc2136.test\t60\tenabled\tcli1.rfc2136.test"));
  CHECK(contains(show.out, "dns\tcli1.rfc2136.test\tFCrDNS pass"));

  // The same again is a no-op: nothing is sent.
  const ProcessResult again = cli.ptr({"set", ip, "cli1.rfc2136.test"});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "unchanged"));

  const ProcessResult listed = cli.ptr({"list"});
  INFO(listed.err);
  CHECK(listed.exit_code == 0);
  CHECK(contains(listed.out, ip + "\tcli1.rfc2136.test\t60\tenabled\tcli1.rfc2136.test\tmanaged"));
  CHECK(contains(listed.out, "192.0.2.12\told.rfc2136.test"));

  const ProcessResult journal = cli.ptr({"journal"});
  CHECK(contains(journal.out, "create"));

  // No disable in DNS: a usage error, nothing changed.
  const ProcessResult disable = cli.ptr({"disable", ip});
  CHECK(disable.exit_code == 2);
  CHECK(contains(disable.err, "cannot disable"));
  CHECK(served_ptrs(owner) == std::vector<std::string>{"cli1.rfc2136.test"});

  // --wait 0: the resolver may cache the old PTR for its TTL.
  const ProcessResult removed = cli.ptr({"delete", ip, "--wait", "0"});
  INFO(removed.out << removed.err);
  CHECK(removed.exit_code == 0);
  CHECK(contains(removed.out, ip + ": deleted cli1.rfc2136.test"));
  CHECK(served_ptrs(owner).empty());

  // A plan of the zone (AXFR) applied: the same provider behind plan and apply.
  const auto csv =
      rdns::test::write_file(cli.dir.path() / "ptr.csv", "192.0.2.13,mx4.rfc2136.test,60\n");
  const ProcessResult applied = cli.ptr({"apply", "--yes", csv.string()});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);
  CHECK(contains(applied.out, "192.0.2.13"));
  CHECK(served_ptrs("13.2.0.192.in-addr.arpa.") == std::vector<std::string>{"mx4.rfc2136.test"});
  CHECK(cli.ptr({"delete", "192.0.2.13", "--wait", "0"}).exit_code == 0);

  CHECK_FALSE(contains(cli.everything, rdns::lab::kLabTsigSecret));
  CHECK_FALSE(contains(read_file(cli.db), rdns::lab::kLabTsigSecret));
}

TEST_CASE("rdnsctl ptr --provider rfc2136 takes both key files and refuses what it must",
          "[cli][ptr][rfc2136]") {
  Rfc2136Cli cli;
  const std::string secret = rdns::lab::kLabTsigSecret;
  const std::string ip = "192.0.2.21";
  const std::string owner = "21.2.0.192.in-addr.arpa.";
  const auto bind = rdns::test::write_file(
      cli.dir.path() / "bind.key",
      "key \"rdnsctl-lab\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret + "\";\n};\n");
  const auto knot = rdns::test::write_file(cli.dir.path() / "knot.key",
                                           "hmac-sha256:rdnsctl-lab:" + secret + "\n");
  const auto wrong = rdns::test::write_file(
      cli.dir.path() / "wrong.key", "rdnsctl-lab:c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1sYWJzLWtleQ==\n");
  const auto broken = rdns::test::write_file(cli.dir.path() / "broken.key",
                                             "key \"rdnsctl-lab\" {\n\talgorithm hmac-sha256;\n"
                                             "\tsecret \"" +
                                                 secret + "\"\n};\n");

  SECTION("a BIND key file") {
    const ProcessResult set = cli.ptr(
        {"set", ip, "cli2.rfc2136.test", "--tsig-key-file", bind.string(), "--ttl", "30"}, {});
    INFO(set.out << set.err);
    CHECK(set.exit_code == 0);
    CHECK(served_ptrs(owner) == std::vector<std::string>{"cli2.rfc2136.test"});
    CHECK(cli.ptr({"delete", ip, "--tsig-key-file", knot.string(), "--wait", "0"}, {}).exit_code ==
          0);
    CHECK(served_ptrs(owner).empty());
  }
  SECTION("a wrong key: exit 3 naming BADSIG and the key, nothing written") {
    const ProcessResult set =
        cli.ptr({"set", ip, "cli2.rfc2136.test", "--tsig-key-file", wrong.string()}, {});
    CHECK(set.exit_code == 3);
    CHECK(contains(set.err, "BADSIG"));
    CHECK(contains(set.err, "rdnsctl-lab."));
    CHECK(served_ptrs(owner).empty());
  }
  SECTION("a broken key file is named with its line") {
    const ProcessResult set =
        cli.ptr({"set", ip, "cli2.rfc2136.test", "--tsig-key-file", broken.string()}, {});
    CHECK(set.exit_code == 2);
    CHECK(contains(set.err, "broken.key:4: expected \";\""));
  }
  SECTION("no key at all") {
    const ProcessResult set = cli.ptr({"set", ip, "cli2.rfc2136.test"}, {});
    CHECK(set.exit_code == 2);
    CHECK(contains(set.err, "needs a TSIG key"));
  }
  SECTION("an address outside --dns-prefix fails IP_OWNED") {
    const ProcessResult set = cli.ptr({"set", "198.51.100.5", "other.rfc2136.test"});
    CHECK(set.exit_code == 1);
    CHECK(contains(set.err,
                   "198.51.100.5 IP_OWNED: 198.51.100.5 is outside the networks this key "
                   "may change (192.0.2.0/24)"));
  }
  SECTION("the key on the command line works too; -v logs each message, not the secret") {
    const ProcessResult set = cli.ptr(
        {"set", ip, "cli2.rfc2136.test", "--tsig-key", rdns::test::lab_key_text(), "-v"}, {});
    INFO(set.err);
    CHECK(set.exit_code == 0);
    CHECK(contains(set.err, "UPDATE zone 2.0.192.in-addr.arpa.: 21.2.0.192.in-addr.arpa. PTR"));
    CHECK(contains(set.err, "signed by rdnsctl-lab."));
    CHECK(contains(set.err, "answered NOERROR"));
    CHECK(cli.ptr({"delete", ip, "--wait", "0"}).exit_code == 0);
  }
  CHECK_FALSE(contains(cli.everything, secret));
}
