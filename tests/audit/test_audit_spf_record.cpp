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
  CHECK(terms[7].mechanism == Mechanism::exp);
  CHECK(terms[7].target == "why.example.com");
  for (const auto& term : terms) {
    INFO(term.text);
    CHECK_FALSE(term.malformed);
    CHECK_FALSE(term.has_macro);
  }
}

TEST_CASE("malformed terms are marked, never guessed at") {
  for (const char* text : {"ip4:192.0.2.1/33", "ip4:2001:db8::1", "ip6:192.0.2.1", "ip4",
                           "ip4:", "ip6:::1/129", "ip4:192.0.2.1/", "a/33", "mx//129", "a:/24x",
                           "a:bad..name", "include:", "redirect=", "ip4:192.0.2.1/0024"}) {
    INFO(text);
    const auto terms = spf::parse_terms(std::string("v=spf1 ") + text);
    REQUIRE(terms.size() == 1);
    CHECK(terms[0].malformed);
  }
  const auto long_label = spf::parse_terms("v=spf1 a:" + std::string(64, 'x') + ".example.com");
  CHECK(long_label[0].malformed);
  const auto unknown = spf::parse_terms("v=spf1 foo");
  CHECK(unknown[0].mechanism == Mechanism::unknown);
  CHECK(unknown[0].malformed);
  // name "=" macro-string: an unknown modifier, ignored by receivers, even
  // when its name is a mechanism's.
  const auto modifier = spf::parse_terms("v=spf1 ip4=192.0.2.1");
  CHECK(modifier[0].mechanism == Mechanism::modifier);
  CHECK_FALSE(modifier[0].malformed);
}

TEST_CASE("a macro is noticed before its argument is read as a name") {
  const auto terms = spf::parse_terms("v=spf1 exists:%{i}._spf.example.com a:%{d}");
  REQUIRE(terms.size() == 2);
  CHECK(terms[0].has_macro);
  CHECK(terms[0].mechanism == Mechanism::exists);
  CHECK(terms[1].has_macro);
  CHECK_FALSE(terms[1].malformed);
  CHECK(terms[1].target == "%{d}");  // kept as written, never queried
}

TEST_CASE("terms that break RFC 7208's grammar are malformed, with the reason") {
  for (const char* text : {"a:foo-bar",
                           "mx:",
                           "a:",
                           "include:",
                           "exists:",
                           "exists",
                           "include",
                           "ptr:",
                           "a:111.222.33.44",
                           "a:abc.123",
                           "mx:abc.123",
                           "a:example.-com",
                           "a:museum",
                           "a:museum.",
                           "a:example.com:8080",
                           "-all.",
                           "all:foobar",
                           "all/8",
                           "ptr/0",
                           "exists:example.com/24",
                           "include:example.com/24",
                           "ip4:192.0.2.1/032",
                           "a/032",
                           "a/24/64",
                           "ip4:192.0.2.1//32",
                           "ip6:::1//33",
                           "ip6::CAFE::BABE",
                           "a:ctrl.example.com\rptr",
                           "redirect:example.com",
                           "1up=foo",
                           "=all",
                           "-redirect=example.com",
                           "foo=%abc",
                           "exp=%{r}.example.com",
                           "exists:%(ir).example.com",
                           "exists:foo%.example.com",
                           "a:%{a}.example.com",
                           "a:%{d0}.example.com",
                           "moo.cow/far_out=man:dog/cat",
                           "moo.cow:far_out=man:dog/cat",
                           "exp=-all",
                           "redirect=-all",
                           "a:\xEF\xBB\xBFgarbage.example.net",
                           "\x96"
                           "all"}) {
    const std::string record = std::string("v=spf1 ") + text;
    INFO(record);
    const auto terms = spf::parse_terms(record);
    REQUIRE(terms.size() == 1);
    CHECK(terms[0].malformed);
    CHECK_FALSE(terms[0].problem.empty());
  }
  const std::string with_nul("v=spf1 a:foo.example.com\0", 25);
  CHECK(spf::parse_terms(with_nul)[0].malformed);
}

TEST_CASE("what RFC 7208's grammar allows is not malformed") {
  const auto terms = spf::parse_terms(
      "v=spf1 a:foo:bar/baz.example.com mx:foo:bar/baz.example.com/24 a:foo.example.xn--zckzah "
      "a/0 a//0 mx/24//64 ip4:1.1.1.1/0 ip6:Cafe:Babe:8000::/33 moo.cow-far_out=man:dog/cat "
      "exists:%{i}.%{l2r-}.user.%{d2} a:%{H} include:%{d}.example.com. ptr ptr:example.com "
      "exp=explain.example.com REDIRECT=Example.COM. -ALL");
  REQUIRE(terms.size() == 17);
  for (const auto& term : terms) {
    INFO(term.text << ": " << term.problem);
    CHECK_FALSE(term.malformed);
  }
  CHECK(terms[0].target == "foo:bar/baz.example.com");
  CHECK(terms[1].target == "foo:bar/baz.example.com");
  CHECK(terms[1].v4_prefix == 24);
  CHECK(terms[3].v4_prefix == 0);
  CHECK(terms[4].v6_prefix == 0);
  CHECK(terms[5].v4_prefix == 24);
  CHECK(terms[5].v6_prefix == 64);
  CHECK(terms[8].mechanism == Mechanism::modifier);
  CHECK(terms[14].mechanism == Mechanism::exp);
  CHECK(terms[14].target == "explain.example.com");
  CHECK(terms[15].mechanism == Mechanism::redirect);
  CHECK(terms[15].target == "example.com.");
  CHECK(terms[16].mechanism == Mechanism::all);
  CHECK(terms[16].qualifier == '-');
}

TEST_CASE("redirect and exp may each appear once") {
  const auto twice = spf::parse_terms(
      "v=spf1 redirect=a.example.com exp=x.example.com -all redirect=a.example.com "
      "exp=y.example.com");
  REQUIRE(twice.size() == 5);
  CHECK_FALSE(twice[0].malformed);
  CHECK_FALSE(twice[1].malformed);
  CHECK(twice[3].malformed);
  CHECK(twice[4].malformed);
}

TEST_CASE("domain names from records keep their bytes within the DNS limits") {
  CHECK(spf::domain_name("example.com.")->label_count() == 2);
  CHECK(spf::domain_name("a\\b.example")->label(0) == "a\\b");
  CHECK_FALSE(spf::domain_name(""));
  CHECK_FALSE(spf::domain_name("."));
  CHECK_FALSE(spf::domain_name("a..b"));
  CHECK_FALSE(spf::domain_name(std::string(64, 'a') + ".example"));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  CHECK_FALSE(spf::domain_name(long_name));
}
