#pragma once
// The cloud flags shared by `rdnsctl cloud` and `rdnsctl ptr`, turned into
// credentials and a client configuration in one place.

#include <functional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <provision/credentials.hpp>
#include <provision/ptr_client.hpp>

namespace rdns::cli {

/// The values of --region, --endpoint, --profile, --actions,
/// --loopback-only and --verbose.
struct CloudConnection {
  std::string region;
  std::string endpoint;
  std::string profile;
  std::string actions;
  bool loopback_only = false;
  bool verbose = false;
};

/// Adds --region, --endpoint, --profile, --actions, --loopback-only and
/// --verbose to `command`, filling `connection`.
void add_cloud_connection_options(CLI::App& command, CloudConnection& connection);

/// Credentials in the SDKs' order, with --profile taken into account.
provision::Credentials cloud_credentials(const CloudConnection& connection);

/// The client configuration; throws Errc::usage when no region is known.
provision::ClientConfig cloud_config(const CloudConnection& connection,
                                     const provision::Credentials& credentials);

/// The request log of --verbose (lines to stderr), or none without it.
std::function<void(std::string_view)> verbose_log(const CloudConnection& connection);

}  // namespace rdns::cli
