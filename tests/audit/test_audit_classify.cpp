#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <audit/classify.hpp>
#include <util/error.hpp>

using namespace rdns::audit;
using rdns::Severity;
using rdns::Status;

namespace {

DnsName name(const std::string& dotted) {
  return DnsName::from_dotted(dotted);
}
IpAddress ip(const std::string& text) {
  return *IpAddress::parse(text);
}

std::vector<std::string> codes(const Verdict& verdict) {
  std::vector<std::string> out;
  for (const auto& finding : verdict.findings) out.emplace_back(code_name(finding.code));
  return out;
}

IpObservation with_ptr(const std::string& address, std::vector<std::string> names) {
  IpObservation observation;
  observation.ip = ip(address);
  observation.ptr.outcome = Outcome::found;
  observation.ptr.ttl = 3600;
  for (const auto& n : names) observation.ptr.names.push_back(name(n));
  return observation;
}

ForwardObservation forward(const std::string& n, std::vector<std::string> addresses,
                           Outcome outcome = Outcome::found) {
  ForwardObservation f;
  f.name = name(n);
  f.outcome = outcome;
  f.ttl = 3600;
  for (const auto& a : addresses) f.addresses.push_back(ip(a));
  return f;
}

const Rules& rules() {
  static const Rules loaded = Rules::defaults();
  return loaded;
}

}  // namespace

TEST_CASE("classify passes a forward-confirmed name, comparing case-insensitively") {
  auto observation = with_ptr("192.0.2.10", {"MAIL.Example.COM"});
  observation.forward.push_back(forward("mail.example.com", {"192.0.2.10"}));
  const Verdict verdict = classify(observation, rules());
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.findings.empty());
  CHECK(name("MAIL.Example.COM") == name("mail.example.com"));
  CHECK(name("MAIL.Example.COM").key() == "mail.example.com");
}

TEST_CASE("classify never turns a temporary failure into NO_PTR or a forward error") {
  IpObservation reverse_failed;
  reverse_failed.ip = ip("192.0.2.1");
  reverse_failed.ptr.outcome = Outcome::tempfail;
  reverse_failed.ptr.failure = "SERVFAIL";
  Verdict verdict = classify(reverse_failed, rules());
  CHECK(codes(verdict) == std::vector<std::string>{"TEMPFAIL"});
  CHECK(verdict.status == Status::unknown);

  auto forward_failed = with_ptr("192.0.2.1", {"mail.example.com"});
  forward_failed.forward.push_back(forward("mail.example.com", {}, Outcome::tempfail));
  forward_failed.forward.back().failure = "timeout";
  verdict = classify(forward_failed, rules());
  CHECK(codes(verdict) == std::vector<std::string>{"TEMPFAIL"});
  CHECK(verdict.status == Status::unknown);
}

TEST_CASE("classify reports LAME_REVERSE as an error with status unknown") {
  IpObservation lame;
  lame.ip = ip("203.0.113.5");
  lame.ptr.outcome = Outcome::tempfail;
  lame.ptr.failure = "no answer after 3 tries";
  lame.ptr.lame_below = name("0.203.in-addr.arpa");
  const Verdict verdict = classify(lame, rules());
  CHECK(codes(verdict) == std::vector<std::string>{"TEMPFAIL", "LAME_REVERSE"});
  CHECK(verdict.findings[1].severity == Severity::error);
  CHECK(verdict.status == Status::unknown);
}

TEST_CASE("classify: one of several PTR names confirming is a warning, not a failure") {
  auto observation = with_ptr("192.0.2.18", {"multi.example.com", "other.example.net"});
  observation.forward.push_back(forward("multi.example.com", {"192.0.2.18"}));
  observation.forward.push_back(forward("other.example.net", {"192.0.2.200"}));
  const Verdict verdict = classify(observation, rules());
  CHECK(codes(verdict) == std::vector<std::string>{"MULTIPLE_PTR"});
  CHECK(verdict.status == Status::warn);
  CHECK_THAT(verdict.findings[0].detail,
             Catch::Contains("other.example.net does not resolve back"));
}

