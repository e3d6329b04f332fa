// SPF record terms as the domain expansion reads them, without DNS.

#include <catch2/catch.hpp>

#include <audit/spf_record.hpp>

using namespace rdns::audit;
using spf::Mechanism;

TEST_CASE("an SPF record is v=spf1 alone or followed by a space, in any case") {
  CHECK(spf::is_spf_record("v=spf1"));
  CHECK(spf::is_spf_record("V=SPF1 -all"));
  CHECK_FALSE(spf::is_spf_record("v=spf10 -all"));
  CHECK_FALSE(spf::is_spf_record("v=spf"));
  CHECK_FALSE(spf::is_spf_record(" v=spf1"));
}

TEST_CASE("terms carry their qualifier, mechanism and parsed argument") {
  const auto terms = spf::parse_terms(
      "v=spf1  mx -a:Mail.Example.COM/24//64 ip4:192.0.2.1/24 ~ip6:2001:db8::/32 "
      "include:_SPF.example.net ?all redirect=_spf.example.org exp=why.example.com");
  REQUIRE(terms.size() == 8);
  CHECK(terms[0].mechanism == Mechanism::mx);
  CHECK(terms[0].qualifier == '+');
  CHECK(terms[0].target.empty());  // the record's own domain
  CHECK(terms[1].mechanism == Mechanism::a);
  CHECK(terms[1].qualifier == '-');
  CHECK(terms[1].text == "a:Mail.Example.COM/24//64");
  CHECK(terms[1].target == "mail.example.com");
  CHECK(terms[1].v4_prefix == 24);
  CHECK(terms[1].v6_prefix == 64);
  CHECK(terms[2].mechanism == Mechanism::ip4);
  REQUIRE(terms[2].address);
  CHECK(terms[2].address->to_string() == "192.0.2.1");  // host bits kept; the range masks them
  CHECK(terms[2].prefix == 24);
  CHECK(terms[3].qualifier == '~');
  CHECK(terms[3].mechanism == Mechanism::ip6);
  CHECK(terms[3].prefix == 32);
  CHECK(terms[4].mechanism == Mechanism::include);
  CHECK(terms[4].target == "_spf.example.net");
  CHECK(terms[5].mechanism == Mechanism::all);
  CHECK(terms[5].qualifier == '?');
  CHECK(terms[6].mechanism == Mechanism::redirect);
  CHECK(terms[6].target == "_spf.example.org");
  CHECK(terms[7].mechanism == Mechanism::modifier);
  for (const auto& term : terms) {
    INFO(term.text);
    CHECK_FALSE(term.malformed);
    CHECK_FALSE(term.has_macro);
  }
}

TEST_CASE("malformed terms are marked, never guessed at") {
  for (const char* text :
       {"ip4:192.0.2.1/33", "ip4:2001:db8::1", "ip6:192.0.2.1", "ip4", "ip4:", "ip4=192.0.2.1",
        "ip6:::1/129", "ip4:192.0.2.1/", "a/33", "mx//129", "a:/24x", "a:bad..name",
        "include:", "redirect=", "ip4:192.0.2.1/0024"}) {
    INFO(text);
    const auto terms = spf::parse_terms(std::string("v=spf1 ") + text);
    REQUIRE(terms.size() == 1);
    CHECK(terms[0].malformed);
  }
  const auto long_label = spf::parse_terms("v=spf1 a:" + std::string(64, 'x') + ".example.com");
  CHECK(long_label[0].malformed);
  const auto unknown = spf::parse_terms("v=spf1 foo");
  CHECK(unknown[0].mechanism == Mechanism::unknown);
}

TEST_CASE("a macro is noticed before its argument is read as a name") {
  const auto terms = spf::parse_terms("v=spf1 exists:%{i}._spf.example.com a:%{d}");
  REQUIRE(terms.size() == 2);
  CHECK(terms[0].has_macro);
  CHECK(terms[0].mechanism == Mechanism::exists);
  CHECK(terms[1].has_macro);
  CHECK_FALSE(terms[1].malformed);
  CHECK(terms[1].target.empty());
}

TEST_CASE("domain names from records keep their bytes within the DNS limits") {
  CHECK(spf::domain_name("example.com.")->labels().size() == 2);
  CHECK(spf::domain_name("a\\b.example")->labels()[0] == "a\\b");
  CHECK_FALSE(spf::domain_name(""));
  CHECK_FALSE(spf::domain_name("."));
  CHECK_FALSE(spf::domain_name("a..b"));
  CHECK_FALSE(spf::domain_name(std::string(64, 'a') + ".example"));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  CHECK_FALSE(spf::domain_name(long_name));
}
