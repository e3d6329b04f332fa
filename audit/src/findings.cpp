#include <algorithm>

#include <audit/findings.hpp>

namespace rdns::audit {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::no_ptr:
      return "NO_PTR";
    case Code::ptr_no_forward:
      return "PTR_NO_FORWARD";
    case Code::forward_mismatch:
      return "FORWARD_MISMATCH";
    case Code::family_mismatch:
      return "FAMILY_MISMATCH";
    case Code::multiple_ptr:
      return "MULTIPLE_PTR";
    case Code::generic_ptr:
      return "GENERIC_PTR";
    case Code::provider_default_ptr:
      return "PROVIDER_DEFAULT_PTR";
    case Code::invalid_ptr_name:
      return "INVALID_PTR_NAME";
    case Code::ptr_target_cname:
      return "PTR_TARGET_CNAME";
    case Code::classless_delegation:
      return "CLASSLESS_DELEGATION";
    case Code::tempfail:
      return "TEMPFAIL";
    case Code::lame_reverse:
      return "LAME_REVERSE";
    case Code::ttl_note:
      return "TTL_NOTE";
    case Code::helo_mismatch:
      return "HELO_MISMATCH";
    case Code::helo_invalid:
      return "HELO_INVALID";
    case Code::smtp_unavailable:
      return "SMTP_UNAVAILABLE";
  }
  return "UNKNOWN";
}

Severity code_severity(Code code) {
  switch (code) {
    case Code::no_ptr:
    case Code::ptr_no_forward:
    case Code::forward_mismatch:
    case Code::family_mismatch:
    case Code::invalid_ptr_name:
    case Code::lame_reverse:
      return Severity::error;
    case Code::multiple_ptr:
    case Code::generic_ptr:
    case Code::provider_default_ptr:
    case Code::ptr_target_cname:
    case Code::tempfail:
    case Code::helo_mismatch:
    case Code::helo_invalid:
      return Severity::warning;
    case Code::classless_delegation:
    case Code::ttl_note:
    case Code::smtp_unavailable:
      return Severity::info;
  }
  return Severity::error;
}

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "error";
}

std::string_view status_name(Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
    case Status::unknown:
      return "unknown";
  }
  return "unknown";
}

bool parse_severity(std::string_view text, Severity& out) {
  for (const Severity severity : {Severity::info, Severity::warning, Severity::error}) {
    if (text == severity_name(severity)) {
      out = severity;
      return true;
    }
  }
  return false;
}

Status status_of(const std::vector<Finding>& findings) {
  const auto has = [&](auto predicate) {
    return std::any_of(findings.begin(), findings.end(), predicate);
  };
  const auto dns_failed = [](const Finding& f) {
    return f.code == Code::tempfail || f.code == Code::lame_reverse;
  };
  // LAME_REVERSE is an error receivers suffer too, but it proves nothing
  // about the PTR itself, so it makes the status unknown, not fail.
  if (has([&](const Finding& f) { return f.severity == Severity::error && !dns_failed(f); })) {
    return Status::fail;
  }
  if (has(dns_failed)) return Status::unknown;
  if (has([](const Finding& f) { return f.severity == Severity::warning; })) return Status::warn;
  return Status::pass;
}

}  // namespace rdns::audit
