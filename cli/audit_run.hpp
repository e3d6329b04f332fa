#pragma once
/// The audit run that `rdnsctl audit` and `rdnsctl check` share: its options,
/// their registration on a subcommand, and what one run produced.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <run/options.hpp>
#include <run/run.hpp>

#include "config.hpp"
#include "output.hpp"

namespace rdns::cli {

using run::FailingAddress;
using run::FailOn;
using run::kFailingListed;
using run::lock_database;
using run::RunLocked;
using run::RunMetrics;
using AuditOutcome = run::Outcome;

/// Every audit flag; `check` fills the same struct. What the run does is
/// run::RunOptions; the rest says how it is shown.
struct AuditCommandOptions : run::RunOptions {
  Format format = Format::table;
  ColorMode color = ColorMode::automatic;
  bool quiet = false;        ///< no progress or status lines on stderr
  std::string config;        ///< --config; empty: the default file, if any
  std::string shard_text;    ///< --shard as given: "K/N", "auto" or empty
  std::uint32_t shards = 0;  ///< --shards, for --shard auto; 0: not given
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

/// Runs a new audit, or resumes one (options.resume), storing it as a run of
/// `command` with `arguments`; see run::execute. With `print` false nothing
/// reaches stdout. Throws run::RunLocked when another run holds the database.
run::Outcome execute_audit(const AuditCommandOptions& options,
                           const std::vector<std::string>& arguments, std::string_view command,
                           bool print);

}  // namespace rdns::cli
