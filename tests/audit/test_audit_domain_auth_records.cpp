// The DMARC, MTA-STS and TLS-RPT parsers on their own, without DNS or HTTPS.

#include <string>

#include <catch2/catch.hpp>

#include <audit/domain_auth_records.hpp>

using namespace rdns::audit::auth;

TEST_CASE("a tag list keeps names lower-cased and values trimmed, and names what is not one") {
  const TagList list = parse_tag_list("  v = DMARC1 ;P=reject;; rua=mailto:a@b.example ;");
  REQUIRE(list.tags.size() == 3);
  CHECK(list.tags[0].name == "v");
  CHECK(list.tags[0].value == "DMARC1");
  CHECK(list.tags[1].name == "p");
  CHECK(list.tags[2].value == "mailto:a@b.example");
  CHECK(list.problems.empty());

  const TagList broken = parse_tag_list("v=DMARC1; reject; 9x=1; =2");
  CHECK(broken.tags.size() == 1);
  REQUIRE(broken.problems.size() == 3);
  CHECK(broken.problems[0] == "'reject' is not name=value");
  CHECK(broken.problems[1] == "'9x' is not a tag name");
}

TEST_CASE("a DMARC record begins with v=DMARC1, case-sensitively") {
  CHECK(is_dmarc_record("v=DMARC1; p=none"));
  CHECK(is_dmarc_record("v = DMARC1"));
  CHECK_FALSE(is_dmarc_record("v=dmarc1; p=none"));
  CHECK_FALSE(is_dmarc_record("p=reject; v=DMARC1"));
  CHECK_FALSE(is_dmarc_record("v=spf1 -all"));
  CHECK_FALSE(is_dmarc_record(""));
}

TEST_CASE("parse_dmarc accepts a valid record and reads its policies and destinations") {
  const DmarcRecord record = parse_dmarc(
      "v=DMARC1; p=Reject; sp=none; pct=100; adkim=s; aspf=r; fo=1:d; ri=86400; rf=afrf; "
      "rua=mailto:a@example.com,mailto:b@reports.example!10m; ruf=https://r.example/dmarc; "
      "future=anything");
  CHECK(record.problems.empty());
  CHECK(record.policy == "reject");
  CHECK(record.subdomain_policy == "none");
  CHECK(record.aggregate_uris ==
        std::vector<std::string>{"mailto:a@example.com", "mailto:b@reports.example!10m"});
  CHECK(record.failure_uris == std::vector<std::string>{"https://r.example/dmarc"});
}

TEST_CASE("parse_dmarc names every bad value, a missing p and a repeated tag") {
  const DmarcRecord bad = parse_dmarc(
      "v=DMARC1; p=block; sp=all; pct=101; adkim=x; aspf=; fo=2; ri=-1; "
      "rua=ftp://x.example/r,mailto:nobody; rua=mailto:a@b.example");
  CHECK(bad.policy.empty());
  REQUIRE(bad.problems.size() == 10);
  CHECK(bad.problems[0] == "p='block' is not none, quarantine or reject");
  CHECK(bad.problems[1] == "sp='all' is not none, quarantine or reject");
  CHECK(bad.problems[2] == "pct='101' is not a whole number from 0 to 100");
  CHECK(bad.problems[3] == "adkim='x' is not r or s");
  CHECK(bad.problems[4] == "aspf='' is not r or s");
  CHECK(bad.problems[5] == "fo='2' holds an option other than 0, 1, d or s");
  CHECK(bad.problems[6] == "ri='-1' is not a number of seconds");
  CHECK(bad.problems[7] == "rua destination 'ftp://x.example/r' is not a mailto: or https: URI");
  CHECK(bad.problems[8] == "rua destination 'mailto:nobody' is not a mail address");
  CHECK(bad.problems[9] == "tag 'rua' appears twice");
  CHECK(bad.aggregate_uris.empty());

  CHECK(parse_dmarc("v=DMARC1; rua=mailto:a@b.example").problems ==
        std::vector<std::string>{"the required p= tag is missing"});
  CHECK(parse_dmarc("p=none; v=DMARC1").problems ==
        std::vector<std::string>{"v=DMARC1 is not the first tag"});
}

TEST_CASE("DMARC problems escape and shorten hostile text, and stay few") {
  const DmarcRecord record = parse_dmarc("v=DMARC1; p=\x1b[31mred; " + std::string(500, 'x'));
  REQUIRE(record.problems.size() == 2);
  CHECK(record.problems[0] == "'" + std::string(120, 'x') + "...' is not name=value");
  CHECK(record.problems[1] == "p='\\027[31mred' is not none, quarantine or reject");

  std::string many = "v=DMARC1; p=none";
  for (int i = 0; i < 100; ++i) many += "; pct=" + std::to_string(200 + i);
  CHECK(parse_dmarc(many).problems.size() == 10);
}

