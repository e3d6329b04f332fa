#pragma once
/// Sending addresses of mail domains: the addresses of their MX hosts (RFC
/// 5321, null MX per RFC 7505) and those their SPF record authorises (RFC
/// 7208: ip4, ip6, a, mx, include, redirect, with the 10-lookup and
/// 2-void-lookup limits and loop detection). A broken MX or SPF is a
/// finding of the domain, never a crash or a silent drop.

#include <string>
#include <string_view>
#include <vector>

#include <audit/auditor.hpp>
#include <audit/findings.hpp>
#include <audit/ip.hpp>
#include <audit/sources.hpp>

namespace rdns::audit {

/// A problem or remark about a domain rather than an address.
struct DomainFinding {
  std::string domain;
  std::string code;  ///< MX_NULL, MX_NONE, MX_TEMPFAIL, SPF_NONE, SPF_TEMPFAIL, SPF_PERMERROR, ...
  Severity severity;
  std::string detail;
};

/// A finding about `domain` with the severity the vocabulary gives `code`
/// (std::logic_error for a code that is not a domain code: a programming
/// error).
DomainFinding domain_finding(std::string domain, std::string_view code, std::string detail);

struct DomainExpansion {
  /// The addresses to audit.
  std::vector<std::pair<IpRange, TargetSource>> ranges;
  /// Ranges SPF authorises that are too large to audit (SENDERS_NOT_AUDITED):
  /// still part of what the domain authorises.
  std::vector<std::pair<IpRange, TargetSource>> not_audited;
  std::vector<DomainFinding> findings;
};

/// Whether expand_domains also checks what only the domain has (DMARC,
/// MTA-STS, TLS-RPT) or only finds its sending addresses: the shards of an
/// audit after the first need the addresses alone.
enum class DomainChecks { all, addresses_only };

/// Resolves the MX and SPF records of each domain through the resolvers of
/// `options`, and checks its DMARC, MTA-STS (fetching the policy over HTTPS)
/// and TLS-RPT records (DMARC_*, MTASTS_*, TLSRPT_* findings) unless
/// `checks` is addresses_only. Domain names are validated first
/// (Errc::input, naming `origin`).
DomainExpansion expand_domains(const std::vector<std::string>& domains, const AuditOptions& options,
                               DomainChecks checks = DomainChecks::all);

}  // namespace rdns::audit