TEST_CASE("classify distinguishes forward errors") {
  auto mismatch = with_ptr("192.0.2.16", {"elsewhere.example.com"});
  mismatch.forward.push_back(forward("elsewhere.example.com", {"192.0.2.99"}));
  CHECK(codes(classify(mismatch, rules())) == std::vector<std::string>{"FORWARD_MISMATCH"});

  auto family = with_ptr("2001:db8::26", {"v4only.example.com"});
  family.forward.push_back(forward("v4only.example.com", {}, Outcome::nodata));
  family.forward.back().other_family = Outcome::found;
  const Verdict family_verdict = classify(family, rules());
  CHECK(codes(family_verdict) == std::vector<std::string>{"FAMILY_MISMATCH"});
  CHECK_THAT(family_verdict.findings[0].detail, Catch::Contains("has A but no AAAA"));

  auto missing = with_ptr("192.0.2.15", {"gone.example.com"});
  missing.forward.push_back(forward("gone.example.com", {}, Outcome::nxdomain));
  const Verdict missing_verdict = classify(missing, rules());
  CHECK(codes(missing_verdict) == std::vector<std::string>{"PTR_NO_FORWARD"});
  CHECK(missing_verdict.status == Status::fail);
}

TEST_CASE("classify flags aliases, classless delegation and TTLs") {
  auto observation = with_ptr("198.51.100.65", {"alias.example.org"});
  observation.ptr.aliases.push_back(name("65.64-26.100.51.198.in-addr.arpa"));
  observation.ptr.ttl = 60;
  observation.forward.push_back(forward("alias.example.org", {"198.51.100.65"}));
  observation.forward.back().aliases.push_back(name("relay.example.org"));
  observation.forward.back().ttl = 86400;
  const Verdict verdict = classify(observation, rules());
  CHECK(codes(verdict) ==
        std::vector<std::string>{"CLASSLESS_DELEGATION", "PTR_TARGET_CNAME", "TTL_NOTE"});
  CHECK(verdict.status == Status::warn);
}

TEST_CASE("classify reports NO_PTR for NXDOMAIN and NODATA") {
  IpObservation nx;
  nx.ip = ip("192.0.2.12");
  nx.ptr.outcome = Outcome::nxdomain;
  CHECK(codes(classify(nx, rules())) == std::vector<std::string>{"NO_PTR"});
  nx.ptr.outcome = Outcome::nodata;
  const Verdict verdict = classify(nx, rules());
  CHECK(codes(verdict) == std::vector<std::string>{"NO_PTR"});
  CHECK(verdict.status == Status::fail);
}

TEST_CASE("host_name_problem enforces host name syntax") {
  CHECK_FALSE(host_name_problem(name("mail-1.example.com")));
  CHECK_FALSE(host_name_problem(name("xn--bcher-kva.example")));
  CHECK(host_name_problem(name("bad_name.example.com")));
  CHECK(host_name_problem(name("mailhost")));
  CHECK(*host_name_problem(name("192.0.2.25")) == "an IP address is not a host name");
  CHECK(host_name_problem(name("-dash.example.com")));
  CHECK(host_name_problem(name("dash-.example.com")));
  CHECK(host_name_problem(name("mail.example.123")));
  CHECK(host_name_problem(DnsName({"a b", "example", "com"})));
  CHECK(host_name_problem(DnsName({std::string(64, 'a'), "com"})));
  std::vector<std::string> long_name(5, std::string(60, 'a'));
  CHECK(*host_name_problem(DnsName(long_name)) == "longer than 253 characters");
  CHECK(host_name_problem(DnsName()));
  CHECK(*host_name_problem(DnsName({"\x1b[31mred", "example", "com"})) ==
        "'\\027' is not allowed in a host name (letters, digits, hyphens)");
}

