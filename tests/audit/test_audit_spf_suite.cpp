// The openspf RFC 7208 test suite (tests/audit/spf_suite, see its README.md)
// against the SPF expansion of `rdnsctl audit --domain`: each scenario's zone
// data is served by the lab's Knot, and each case's domain is expanded.
//   - a case whose result is permerror (temperror) is right when the
//     expansion reports SPF_PERMERROR (SPF_TEMPFAIL) for the domain; when the
//     suite also accepts a result that is no error, reporting none is right;
//   - a scored pass case is right when its sender address is among the
//     ranges the expansion found authorised (audited or too large to audit).

#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <audit/domains.hpp>
#include <lab/dns_lab.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "test_paths.hpp"

using namespace rdns::audit;
using nlohmann::json;

namespace {

const std::filesystem::path kSuiteDir =
    std::filesystem::path(rdns::test::source_dir()) / "tests" / "audit" / "spf_suite";

json load_suite() {
  std::ifstream in(kSuiteDir / "rfc7208-cases.json");
  return json::parse(in);
}

/// A name in zone-file syntax, absolute; bytes other than letters, digits,
/// '-' and '_' as \DDD (the suite has names holding ':', '/', '%' and spaces).
std::string zone_name(std::string name) {
  if (name.empty() || name == ".") return ".";
  if (name.back() == '.') name.pop_back();
  std::string out;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.') {
      out += c;
    } else {
      out += fmt::format("\\{:03d}", byte);
    }
  }
  return out + ".";
}

/// TXT rdata: each string cut into character-strings of at most 255 bytes.
std::string txt_rdata(const json& strings) {
  std::string out;
  for (const auto& value : strings) {
    const std::string text = value.get<std::string>();
    std::size_t start = 0;
    do {
      out += " \"";
      for (const char c : text.substr(start, 255)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
          out += fmt::format("\\{:03d}", byte);
        } else {
          out += c;
        }
      }
      out += '"';
      start += 255;
    } while (start < text.size());
  }
  return out;
}

std::string record_line(const std::string& owner, const json& record) {
  const std::string type = record["type"].get<std::string>();
  const json& value = record["value"];
  std::string rdata;
  if (type == "TXT") {
    rdata = txt_rdata(value);
  } else if (type == "MX") {
    rdata = fmt::format(" {} {}", value[0].get<int>(), zone_name(value[1].get<std::string>()));
  } else if (type == "PTR") {
    rdata = " " + zone_name(value.get<std::string>());
  } else {
    rdata = " " + value.get<std::string>();  // A, AAAA
  }
  return owner + " " + type + rdata + "\n";
}

std::string zone_header(const std::string& origin) {
  return "$ORIGIN " + origin + "\n$TTL 300\n" +
         "@ SOA ns.lab.invalid. hostmaster.lab.invalid. 1 3600 600 86400 300\n" +
         "@ NS ns.lab.invalid.\n";
}

bool has_txt(const json& entry) {
  for (const auto& record : entry["records"]) {
    if (record["type"] == "TXT") return true;
  }
  return false;
}

bool is_under(const std::string& name, const std::string& ancestor) {
  return name.size() > ancestor.size() && name.ends_with("." + ancestor);
}

/// Writes one scenario's zone data as Knot zone files. Names whose lookups
/// time out in the suite (TIMEOUT, and no TXT record of their own) become a
/// zone Knot cannot load, which it answers with SERVFAIL; names below such a
/// name get a zone of their own (the lab gives unbound a stub per zone);
/// every other name goes into the zone of its top-level label.
void write_zones(const json& scenario, const std::filesystem::path& dir) {
  std::vector<std::string> failing;
  for (const auto& entry : scenario["zone"]) {
    if (entry["timeout"].get<bool>() && !has_txt(entry)) {
      failing.push_back(rdns::ascii_lower(entry["name"].get<std::string>()));
    }
  }
  std::map<std::string, std::string> zones;  // origin -> records
  for (const std::string& name : failing) {
    zones[zone_name(name)] = "@ A this-zone-fails-to-load-on-purpose\n";
  }
  for (const auto& entry : scenario["zone"]) {
    const std::string name = rdns::ascii_lower(entry["name"].get<std::string>());
    if (std::find(failing.begin(), failing.end(), name) != failing.end()) continue;
    const bool below_failing = std::any_of(failing.begin(), failing.end(),
                                           [&](const auto& f) { return is_under(name, f); });
    const std::string origin =
        below_failing ? zone_name(name) : zone_name(name.substr(name.rfind('.') + 1));
    for (const auto& record : entry["records"]) {
      zones[origin] += record_line(zone_name(name), record);
    }
  }
  for (const auto& [origin, records] : zones) {
    const std::string file = origin.substr(0, origin.size() - 1) + ".zone";
    rdns::test::write_file(dir / file, zone_header(origin) + records);
  }
}

