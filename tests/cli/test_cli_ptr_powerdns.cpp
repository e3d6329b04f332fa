// rdnsctl ptr --provider powerdns end to end: a real pdns_server (SQLite
// backend) serves 2.0.192.in-addr.arpa, the lab's Knot serves the forward
// zones of samples/zones, and the lab's Unbound sends the reverse zone to
// pdns_server, so the FCrDNS check and "visible in DNS" run through one
// resolver exactly as they would for a real deployment.

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <lab/dns_lab.hpp>
#include <lab/pdns_server.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

namespace {

using rdns::test::ProcessResult;

constexpr const char* kZone = "2.0.192.in-addr.arpa.";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// pdns_server, a lab whose resolver asks it for kZone, a key file and a database.
struct PowerDnsFixture {
  rdns::lab::PdnsServer pdns{{kZone}};
  rdns::lab::DnsLab lab{std::filesystem::path(rdns::test::source_dir()) / "samples" / "zones",
                        rdns::lab::Updates::refused,
                        rdns::lab::ResolverProfile::small,
                        {{kZone, "127.0.0.1@" + std::to_string(pdns.dns_port())}}};
  rdns::test::TempDir dir;
  std::string db = (dir.path() / "rdnsctl.db").string();
  std::string key_file = private_file("pdns.key", pdns.api_key() + "\n");

  std::string private_file(const std::string& name, const std::string& text) {
    const auto path = rdns::test::write_file(dir.path() / name, text);
    ::chmod(path.c_str(), 0600);
    return path.string();
  }

  /// `rdnsctl ptr --provider powerdns ...` with the lab's DNS and the given key file.
  ProcessResult ptr(const std::vector<std::string>& args, const std::string& key = {},
                    const std::vector<std::string>& env = {}) {
    std::vector<std::string> full = {"ptr",          "--provider",
                                     "powerdns",     "--pdns-url",
                                     pdns.api_url(), "--loopback-only",
                                     "--resolver",   lab.resolver_address(),
                                     "--authority",  lab.authority_address(),
                                     "--db",         db,
                                     "--wait",       "10"};
    if (env.empty()) full.insert(full.end(), {"--pdns-api-key-file", key.empty() ? key_file : key});
    full.insert(full.end(), args.begin(), args.end());
    return rdns::test::run_rdnsctl(full, {}, env);
  }
};

}  // namespace

TEST_CASE("rdnsctl ptr --provider powerdns: set, show, replace, disable, enable, delete",
          "[cli][ptr][powerdns]") {
  PowerDnsFixture fixture;
  const std::string owner = "10.2.0.192.in-addr.arpa";

  const ProcessResult created =
      fixture.ptr({"set", "192.0.2.10", "mail.example.com", "--ttl", "1"});
  INFO(created.out << created.err);
  REQUIRE(created.exit_code == 0);
  CHECK(contains(created.out, "192.0.2.10: created mail.example.com, TTL 1 (" + owner));
  CHECK(contains(created.out, "192.0.2.10: visible in DNS after"));
  CHECK(fixture.pdns.ptr(owner) == std::vector<std::string>{"mail.example.com."});

  const ProcessResult shown = fixture.ptr({"show", "192.0.2.10"});
  INFO(shown.out << shown.err);
  CHECK(contains(shown.out, "192.0.2.10\tmail.example.com\t1\tenabled\t" + owner));
  CHECK(contains(shown.out, "dns\tmail.example.com\tFCrDNS pass"));

  const ProcessResult again = fixture.ptr({"set", "192.0.2.10", "mail.example.com"});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "unchanged"));

  const ProcessResult replaced =
      fixture.ptr({"set", "192.0.2.10", "nomx.reports.example", "--ttl", "1"});
  INFO(replaced.out << replaced.err);
  CHECK(replaced.exit_code == 0);
  CHECK(contains(replaced.out, "updated mail.example.com -> nomx.reports.example"));
  CHECK(contains(replaced.out, "visible in DNS"));
  CHECK(fixture.pdns.ptr(owner) == std::vector<std::string>{"nomx.reports.example."});

  const ProcessResult disabled = fixture.ptr({"disable", "192.0.2.10"});
  INFO(disabled.out << disabled.err);
  CHECK(disabled.exit_code == 0);
  CHECK(contains(disabled.out, "192.0.2.10: visible in DNS"));
  CHECK(fixture.pdns.ptr(owner).empty());
  // Nothing is billed at a PowerDNS server: no cloud wording.
  CHECK_FALSE(contains(disabled.out, "billed"));
  const ProcessResult listed = fixture.ptr({"list"});
  CHECK(contains(listed.out,
                 "192.0.2.10\tnomx.reports.example\t1\tdisabled\t" + owner + "\tmanaged"));
  CHECK_FALSE(contains(listed.out, "billable"));
  const ProcessResult disabled_risk = fixture.ptr({"risk"});
  CHECK(contains(disabled_risk.out, "192.0.2.10\tmedium\tRECORD_DISABLED"));
  CHECK_FALSE(contains(disabled_risk.out, "DISABLED_BILLED"));

  const ProcessResult enabled = fixture.ptr({"enable", "192.0.2.10"});
  INFO(enabled.out << enabled.err);
  CHECK(enabled.exit_code == 0);
  CHECK(fixture.pdns.ptr(owner) == std::vector<std::string>{"nomx.reports.example."});

  const ProcessResult deleted = fixture.ptr({"delete", "192.0.2.10"});
  INFO(deleted.out << deleted.err);
  CHECK(deleted.exit_code == 0);
  CHECK(contains(deleted.out, "192.0.2.10: visible in DNS"));
  CHECK(fixture.pdns.ptr(owner).empty());
  const ProcessResult gone = fixture.ptr({"delete", "192.0.2.10"});
  CHECK(gone.exit_code == 2);
  CHECK(contains(gone.err, "192.0.2.10 has no PTR record"));

  // The journal's scope is the server: "powerdns:" and its address.
  const ProcessResult journal = fixture.ptr({"journal"});
  CHECK(contains(journal.out, "delete"));
  CHECK(contains(journal.out, "done"));
}

