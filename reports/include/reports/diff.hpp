#pragma once
/// What changed between two stored runs, per IP: the terminal and JSON
/// forms of `rdnsctl report diff`, and the "changes" part of a report.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <db/database.hpp>

namespace rdns::reports {

/// How an IP's result moved from the older run to the newer one.
enum class ChangeKind {
  new_failure,  ///< fail now; not fail before, or not audited before
  fixed,        ///< fail before; pass or warn now (unknown is not fixed: nothing was proven)
  changed,      ///< audited in both, neither of the above, but status, PTR, forward or codes differ
  appeared,     ///< audited only in the newer run, and not failing
  disappeared,  ///< audited only in the older run
};

/// "new_failure", "fixed", "changed", "appeared", "disappeared".
std::string_view to_string(ChangeKind kind);

/// One IP whose result differs between the runs.
struct Change {
  ChangeKind kind = ChangeKind::changed;
  std::string ip;
  std::optional<db::ResultRecord> before;  ///< absent when the IP is new
  std::optional<db::ResultRecord> after;   ///< absent when the IP disappeared
  /// Which of "status", "ptr", "forward", "codes" differ (both runs only).
  /// PTR and forward names compare as sets; finding details are not compared
  /// because they quote values such as TTLs that drift between runs.
  std::vector<std::string> fields;

  bool ptr_changed() const;
};

/// Every change between two runs, in address order (IPv4 first).
struct RunDiff {
  std::int64_t from_run = 0;
  std::int64_t to_run = 0;
  std::vector<Change> changes;
  std::size_t unchanged = 0;  ///< IPs audited in both runs with nothing that differs

  std::size_t count(ChangeKind kind) const;
};

/// Compares two runs' results (as db::Database::results returns them).
RunDiff diff_runs(std::int64_t from_run, const std::vector<db::ResultRecord>& from,
                  std::int64_t to_run, const std::vector<db::ResultRecord>& to);

/// The JSON document of `rdnsctl report diff --format json` (docs/reports.md).
std::string diff_json(const RunDiff& diff);

/// The terminal form: a section per kind with before → after. Text that
/// came from DNS is escaped so no control byte reaches the terminal.
std::string diff_text(const RunDiff& diff);

}  // namespace rdns::reports
