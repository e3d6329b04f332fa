// Domain expansion (MX and SPF) against the real zones in samples/zones/spf.example.zone.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <audit/domains.hpp>
#include <lab/dns_lab.hpp>
#include <util/error.hpp>

#include "lab_options.hpp"

using namespace rdns::audit;
using rdns::test::lab_options;

namespace {

/// Each address (or range) expanded, with the "via" texts that led to it.
std::map<std::string, std::set<std::string>> by_range(const DomainExpansion& expansion) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [range, source] : expansion.ranges) {
    const std::string key = range.first == range.last
                                ? range.first.to_string()
                                : range.first.to_string() + "-" + range.last.to_string();
    out[key].insert(source.via);
  }
  return out;
}

/// The MX and SPF findings: the DMARC, MTA-STS and TLS-RPT checks every
/// domain gets as well are test_audit_domain_auth's.
std::vector<DomainFinding> sending_findings(const DomainExpansion& expansion) {
  std::vector<DomainFinding> out;
  for (const auto& finding : expansion.findings) {
    const bool authentication = finding.code.starts_with("DMARC_") ||
                                finding.code.starts_with("MTASTS_") ||
                                finding.code.starts_with("TLSRPT_");
    if (!authentication) out.push_back(finding);
  }
  return out;
}

std::set<std::string> codes(const DomainExpansion& expansion) {
  std::set<std::string> out;
  for (const auto& finding : sending_findings(expansion)) out.insert(finding.code);
  return out;
}

}  // namespace

TEST_CASE("expand_domains collects MX hosts and every SPF mechanism") {
  const DomainExpansion expansion = expand_domains({"good.spf.example"}, lab_options());
  const auto ranges = by_range(expansion);
  CHECK(ranges.at("192.0.2.10") == std::set<std::string>{"MX mail.example.com", "SPF mx"});
  CHECK(ranges.at("192.0.2.12") == std::set<std::string>{"MX mx2.good.spf.example", "SPF mx"});
  CHECK(ranges.at("198.51.100.10") == std::set<std::string>{"SPF ip4:198.51.100.10"});
  CHECK(ranges.at("198.51.100.65") == std::set<std::string>{"SPF a:relay.example.org"});
  CHECK(ranges.at("192.0.2.16-192.0.2.17") ==
        std::set<std::string>{"SPF include:_spf.good.spf.example ip4:192.0.2.16/31"});
  CHECK(ranges.at("2001:db8::25") ==
        std::set<std::string>{"SPF include:_spf.good.spf.example ip6:2001:db8::25"});
  CHECK(ranges.size() == 6);
  CHECK(codes(expansion).empty());
  for (const auto& [range, source] : expansion.ranges) {
    CHECK(source.domain == "good.spf.example");
    if (source.via == "MX mx2.good.spf.example")
      CHECK(source.expected_name == "mx2.good.spf.example");
  }
}

TEST_CASE("expand_domains understands null MX, implicit MX and redirect") {
  const auto nullmx = expand_domains({"nullmx.spf.example"}, lab_options());
  CHECK(nullmx.ranges.empty());
  CHECK(codes(nullmx) == std::set<std::string>{"MX_NULL"});

  const auto nomx = expand_domains({"nomx.spf.example"}, lab_options());
  CHECK(by_range(nomx).at("192.0.2.11") == std::set<std::string>{"implicit MX", "SPF a"});
  CHECK(codes(nomx) == std::set<std::string>{"MX_NONE"});

  const auto redirect = expand_domains({"redirect.spf.example"}, lab_options());
  CHECK(by_range(redirect).at("198.51.100.10") ==
        std::set<std::string>{"SPF redirect=good.spf.example ip4:198.51.100.10"});
  CHECK(codes(redirect).empty());
}

TEST_CASE("expand_domains reports broken SPF as findings of the domain") {
  const auto loop = expand_domains({"loop.spf.example"}, lab_options());
  REQUIRE(codes(loop) == std::set<std::string>{"SPF_PERMERROR"});
  CHECK_THAT(loop.findings[0].detail,
             Catch::Contains("loop.spf.example -> loop2.spf.example -> loop.spf.example"));

  const auto limit = expand_domains({"limit.spf.example"}, lab_options());
  REQUIRE(codes(limit) == std::set<std::string>{"SPF_PERMERROR"});
  CHECK_THAT(limit.findings[0].detail, Catch::Contains("include:l11.spf.example"));
  const auto limit_ranges = by_range(limit);
  CHECK(limit_ranges.count("198.51.100.110") == 1);  // the tenth lookup still counts
  CHECK(limit_ranges.count("198.51.100.111") == 0);

  const auto voids = expand_domains({"voids.spf.example"}, lab_options());
  REQUIRE(codes(voids) == std::set<std::string>{"SPF_PERMERROR"});
  CHECK_THAT(voids.findings[0].detail, Catch::Contains("a:nx3.spf.example"));

  const auto two = expand_domains({"twospf.spf.example"}, lab_options());
  CHECK(codes(two) == std::set<std::string>{"SPF_PERMERROR"});
  CHECK(by_range(two).count("192.0.2.10") == 1);  // from MX, not from either SPF record
}

