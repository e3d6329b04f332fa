#pragma once
/// The subcommands. Each file fills its own options struct from CLI11 and
/// runs from the subcommand's callback; main.cpp registers them from one table.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <db/database.hpp>
#include <util/error.hpp>

namespace rdns::cli {

/// Process exit codes, documented in docs/cli.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitFindings = 1,       ///< something reached --fail-on
  kExitUsage = 2,          ///< bad flags, input or database
  kExitOperational = 3,    ///< the audit could not run (no resolver answered, I/O failure)
  kExitLocked = 4,         ///< another run holds the database's lock
  kExitPluginUnknown = 3,  ///< `check`: the Nagios UNKNOWN state, also for bad flags
};

/// State shared by the commands of one invocation.
struct Context {
  int exit_code = kExitOk;
  std::vector<std::string> arguments;  ///< argv without the program name, for the run record
};

void add_audit_command(CLI::App& app, Context& context);
void add_runs_command(CLI::App& app, Context& context);
void add_cloud_command(CLI::App& app, Context& context);
void add_report_command(CLI::App& app, Context& context);
void add_check_command(CLI::App& app, Context& context);
void add_ptr_command(CLI::App& app, Context& context);
void add_fix_command(CLI::App& app, Context& context);
void add_history_command(CLI::App& app, Context& context);
void add_completion_command(CLI::App& app, Context& context);
void add_manual_command(CLI::App& app, Context& context);

/// Whether the process started with standard input closed. Then descriptor 0
/// is /dev/null (so no file the program opens can take its place) and `-`
/// is refused rather than read as empty.
bool standard_input_closed();

/// --db PATH when given, else $XDG_DATA_HOME/rdnsctl/rdnsctl.db.
std::filesystem::path database_path(const std::string& flag);

/// Adds the shared --db option.
void add_database_option(CLI::App& command, std::string& path);

/// Opens the database read-only for reading stored runs (a monitoring user
/// needs no write access); refuses (Errc::usage, naming the path) to create
/// one that does not exist yet.
db::Database open_existing(const std::string& flag);

/// The database path for --db `flag`, refusing (Errc::usage, naming it) a
/// path with no database, so a mistyped --db creates nothing (not even a lock).
std::filesystem::path existing_database_path(const std::string& flag);

/// A run ID, or "latest" for the newest run; Errc::usage otherwise. With an
/// `inventory`, "latest" is that inventory's newest run and an ID must be
/// one of its runs.
std::int64_t resolve_run(db::Database& database, const std::string& text,
                         const std::string& inventory = {});

/// Adds --inventory NAME to a command that reads stored runs, filling `name`.
void add_inventory_filter(CLI::App& command, std::string& name);

}  // namespace rdns::cli
