#include "rfc2136_options.hpp"

#include <chrono>
#include <cstdio>

#include <provision/rfc2136.hpp>
#include <util/error.hpp>

#include "number_option.hpp"
#include "ptr_workflow.hpp"

namespace rdns::cli {
namespace {

constexpr const char* kKeyVariable = "RDNSCTL_TSIG_KEY";

/// The key from --tsig-key-file, else --tsig-key or its environment variable.
provision::TsigKey tsig_key(const Rfc2136Flags& flags) {
  if (!flags.key_file.empty() && !flags.key.empty()) {
    throw Error(
        Errc::usage,
        std::string("give the TSIG key once: --tsig-key-file, or --tsig-key / ") + kKeyVariable);
  }
  if (!flags.key_file.empty()) return provision::read_tsig_key_file(flags.key_file);
  if (!flags.key.empty()) {
    const char* from_environment = std::getenv(kKeyVariable);
    const bool environment = from_environment != nullptr && flags.key == from_environment;
    return provision::parse_tsig_key(flags.key, environment ? kKeyVariable : "--tsig-key");
  }
  return {};
}

}  // namespace

void add_rfc2136_options(CLI::App& ptr, Rfc2136Flags& flags) {
  ptr.add_option("--dns-server", flags.server,
                 "rfc2136: primary server IP[:PORT] that takes the updates (default: the SOA "
                 "MNAME of each reverse zone, port 53)")
      ->type_name("ADDR");
  ptr.add_option("--tsig-key", flags.key,
                 "rfc2136: TSIG key [hmac-sha256:]NAME:SECRET, as nsupdate -y takes it (prefer "
                 "RDNSCTL_TSIG_KEY or --tsig-key-file: a command line is visible to other users)")
      ->type_name("KEY")
      ->envname(kKeyVariable);
  ptr.add_option("--tsig-key-file", flags.key_file,
                 "rfc2136: TSIG key file, BIND's key \"NAME\" { algorithm hmac-sha256; secret "
                 "\"...\"; }; or knsupdate's one line [hmac-sha256:]NAME:SECRET")
      ->type_name("FILE");
  ptr.add_option("--dns-prefix", flags.prefixes,
                 "rfc2136: an IPv4 network (CIDR) whose PTRs the key may change; repeatable, "
                 "required")
      ->type_name("CIDR")
      ->allow_extra_args(false);
  ptr.add_option("--dns-update-timeout", flags.timeout,
                 "rfc2136: seconds for each exchange with the primary or a resolver")
      ->type_name("SECONDS")
      ->default_val(5.0)
      ->check(try_seconds());
}

void open_rfc2136_session(const PtrOptions& options, PtrSession& session) {
  const Rfc2136Flags& flags = options.rfc2136;
  provision::Rfc2136Config config;
  config.server = flags.server;
  config.resolvers = options.resolvers;
  config.key = tsig_key(flags);
  for (const auto& prefix : flags.prefixes) {
    config.prefixes.push_back(provision::Ipv4Prefix::parse(prefix));
  }
  config.timeout = std::chrono::milliseconds(static_cast<long>(flags.timeout * 1000));
  config.scope = options.connection.loopback_only ? provision::NetworkScope::loopback_only
                                                  : provision::NetworkScope::any;
  if (options.connection.verbose) {
    config.log = [](std::string_view line) {
      std::fprintf(stderr, "rdnsctl: %.*s\n", static_cast<int>(line.size()), line.data());
    };
  }
  session.region = provision::rfc2136_scope(config);
  // An UPDATE is carried out on arrival; its answer comes within the timeout or never.
  session.in_flight = config.timeout;
  session.provider = provision::make_rfc2136_provider(std::move(config));
}

}  // namespace rdns::cli
