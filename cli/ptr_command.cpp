// rdnsctl ptr: the flags, the clients of one invocation and the commands on
// one IP. The provisioning engine (provision/engine.hpp) does the work of the
// commands that write; this file builds it and prints what it reports.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include <audit/lookup.hpp>
#include <provision/credentials.hpp>
#include <provision/provider.hpp>
#include <provision/ptr_client.hpp>
#include <provision/write_checks.hpp>
#include <run/run.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "cloud_setup.hpp"
#include "number_option.hpp"
#include "ptr_workflow.hpp"

namespace rdns::cli {
namespace {

using namespace std::chrono_literals;

/// provision::DnsView over the audit's resolver, so the checks ask exactly
/// the resolver the user configured (never a hidden system one in tests).
class ResolverDns : public provision::DnsView {
 public:
  explicit ResolverDns(const PtrOptions& options)
      : options_(audit_options(options)), authorities_(options.authorities), lookup_(options_) {}

  provision::DnsAnswer a(const std::string& name) override {
    return convert(lookup_.ask(name, audit::LookupType::a));
  }
  provision::DnsAnswer txt(const std::string& name) override {
    return convert(lookup_.ask(name, audit::LookupType::txt));
  }
  provision::DnsAnswer ptr(const std::string& ip) override {
    return convert(lookup_.ask(ip, audit::LookupType::ptr));
  }
  std::optional<std::uint32_t> zone_ttl_of_a(const std::string& name) override {
    for (const auto& server : authorities_for(name)) {
      audit::AuditOptions direct = options_;
      direct.resolvers = {server};
      audit::LookupClient authority(direct);
      const audit::LookupAnswer answer = authority.ask(name, audit::LookupType::a);
      if (answer.outcome == audit::LookupAnswer::Outcome::answered) return answer.ttl;
    }
    return std::nullopt;
  }

 private:
  /// --authority, else the addresses of the NS servers of the closest
  /// enclosing zone of name (asked through the resolver), on port 53.
  std::vector<std::string> authorities_for(const std::string& name) {
    if (!authorities_.empty()) return authorities_;
    std::vector<std::string> servers;
    for (std::string zone = name; zone.find('.') != std::string::npos;
         zone = zone.substr(zone.find('.') + 1)) {
      const audit::LookupAnswer hosts = lookup_.ask(zone, audit::LookupType::ns);
      if (hosts.outcome != audit::LookupAnswer::Outcome::answered) continue;
      for (const auto& host : hosts.values) {
        for (const auto& address : lookup_.ask(host, audit::LookupType::a).values) {
          servers.push_back(address);
        }
      }
      break;
    }
    return servers;
  }

  static audit::AuditOptions audit_options(const PtrOptions& options) {
    if (!(options.dns_timeout > 0)) {
      throw Error(Errc::usage, "--dns-timeout must be a positive number of seconds");
    }
    audit::AuditOptions result;
    result.resolvers = options.resolvers;
    result.timeout = std::chrono::milliseconds(static_cast<long>(options.dns_timeout * 1000));
    result.retries = 2;
    result.concurrency = 4;
    return result;
  }

  static provision::DnsAnswer convert(audit::LookupAnswer&& answer) {
    provision::DnsAnswer result;
    switch (answer.outcome) {
      case audit::LookupAnswer::Outcome::answered:
        result.outcome = provision::DnsAnswer::Outcome::answered;
        break;
      case audit::LookupAnswer::Outcome::nodata:
        result.outcome = provision::DnsAnswer::Outcome::nodata;
        break;
      case audit::LookupAnswer::Outcome::nxdomain:
        result.outcome = provision::DnsAnswer::Outcome::nxdomain;
        break;
      case audit::LookupAnswer::Outcome::failed:
        result.outcome = provision::DnsAnswer::Outcome::failed;
        break;
    }
    result.values = std::move(answer.values);
    result.ttl = answer.ttl;
    result.failure = std::move(answer.failure);
    return result;
  }

