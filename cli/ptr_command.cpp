// rdnsctl ptr: the PTR provisioning workflow. Every write goes through
// provision::check_ptr_write first, and every write is followed by polling
// the configured resolver until the new answer is visible or --wait passes.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <audit/lookup.hpp>
#include <provision/api_error.hpp>
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

PtrSession open_client(const PtrOptions& options) {
  if (options.provider == "aws") {
    PtrSession session = open_aws_client(options);
    session.dns = std::make_unique<ResolverDns>(options);
    return session;
  }
  PtrSession session;
  const CloudConnection& connection = options.connection;
  const provision::Credentials credentials = cloud_credentials(connection);
  const provision::ClientConfig config = cloud_config(connection, credentials);
  session.region = config.region;
  session.in_flight = config.connect_timeout + config.request_timeout;
  session.provider = provision::make_provider(options.provider, config, credentials);
  session.dns = std::make_unique<ResolverDns>(options);
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

std::string lower(std::string text) {
  return lower_name(std::move(text));
}

/// The one record of ip, if any.
std::optional<provision::PtrRecord> record_of(provision::PtrProvider& provider,
                                              const std::string& ip) {
  for (auto& record : provider.read(ip)) {
    if (record.ip == ip) return record;
  }
  return std::nullopt;
}

provision::PtrRecord require_record(provision::PtrProvider& provider, const std::string& ip) {
  auto record = record_of(provider, ip);
  if (!record) throw Error(Errc::input, ip + " has no PTR record in this account and region");
  return *record;
}

const char* state_name(const provision::RecordState& state) {
  if (!state.exists) return "no record";
  return state.status == provision::PtrStatus::enabled ? "enabled" : "disabled";
}

/// Whether the remote state shows what op meant to do.
bool shows_result(const db::PtrOperationRecord& op, const provision::RecordState& now) {
  if (op.action == "create" || op.action == "update") {
    return now.exists && lower(now.value) == lower(op.value) && now.ttl == op.ttl;
  }
  if (op.action == "delete") return !now.exists;
  const auto wanted =
      op.action == "enable" ? provision::PtrStatus::enabled : provision::PtrStatus::disabled;
  return now.exists && now.status == wanted;
}

/// When op's intent was stored (its created_at, UTC).
std::chrono::system_clock::time_point started_at(const db::PtrOperationRecord& op) {
  std::tm parts{};
  if (::strptime(op.created_at.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parts) == nullptr) {
    return std::chrono::system_clock::time_point{};  // unreadable: long past
  }
  return std::chrono::system_clock::from_time_t(::timegm(&parts));
}

/// Settles one operation a crash left pending by describing the remote
/// state: if the cloud shows what the operation meant to do, it happened.
/// The killed process's call may still be on its way or being carried out,
/// so "not applied" is concluded only once it would have timed out.
void reconcile(PtrSession& session, const db::PtrOperationRecord& op) {
  auto now = provision::state_of(session.provider->read(op.ip), op.ip);
  bool done = shows_result(op, now);
  // A second of slack: created_at is stored to the second.
  const auto settled = started_at(op) + session.in_flight + 1s;
  if (!done && std::chrono::system_clock::now() < settled) {
    std::fprintf(stderr,
                 "rdnsctl: journal: operation %lld (%s %s %s) may still be in flight; watching "
                 "the cloud for up to %lld s\n",
                 static_cast<long long>(op.id), op.action.c_str(), escape_text(op.ip).c_str(),
                 escape_text(op.value).c_str(),
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                            settled - std::chrono::system_clock::now())
                                            .count()));
    while (!done && std::chrono::system_clock::now() < settled) {
      std::this_thread::sleep_for(500ms);
      now = provision::state_of(session.provider->read(op.ip), op.ip);
      done = shows_result(op, now);
    }
  }
  const std::string seen =
      now.exists ? fmt::format("{} TTL {} {}", now.value, now.ttl, state_name(now)) : "no record";
  session.journal->finish(op.id, done ? "done" : "not_applied",
                          "reconciled after an interruption: the cloud shows " + seen, {},
                          done ? now.record_id : std::string());
  if (done) session.journal->set_managed(session.region, op.ip, op.action != "delete");
  std::fprintf(stderr,
               "rdnsctl: journal: operation %lld (%s %s %s) was interrupted; the cloud shows %s, "
               "so it is %s\n",
               static_cast<long long>(op.id), op.action.c_str(), escape_text(op.ip).c_str(),
               escape_text(op.value).c_str(), escape_text(seen).c_str(),
               done ? "done" : "not applied");
}

