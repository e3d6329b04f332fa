#pragma once
/// The node_exporter textfile for --prometheus-textfile: the last run's IPs
/// by status, findings by code, duration and outcome, written atomically so
/// the collector never reads half a file.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <db/database.hpp>
#include <reports/diff.hpp>

namespace rdns::run {

/// Orders (code, severity) keys, and finds one from a code held elsewhere:
/// counting a result's findings then copies no code.
struct FindingKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::pair<std::string_view, Severity>(a.first, a.second) <
           std::pair<std::string_view, Severity>(b.first, b.second);
  }
};

/// What one run tells the monitoring: counts over the whole run.
struct RunMetrics {
  db::RunCounts counts;
  /// Findings by (code, severity): one per IP that has the finding.
  std::map<std::pair<std::string, Severity>, std::int64_t, FindingKeyLess> findings;
  double duration_seconds = 0;
  /// Completed with answers from the resolver (not interrupted, not failed).
  bool success = false;
  /// Addresses by how their result changed since the run this one is
  /// compared with (reports/diff.hpp: "new_failure", "fixed", ...,
  /// "unchanged"); empty when there is none (the first run of its identity,
  /// or a run not stored).
  std::map<std::string, std::int64_t> changes;
  std::int64_t compared_with = 0;  ///< that run's id; 0: none
};

/// Counts one IP's findings into `metrics.findings`.
void count_findings(RunMetrics& metrics, const std::vector<db::FindingRecord>& findings);

/// Records in `metrics` how the run's addresses changed against the run it
/// is compared with.
void record_changes(RunMetrics& metrics, const reports::Comparison& comparison);

/// The exposition text. `last_success` is the Unix time of the newest
/// successful run, or negative when none is known (the sample is left out).
std::string prometheus_text(const RunMetrics& metrics, double now, double last_success);

/// Writes the textfile at `path` through a temporary file in the same
/// directory and rename(2). A failed run keeps the last success time the
/// previous file recorded. Throws Errc::io naming the path.
void write_prometheus_textfile(const std::filesystem::path& path, const RunMetrics& metrics);

}  // namespace rdns::run
