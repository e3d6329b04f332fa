#pragma once
/// Plain one-line messages for CLI11's parse errors: the flag, the value
/// given and what is accepted ("--format xml: expected table, json, jsonl or
/// csv"), the same whether the value came from the command line, the
/// environment or the configuration file.

#include <string>

#include <CLI/CLI.hpp>

namespace rdns::cli {

/// What went wrong in `error`, raised while parsing options of `app` (or of
/// one of its subcommands), without the "rdnsctl: " prefix.
std::string plain_message(const CLI::Error& error, const CLI::App& app);

/// For a parse that stopped at a missing or mistyped command name:
/// "unknown command 'audti' (did you mean 'audit'?); see rdnsctl --help",
/// "runs: which command? list, show or prune; see rdnsctl runs --help", or
/// for a word nothing took "unexpected option '--nope'; see rdnsctl audit --help".
/// Empty when `error` is about something else. `app` is the root.
std::string command_message(const CLI::Error& error, const CLI::App& app);

}  // namespace rdns::cli
