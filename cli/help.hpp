#pragma once
/// --help pages that read well: `--concurrency N  DNS queries in flight at
/// most (1-10000; default 100)` instead of CLI11's `UINT:INT in [1 - 10000]=100`,
/// and examples under the main commands.

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace rdns::cli {

/// Gives `app` the help layout; call before adding subcommands (they take
/// their parent's).
void use_plain_help(CLI::App& app);

/// Adds an EXAMPLES footer to the main commands; call after adding them.
void add_examples(CLI::App& app);

/// The word help shows for an option's value: its choices
/// ("table|json|jsonl|csv"), SECONDS, PERCENT or N for a number, else its name in capitals.
std::string value_name(const CLI::Option& option);

/// The names an option accepts when it takes one of a few; empty otherwise.
std::vector<std::string> option_choices(const CLI::Option& option);

/// What help says about an option: its description, then the values it
/// accepts and its default ("(1-10000; default 100)").
std::string option_help(const CLI::Option& option);

/// The "Examples:" block of a main command's help; empty for the others.
std::string examples_of(std::string_view command);

/// How options also come from RDNSCTL_* variables and the configuration file.
std::string environment_note();

/// Whether the option is followed by a value (not a flag).
bool takes_value(const CLI::Option& option);

}  // namespace rdns::cli
