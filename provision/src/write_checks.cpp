#include <algorithm>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <provision/write_checks.hpp>
#include <util/error.hpp>

namespace rdns::provision {
namespace {

std::string describe_failure(const DnsAnswer& answer) {
  switch (answer.outcome) {
    case DnsAnswer::Outcome::nxdomain:
      return "the name does not exist (NXDOMAIN)";
    case DnsAnswer::Outcome::nodata:
      return "no such record (NODATA)";
    case DnsAnswer::Outcome::failed:
      return "DNS failed (" + answer.failure + "), so it cannot be checked";
    case DnsAnswer::Outcome::answered:
      break;
  }
  return "answered";
}

std::string join(const std::vector<std::string>& values) {
  std::string text;
  for (const auto& value : values) text += (text.empty() ? "" : ", ") + value;
  return text;
}

}  // namespace

const char* to_string(WriteRule rule) {
  switch (rule) {
    case WriteRule::ipv4_only:
      return "IPV4_ONLY";
    case WriteRule::ttl_range:
      return "TTL_RANGE";
    case WriteRule::valid_name:
      return "VALID_NAME";
    case WriteRule::ip_owned:
      return "IP_OWNED";
    case WriteRule::domain_verified:
      return "DOMAIN_VERIFIED";
    case WriteRule::forward_confirmed:
      return "FORWARD_CONFIRMED";
  }
  return "UNKNOWN";
}

DomainVerification check_domain_verification(PtrProvider& provider, DnsView& dns,
                                             const std::string& name) {
  auto expected = provider.verification_txt(name);
  if (!expected) {
    throw Error(Errc::usage, "the " + provider.name() + " provider needs no domain verification");
  }
  DomainVerification result;
  result.expected = std::move(*expected);
  const DnsAnswer answer = dns.txt(result.expected.fqdn());
  if (answer.outcome == DnsAnswer::Outcome::failed) result.failure = answer.failure;
  result.found = answer.values;
  result.present = std::find(answer.values.begin(), answer.values.end(), result.expected.value) !=
                   answer.values.end();
  return result;
}

namespace {

/// DOMAIN_VERIFIED: the provider's verification TXT for check.name is in DNS.
void check_domain(PtrProvider& provider, DnsView& dns, WriteCheck& check) {
  const DomainVerification verified = check_domain_verification(provider, dns, check.name);
  if (verified.present) return;
  check.txt_to_publish = verified.expected;
  std::string seen;
  if (!verified.failure.empty()) {
    seen = "DNS failed (" + verified.failure + ")";
  } else if (verified.found.empty()) {
    seen = "no TXT record there";
  } else {
    seen = "found only \"" + join(verified.found) + "\"";
  }
  const WriteRule rule = WriteRule::domain_verified;
  check.failures.push_back(
      {rule,
       fmt::format("{} {}: {} is not verified: publish {} TXT \"{}\" ({}); see rdnsctl ptr "
                   "verify-domain {}",
                   check.ip, to_string(rule), verified.expected.domain, verified.expected.fqdn(),
                   verified.expected.value, seen, verified.expected.domain)});
}

}  // namespace

WriteCheck check_ptr_write(PtrProvider& provider, DnsView& dns, const std::string& ip,
                           const std::string& name, std::optional<int> ttl,
                           const WriteCheckOptions& options) {
  WriteCheck check;
  check.ip = ip;
  check.name = name.ends_with('.') ? name.substr(0, name.size() - 1) : name;
  auto fail = [&](WriteRule rule, const std::string& why) {
    check.failures.push_back({rule, fmt::format("{} {}: {}", ip, to_string(rule), why)});
  };

  in_addr v4{};
  const bool ipv4 = ::inet_pton(AF_INET, ip.c_str(), &v4) == 1;
  const ProviderCapabilities capabilities = provider.capabilities();
  if (!ipv4) {
    in6_addr v6{};
    fail(WriteRule::ipv4_only, ::inet_pton(AF_INET6, ip.c_str(), &v6) == 1
                                   ? "an IPv6 address; " + capabilities.ipv6_refusal
                                   : "not an IPv4 address");
  }
  if (capabilities.fixed_ttl && ttl && *ttl != *capabilities.fixed_ttl) {
    check.warnings.push_back(
        fmt::format("{} TTL: the {} provider chooses the TTL itself; --ttl {} is not applied", ip,
                    provider.name(), *ttl));
  } else if (!capabilities.fixed_ttl && ttl &&
             (*ttl < capabilities.min_ttl || *ttl > capabilities.max_ttl)) {
    fail(WriteRule::ttl_range, fmt::format("TTL {} is outside {}-{} seconds", *ttl,
                                           capabilities.min_ttl, capabilities.max_ttl));
  }
  const bool valid_name = is_valid_ptr_value(check.name);
  if (!valid_name) {
    fail(WriteRule::valid_name,
         "\"" + name + "\" is not a fully qualified host name (no wildcard, no IP literal, " +
             "letters, digits and '-' in at least two labels)");
  }
  if (ipv4) {
    const auto owned = provider.ownership({ip});
    if (owned.empty() || owned.front().role == IpRole::not_owned) {
      fail(WriteRule::ip_owned, !owned.empty() && !owned.front().reason.empty()
                                    ? owned.front().reason
                                    : "not " + capabilities.owned_means);
    }
  }
  if (!valid_name) return check;

  if (capabilities.needs_domain_verification) {
    check_domain(provider, dns, check);
  }

  const DnsAnswer forward = dns.a(check.name);
  const bool confirmed =
      ipv4 && std::find(forward.values.begin(), forward.values.end(), ip) != forward.values.end();
  if (!confirmed && ipv4) {
    const std::string why = forward.outcome == DnsAnswer::Outcome::answered
                                ? fmt::format("{} resolves to {}, not {}, so FCrDNS would fail",
                                              check.name, join(forward.values), ip)
                                : fmt::format("{} has no A record: {}, so FCrDNS would fail",
                                              check.name, describe_failure(forward));
    if (options.allow_unconfirmed) {
      check.warnings.push_back(fmt::format("{} {}: {} (written anyway: --allow-unconfirmed)", ip,
                                           to_string(WriteRule::forward_confirmed), why));
    } else {
      fail(WriteRule::forward_confirmed,
           why + "; add the A record first or pass --allow-unconfirmed");
    }
  }
  if (capabilities.fixed_ttl) {
    check.ttl = *capabilities.fixed_ttl;
  } else if (ttl) {
    check.ttl = *ttl;
  } else if (confirmed) {
    const auto zone_ttl = dns.zone_ttl_of_a(check.name);
    if (zone_ttl && *zone_ttl > 0) {
      check.ttl = static_cast<int>(
          std::min<std::uint32_t>(*zone_ttl, static_cast<std::uint32_t>(capabilities.max_ttl)));
    }
  }
  return check;
}

}  // namespace rdns::provision