TEST_CASE("Rules::generic_reason finds embedded addresses and pool tokens") {
  const IpAddress address = ip("192.0.2.19");
  CHECK(rules().generic_reason(name("192-0-2-19.dynamic.example.net"), address));
  CHECK(rules().generic_reason(name("19.2.0.192.example.net"), address));
  CHECK(rules().generic_reason(name("host-c0000213.example.net"), address));
  CHECK(*rules().generic_reason(name("host20.DHCP.example.net"), address) ==
        "has the dynamic-pool token 'dhcp'");
  CHECK_FALSE(rules().generic_reason(name("mail.example.com"), address));
  CHECK_FALSE(rules().generic_reason(name("mail-192-0-2-19.example.net"), address));
  CHECK_FALSE(rules().generic_reason(name("static-192-0-2-19.example.net"), address));
  CHECK_FALSE(rules().generic_reason(name("mx2.example.com"), address));
  // Tokens, exemptions and the hex form match whatever the case in the name.
  CHECK(*rules().generic_reason(name("HOST-C0000213.example.net"), address) ==
        "embeds the address in hex");
  CHECK(*rules().generic_reason(name("19.2.0.192.Example.Net"), address) == "embeds the address");
  CHECK_FALSE(rules().generic_reason(name("STATIC-192-0-2-19.example.net"), address));
  CHECK_FALSE(rules().generic_reason(name("Mail-192-0-2-19.example.net"), address));
  // Numbers are split from letters: "pool20" is the token "pool" and 20.
  CHECK(rules().generic_reason(name("Pool20.example.net"), ip("192.0.2.20")));
}

TEST_CASE("Rules::provider_default matches provider patterns with octets") {
  const IpAddress address = ip("192.0.2.21");
  CHECK(*rules().provider_default(name("ec2-192-0-2-21.compute-1.amazonaws.com"), address) ==
        "Amazon EC2");
  CHECK(*rules().provider_default(name("EC2-192-0-2-21.eu-west-1.compute.amazonaws.com"),
                                  address) == "Amazon EC2");
  CHECK(*rules().provider_default(name("static.21.2.0.192.clients.your-server.de"), address) ==
        "Hetzner");
  CHECK_FALSE(rules().provider_default(name("ec2-192-0-2-22.compute-1.amazonaws.com"), address));
  CHECK_FALSE(rules().provider_default(name("mail.example.com"), address));
}

TEST_CASE("Rules::parse extends the defaults and rejects unknown keys with file and line") {
  const Rules custom = Rules::parse(
      "[generic]\ntokens = [\"Lease\"]\n\n[[provider_default]]\nprovider = \"Example Cloud\"\n"
      "patterns = [\"vm-{a}-{b}-{c}-{d}.example.cloud\"]\n",
      "custom.toml", Rules::defaults());
  const IpAddress address = ip("192.0.2.7");
  CHECK(*custom.generic_reason(name("lease7.example.net"), address) ==
        "has the dynamic-pool token 'lease'");
  CHECK(*custom.provider_default(name("vm-192-0-2-7.example.cloud"), address) == "Example Cloud");
  CHECK(custom.provider_default(name("ec2-192-0-2-7.compute-1.amazonaws.com"), address));

  CHECK_THROWS_WITH(Rules::parse("[generic]\ntokenz = [\"x\"]\n", "custom.toml"),
                    "custom.toml:2: key 'tokenz': unknown key");
  CHECK_THROWS_WITH(Rules::parse("[ttl]\nmin_seconds = \"soon\"\n", "custom.toml"),
                    Catch::StartsWith("custom.toml:2: key 'min_seconds'"));
  CHECK_THROWS_WITH(Rules::parse("[generic\n", "custom.toml"), Catch::StartsWith("custom.toml:1"));
  CHECK_THROWS_AS(Rules::load("/nonexistent/rules.toml"), rdns::Error);
}
