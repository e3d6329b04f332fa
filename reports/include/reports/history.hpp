#pragma once
/// The history view: how the runs in the database fared over time and what
/// each changed relative to the run before it.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <db/database.hpp>

namespace rdns::reports {

/// How many IPs moved between a run and the one before it.
struct ChangeCounts {
  std::int64_t from_run = 0;
  std::size_t new_failures = 0;
  std::size_t fixed = 0;
  std::size_t ptr_changed = 0;
  std::size_t changed = 0;
  std::size_t appeared = 0;
  std::size_t disappeared = 0;
  std::size_t unchanged = 0;
};

/// One run in the history.
struct HistoryEntry {
  db::RunInfo run;
  double pass_rate = 0;  ///< share of the run's IPs with status pass, 0..1
  /// Against the run it is compared with (same identity); absent for the
  /// first of its identity and for a run still running.
  std::optional<ChangeCounts> since_previous;
};

/// The newest `limit` runs (of `inventory` when not empty), newest first,
/// each compared with its previous comparable run.
std::vector<HistoryEntry> load_history(db::Database& database, std::size_t limit,
                                       const std::string& inventory = {});

/// The JSON array of `rdnsctl report history --format json` (docs/reports.md).
std::string history_json(const std::vector<HistoryEntry>& history);

/// The terminal table.
std::string history_text(const std::vector<HistoryEntry>& history);

}  // namespace rdns::reports