  audit::AuditOptions options_;
  std::vector<std::string> authorities_;
  audit::LookupClient lookup_;
};

/// The provider and the DNS view of the shared flags: the one place a
/// provider is built.
PtrSession open_client(const PtrOptions& options) {
  if (options.provider == "aws") {
    PtrSession session = open_aws_client(options);
    session.dns = std::make_unique<ResolverDns>(options);
    return session;
  }
  PtrSession session;
  session.dns = std::make_unique<ResolverDns>(options);
  if (options.provider == "rfc2136") {
    open_rfc2136_session(options, session);
    return session;
  }
  const CloudConnection& connection = options.connection;
  if (options.provider == "powerdns") {
    open_powerdns(options.powerdns, connection, session);
    return session;
  }
  const provision::Credentials credentials = cloud_credentials(connection);
  const provision::ClientConfig config = cloud_config(connection, credentials);
  session.region = config.region;
  session.in_flight = config.connect_timeout + config.request_timeout;
  session.provider = provision::make_provider(options.provider, config, credentials);
  return session;
}

const char* status_name(provision::PtrStatus status) {
  return status == provision::PtrStatus::enabled ? "enabled" : "disabled";
}

void print_record(const provision::PtrRecord& record, const char* managed = nullptr) {
  std::printf("%s\t%s\t%d\t%s\t%s%s%s\n", escape_text(record.ip).c_str(),
              escape_text(record.value).c_str(), record.ttl, status_name(record.status),
              escape_text(record.record_id).c_str(), managed == nullptr ? "" : "\t",
              managed == nullptr ? "" : managed);
}

/// The one record of ip, if any.
std::optional<provision::PtrRecord> record_of(provision::PtrProvider& provider,
                                              const std::string& ip) {
  for (auto& record : provider.read(ip)) {
    if (record.ip == ip) return record;
  }
  return std::nullopt;
}

/// Prints what the engine reports: refusals, warnings and the journal's
/// notes on stderr, visibility and staged-change steps on stdout.
class EnginePrinter final : public provision::EngineObserver {
 public:
  void in_flight(const provision::JournalOperation& op, std::chrono::seconds watch) override {
    std::fprintf(stderr,
                 "rdnsctl: journal: operation %s may still be in flight; watching the cloud for "
                 "up to %lld s\n",
                 describe(op).c_str(), static_cast<long long>(watch.count()));
  }
  void reconciled(const provision::JournalOperation& op, const std::string& seen,
                  bool done) override {
    std::fprintf(stderr,
                 "rdnsctl: journal: operation %s was interrupted; the cloud shows %s, so it is "
                 "%s\n",
                 describe(op).c_str(), escape_text(seen).c_str(), done ? "done" : "not applied");
  }
  void checked(const provision::WriteCheck& check) override {
    for (const auto& warning : check.warnings) {
      std::fprintf(stderr, "rdnsctl: WARNING: %s\n", escape_text(warning).c_str());
    }
    for (const auto& failure : check.failures) refused(failure.message);
  }
  void refused(const std::string& reason) override {
    std::fprintf(stderr, "rdnsctl: refused: %s\n", escape_text(reason).c_str());
  }
  void change_abandoned(const std::string& ip) override {
    std::fprintf(stderr, "rdnsctl: %s: the staged change of this IP is abandoned\n",
                 escape_text(ip).c_str());
  }
  void visibility(const provision::Visibility& result) override {
    if (result.visible) {
      std::printf("%s: visible in DNS after %.1fs\n", escape_text(result.ip).c_str(),
                  result.seconds);
    } else {
      std::printf(
          "%s: not visible in DNS after %.1fs (resolver still answers %s; caches may hold "
          "the old answer up to its TTL)\n",
          escape_text(result.ip).c_str(), result.seconds, escape_text(result.last_answer).c_str());
    }
    std::fflush(stdout);
  }
  void apply_progress(const provision::ApplyProgress& progress) override;
  void stage_step(const provision::StagedChange& stage, const std::string& text) override {
    std::printf("%s: [%s] %s\n", escape_text(stage.ip).c_str(), stage.stage.c_str(),
                escape_text(text).c_str());
    std::fflush(stdout);
  }

 private:
  static std::string describe(const provision::JournalOperation& op) {
    return fmt::format("{} ({} {} {})", op.id, op.action, escape_text(op.ip),
                       escape_text(op.value));
  }

