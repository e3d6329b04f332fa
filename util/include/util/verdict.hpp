#pragma once
/// The verdict vocabulary every module shares: the status of an audited
/// address and the severity of a finding. The names are a stable contract
/// (docs/jsonl.md, the database's text columns), so they are spelled here once.

#include <array>
#include <optional>
#include <string_view>

namespace rdns {

enum class Severity { info, warning, error };

/// pass: forward-confirmed, nothing to fix; warn: works but receivers may
/// frown; fail: a proven error; unknown: DNS could not tell (retry later).
enum class Status { pass, warn, fail, unknown };

inline constexpr std::array<Severity, 3> kSeverities = {Severity::info, Severity::warning,
                                                        Severity::error};
inline constexpr std::array<Status, 4> kStatuses = {Status::pass, Status::warn, Status::fail,
                                                    Status::unknown};

std::string_view severity_name(Severity severity);  ///< "info", "warning", "error"
std::string_view status_name(Status status);        ///< "pass", "warn", "fail", "unknown"

/// The severity a name spells; none for any other text (the caller decides
/// how to report it: its context names the file or input).
std::optional<Severity> parse_severity(std::string_view name);
/// The status a name spells; none for any other text.
std::optional<Status> parse_status(std::string_view name);

}  // namespace rdns
