// A domain's DMARC, MTA-STS and TLS-RPT records and its MTA-STS policy file
// (attacker-controlled TXT data and HTTPS bodies): every parser takes any
// bytes, and what it says about them is printable, escaped and bounded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <audit/domain_auth_records.hpp>

namespace {

using namespace rdns::audit::auth;

/// A problem goes into a finding's detail as it is: printable ASCII only,
/// a few per record, each of bounded length.
void check_problems(const std::vector<std::string>& problems) {
  if (problems.size() > 10) __builtin_trap();
  for (const std::string& problem : problems) {
    if (problem.size() > 2048) __builtin_trap();
    for (const char c : problem) {
      if (c < 0x20 || c > 0x7e) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  (void)is_dmarc_record(text);
  const DmarcRecord dmarc = parse_dmarc(text);
  check_problems(dmarc.problems);
  for (const std::string& policy : {dmarc.policy, dmarc.subdomain_policy}) {
    if (!policy.empty() && policy != "none" && policy != "quarantine" && policy != "reject") {
      __builtin_trap();
    }
  }
  for (const std::string& uri : dmarc.aggregate_uris) {
    const auto domain = mailto_domain(uri);
    if (domain && (domain->empty() || domain->size() > 253)) __builtin_trap();
  }

  (void)is_sts_record(text);
  check_problems(sts_record_problems(text));
  const StsPolicy policy = parse_sts_policy(text);
  check_problems(policy.problems);
  if (policy.max_age && (*policy.max_age < 0 || *policy.max_age > kMaxStsMaxAge)) __builtin_trap();
  for (const std::string& pattern : policy.mx) {
    // A pattern matches the host it names (without the wildcard's label).
    const bool wildcard = pattern.starts_with("*.");
    if (!wildcard && !mx_pattern_matches(pattern, pattern)) __builtin_trap();
    if (wildcard && !mx_pattern_matches(pattern, "mx" + pattern.substr(1))) __builtin_trap();
    if (wildcard && mx_pattern_matches(pattern, pattern.substr(2))) __builtin_trap();
  }

  (void)is_tlsrpt_record(text);
  check_problems(tlsrpt_problems(text));
  const std::string shown = quoted(text);
  if (shown.size() > 2 + 120 * 4 + 3) __builtin_trap();
  return 0;
}