  /// Written to a file or a pipe, stdout is block-buffered: a kill would lose
  /// the record of how far an apply got, so stderr gets it line by line.
  bool progress_on_stderr_ = ::isatty(STDOUT_FILENO) == 0;
};

void EnginePrinter::apply_progress(const provision::ApplyProgress& progress) {
  const std::string ip = escape_text(progress.ip);
  switch (progress.phase) {
    case provision::ApplyProgress::Phase::writing:
      if (progress_on_stderr_) {
        std::fprintf(stderr, "rdnsctl: apply: %zu of %zu: %s %s %s\n", progress.position,
                     progress.total, progress.journal_action.c_str(), ip.c_str(),
                     escape_text(progress.value).c_str());
      }
      break;
    case provision::ApplyProgress::Phase::failed:
      std::fprintf(stderr,
                   "rdnsctl: %s: %s failed; stopped after %zu of %zu (re-run apply to go on)\n",
                   ip.c_str(), progress.journal_action.c_str(), progress.done, progress.total);
      break;
    case provision::ApplyProgress::Phase::written:
      if (progress_on_stderr_) {
        std::fprintf(stderr, "rdnsctl: apply: %zu of %zu done: operation %lld\n", progress.position,
                     progress.total, static_cast<long long>(progress.operation));
      }
      std::printf("%c %s: %s %s (operation %lld)\n", plan_sign(progress.action), ip.c_str(),
                  progress.journal_action.c_str(), escape_text(progress.value).c_str(),
                  static_cast<long long>(progress.operation));
      break;
  }
}

/// The journal, once this process is its only writer: a SQLite file's lock
/// (kept in `lock`), or a PostgreSQL database's advisory lock (kept by the
/// journal's connection). Throws run::RunLocked (exit 4) while another
/// writer holds it.
std::unique_ptr<db::PtrJournal> open_locked_journal(const std::filesystem::path& path,
                                                    std::optional<FileLock>& lock) {
  if (!db::is_database_url(path.native())) {
    lock.emplace(run::lock_database(path));
    return std::make_unique<db::PtrJournal>(db::PtrJournal::open(path));
  }
  auto journal = std::make_unique<db::PtrJournal>(db::PtrJournal::open(path));
  if (!journal->try_lock_writers()) {
    throw run::RunLocked(Errc::io, fmt::format("{}: another rdnsctl run is using this database "
                                               "(a ptr command writes its journal); not starting "
                                               "a second one",
                                               escape_text(db::displayed_location(path.native()))));
  }
  return journal;
}

}  // namespace

PtrSession open_session(const PtrOptions& options, SessionUse use) {
  PtrSession session = open_client(options);
  if (use == SessionUse::write) {
    const std::filesystem::path path = database_path(options.db);
    session.journal = open_locked_journal(path, session.lock);
    session.engine_journal = std::make_unique<db::EngineJournal>(*session.journal);
    session.clock = std::make_unique<provision::SystemClock>();
    session.printer = std::make_unique<EnginePrinter>();
    provision::EngineSettings settings;
    settings.region = session.region;
    settings.in_flight = session.in_flight;
    settings.wait = std::chrono::milliseconds(static_cast<long>(options.wait * 1000));
    session.engine = std::make_unique<provision::Engine>(*session.provider, *session.engine_journal,
                                                         *session.dns, *session.clock,
                                                         *session.printer, std::move(settings));
    session.engine->reconcile();
  }
  return session;
}

namespace {

void add_shared_options(CLI::App& ptr, PtrOptions& options) {
  add_cloud_connection_options(ptr, options.connection);
  add_powerdns_options(ptr, options.powerdns);
  add_aws_options(ptr, options.aws);
  ptr.add_option("--provider", options.provider,
                 "Who serves the reverse zones (alibaba: the Alibaba-style cloud API; rfc2136: "
                 "DNS UPDATE with TSIG to the zone's primary; powerdns: a PowerDNS "
                 "Authoritative server's HTTP API, --pdns-*; aws: EC2 Elastic IPs)")
      ->default_val(provision::provider_names().front())
      ->check(one_of(provision::provider_names()));
  add_rfc2136_options(ptr, options.rfc2136);
  ptr.add_option("--resolver", options.resolvers,
                 "Recursive resolver IP[:PORT] for the DNS checks; repeatable (default: "
                 "resolv.conf)")
      ->type_name("ADDR")
      ->allow_extra_args(false);
  ptr.add_option("--authority", options.authorities,
                 "Authoritative server IP[:PORT] asked for the TTL of a name's A record; "
                 "repeatable (default: the zone's NS servers)")
      ->type_name("ADDR")
      ->allow_extra_args(false);
  ptr.add_option("--dns-timeout", options.dns_timeout, "Seconds per DNS try")
      ->default_val(1.0)
      ->check(try_seconds());
  ptr.add_option("--wait", options.wait,
                 "Seconds to poll DNS after a write until the change is visible (0: once)")
      ->default_val(30)
      ->check(finite_range(0, 3600, "seconds"))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // a later --wait wins
  ptr.add_option("--db", options.db,
                 "Database holding the journal: a SQLite file (default: "
                 "$XDG_DATA_HOME/rdnsctl/rdnsctl.db) or a postgresql:// URL")
      ->type_name("PATH|URL");
}

}  // namespace

void add_ptr_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<PtrOptions>();
  CLI::App* ptr = app.add_subcommand(
      "ptr", "Provision verified PTR records through the cloud API (docs/provisioning.md)");
  ptr->require_subcommand(1);
  // The shared flags may come after the subcommand too ("ptr set ... --wait 0").
  ptr->fallthrough();
  add_shared_options(*ptr, *options);
  Context* ctx = &context;

