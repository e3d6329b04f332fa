#pragma once
/// What a run is about to do: a new run, or the rest of a stored one.
/// Private to the run module.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <audit/auditor.hpp>
#include <audit/targets.hpp>
#include <db/database.hpp>
#include <run/run.hpp>
#include <util/file_lock.hpp>

namespace rdns::run {

struct Plan {
  std::optional<FileLock> lock;  ///< before the database, released after it
  RunOptions options;
  audit::TargetSet targets{1};
  std::optional<db::Database> database;
  std::optional<std::int64_t> run_id;
  bool resumed = false;
  /// A shard of a named run (--run-name): which one, and whether an earlier
  /// attempt completed it already (nothing is left to audit then).
  std::optional<db::RunShard> part;
  bool part_complete = false;
  /// A re-run part's whole share of the targets (`targets` holds what is
  /// left of it), so its counts cover the earlier attempts too.
  std::optional<audit::TargetSet> part_targets;
  audit::SourceIndex sources;
  std::vector<db::DomainFindingRecord> domain_findings;
};

/// The engine's settings for `options`.
audit::AuditOptions engine_options(const RunOptions& options);

/// Locks and opens the database, checks the stored run options.resume and
/// plans what of it is left; the run keeps the fail_on, database and
/// Prometheus textfile of `current`.
Plan plan_resume(const RunOptions& current, const RunHooks& hooks);

/// Locks the database, collects the targets (expanding domains with
/// `engine`) and stores the new run of `command`.
Plan plan_new(const RunOptions& options, const std::vector<std::string>& arguments,
              std::string_view command, const audit::AuditOptions& engine,
              const std::vector<std::string>& resolvers, const RunHooks& hooks);

}  // namespace rdns::run