/// Whether the step puts a value into DNS that the cloud does not serve now
/// (a TTL change of the served value publishes nothing new).
bool publishes_new_value(const WriteStep& step) {
  if (step.action == "create") return true;
  if (step.action != "update" && step.action != "enable") return false;
  const auto& before = step.before;
  return !before.exists || before.status != provision::PtrStatus::enabled ||
         lower(before.value) != lower(step.value);
}

}  // namespace

std::string lower_name(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

PtrSession open_session(const PtrOptions& options, SessionUse use) {
  PtrSession session = open_client(options);
  if (use == SessionUse::write) {
    const std::filesystem::path path = database_path(options.db);
    session.lock.emplace(run::lock_database(path));
    session.journal = std::make_unique<db::PtrJournal>(db::PtrJournal::open(path));
    for (const auto& op : session.journal->pending(session.region)) reconcile(session, op);
  }
  return session;
}

provision::WriteCheck check_write(PtrSession& session, const std::string& ip,
                                  const std::string& name, std::optional<int> ttl,
                                  bool allow_unconfirmed) {
  provision::WriteCheckOptions check_options;
  check_options.allow_unconfirmed = allow_unconfirmed;
  provision::WriteCheck check =
      provision::check_ptr_write(*session.provider, *session.dns, ip, name, ttl, check_options);
  if (report_check(check)) session.checked.emplace(ip, lower(check.name));
  return check;
}

std::optional<std::string> change_in_progress(PtrSession& session, const std::string& ip) {
  const auto stage = session.journal->stage(session.region, ip);
  if (!stage) return std::nullopt;
  return fmt::format(
      "{}: a change to {} is in progress (stage {}); finish it first with rdnsctl ptr change {} "
      "{}, or delete the record",
      ip, stage->value, stage->stage, ip, stage->value);
}

std::int64_t journaled_write(PtrSession& session, const WriteStep& step) {
  // A delete ends a staged change of the IP; any other write would be
  // overwritten by it.
  if (step.action != "delete" && step.source != "ptr change") {
    if (auto change = change_in_progress(session, step.ip)) throw Error(Errc::usage, *change);
  }
  // Refused before the journal sees it: a pending row would make the next
  // run watch the cloud for a state that can never come.
  if ((step.action == "enable" || step.action == "disable") &&
      !session.provider->capabilities().supports_disable) {
    throw Error(Errc::usage, fmt::format("{}: the {} provider cannot disable or enable a PTR "
                                         "record; delete it with rdnsctl ptr delete",
                                         step.ip, session.provider->name()));
  }
  if (publishes_new_value(step) && !session.checked.contains({step.ip, lower(step.value)}) &&
      !check_write(session, step.ip, step.value, step.ttl, step.allow_unconfirmed).ok()) {
    throw Refused(Errc::usage, fmt::format("{}: {} of {} refused by the pre-write checks", step.ip,
                                           step.action, step.value));
  }
  db::PtrOperationRecord op;
  op.source = step.source;
  op.action = step.action;
  op.region = session.region;
  op.ip = step.ip;
  op.record_id = step.before.record_id;
  op.value = step.value;
  op.ttl = step.ttl;
  if (step.before.exists) {
    op.previous_value = step.before.value;
    op.previous_ttl = step.before.ttl;
    op.previous_status = state_name(step.before);
  }
  // The intent is durable before the call: a crash from here on leaves a
  // pending row that the next run reconciles.
  const std::int64_t id = session.journal->begin(op);
  std::string record_id = step.before.record_id;
  try {
    auto& provider = *session.provider;
    if (step.action == "create" || step.action == "update") {
      // A create writes with no current record; an update replaces it.
      record_id = provider.write(step.ip, step.value, step.ttl,
                                 step.action == "create" ? std::string() : record_id);
    } else if (step.action == "delete") {
      provider.remove(step.ip, record_id);
    } else {
      provider.set_status(
          step.ip, record_id,
          step.action == "enable" ? provision::PtrStatus::enabled : provision::PtrStatus::disabled);
    }
  } catch (const provision::ApiError& error) {
    session.journal->finish(id, "failed", error.what(), error.request_id());
    throw;
  }
  session.journal->finish(id, "done", "ok", session.provider->last_request_id(), record_id);
  session.journal->set_managed(session.region, step.ip, step.action != "delete");
  if (step.action == "delete" && session.journal->stage(session.region, step.ip)) {
    session.journal->clear_stage(session.region, step.ip);
    std::fprintf(stderr, "rdnsctl: %s: the staged change of this IP is abandoned\n",
                 escape_text(step.ip).c_str());
  }
  return id;
}

/// Polls the resolver until ip's PTR is exactly name (or, with an empty name,
/// gone) or wait passes; prints which. Caches between the cloud's servers and
/// the resolver may hold the old answer up to its TTL, so "not yet" is a
/// report, not an error.
bool wait_visible(provision::DnsView& dns, const std::string& ip, const std::string& name,
                  double wait_seconds) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::milliseconds(static_cast<long>(wait_seconds * 1000));
  std::string last;
  for (;;) {
    const provision::DnsAnswer answer = dns.ptr(ip);
    bool visible = false;
    if (name.empty()) {
      visible = answer.outcome == provision::DnsAnswer::Outcome::nxdomain ||
                answer.outcome == provision::DnsAnswer::Outcome::nodata;
    } else {
      visible = answer.values.size() == 1 && lower(answer.values.front()) == lower(name);
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (visible) {
      std::printf("%s: visible in DNS after %.1fs\n", ip.c_str(), elapsed);
      return true;
    }
    last = answer.values.empty() ? (answer.failure.empty() ? "no PTR" : answer.failure)
                                 : escape_text(answer.values.front());
    if (std::chrono::steady_clock::now() >= deadline) {
      std::printf(
          "%s: not visible in DNS after %.1fs (resolver still answers %s; caches may hold "
          "the old answer up to its TTL)\n",
          ip.c_str(), elapsed, last.c_str());
      return false;
    }
    std::this_thread::sleep_for(500ms);
  }
}

/// Prints each failed rule and warning to stderr; true when the write may go on.
bool report_check(const provision::WriteCheck& check) {
  for (const auto& warning : check.warnings) {
    std::fprintf(stderr, "rdnsctl: WARNING: %s\n", escape_text(warning).c_str());
  }
  for (const auto& failure : check.failures) {
    std::fprintf(stderr, "rdnsctl: refused: %s\n", escape_text(failure.message).c_str());
  }
  return check.ok();
}

namespace {

void add_shared_options(CLI::App& ptr, PtrOptions& options) {
  add_cloud_connection_options(ptr, options.connection);
  add_aws_options(ptr, options.aws);
  ptr.add_option("--provider", options.provider,
                 "Who serves the reverse zones (alibaba: the Alibaba-style cloud API; aws: "
                 "EC2 Elastic IPs)")
      ->default_val(provision::provider_names().front())
      ->check(one_of(provision::provider_names()));
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
                 "SQLite database holding the journal (default: "
                 "$XDG_DATA_HOME/rdnsctl/rdnsctl.db)")
      ->type_name("PATH");
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
    if (std::filesystem::exists(path)) {
      for (auto& ip : db::PtrJournal::open(path).managed(session.region)) managed.insert(ip);
    }
    for (const auto& record : listing.records) {
      print_record(record, managed.contains(record.ip) ? "managed" : "-");
    }
    std::printf("# billable %d, %.2f %s/day\n", listing.billing.billable_records,
                listing.billing.daily_fee, escape_text(listing.billing.currency).c_str());
    ctx->exit_code = kExitOk;
  });

  CLI::App* show = ptr->add_subcommand("show", "One IP: its record and what DNS answers");
  show->add_option("ip", options->ip, "IPv4 address")->required();
  show->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::read);
    const auto record = record_of(*session.provider, options->ip);
    if (record) {
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
    const provision::WriteCheck check =
        check_write(session, options->ip, options->name, options->ttl, options->allow_unconfirmed);
    if (!check.ok()) {
      ctx->exit_code = kExitFindings;
      return;
    }
    const auto existing = record_of(*session.provider, options->ip);
    const bool same_value = existing && lower(existing->value) == lower(check.name);
    // Without --ttl the record already holding the value keeps its TTL, as in plans.
    if (same_value && (existing->ttl == check.ttl || !options->ttl)) {
      std::printf("%s: unchanged (%s, TTL %d): nothing written\n", options->ip.c_str(),
                  escape_text(check.name).c_str(), existing->ttl);
    } else {
      const auto before =
          existing ? provision::state_of({*existing}, options->ip) : provision::RecordState{};
      const WriteStep step{
          "ptr set", existing ? "update" : "create", options->ip, check.name, check.ttl,
          before,    options->allow_unconfirmed};
      const std::int64_t id = journaled_write(session, step);
      const auto op = session.journal->find(id);
      if (existing) {
        std::printf("%s: updated %s -> %s, TTL %d (%s, operation %lld)\n", options->ip.c_str(),
                    escape_text(existing->value).c_str(), escape_text(check.name).c_str(),
                    check.ttl, escape_text(op->record_id).c_str(), static_cast<long long>(id));
      } else {
        std::printf("%s: created %s, TTL %d (%s, operation %lld)\n", options->ip.c_str(),
                    escape_text(check.name).c_str(), check.ttl, escape_text(op->record_id).c_str(),
                    static_cast<long long>(id));
      }
    }
    if (existing && existing->status == provision::PtrStatus::disabled) {
      std::printf("%s: the record is disabled; rdnsctl ptr enable %s serves it\n",
                  options->ip.c_str(), options->ip.c_str());
    } else {
      wait_visible(*session.dns, options->ip, check.name, options->wait);
    }
    ctx->exit_code = kExitOk;
  });

  for (const bool enable : {true, false}) {
    CLI::App* command =
        ptr->add_subcommand(enable ? "enable" : "disable",
                            enable ? "Serve an IP's record again (after the pre-write checks)"
                                   : "Stop serving an IP's record (it is still billed)");
    command->add_option("ip", options->ip, "IPv4 address")->required();
    command->callback([options, ctx, enable] {
      PtrSession session = open_session(*options, SessionUse::write);
      const provision::PtrRecord record = require_record(*session.provider, options->ip);
      if (enable) {
        // Enabling publishes the value again, so it must pass what a new write would.
        if (!check_write(session, options->ip, record.value, record.ttl, false).ok()) {
          ctx->exit_code = kExitFindings;
          return;
        }
      }
      const auto status = enable ? provision::PtrStatus::enabled : provision::PtrStatus::disabled;
      if (record.status == status) {
        std::printf("%s: already %s\n", options->ip.c_str(), status_name(status));
      } else {
        const std::int64_t id = journaled_write(
            session, WriteStep{enable ? "ptr enable" : "ptr disable", enable ? "enable" : "disable",
                               options->ip, record.value, record.ttl,
                               provision::state_of({record}, options->ip)});
        std::printf("%s: %s (%s, operation %lld)\n", options->ip.c_str(), status_name(status),
                    escape_text(record.record_id).c_str(), static_cast<long long>(id));
      }
      wait_visible(*session.dns, options->ip, enable ? record.value : std::string(), options->wait);
      if (!enable)
        std::printf("%s: a disabled record is still billed daily\n", options->ip.c_str());
      ctx->exit_code = kExitOk;
    });
  }

  CLI::App* remove = ptr->add_subcommand("delete", "Delete an IP's record (stops billing)");
  remove->add_option("ip", options->ip, "IPv4 address")->required();
  remove->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::write);
    const provision::PtrRecord record = require_record(*session.provider, options->ip);
    const std::int64_t id =
        journaled_write(session, WriteStep{"ptr delete", "delete", options->ip, std::string(), 0,
                                           provision::state_of({record}, options->ip)});
    std::printf("%s: deleted %s (%s, operation %lld)\n", options->ip.c_str(),
                escape_text(record.value).c_str(), escape_text(record.record_id).c_str(),
                static_cast<long long>(id));
    wait_visible(*session.dns, options->ip, std::string(), options->wait);
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