TEST_CASE("mailto_domain takes the domain of a mail address, without a size suffix") {
  CHECK(mailto_domain("mailto:dmarc@Reports.Example.") == "reports.example");
  CHECK(mailto_domain("MAILTO:d@example.com!10m") == "example.com");
  CHECK(mailto_domain("mailto:\"odd@local\"@example.org") == "example.org");
  CHECK_FALSE(mailto_domain("mailto:nobody"));
  CHECK_FALSE(mailto_domain("mailto:@example.com"));
  CHECK_FALSE(mailto_domain("mailto:a@exa mple.com"));
  CHECK_FALSE(mailto_domain("mailto:a@example..com"));
  CHECK_FALSE(mailto_domain("https://example.com/"));
}

TEST_CASE("the MTA-STS TXT record needs v=STSv1 first and an id of letters and digits") {
  CHECK(is_sts_record("v=STSv1; id=20160831085700Z;"));
  CHECK_FALSE(is_sts_record("v=STSv2; id=1"));
  CHECK(sts_record_problems("v=STSv1; id=20160831085700Z;").empty());
  CHECK(sts_record_problems("v=STSv1; id=abc; ext=1").empty());
  CHECK(sts_record_problems("v=STSv1") ==
        std::vector<std::string>{"the required id= tag is missing"});
  CHECK(sts_record_problems("v=STSv1; id=not-valid!") ==
        std::vector<std::string>{"id='not-valid!' is not 1 to 32 letters and digits"});
  CHECK(sts_record_problems("v=STSv1; id=" + std::string(33, 'a')).size() == 1);
}

TEST_CASE("parse_sts_policy reads a valid policy with CRLF or LF line ends") {
  const StsPolicy policy = parse_sts_policy(
      "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET\r\n"
      "max_age: 604800\r\nfuture: ignored\r\n");
  CHECK(policy.problems.empty());
  CHECK(policy.mode == StsMode::enforce);
  CHECK(policy.max_age == 604800);
  CHECK(policy.mx == std::vector<std::string>{"mail.example.com", "*.example.net"});

  const StsPolicy none = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 0");
  CHECK(none.problems.empty());
  CHECK(none.mode == StsMode::none);
  CHECK(none.max_age == 0);
}

TEST_CASE("parse_sts_policy names bad values, missing keys and a mode without mx") {
  const StsPolicy bad = parse_sts_policy(
      "version: STSv2\nmode: strict\nmax_age: 31557601\nmx: bad..host\nnonsense\n");
  CHECK(bad.problems ==
        std::vector<std::string>{"version 'STSv2' is not STSv1",
                                 "mode 'strict' is not enforce, testing or none",
                                 "max_age '31557601' is not a whole number from 0 to 31557600",
                                 "mx 'bad..host' is not a host name or *.domain",
                                 "line 5 'nonsense' is not key: value"});
  CHECK(parse_sts_policy("version: STSv1\nmode: testing\nmax_age: 86400\n").problems ==
        std::vector<std::string>{"no mx line, which any mode but none needs"});
  CHECK(parse_sts_policy("").problems == std::vector<std::string>{"version: STSv1 is missing",
                                                                  "mode is missing",
                                                                  "max_age is missing"});
  CHECK(parse_sts_policy("version: STSv1\nversion: STSv1\nmode: none\nmax_age: 1").problems ==
        std::vector<std::string>{"'version' appears twice"});
  CHECK(parse_sts_policy("version: STSv1\nmode: none\nmax_age: 99999999999").problems.size() == 1);
}

TEST_CASE("an MTA-STS mx wildcard stands for exactly one label") {
  CHECK(mx_pattern_matches("mail.example.com", "MAIL.example.com."));
  CHECK(mx_pattern_matches("*.example.com", "mx1.example.com"));
  CHECK_FALSE(mx_pattern_matches("*.example.com", "example.com"));
  CHECK_FALSE(mx_pattern_matches("*.example.com", "a.b.example.com"));
  CHECK_FALSE(mx_pattern_matches("*.example.com", "mx1.example.org"));
  CHECK_FALSE(mx_pattern_matches("mail.example.com", "mail2.example.com"));
}

TEST_CASE("a TLS-RPT record needs v=TLSRPTv1 and rua with mailto: or https: destinations") {
  CHECK(is_tlsrpt_record("v=TLSRPTv1; rua=mailto:tls@example.com"));
  CHECK_FALSE(is_tlsrpt_record("v=spf1 -all"));
  CHECK(tlsrpt_problems("v=TLSRPTv1; rua=mailto:tls@example.com, https://r.example/v1").empty());
  CHECK(tlsrpt_problems("v=TLSRPTv1;") ==
        std::vector<std::string>{"the required rua= tag is missing"});
  CHECK(tlsrpt_problems("v=TLSRPTv1; rua=ftp://r.example/x") ==
        std::vector<std::string>{
            "rua destination 'ftp://r.example/x' is not a mailto: address or an https: URL"});
  CHECK(tlsrpt_problems("v=TLSRPTv1; rua=https://") ==
        std::vector<std::string>{
            "rua destination 'https://' is not a mailto: address or an https: URL"});
}
