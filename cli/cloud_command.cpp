// rdnsctl cloud: a minimal front end to the PTR provisioning client, enough
// to try the emulator by hand and to test the whole binary. The full
// provisioning workflow (plan, verify, apply) is a later issue.

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include <provision/credentials.hpp>
#include <provision/ptr_client.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "cloud_setup.hpp"
#include "commands.hpp"

namespace rdns::cli {
namespace {

/// The flags shared by every cloud subcommand, and the positionals of each.
struct CloudOptions {
  CloudConnection connection;
  std::string ip;
  std::vector<std::string> ips;
  std::string record_id;
  std::string value;
  int ttl = provision::kDefaultPtrTtl;
};

provision::Credentials credentials_for(const CloudOptions& options) {
  return cloud_credentials(options.connection);
}

provision::ClientConfig config_for(const CloudOptions& options,
                                   const provision::Credentials& credentials) {
  return cloud_config(options.connection, credentials);
}

provision::PtrClient ptr_client(const CloudOptions& options) {
  const provision::Credentials credentials = credentials_for(options);
  return provision::PtrClient(config_for(options, credentials), credentials);
}

void print_record(const provision::PtrRecord& record) {
  std::printf("%s\t%s\t%s\t%d\t%s\n", escape_text(record.record_id).c_str(),
              escape_text(record.ip).c_str(), escape_text(record.value).c_str(), record.ttl,
              record.status == provision::PtrStatus::enabled ? "enabled" : "disabled");
}

const char* role_name(provision::IpRole role) {
  switch (role) {
    case provision::IpRole::eip:
      return "eip";
    case provision::IpRole::ecs_public_ip:
      return "ecs";
    case provision::IpRole::reverse_zone:
      return "reverse-zone";
    case provision::IpRole::not_owned:
      return "not-owned";
  }
  return "not-owned";
}

}  // namespace

void add_cloud_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<CloudOptions>();
  CLI::App* cloud = app.add_subcommand(
      "cloud", "Alibaba Cloud PTR records (minimal; see docs/cloud.md and docs/emulator.md)");
  cloud->require_subcommand(1);
  add_cloud_connection_options(*cloud, options->connection);
  auto done = [&context] { context.exit_code = kExitOk; };

  CLI::App* ptr = cloud->add_subcommand("ptr", "List, create, change and delete PTR records");
  ptr->require_subcommand(1);
  CLI::App* list = ptr->add_subcommand("list", "ID, IP, value, TTL, status; then the billing");
  list->add_option("ip", options->ip, "Only this IP");
  list->callback([options, done] {
    auto client = ptr_client(*options);
    const auto listing =
        client.describe(options->ip.empty() ? std::nullopt : std::optional(options->ip));
    for (const auto& record : listing.records) print_record(record);
    std::printf("# billable %d, %.2f %s/day, charged %.2f %s\n", listing.billing.billable_records,
                listing.billing.daily_fee, escape_text(listing.billing.currency).c_str(),
                listing.billing.charged_total, escape_text(listing.billing.currency).c_str());
    done();
  });
  CLI::App* create = ptr->add_subcommand("create", "Create the PTR record of an IP");
  create->add_option("ip", options->ip, "IPv4 address")->required();
  create->add_option("value", options->value, "Host name the PTR points to")->required();
  create->add_option("--ttl", options->ttl, "Seconds, 1-86400")->default_val(600);
  create->callback([options, done] {
    auto client = ptr_client(*options);
    print_record(client.create(options->ip, options->value, options->ttl));
    done();
  });
  CLI::App* update = ptr->add_subcommand("update", "Change a record's value and TTL");
  update->add_option("record", options->record_id, "Record ID")->required();
  update->add_option("value", options->value, "New host name")->required();
  update->add_option("--ttl", options->ttl, "Seconds, 1-86400")->default_val(600);
  update->callback([options, done] {
    ptr_client(*options).update(options->record_id, options->value, options->ttl);
    done();
  });
  for (const auto& [name, status] : {std::pair{"enable", provision::PtrStatus::enabled},
                                     std::pair{"disable", provision::PtrStatus::disabled}}) {
    CLI::App* command = ptr->add_subcommand(name, status == provision::PtrStatus::enabled
                                                      ? "Enable a record"
                                                      : "Disable a record (still billed)");
    command->add_option("record", options->record_id, "Record ID")->required();
    command->callback([options, done, status = status] {
      ptr_client(*options).set_status(options->record_id, status);
      done();
    });
  }
  CLI::App* remove = ptr->add_subcommand("delete", "Delete a record (stops billing)");
  remove->add_option("record", options->record_id, "Record ID")->required();
  remove->callback([options, done] {
    ptr_client(*options).remove(options->record_id);
    done();
  });

