#pragma once
// The flags of `rdnsctl ptr --provider rfc2136`: the primary to update, the
// TSIG key and the networks the key may change.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace rdns::cli {

struct PtrOptions;
struct PtrSession;

/// The values of --dns-server, --tsig-key (or RDNSCTL_TSIG_KEY),
/// --tsig-key-file, --dns-prefix and --dns-update-timeout.
struct Rfc2136Flags {
  std::string server;
  std::string key;
  std::string key_file;
  std::vector<std::string> prefixes;
  double timeout = 5;
};

/// Adds the rfc2136 flags to the ptr command.
void add_rfc2136_options(CLI::App& ptr, Rfc2136Flags& flags);

/// Fills the session's provider, journal scope and in-flight time for
/// --provider rfc2136; Errc::usage for a missing or bad key or prefix.
void open_rfc2136_session(const PtrOptions& options, PtrSession& session);

}  // namespace rdns::cli