  CLI::App* list = ptr->add_subcommand(
      "list", "IP, value, TTL, status, record ID, managed (by rdnsctl) or -; then billing");
  list->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::read);
    const auto listing = session.provider->list();
    // Which records rdnsctl's journal manages; none without a database yet.
    std::set<std::string> managed;
    const std::filesystem::path path = database_path(options->db);
    if (db::is_database_url(path.native()) || std::filesystem::exists(path)) {
      for (auto& ip : db::PtrJournal::open(path).managed(session.region)) managed.insert(ip);
    }
    for (const auto& record : listing.records) {
      print_record(record, managed.contains(record.ip) ? "managed" : "-");
    }
    if (session.provider->capabilities().bills_records) {
      std::printf("# billable %d, %.2f %s/day\n", listing.billing.billable_records,
                  listing.billing.daily_fee, escape_text(listing.billing.currency).c_str());
    }
    ctx->exit_code = kExitOk;
  });

  CLI::App* show = ptr->add_subcommand("show", "One IP: its record and what DNS answers");
  show->add_option("ip", options->ip, "IPv4 address")->required();
  show->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::read);
    if (const auto record = record_of(*session.provider, options->ip)) {
      print_record(*record);
    } else {
      std::printf("%s\t-\tno record\n", escape_text(options->ip).c_str());
    }
    const provision::DnsAnswer answer = session.dns->ptr(options->ip);
    if (answer.values.empty()) {
      std::printf("dns\t%s\n", answer.outcome == provision::DnsAnswer::Outcome::failed
                                   ? escape_text(answer.failure).c_str()
                                   : "no PTR");
    }
    for (const auto& name : answer.values) {
      const provision::DnsAnswer forward = session.dns->a(name);
      const bool confirmed = std::find(forward.values.begin(), forward.values.end(), options->ip) !=
                             forward.values.end();
      std::printf("dns\t%s\tFCrDNS %s\n", escape_text(name).c_str(), confirmed ? "pass" : "fail");
    }
    ctx->exit_code = kExitOk;
  });

  CLI::App* set = ptr->add_subcommand("set", "Create or change the one PTR record of an IP");
  set->add_option("ip", options->ip, "IPv4 address")->required();
  set->add_option("name", options->name, "Host name whose A record holds the IP")->required();
  set->add_option("--ttl", options->ttl, "Seconds, 1-86400 (default: the name's A-record TTL)");
  set->add_flag("--allow-unconfirmed", options->allow_unconfirmed,
                "Write even when the name's A record does not hold the IP (FCrDNS will fail)");
  set->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::write);
    auto& engine = *session.engine;
    const provision::SetResult result =
        engine.set({options->ip, options->name, options->ttl, options->allow_unconfirmed});
    const auto& existing = result.existing;
    const std::string name = escape_text(result.check.name);
    switch (result.outcome) {
      case provision::SetResult::Outcome::refused:
        ctx->exit_code = kExitFindings;
        return;
      case provision::SetResult::Outcome::unchanged:
        std::printf("%s: unchanged (%s, TTL %d): nothing written\n", options->ip.c_str(),
                    name.c_str(), existing->ttl);
        break;
      case provision::SetResult::Outcome::updated:
        std::printf("%s: updated %s -> %s, TTL %d (%s, operation %lld)\n", options->ip.c_str(),
                    escape_text(existing->value).c_str(), name.c_str(), result.check.ttl,
                    escape_text(result.written.record_id).c_str(),
                    static_cast<long long>(result.written.operation));
        break;
      case provision::SetResult::Outcome::created:
        std::printf("%s: created %s, TTL %d (%s, operation %lld)\n", options->ip.c_str(),
                    name.c_str(), result.check.ttl, escape_text(result.written.record_id).c_str(),
                    static_cast<long long>(result.written.operation));
        break;
    }
    if (existing && existing->status == provision::PtrStatus::disabled) {
      std::printf("%s: the record is disabled; rdnsctl ptr enable %s serves it\n",
                  options->ip.c_str(), options->ip.c_str());
    } else {
      engine.wait_visible(options->ip, result.check.name);
    }
    ctx->exit_code = kExitOk;
  });

  for (const bool enable : {true, false}) {
    CLI::App* command =
        ptr->add_subcommand(enable ? "enable" : "disable",
                            enable ? "Serve an IP's record again (after the pre-write checks)"
                                   : "Stop serving an IP's record (the cloud still bills it)");
    command->add_option("ip", options->ip, "IPv4 address")->required();
    command->callback([options, ctx, enable] {
      PtrSession session = open_session(*options, SessionUse::write);
      auto& engine = *session.engine;
      const auto status = enable ? provision::PtrStatus::enabled : provision::PtrStatus::disabled;
      const provision::StatusResult result = engine.set_status(options->ip, status);
      if (result.refused) {
        ctx->exit_code = kExitFindings;
        return;
      }
      if (result.already) {
        std::printf("%s: already %s\n", options->ip.c_str(), status_name(status));
      } else {
        std::printf("%s: %s (%s, operation %lld)\n", options->ip.c_str(), status_name(status),
                    escape_text(result.record.record_id).c_str(),
                    static_cast<long long>(result.written.operation));
      }
      engine.wait_visible(options->ip, enable ? result.record.value : std::string());
      if (!enable && session.provider->capabilities().bills_records) {
        std::printf("%s: a disabled record is still billed daily\n", options->ip.c_str());
      }
      ctx->exit_code = kExitOk;
    });
  }

  CLI::App* remove = ptr->add_subcommand("delete", "Delete an IP's record (stops billing)");
  remove->add_option("ip", options->ip, "IPv4 address")->required();
  remove->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::write);
    const provision::RemoveResult result = session.engine->remove(options->ip);
    std::printf("%s: deleted %s (%s, operation %lld)\n", options->ip.c_str(),
                escape_text(result.record.value).c_str(),
                escape_text(result.record.record_id).c_str(),
                static_cast<long long>(result.written.operation));
    session.engine->wait_visible(options->ip, std::string());
    ctx->exit_code = kExitOk;
  });

  CLI::App* verify = ptr->add_subcommand(
      "verify-domain", "The TXT record that proves a domain, and whether DNS shows it yet");
  verify->add_option("domain", options->name, "Domain (or a host name in it)")->required();
  verify->add_option("--poll", options->poll, "Seconds to keep looking for the record (0: once)")
      ->default_val(0)
      ->check(finite_range(0, 3600, "seconds"));
  verify->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::read);
    if (!provision::is_valid_ptr_value(options->name)) {
      throw Error(Errc::usage, "\"" + options->name + "\" is not a domain name");
    }
    // Poll like a write does: the user runs this right after publishing.
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<long>(options->poll * 1000));
    provision::DomainVerification result;
    for (;;) {
      result = provision::check_domain_verification(*session.provider, *session.dns, options->name);
      if (result.present || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(1s);
    }
    std::printf("%s\tTXT\t\"%s\"\n", escape_text(result.expected.fqdn()).c_str(),
                escape_text(result.expected.value).c_str());
    if (result.present) {
      std::printf("%s: verified (the TXT record is visible through the resolver)\n",
                  escape_text(result.expected.domain).c_str());
      ctx->exit_code = kExitOk;
    } else {
      std::printf("%s: not verified yet: publish the record above at your DNS provider (%s)\n",
                  escape_text(result.expected.domain).c_str(),
                  !result.failure.empty() ? escape_text(result.failure).c_str()
                  : result.found.empty()  ? "no TXT there now"
                                          : "the TXT there holds another value");
      ctx->exit_code = kExitFindings;
    }
  });

  add_ptr_plan_commands(*ptr, options, context);
  add_ptr_risk_command(*ptr, options, context);
  add_ptr_change_command(*ptr, options, context);
}

}  // namespace rdns::cli