  CLI::App* verify = cloud->add_subcommand(
      "verify-txt", "The TXT record to publish before a PTR may point into a domain");
  verify->add_option("value", options->value, "The host name you want as PTR value")->required();
  verify->callback([options, done] {
    const auto txt = ptr_client(*options).verification_txt(options->value);
    std::printf("%s\tTXT\t%s\n", escape_text(txt.fqdn()).c_str(), escape_text(txt.value).c_str());
    done();
  });

  CLI::App* owns = cloud->add_subcommand("owns", "Whether the account owns IPs in the region");
  owns->add_option("ips", options->ips, "IPv4 addresses")->required();
  owns->callback([options, done] {
    const provision::Credentials credentials = credentials_for(*options);
    provision::OwnershipChecker checker(config_for(*options, credentials), credentials);
    for (const auto& owned : checker.check(options->ips)) {
      std::printf("%s\t%s\t%s\n", escape_text(owned.ip).c_str(), role_name(owned.role),
                  escape_text(owned.resource_id).c_str());
    }
    done();
  });
}

void add_cloud_connection_options(CLI::App& command, CloudConnection& connection) {
  command.add_option("--region", connection.region, "RegionId (default: from the credentials)")
      ->type_name("REGION");
  command
      .add_option("--endpoint", connection.endpoint,
                  "Base URL for every product, e.g. http://127.0.0.1:8080 (the emulator)")
      ->type_name("URL");
  command
      .add_option("--profile", connection.profile,
                  "Profile of ~/.aliyun/config.json (with --provider aws: of ~/.aws/credentials)")
      ->type_name("NAME");
  command.add_option("--actions", connection.actions, "JSON file overriding the action table")
      ->type_name("FILE");
  command.add_flag("--loopback-only", connection.loopback_only,
                   "Refuse any endpoint outside 127.0.0.0/8");
  command.add_flag("-v,--verbose", connection.verbose, "Log each request and answer to stderr");
}

provision::Credentials cloud_credentials(const CloudConnection& connection) {
  provision::CredentialOptions lookup;
  lookup.profile = connection.profile;
  return provision::resolve_credentials(lookup);
}

provision::ClientConfig cloud_config(const CloudConnection& connection,
                                     const provision::Credentials& credentials) {
  provision::ClientConfig config;
  config.region = connection.region.empty() ? credentials.region : connection.region;
  if (config.region.empty()) {
    throw Error(Errc::usage,
                "no region: pass --region, set ALIBABA_CLOUD_REGION_ID or use a profile with "
                "region_id");
  }
  config.endpoint = connection.endpoint;
  if (!connection.actions.empty()) {
    config.actions = provision::ActionTable::from_file(connection.actions);
  }
  config.scope = connection.loopback_only ? provision::NetworkScope::loopback_only
                                          : provision::NetworkScope::any;
  config.log = verbose_log(connection);
  return config;
}

std::function<void(std::string_view)> verbose_log(const CloudConnection& connection) {
  if (!connection.verbose) return {};
  return [](std::string_view line) {
    std::fprintf(stderr, "rdnsctl: %.*s\n", static_cast<int>(line.size()), line.data());
  };
}

}  // namespace rdns::cli
