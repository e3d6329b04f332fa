#pragma once
/// The flags of `rdnsctl ptr --provider powerdns` and the provider they make.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace rdns::cli {

struct CloudConnection;
struct PtrSession;

/// --pdns-url, --pdns-server-id, --pdns-api-key-file, --pdns-prefix, --pdns-timeout.
struct PowerDnsOptions {
  std::string url;
  std::string server_id = "localhost";
  std::string api_key_file;
  std::vector<std::string> prefixes;
  double timeout = 15;
};

/// Adds the --pdns-* flags to the ptr command.
void add_powerdns_options(CLI::App& ptr, PowerDnsOptions& options);

/// Fills session's provider, journal scope ("powerdns:HOST:PORT") and
/// in-flight time from the flags; --loopback-only and --verbose of the cloud
/// flags apply too. Errc::usage without --pdns-url, Errc::credentials without a key.
void open_powerdns(const PowerDnsOptions& options, const CloudConnection& connection,
                   PtrSession& session);

}  // namespace rdns::cli
