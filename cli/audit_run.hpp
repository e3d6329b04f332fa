#pragma once
/// The audit run that `rdnsctl audit` and `rdnsctl check` share: its options,
/// their registration on a subcommand, and what one run produced.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <run/prometheus.hpp>
#include <util/error.hpp>
#include <util/file_lock.hpp>

#include "config.hpp"
#include "output.hpp"

namespace rdns::cli {

using run::RunMetrics;

/// Severity threshold for exit code 1; `never` disables it.
enum class FailOn { info, warning, error, never };

/// Every audit flag; `check` fills the same struct.
struct AuditCommandOptions {
  std::vector<std::string> targets;
  std::vector<std::string> input_files;
  std::vector<std::string> resolvers;
  std::size_t concurrency = 100;
  double qps = 0;
  double timeout_seconds = 1.0;
  int retries = 3;
  std::uint64_t max_ips = 1u << 20;
  bool skip_invalid = false;
  Format format = Format::table;
  FailOn fail_on = FailOn::error;
  ColorMode color = ColorMode::automatic;
  std::string database;
  bool no_database = false;
  std::string rules;
  bool quiet = false;
  std::int64_t resume = 0;
  std::vector<std::string> domains;
  std::vector<std::string> domain_files;
  bool smtp = false;
  std::uint16_t smtp_port = 25;
  std::string smtp_helo;
  double smtp_timeout_seconds = 5.0;
  std::size_t smtp_concurrency = 20;
  std::string prometheus_textfile;  ///< empty: none written
  std::string config;               ///< --config; empty: the default file, if any
  std::string notify_webhook;       ///< empty: no notification
  int notify_retries = 3;
  std::string inventory;  ///< --inventory: the configured set audited; empty: ad hoc
  Retention retention;    ///< the inventory's, applied after each complete run
};

/// Which flags a subcommand takes: `check` prints one status line, so the
/// output flags (--format, --color, --fail-on, -q) and --resume stay out.
enum class OptionSet { audit, check };

/// Registers the audit options of `set` on `command`, filling `options`.
void register_options(CLI::App& command, AuditCommandOptions& options,
                      OptionSet set = OptionSet::audit);

/// After the configuration is applied: no --db, RDNSCTL_DB or `db` key means
/// the XDG default, never the `db` of some other configuration file.
void settle_database(AuditCommandOptions& options);

/// A failing address and its finding codes, for check's long output.
struct FailingAddress {
  std::string ip;
  std::vector<std::string> codes;
};

/// How many failing addresses a run's outcome names (the rest are counted).
inline constexpr std::size_t kFailingListed = 20;

/// How one run ended, for the exit code and the monitoring outputs.
struct AuditOutcome {
  std::optional<std::int64_t> run_id;  ///< none with --no-db
  std::string database;                ///< its path, when stored
  RunMetrics metrics;                  ///< over the whole run, resumed parts included
  bool reached = false;                ///< a finding reached --fail-on
  int stopped_by_signal = 0;           ///< SIGINT/SIGTERM stopped it (0: ran to the end)
  bool no_resolver_answered = false;   ///< no usable answer: the run failed
  std::string resolver_failure;        ///< why, naming the resolvers
  std::uint64_t queries = 0;           ///< DNS queries sent
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

/// Runs a new audit, or resumes one (options.resume), storing it as a run of
/// `command` with `arguments`. With `print` false nothing reaches stdout.
/// Holds `<database>.lock` while it runs; throws RunLocked when that is taken.
/// Writes --prometheus-textfile when the audit ran, whatever its outcome.
AuditOutcome execute_audit(const AuditCommandOptions& options,
                           const std::vector<std::string>& arguments, std::string_view command,
                           bool print);

}  // namespace rdns::cli
