#pragma once
/// The records of a mail domain's authentication policies, parsed without
/// any network access: DMARC (RFC 7489), the MTA-STS TXT record and policy
/// file (RFC 8461) and TLS-RPT (RFC 8460). Pure and total: any bytes give a
/// result, and every problem found is a sentence whose quoted remote data is
/// already escaped (escape_text) and cut to a bounded length.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rdns::audit::auth {

/// One "name=value" element of a tag list (RFC 7489 section 6.4, RFC 6376
/// section 3.2): the name lower-cased, the value with surrounding blanks
/// removed.
struct Tag {
  std::string name;
  std::string value;
};

struct TagList {
  std::vector<Tag> tags;
  std::vector<std::string> problems;  ///< syntax errors: an element without '=', a bad name
};

/// Splits `text` at ';'; empty elements (";;", a trailing ';') are allowed.
TagList parse_tag_list(std::string_view text);

/// Remote text in a finding: escaped, at most 120 bytes of it.
std::string quoted(std::string_view text);

// DMARC ---------------------------------------------------------------------

/// Whether a TXT string at _dmarc.DOMAIN is a DMARC record: its first tag is
/// v=DMARC1 (the version is case-sensitive; blanks around '=' allowed).
bool is_dmarc_record(std::string_view text);

struct DmarcRecord {
  std::string policy;                       ///< p, lower-cased ("" when missing or invalid)
  std::string subdomain_policy;             ///< sp, lower-cased ("" when absent)
  std::vector<std::string> aggregate_uris;  ///< rua
  std::vector<std::string> failure_uris;    ///< ruf
  std::vector<std::string> problems;        ///< empty: the record is valid
};

/// Checks the tags of a DMARC record: p (required, second per RFC 7489
/// section 6.3 but accepted anywhere after v), sp, pct (0-100), adkim and
/// aspf (r or s), fo, ri, rf, rua and ruf (comma-separated URIs). Unknown
/// tags are ignored, as receivers must; a tag given twice is a problem.
DmarcRecord parse_dmarc(std::string_view text);

/// The domain of a "mailto:" report URI ("mailto:d@example.com!10m" gives
/// "example.com", lower-cased, without a trailing dot); nullopt for another
/// scheme or a URI without a usable address.
std::optional<std::string> mailto_domain(std::string_view uri);

// MTA-STS -------------------------------------------------------------------

/// Whether a TXT string at _mta-sts.DOMAIN claims to be an MTA-STS record:
/// it starts with "v=STSv1" (RFC 8461 section 3.1).
bool is_sts_record(std::string_view text);

/// The problems of an MTA-STS TXT record (an id of 1-32 letters and digits
/// is required); empty when valid.
std::vector<std::string> sts_record_problems(std::string_view text);

enum class StsMode { enforce, testing, none };

/// The largest max_age RFC 8461 section 3.2 allows (about a year).
constexpr long kMaxStsMaxAge = 31557600;

struct StsPolicy {
  std::optional<StsMode> mode;
  std::optional<long> max_age;
  std::vector<std::string> mx;        ///< patterns, lower-cased ("*.example.com" allowed)
  std::vector<std::string> problems;  ///< empty: the policy is valid
};

/// Parses a policy file: "key: value" lines ended by LF or CRLF; version
/// must be STSv1, mode enforce, testing or none, max_age 0 to 31557600, and
/// any mode but none needs at least one mx. Unknown keys are ignored.
StsPolicy parse_sts_policy(std::string_view body);

/// Whether MX host `host` matches policy pattern `pattern` (RFC 8461
/// section 4.1): equal ignoring case and a trailing dot, or "*.rest" where
/// the host is exactly one label more than rest.
bool mx_pattern_matches(std::string_view pattern, std::string_view host);

// TLS-RPT -------------------------------------------------------------------

/// Whether a TXT string at _smtp._tls.DOMAIN claims to be a TLS-RPT record:
/// it starts with "v=TLSRPTv1" (RFC 8460 section 3).
bool is_tlsrpt_record(std::string_view text);

/// The problems of a TLS-RPT record: rua is required and every destination
/// must be a mailto: address or an https: URL; empty when valid.
std::vector<std::string> tlsrpt_problems(std::string_view text);

}  // namespace rdns::audit::auth
