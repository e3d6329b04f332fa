// DMARC, MTA-STS and TLS-RPT of --domain against the real zones in
// samples/zones/auth.example.zone and reports.example.zone, with the MTA-STS
// policies served over HTTPS on 127.0.0.1 by a CA the test makes.

#include <set>
#include <string>

#include <catch2/catch.hpp>

#include <audit/domains.hpp>
#include <audit/vocabulary.hpp>
#include <lab/dns_lab.hpp>

#include "lab_options.hpp"
#include "mta_sts_server.hpp"

using namespace rdns::audit;
using rdns::test::lab_options;
using rdns::test::MtaStsServer;
using rdns::test::ServedPolicy;

namespace {

/// The codes starting with `prefix` ("DMARC_", "MTASTS_", "TLSRPT_").
std::set<std::string> codes(const DomainExpansion& expansion, const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& finding : expansion.findings) {
    if (finding.code.starts_with(prefix)) out.insert(finding.code);
  }
  return out;
}

/// The detail of the one finding with `code`.
std::string detail(const DomainExpansion& expansion, const std::string& code) {
  std::string found;
  int count = 0;
  for (const auto& finding : expansion.findings) {
    if (finding.code == code) {
      found = finding.detail;
      ++count;
    }
  }
  INFO(code);
  REQUIRE(count == 1);
  return found;
}

DomainExpansion expand(const std::string& domain, const AuditOptions& options = lab_options()) {
  return expand_domains({domain}, options);
}

const std::string kPolicy = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\n";

/// The policy server of the auth.example cases: every case's host is in
/// the certificate but mta-sts.stscert.auth.example.
MtaStsServer policy_server() {
  std::map<std::string, ServedPolicy> policies = {
      {"mta-sts.good.auth.example", {200, "text/plain; charset=utf-8", kPolicy}},
      {"mta-sts.testing.auth.example",
       {200, "text/plain",
        "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 86400\r\n"}},
      {"mta-sts.wildcard.auth.example",
       {200, "text/plain",
        "version: STSv1\nmode: enforce\nmx: *.wildcard.auth.example\nmax_age: 86400\n"}},
      {"mta-sts.stsbad.auth.example",
       {200, "text/plain", "version: STSv2\nmode: strict\nmax_age: 99999999999\n"}},
      {"mta-sts.ststype.auth.example", {200, "text/html", kPolicy}},
      {"mta-sts.stsbig.auth.example", {200, "text/plain", kPolicy + std::string(70000, '#')}},
      {"mta-sts.stsnone.auth.example",
       {200, "text/plain", "version: STSv1\nmode: none\nmax_age: 86400\n"}},
      {"mta-sts.stscert.auth.example", {200, "text/plain", kPolicy}},
  };
  std::vector<std::string> names;
  for (const std::string name : {"good", "testing", "wildcard", "stsbad", "ststype", "sts404",
                                 "stsbig", "stsnone", "stsdown"}) {
    names.push_back("mta-sts." + name + ".auth.example");
  }
  return MtaStsServer(policies, names);
}

AuditOptions options_for(const MtaStsServer& server) {
  AuditOptions options = lab_options();
  options.mta_sts_port = static_cast<std::uint16_t>(server.port());
  options.ca_file = server.ca_file();
  return options;
}

}  // namespace

TEST_CASE("a domain with DMARC, MTA-STS and TLS-RPT in order has no finding about them") {
  const MtaStsServer server = policy_server();
  const DomainExpansion good = expand("good.auth.example", options_for(server));
  CHECK(codes(good, "DMARC_").empty());
  CHECK(codes(good, "MTASTS_").empty());
  CHECK(codes(good, "TLSRPT_").empty());
  CHECK(good.findings.empty());
}

