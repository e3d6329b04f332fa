#pragma once
/// One audit run from lock to webhook: a new run or the rest of a stored
/// one, its results queued for the writer thread, its final state, the
/// comparison with the previous run, metrics, retention and notification.
/// `rdnsctl audit` and `rdnsctl check` share it; the command line parses
/// the options and prints, through the hooks below.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <db/database.hpp>
#include <run/observer.hpp>
#include <run/options.hpp>
#include <run/prometheus.hpp>
#include <util/error.hpp>
#include <util/file_lock.hpp>

namespace rdns::run {

/// A failing address and its finding codes, for check's long output.
struct FailingAddress {
  std::string ip;
  std::vector<std::string> codes;
};

/// How many failing addresses a run's outcome names (the rest are counted).
inline constexpr std::size_t kFailingListed = 20;

/// How one run ended, for the exit code and the monitoring outputs.
struct Outcome {
  std::optional<std::int64_t> run_id;  ///< none with --no-db
  /// With --run-name: the shard of the named run this process audited
  /// (its metrics are the shard's); a re-run of the same command resumes it.
  std::optional<db::RunShard> part;
  std::string database;               ///< its path, when stored
  RunMetrics metrics;                 ///< over the whole run, resumed parts included
  bool reached = false;               ///< a finding reached fail_on
  int stopped_by_signal = 0;          ///< SIGINT/SIGTERM stopped it (0: ran to the end)
  bool no_resolver_answered = false;  ///< no usable answer: the run failed
  std::string resolver_failure;       ///< why, naming the resolvers
  std::uint64_t queries = 0;          ///< DNS queries sent
  std::vector<std::string> resolvers;
  std::size_t notified = 0;  ///< addresses the webhook was told about
  std::string notify_error;  ///< why the webhook could not be told; the run itself is stored
  std::vector<FailingAddress> failing;  ///< the first kFailingListed failing addresses
  std::size_t pruned = 0;               ///< older runs the inventory's retention removed
};

/// Another run holds the database's lock (exit 4 for `audit`).
class RunLocked : public Error {
 public:
  using Error::Error;
};

/// Locks `<database>.lock`, so scheduled runs (and pruning) never overlap on
/// one database; throws RunLocked when another program holds it.
FileLock lock_database(const std::filesystem::path& database);

/// What the run needs from the command line that drives it.
struct RunHooks {
  /// The options a stored run was started with (for options.resume).
  std::function<RunOptions(const db::RunInfo&)> stored_options;
  /// The receiver of the results, made once the run's id (none: not
  /// stored) is known.
  std::function<std::unique_ptr<ResultObserver>(std::optional<std::int64_t> run_id)> make_observer;
  /// On the audit's thread while it runs: `done` of `total` addresses.
  /// Empty: no progress is reported.
  std::function<void(std::uint64_t done, std::uint64_t total, const db::RunCounts& counts)>
      show_progress;
  /// The audit stopped; what show_progress drew may go.
  std::function<void()> clear_progress;
  /// A status line (domain findings, the summary, what retention removed).
  std::function<void(const std::string& line)> notice;
  /// A skipped input, always worth telling.
  std::function<void(const std::string& message)> warning;
  /// Whether standard input was closed at start: '-' is refused then.
  bool standard_input_closed = false;
};

/// What a new run is compared with: runs of the same targets (as given, so a
/// domain whose addresses move keeps its identity) and the same checks; an
/// inventory's runs are one series whatever it lists.
db::RunLabel run_label(const RunOptions& options, const std::vector<db::AddressRange>& targets,
                       const std::vector<std::string>& domains);

/// Runs a new audit, or resumes one (options.resume), storing it as a run of
/// `command` with `arguments`. Holds `<database>.lock` while it runs; throws
/// RunLocked when that is taken. Writes the Prometheus textfile when the
/// audit ran, whatever its outcome.
Outcome execute(const RunOptions& options, const std::vector<std::string>& arguments,
                std::string_view command, const RunHooks& hooks);

}  // namespace rdns::run
