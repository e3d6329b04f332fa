#pragma once
/// A mail domain's authentication policies, checked for --domain beside its
/// MX and SPF: DMARC (RFC 7489), MTA-STS (RFC 8461, the policy fetched over
/// HTTPS) and TLS-RPT (RFC 8460). Every answer is remote data: problems
/// become findings of the domain, a temporary failure is never "missing".

#include <string>

#include <audit/auditor.hpp>
#include <audit/domains.hpp>

#include "blocking_lookup.hpp"

namespace rdns::audit {

/// Appends the DMARC_*, MTASTS_* and TLSRPT_* findings of `domain` (a
/// validated, lower-cased name) to `out.findings`.
void check_domain_authentication(BlockingLookup& lookup, const AuditOptions& options,
                                 const std::string& domain, DomainExpansion& out);

}  // namespace rdns::audit