TEST_CASE("missing policies are findings; DMARC looks one label up first") {
  const DomainExpansion missing = expand("missing.auth.example");
  CHECK(codes(missing, "") ==
        std::set<std::string>{"DMARC_NONE", "MTASTS_NONE", "TLSRPT_NONE", "SPF_NONE"});
  CHECK(detail(missing, "DMARC_NONE") ==
        "no DMARC record at _dmarc.missing.auth.example or _dmarc.auth.example");
  CHECK(find_code("DMARC_NONE")->severity == rdns::Severity::warning);

  const DomainExpansion inherited = expand("sub.inherit.auth.example");
  CHECK(codes(inherited, "DMARC_") == std::set<std::string>{"DMARC_MONITOR_ONLY"});
  CHECK_THAT(detail(inherited, "DMARC_MONITOR_ONLY"),
             Catch::StartsWith("sp=none") &&
                 Catch::EndsWith("(the record of inherit.auth.example, one label up, applies)"));
  // The parent itself is under p=reject; its sp=none is about its subdomains.
  const DomainExpansion parent = expand("inherit.auth.example");
  CHECK_THAT(detail(parent, "DMARC_MONITOR_ONLY"), Catch::StartsWith("sp=none: mail from the"));
}

TEST_CASE("DMARC: p=none, syntax errors, two records and a record not starting with v=DMARC1") {
  const DomainExpansion monitor = expand("monitor.auth.example");
  CHECK(codes(monitor, "DMARC_") ==
        std::set<std::string>{"DMARC_MONITOR_ONLY", "DMARC_NO_REPORTS"});

  const DomainExpansion syntax = expand("syntax.auth.example");
  CHECK(codes(syntax, "DMARC_") == std::set<std::string>{"DMARC_INVALID", "DMARC_NO_REPORTS"});
  CHECK(detail(syntax, "DMARC_INVALID") ==
        "_dmarc.syntax.auth.example: '\\027[31mred' is not name=value; p='block' is not none, "
        "quarantine or reject; pct='150' is not a whole number from 0 to 100; adkim='x' is not r "
        "or s; rua destination 'ftp://reports.example/d' is not a mailto: or https: URI");

  const DomainExpansion two = expand("twodmarc.auth.example");
  CHECK(codes(two, "DMARC_") == std::set<std::string>{"DMARC_INVALID"});
  CHECK_THAT(detail(two, "DMARC_INVALID"), Catch::Contains("holds 2 DMARC records"));

  const DomainExpansion notfirst = expand("notfirst.auth.example");
  CHECK(codes(notfirst, "DMARC_") == std::set<std::string>{"DMARC_INVALID"});
  CHECK_THAT(detail(notfirst, "DMARC_INVALID"),
             Catch::Contains("no TXT record beginning with v=DMARC1 (it holds 'p=reject; "
                             "v=DMARC1')"));
}

TEST_CASE("DMARC report destinations: authorisation by the other organisation and an MX") {
  const DomainExpansion unauth = expand("unauth.auth.example");
  CHECK(codes(unauth, "DMARC_") == std::set<std::string>{"DMARC_REPORT_UNAUTHORIZED"});
  CHECK_THAT(detail(unauth, "DMARC_REPORT_UNAUTHORIZED"),
             Catch::Contains("'mailto:dmarc@reports.example'") &&
                 Catch::Contains("no v=DMARC1 record at "
                                 "unauth.auth.example._report._dmarc.reports.example"));

  const DomainExpansion no_mx = expand("norptmx.auth.example");
  CHECK(codes(no_mx, "DMARC_") == std::set<std::string>{"DMARC_REPORT_NO_MX"});
  CHECK_THAT(detail(no_mx, "DMARC_REPORT_NO_MX"),
             Catch::StartsWith("report domain nomx.reports.example has no MX record"));
}

TEST_CASE("MTA-STS: testing mode, mode none, and MX hosts against the mx patterns") {
  const MtaStsServer server = policy_server();
  const AuditOptions options = options_for(server);
  CHECK(codes(expand("testing.auth.example", options), "MTASTS_") ==
        std::set<std::string>{"MTASTS_TESTING"});
  CHECK(codes(expand("stsnone.auth.example", options), "MTASTS_") ==
        std::set<std::string>{"MTASTS_NONE"});

  const DomainExpansion wildcard = expand("wildcard.auth.example", options);
  CHECK(codes(wildcard, "MTASTS_") == std::set<std::string>{"MTASTS_MX_MISMATCH"});
  CHECK(detail(wildcard, "MTASTS_MX_MISMATCH") ==
        "MX host deep.mx2.wildcard.auth.example matches no mx line of the policy "
        "(*.wildcard.auth.example): senders that enforce it will not deliver there");
}