/// The sender address as SPF compares it: an IPv4-mapped IPv6 address is
/// its IPv4 address (RFC 7208 section 5).
IpAddress sender(const std::string& text) {
  const IpAddress address = *IpAddress::parse(text);
  if (address.family() == Family::ipv6 && (address.value() >> 32) == 0xffff) {
    return IpAddress::from_v4(static_cast<std::uint32_t>(address.value()));
  }
  return address;
}

bool authorised(const DomainExpansion& expansion, const IpAddress& address) {
  const auto within = [&](const auto& ranges) {
    return std::any_of(ranges.begin(), ranges.end(), [&](const auto& entry) {
      const IpRange& range = entry.first;
      return range.first.family() == address.family() && range.first.value() <= address.value() &&
             address.value() <= range.last.value();
    });
  };
  return within(expansion.ranges) || within(expansion.not_audited);
}

struct CaseOutcome {
  bool right = false;
  std::string got;
};

CaseOutcome judge(const json& test, const AuditOptions& options) {
  DomainExpansion expansion;
  try {
    expansion = expand_domains({test["domain"].get<std::string>()}, options);
  } catch (const rdns::Error& error) {
    return {false, std::string("refused: ") + error.what()};
  }
  std::set<std::string> codes;
  std::string details;
  for (const auto& finding : expansion.findings) {
    codes.insert(finding.code);
    if (finding.code.starts_with("SPF_"))
      details += " [" + finding.code + " " + finding.detail + "]";
  }
  if (test["scored"] == "pass") {
    const bool found = authorised(expansion, sender(test["host"].get<std::string>()));
    return {found, (found ? "sender authorised" : "sender not among the ranges") + details};
  }
  const std::set<std::string> results = test["result"].get<std::set<std::string>>();
  const bool permerror = codes.count("SPF_PERMERROR") != 0;
  const bool temperror = codes.count("SPF_TEMPFAIL") != 0;
  const bool no_error_accepted = std::any_of(results.begin(), results.end(), [](const auto& r) {
    return r != "permerror" && r != "temperror";
  });
  const bool right = (results.count("permerror") != 0 && permerror) ||
                     (results.count("temperror") != 0 && temperror) ||
                     (no_error_accepted && !permerror && !temperror);
  return {right, (details.empty() ? std::string("no SPF error") : details)};
}

}  // namespace

TEST_CASE("the openspf RFC 7208 suite's error and pass cases, served by the lab", "[spf_suite]") {
  const json suite = load_suite();
  std::map<std::string, int> scored;
  std::map<std::string, int> right;
  std::vector<std::string> wrong;
  for (const auto& scenario : suite["scenarios"]) {
    const bool any_scored = std::any_of(scenario["cases"].begin(), scenario["cases"].end(),
                                        [](const json& test) { return !test["scored"].is_null(); });
    if (!any_scored) continue;
    rdns::test::TempDir dir;
    write_zones(scenario, dir.path());
    rdns::lab::DnsLab lab(dir.path());
    AuditOptions options;
    options.resolvers = {lab.resolver_address()};
    options.timeout = std::chrono::milliseconds(1000);
    options.retries = 1;
    for (const auto& test : scenario["cases"]) {
      if (test["scored"].is_null()) continue;
      const std::string kind = test["scored"].get<std::string>();
      const CaseOutcome outcome = judge(test, options);
      ++scored[kind];
      if (outcome.right) {
        ++right[kind];
      } else {
        wrong.push_back(fmt::format("{} ({}: {} expects {}): {}", test["name"].get<std::string>(),
                                    scenario["description"].get<std::string>(),
                                    test["domain"].get<std::string>(), test["result"].dump(),
                                    outcome.got));
      }
    }
  }
  std::cout << fmt::format("RFC 7208 suite: permerror/temperror cases {}/{}, pass cases {}/{}\n",
                           right["error"], scored["error"], right["pass"], scored["pass"]);
  for (const auto& line : wrong) std::cout << "  wrong: " << line << "\n";
  // The suite as converted: 82 error cases and 24 pass cases the expansion can score.
  CHECK(scored["error"] == 82);
  CHECK(scored["pass"] == 24);
  CHECK(right["error"] == scored["error"]);
  CHECK(right["pass"] == scored["pass"]);
}
