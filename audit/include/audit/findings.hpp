#pragma once
/// The findings taxonomy: codes, severities and the per-IP status they add
/// up to. docs/jsonl.md documents these names as a stable contract.

#include <string>
#include <string_view>
#include <vector>

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
};

enum class Severity { info, warning, error };

/// pass: forward-confirmed, nothing to fix; warn: works but receivers may
/// frown; fail: a proven error; unknown: DNS could not tell (retry later).
enum class Status { pass, warn, fail, unknown };

std::string_view code_name(Code code);  ///< "NO_PTR", ...
Severity code_severity(Code code);
std::string_view severity_name(Severity severity);  ///< "error", "warning", "info"
std::string_view status_name(Status status);        ///< "pass", "warn", "fail", "unknown"
/// Parses "error", "warning", "info"; false when unknown.
bool parse_severity(std::string_view text, Severity& out);

/// One thing the audit noticed about an IP. `detail` is display-safe text:
/// every DNS name in it is already escaped.
struct Finding {
  Code code;
  Severity severity;
  std::string detail;
};

/// The status findings add up to: fail if any proven error, else unknown
/// if DNS failed (TEMPFAIL, LAME_REVERSE), else warn if any warning, else pass.
Status status_of(const std::vector<Finding>& findings);

}  // namespace rdns::audit