TEST_CASE("MTA-STS: a broken policy, content type, status, size, certificate or record") {
  const MtaStsServer server = policy_server();
  const AuditOptions options = options_for(server);
  // Built with append(): GCC 12 at -O3 warns falsely (-Wrestrict) on "x" + std::string.
  std::string url_tail = ":";
  url_tail.append(std::to_string(server.port())).append("/.well-known/mta-sts.txt");
  const auto invalid = [&](const std::string& domain) {
    const DomainExpansion expansion = expand(domain, options);
    INFO(domain);
    CHECK(codes(expansion, "MTASTS_") == std::set<std::string>{"MTASTS_INVALID"});
    return detail(expansion, "MTASTS_INVALID");
  };
  CHECK(invalid("stsbad.auth.example") ==
        "https://mta-sts.stsbad.auth.example" + url_tail +
            ": version 'STSv2' is not STSv1; mode 'strict' is not enforce, testing or none; "
            "max_age '99999999999' is not a whole number from 0 to 31557600");
  CHECK_THAT(invalid("ststype.auth.example"),
             Catch::EndsWith("content type 'text/html' instead of text/plain"));
  CHECK_THAT(invalid("sts404.auth.example"), Catch::Contains("HTTP 404 instead of 200"));
  CHECK_THAT(invalid("stsbig.auth.example"), Catch::EndsWith("larger than 64 KiB"));
  CHECK_THAT(invalid("stscert.auth.example"),
             Catch::Contains("the certificate is not valid for mta-sts.stscert.auth.example"));
  CHECK_THAT(invalid("stsid.auth.example"), Catch::Contains("id='not-valid!' is not 1 to 32"));
  CHECK_THAT(invalid("stsnohost.auth.example"),
             Catch::Contains("mta-sts.stsnohost.auth.example has no address"));
}

TEST_CASE("MTA-STS: a certificate from an unknown CA is invalid, an unreachable host temporary") {
  const MtaStsServer server = policy_server();
  AuditOptions system_store = lab_options();
  system_store.mta_sts_port = static_cast<std::uint16_t>(server.port());
  const DomainExpansion unknown_ca = expand("good.auth.example", system_store);
  CHECK(codes(unknown_ca, "MTASTS_") == std::set<std::string>{"MTASTS_INVALID"});
  CHECK_THAT(detail(unknown_ca, "MTASTS_INVALID"), Catch::Contains("certificate is not valid"));

  const DomainExpansion down = expand("stsdown.auth.example", options_for(server));
  CHECK(codes(down, "MTASTS_") == std::set<std::string>{"MTASTS_FETCH_FAILED"});
  CHECK(find_code("MTASTS_FETCH_FAILED")->severity == rdns::Severity::warning);
}

TEST_CASE("TLS-RPT: a destination of another scheme is invalid") {
  const DomainExpansion bad = expand("tlsbad.auth.example");
  CHECK(codes(bad, "TLSRPT_") == std::set<std::string>{"TLSRPT_INVALID"});
  CHECK(detail(bad, "TLSRPT_INVALID") ==
        "_smtp._tls.tlsbad.auth.example: rua destination 'ftp://reports.example/tls' is not a "
        "mailto: address or an https: URL; senders then send no reports (RFC 8460 section 3)");
}

TEST_CASE("a domain whose lookups SERVFAIL gets temporary findings, never missing policies") {
  const DomainExpansion broken = expand("host.broken.example.net");
  CHECK(codes(broken, "DMARC_") == std::set<std::string>{"DMARC_TEMPFAIL"});
  CHECK(codes(broken, "MTASTS_") == std::set<std::string>{"MTASTS_FETCH_FAILED"});
  CHECK(codes(broken, "TLSRPT_") == std::set<std::string>{"TLSRPT_TEMPFAIL"});
  CHECK_THAT(detail(broken, "DMARC_TEMPFAIL"), Catch::Contains("SERVFAIL"));
}
