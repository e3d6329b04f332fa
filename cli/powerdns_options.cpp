// The PowerDNS flags live here, apart from the ptr workflow, so the provider
// is wired into `rdnsctl ptr` with one line in the option setup and one
// branch where the session is opened.

#include "powerdns_options.hpp"

#include <chrono>

#include <provision/powerdns_provider.hpp>
#include <util/error.hpp>

#include "cloud_setup.hpp"
#include "number_option.hpp"
#include "ptr_workflow.hpp"

namespace rdns::cli {

void add_powerdns_options(CLI::App& ptr, PowerDnsOptions& options) {
  ptr.add_option("--pdns-url", options.url,
                 "PowerDNS API base URL, e.g. http://127.0.0.1:8081 (--provider powerdns)")
      ->type_name("URL");
  ptr.add_option("--pdns-server-id", options.server_id,
                 "PowerDNS server id in the API paths (--provider powerdns)")
      ->default_val("localhost")
      ->type_name("ID");
  ptr.add_option("--pdns-api-key-file", options.api_key_file,
                 "File whose first line is the PowerDNS API key, mode 600 (default: "
                 "$RDNSCTL_PDNS_API_KEY)")
      ->type_name("FILE");
  ptr.add_option("--pdns-prefix", options.prefixes,
                 "Address prefix whose PTRs PowerDNS may change; repeatable (default: every "
                 "address in the server's reverse zones)")
      ->type_name("CIDR")
      ->allow_extra_args(false);
  ptr.add_option("--pdns-timeout", options.timeout, "Seconds per PowerDNS API request")
      ->default_val(15)
      ->type_name("SECONDS")
      ->check(finite_range(0.1, 300, "seconds"));
}

void open_powerdns(const PowerDnsOptions& options, const CloudConnection& connection,
                   PtrSession& session) {
  if (options.url.empty()) {
    throw Error(Errc::usage, "--provider powerdns needs --pdns-url (the server's API URL)");
  }
  provision::PowerDnsConfig config;
  config.url = options.url;
  config.server_id = options.server_id;
  config.api_key = provision::powerdns_api_key(options.api_key_file);
  config.prefixes = options.prefixes;
  config.request_timeout = std::chrono::milliseconds(static_cast<long>(options.timeout * 1000));
  config.scope = connection.loopback_only ? provision::NetworkScope::loopback_only
                                          : provision::NetworkScope::any;
  config.log = verbose_log(connection);
  session.region = provision::powerdns_scope(options.url);
  session.in_flight = config.connect_timeout + config.request_timeout;
  session.provider = std::make_unique<provision::PowerDnsPtrProvider>(std::move(config));
}

}  // namespace rdns::cli
