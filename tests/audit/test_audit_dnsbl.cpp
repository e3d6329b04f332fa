// DNS blocklists: query names (RFC 5782, a key zone), return codes read
// with the list's own table, and the rules' [[dnsbl]] tables. The lab's
// lists are audited in tests/cli/test_cli_dnsbl.cpp.

#include <catch2/catch.hpp>

#include <audit/dnsbl.hpp>
#include <audit/rules.hpp>

using namespace rdns::audit;

namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

DnsblList zen_like() {
  DnsblList list;
  list.zone = "zen.example";
  list.key_zone = "dq.example";
  list.ipv6 = true;
  list.severity = rdns::Severity::warning;
  list.codes = {{ip("127.0.0.4"), "XBL", rdns::Severity::error},
                {ip("127.0.0.10"), "PBL", rdns::Severity::error},
                {ip("127.0.0.3"), "CSS", rdns::Severity::warning}};
  list.errors = {{ip("127.255.255.254"), "public resolver"}};
  return list;
}

}  // namespace

TEST_CASE("blocklist query names reverse the address under the zone or the key zone") {
  const DnsblList list = zen_like();
  CHECK(dnsbl_query_name(list, ip("192.0.2.11"), "")->presentation() == "11.2.0.192.zen.example");
  CHECK(dnsbl_query_name(list, ip("192.0.2.11"), "k3y")->presentation() ==
        "11.2.0.192.k3y.dq.example");
  CHECK(dnsbl_query_name(list, ip("2001:db8::25"), "")->presentation() ==
        "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example");
  DnsblList v4_only = list;
  v4_only.ipv6 = false;
  CHECK_FALSE(dnsbl_query_name(v4_only, ip("2001:db8::25"), ""));
  CHECK(dnsbl_test_listed(Family::ipv6).to_string() == "::ffff:127.0.0.2");
  CHECK(dnsbl_test_unlisted(Family::ipv4).to_string() == "127.0.0.1");
}

TEST_CASE("blocklist answers: codes are listings, error answers never are") {
  const DnsblList list = zen_like();
  CHECK(read_dnsbl_answer(list, {}).kind == DnsblReading::Kind::not_listed);

  const DnsblReading both = read_dnsbl_answer(list, {ip("127.0.0.3"), ip("127.0.0.4")});
  CHECK(both.kind == DnsblReading::Kind::listed);
  CHECK(both.severity == rdns::Severity::error);  // the gravest code's
  CHECK(both.meanings == std::vector<std::string>{"127.0.0.3 CSS", "127.0.0.4 XBL"});

  const DnsblReading unknown_code = read_dnsbl_answer(list, {ip("127.0.0.77")});
  CHECK(unknown_code.kind == DnsblReading::Kind::listed);
  CHECK(unknown_code.severity == rdns::Severity::warning);  // the list's own severity

  for (const char* error : {"127.255.255.254", "127.0.0.1", "10.0.0.1", "198.51.100.1"}) {
    INFO(error);
    const DnsblReading reading = read_dnsbl_answer(list, {ip(error)});
    CHECK(reading.kind == DnsblReading::Kind::error);
  }
  // An error beside a code: the list did not look, so no listing either.
  CHECK(read_dnsbl_answer(list, {ip("127.0.0.4"), ip("127.255.255.254")}).kind ==
        DnsblReading::Kind::error);
  CHECK_THAT(read_dnsbl_answer(list, {ip("127.255.255.254")}).meanings[0],
             Catch::Contains("public resolver"));
}

TEST_CASE("the built-in rules hold the default blocklists with Spamhaus's codes") {
  const Rules rules = Rules::defaults();
  REQUIRE(!rules.dnsbls.empty());
  const DnsblList& zen = rules.dnsbls.front();
  CHECK(zen.zone == "zen.spamhaus.org");
  CHECK(zen.key_zone == "zen.dq.spamhaus.net");
  CHECK(zen.ipv6);
  const DnsblReading pbl = read_dnsbl_answer(zen, {ip("127.0.0.10")});
  CHECK(pbl.kind == DnsblReading::Kind::listed);
  CHECK(pbl.severity == rdns::Severity::error);  // a PBL listing of a mail server
  for (const char* error : {"127.255.255.252", "127.255.255.254", "127.255.255.255"}) {
    CHECK(read_dnsbl_answer(zen, {ip(error)}).kind == DnsblReading::Kind::error);
  }
  for (const DnsblList& list : rules.dnsbls) CHECK(list.zone != "dnsbl.sorbs.net");  // shut down
}

TEST_CASE(
    "[[dnsbl]] tables: a later one replaces the list of the same zone; errors name the line") {
  const Rules rules = Rules::parse(R"(
[[dnsbl]]
zone = "zen.spamhaus.org"
enabled = false
[[dnsbl]]
zone = "BL.Example.NET"
qps = 5
codes = [{ answer = "127.0.0.2", meaning = "spam", severity = "warning" }]
)",
                                   "mine.toml", Rules::defaults());
  const auto zen = std::find_if(rules.dnsbls.begin(), rules.dnsbls.end(),
                                [](const DnsblList& l) { return l.zone == "zen.spamhaus.org"; });
  REQUIRE(zen != rules.dnsbls.end());
  CHECK_FALSE(zen->enabled);
  CHECK(zen->codes.empty());
  CHECK(rules.dnsbls.back().zone == "bl.example.net");
  CHECK(rules.dnsbls.back().qps == 5);

  CHECK_THROWS_WITH(Rules::parse("[[dnsbl]]\nzone = \"a..b\"\n", "bad.toml"),
                    Catch::Contains("bad.toml:2: key 'zone'"));
  CHECK_THROWS_WITH(
      Rules::parse(
          "[[dnsbl]]\nzone = \"x.example\"\ncodes = [{ answer = \"::1\", meaning = \"m\" }]\n",
          "bad.toml"),
      Catch::Contains("key 'answer': expected an IPv4 address"));
  CHECK_THROWS_WITH(Rules::parse("[[dnsbl]]\nqps = 5\n", "bad.toml"),
                    Catch::Contains("needs 'zone'"));
}
