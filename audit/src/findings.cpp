#include <algorithm>

#include <audit/findings.hpp>
#include <audit/vocabulary.hpp>

namespace rdns::audit {

std::string_view code_name(Code code) {
  return code_entry(code).code;
}

Severity code_severity(Code code) {
  return code_entry(code).severity;
}

Status status_of(const std::vector<Finding>& findings) {
  const auto has = [&](auto predicate) {
    return std::any_of(findings.begin(), findings.end(), predicate);
  };
  const auto dns_failed = [](const Finding& f) {
    return f.code == Code::tempfail || f.code == Code::lame_reverse || f.code == Code::dnsbl_error;
  };
  // LAME_REVERSE is an error receivers suffer too, but it proves nothing
  // about the PTR itself, so it makes the status unknown, not fail.
  if (has([&](const Finding& f) { return f.severity == Severity::error && !dns_failed(f); })) {
    return Status::fail;
  }
  if (has(dns_failed)) return Status::unknown;
  // A --ptr-only run proves a PTR exists, not that it is forward-confirmed:
  // calling that "pass" would claim FCrDNS passed.
  if (has([](const Finding& f) { return f.code == Code::forward_not_checked; })) {
    return Status::unknown;
  }
  if (has([](const Finding& f) { return f.severity == Severity::warning; })) return Status::warn;
  return Status::pass;
}

}  // namespace rdns::audit