TEST_CASE("rdnsctl ptr --provider powerdns: apply a desired state, then check its risk",
          "[cli][ptr][powerdns]") {
  PowerDnsFixture fixture;
  const auto desired =
      rdns::test::write_file(fixture.dir.path() / "desired.csv", "192.0.2.11,mx2.example.com,1\n");
  const ProcessResult applied = fixture.ptr({"apply", "--yes", desired.string()});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);
  CHECK(fixture.pdns.ptr("11.2.0.192.in-addr.arpa") ==
        std::vector<std::string>{"mx2.example.com."});

  const ProcessResult again = fixture.ptr({"plan", desired.string()});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "# 0 create, 0 update"));

  const ProcessResult risk = fixture.ptr({"risk"});
  INFO(risk.out << risk.err);
  CHECK(risk.exit_code == 0);
  CHECK(contains(risk.out, "192.0.2.11\tok\tOK"));
}

TEST_CASE("rdnsctl ptr --provider powerdns refuses clearly and never prints the key",
          "[cli][ptr][powerdns]") {
  PowerDnsFixture fixture;

  SECTION("a wrong key: exit 3 naming the refusal, neither key printed") {
    const std::string wrong = fixture.private_file("wrong.key", "wrong-key-0815\n");
    const ProcessResult refused =
        fixture.ptr({"-v", "set", "192.0.2.10", "mail.example.com"}, wrong);
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 3);
    CHECK(contains(refused.err, "HTTP 401"));
    CHECK(contains(refused.err, "API key was refused"));
    for (const std::string& secret : {std::string("wrong-key-0815"), fixture.pdns.api_key()}) {
      CHECK_FALSE(contains(refused.out + refused.err, secret));
    }
    CHECK(fixture.pdns.ptr("10.2.0.192.in-addr.arpa").empty());
  }
  SECTION("an address whose reverse zone is not on the server: refused before writing") {
    const ProcessResult refused = fixture.ptr({"-v", "set", "198.51.100.10", "smtp.example.org"});
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "198.51.100.10 IP_OWNED: no reverse zone on the PowerDNS server"));
    CHECK_FALSE(contains(refused.err, "PATCH"));
    CHECK_FALSE(contains(refused.out + refused.err, fixture.pdns.api_key()));
  }
  SECTION("the key from the environment; none at all is a usage error naming the variable") {
    const ProcessResult listed =
        fixture.ptr({"list"}, {}, {"RDNSCTL_PDNS_API_KEY=" + fixture.pdns.api_key()});
    INFO(listed.out << listed.err);
    CHECK(listed.exit_code == 0);
    const ProcessResult keyless = fixture.ptr({"list"}, {}, {"RDNSCTL_PDNS_API_KEY="});
    CHECK(keyless.exit_code == 2);
    CHECK(contains(keyless.err, "RDNSCTL_PDNS_API_KEY"));
  }
  SECTION("a key file others may read is refused") {
    const std::string open_key = fixture.private_file("open.key", fixture.pdns.api_key() + "\n");
    ::chmod(open_key.c_str(), 0644);
    const ProcessResult refused = fixture.ptr({"list"}, open_key);
    CHECK(refused.exit_code == 2);
    CHECK(contains(refused.err, "chmod 600"));
    CHECK_FALSE(contains(refused.err, fixture.pdns.api_key()));
  }
}