TEST_CASE("expand_domains keeps the rest of an SPF record when an include SERVFAILs") {
  const auto expansion = expand_domains({"servfail.spf.example"}, lab_options());
  REQUIRE(codes(expansion) == std::set<std::string>{"SPF_TEMPFAIL"});
  CHECK_THAT(expansion.findings[0].detail,
             Catch::Contains("x.broken.example.net") && Catch::Contains("SERVFAIL"));
  CHECK(by_range(expansion).at("192.0.2.20") == std::set<std::string>{"SPF ip4:192.0.2.20"});
}

TEST_CASE("expand_domains refuses SPF targets that are not domain names, without asking DNS") {
  const auto expansion = expand_domains({"badnames.spf.example"}, lab_options());
  CHECK(codes(expansion) == std::set<std::string>{"SPF_PERMERROR"});
  REQUIRE(sending_findings(expansion).size() == 2);
  CHECK_THAT(expansion.findings[0].detail, Catch::Contains("a:relay..example.org"));
  CHECK_THAT(expansion.findings[1].detail, Catch::Contains("DNS cannot be asked about"));
  CHECK(by_range(expansion).at("192.0.2.10").count("SPF ip4:192.0.2.10") == 1);
}

TEST_CASE("expand_domains leaves out what an SPF term authorises beyond its bound, with findings") {
  const auto expansion = expand_domains({"broad.spf.example"}, lab_options());
  CHECK(codes(expansion) == std::set<std::string>{"SPF_TOO_BROAD", "SENDERS_NOT_AUDITED"});
  std::set<std::string> details;
  for (const auto& finding : sending_findings(expansion))
    details.insert(finding.code + " " + finding.detail);
  CHECK(details.size() == 3);
  CHECK_THAT(*details.begin(), Catch::Contains("ip4:0.0.0.0/0: 2^32 addresses"));
  CHECK_THAT(*details.rbegin(), Catch::Contains("ip4:0.0.0.0/0 authorises 2^32 addresses"));
  const auto ranges = by_range(expansion);
  CHECK(ranges.size() == 2);
  CHECK(ranges.count("192.0.2.16-192.0.2.31") == 1);
  CHECK(ranges.count("192.0.2.10") == 1);
  // What is left out is still listed as authorised, for whoever needs the whole picture.
  std::set<std::string> left_out;
  for (const auto& [range, source] : expansion.not_audited) {
    left_out.insert(range.first.to_string() + "-" + range.last.to_string() + " " + source.via);
  }
  CHECK(left_out == std::set<std::string>{
                        "0.0.0.0-255.255.255.255 SPF ip4:0.0.0.0/0",
                        "2001:db8::-2001:db8:7fff:ffff:ffff:ffff:ffff:ffff SPF ip6:2001:db8::/33"});
}

TEST_CASE("expand_domains rejects names that are not domains") {
  CHECK_THROWS_AS(expand_domains({"not a domain"}, lab_options()), rdns::Error);
  CHECK_THROWS_AS(expand_domains({"192.0.2.1"}, lab_options()), rdns::Error);
  CHECK_NOTHROW(expand_domains({}, lab_options()));
}

TEST_CASE("expand_domains warns about ptr, ?all, +all and a record too long for 512 bytes") {
  const auto weak = expand_domains({"weak.spf.example"}, lab_options());
  CHECK(codes(weak) ==
        std::set<std::string>{"SPF_PTR_MECHANISM", "SPF_RECORD_LONG", "SPF_NEUTRAL_ALL"});
  CHECK(by_range(weak).count("192.0.2.40") == 1);  // the record is still used
  const auto pass_all = expand_domains({"passall.spf.example"}, lab_options());
  CHECK(codes(pass_all) == std::set<std::string>{"SPF_TOO_BROAD"});
  bool said = false;
  for (const auto& finding : pass_all.findings) {
    INFO(finding.detail);
    said =
        said || finding.detail.find("SPF +all: every server on the Internet") != std::string::npos;
  }
  CHECK(said);
}
