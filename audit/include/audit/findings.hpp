#pragma once
/// The findings taxonomy: codes, their severities and the per-IP status they
/// add up to. docs/jsonl.md documents these names as a stable contract;
/// Severity and Status themselves live in util/verdict.hpp, shared by every
/// module down to the database.

#include <string>
#include <string_view>
#include <vector>

#include <util/verdict.hpp>

namespace rdns::audit {

enum class Code {
  no_ptr,
  ptr_no_forward,
  forward_mismatch,
  family_mismatch,
  multiple_ptr,
  generic_ptr,
  provider_default_ptr,
  invalid_ptr_name,
  ptr_target_cname,
  classless_delegation,
  tempfail,
  lame_reverse,
  ttl_note,
  helo_mismatch,
  helo_invalid,
  smtp_unavailable,
  dnsbl_listed,
  dnsbl_error,
  dnsbl_untrusted,
  smtp_no_starttls,
  smtp_tls_failed,
  smtp_tls_untrusted,
  smtp_tls_name_mismatch,
  smtp_tls_expiring,
  smtp_tls_expired,
  forward_not_checked,
};

std::string_view code_name(Code code);  ///< "NO_PTR", ...
Severity code_severity(Code code);

/// One thing the audit noticed about an IP. `detail` is display-safe text:
/// every DNS name in it is already escaped.
struct Finding {
  Code code;
  Severity severity;
  std::string detail;
};

/// The status findings add up to: fail if any proven error, else unknown
/// if DNS failed (TEMPFAIL, LAME_REVERSE, DNSBL_ERROR) or the forward step was
/// not run (FORWARD_NOT_CHECKED), else warn if any warning, else pass.
Status status_of(const std::vector<Finding>& findings);

}  // namespace rdns::audit
