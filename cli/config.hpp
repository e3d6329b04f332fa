#pragma once
/// The configuration file and environment for `audit` and `check`: the same
/// keys as the long flags, in TOML. What wins: a flag, then RDNSCTL_<KEY> in
/// the environment, then the file's [audit] or [check] table, then its top
/// level, then the built-in default.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <run/options.hpp>

namespace rdns::cli {

/// Adds --config (also RDNSCTL_CONFIG) to `command`, filling `path`, and gives
/// every other option an RDNSCTL_<NAME> environment variable (--fail-on:
/// RDNSCTL_FAIL_ON). Call after the command's options are registered.
void add_config_support(CLI::App& command, std::string& path);

/// How long an inventory's runs are kept (its keep-runs and keep-days keys).
using Retention = run::Retention;

/// What part of the configuration a command applies.
struct ConfigScope {
  /// Keys checked but not applied (--resume audits the run's own targets).
  std::vector<std::string> skipped;
  /// An [inventory.NAME] whose keys win over [audit]/[check] and the top
  /// level; its targets replace theirs. Empty: no inventory.
  std::string inventory;
};

/// Whether `name` may name an inventory: letters, digits, '.', '_' and '-',
/// starting with a letter or digit, at most 64 characters.
bool valid_inventory_name(const std::string& name);

/// A CLI11 check that an --inventory value is a valid inventory name.
CLI::Validator inventory_name();

/// Reads the configuration file (`path`, else $XDG_CONFIG_HOME/rdnsctl/config.toml
/// when it exists) into the options of `command` that neither a flag nor the
/// environment set. Top-level keys are `audit` options and apply to every
/// command that has them; [audit] and [check] apply to that command only;
/// [inventory.NAME] tables define named inventories, every one of them
/// checked, the one `scope` names applied. Returns that inventory's
/// retention. Throws Errc::input naming file, line and key for unknown keys
/// and bad values, Errc::usage when an explicit `path` or the inventory is
/// missing.
Retention apply_config(CLI::App& command, const std::string& path, const ConfigScope& scope = {});

/// A command line that reproduces what `command` got from flags, the
/// environment and the configuration file together. Stored with a run, so
/// --resume audits as first asked even after the file or environment changed.
std::vector<std::string> effective_arguments(const CLI::App& command);

/// The RDNSCTL_* variable a CLI11 error `message` is about, when the option it
/// names got its value from the environment rather than the command line;
/// empty otherwise. An error must say where the bad value came from.
std::string environment_source(const CLI::App& app, const std::vector<std::string>& arguments,
                               const std::string& message);

/// The database named for commands that take no --config (runs, report):
/// RDNSCTL_DB, else the top-level `db` of the file $RDNSCTL_CONFIG names or
/// of the default file; empty when none does. Throws like apply_config().
std::string configured_database();

}  // namespace rdns::cli
