// What a run is about to audit: a new run's targets, domains, identity and
// stored record, or the rest of a stored run.

#include "plan.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <audit/domains.hpp>
#include <audit/shard.hpp>
#include <audit/vocabulary.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::run {
namespace {

/// The EHLO name: --smtp-helo, else this machine's host name.
std::string default_helo_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

/// Domains from --domain and --domains-file (one per line, '#' comments).
std::vector<std::string> collect_domains(const RunOptions& options) {
  std::vector<std::string> domains = options.domains;
  for (const std::string& path : options.domain_files) {
    std::ifstream file(path);
    if (!file) {
      throw Error(Errc::input, fmt::format("{}: cannot open domains file: {}", escape_text(path),
                                           std::strerror(errno)));
    }
    std::string line;
    for (std::size_t number = 1; std::getline(file, line); ++number) {
      const auto hash = line.find('#');
      if (hash != std::string::npos) line.erase(hash);
      const auto first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos) continue;
      const std::string domain = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
      if (domain.find_first_of(" \t") != std::string::npos) {
        throw Error(Errc::input, fmt::format("{}:{}: '{}' is not one domain name",
                                             escape_text(path), number, escape_text(domain)));
      }
      domains.push_back(domain);
    }
  }
  return domains;
}

/// Expands domains into targets and their sources; tells of domain findings
/// (`notice` may be empty).
void add_domain_targets(const std::vector<std::string>& domains, const audit::AuditOptions& engine,
                        const std::function<void(const std::string&)>& notice,
                        audit::TargetSet& targets, audit::SourceIndex& sources,
                        std::vector<db::DomainFindingRecord>* findings) {
  // Without findings to keep (a resumed run's sources, a later shard) only
  // the addresses are wanted: DMARC, MTA-STS and TLS-RPT are not asked.
  const auto checks =
      findings == nullptr ? audit::DomainChecks::addresses_only : audit::DomainChecks::all;
  audit::DomainExpansion expansion = audit::expand_domains(domains, engine, checks);
  for (const auto& [range, source] : expansion.ranges) {
    // The records are remote data: what they authorise beyond --max-ips is
    // left out with a finding, never a reason to abort the audit.
    if (!targets.add_range_within_limit(range,
                                        fmt::format("domain {} ({})", source.domain, source.via))) {
      expansion.findings.push_back(audit::domain_finding(
          source.domain, "SENDERS_NOT_AUDITED",
          fmt::format("{}: the audit already holds as many addresses as --max-ips allows",
                      escape_text(source.via))));
      continue;
    }
    sources.add(range, source);
  }
  if (findings == nullptr) return;
  for (const audit::DomainFinding& finding : expansion.findings) {
    findings->push_back({finding.domain, finding.code, finding.severity, finding.detail});
    if (notice) {
      notice(fmt::format("{}: {}: {}", escape_text(finding.domain), finding.code,
                         escape_text(finding.detail)));
    }
  }
}

audit::TargetSet collect_targets(const RunOptions& options, const RunHooks& hooks) {
  const auto warn = [&](const std::string& message) {
    if (hooks.warning) hooks.warning(message);
  };
  if (options.targets.empty() && options.input_files.empty() && options.domains.empty() &&
      options.domain_files.empty()) {
    throw Error(Errc::usage,
                "nothing to audit: give IPs or CIDRs, -i FILE, - for stdin, or --domain");
  }
  audit::TargetSet targets(options.max_ips);
  const auto on_invalid =
      options.skip_invalid ? audit::InvalidInput::skip_with_warning : audit::InvalidInput::fail;
  bool read_stdin = false;
  const auto add_stdin = [&] {
    if (hooks.standard_input_closed) {
      throw Error(Errc::usage,
                  "-: standard input is closed; give the targets as arguments or with -i FILE");
    }
    if (!read_stdin) targets.add_lines(std::cin, "stdin", on_invalid, warn);
    read_stdin = true;
  };
  for (const std::string& target : options.targets) {
    if (target == "-") {
      add_stdin();
      continue;
    }
    const audit::ParsedRange parsed = audit::parse_range(target);
    if (!parsed.range && options.skip_invalid) {
      warn(fmt::format("argument '{}' is not an IP address or CIDR range: {} (skipped)",
                       escape_text(target), parsed.error));
      continue;
    }
    targets.add(target, "argument");
  }
  for (const std::string& file : options.input_files) {
    if (file == "-") {
      add_stdin();
    } else {
      targets.add_file(file, on_invalid, warn);
    }
  }
  return targets;
}

/// Keeps the addresses of `shard` (a shard with none is a complete, empty
/// run: its process succeeds like the others).
void select_shard(const audit::ShardSplit& split, const audit::Shard& shard,
                  audit::TargetSet& targets, const RunHooks& hooks) {
  const audit::uint128 whole = targets.size();
  targets = split.select(targets, shard.index);
  if (hooks.notice) {
    hooks.notice(fmt::format("shard {}: {} of {} addresses", audit::to_string(shard),
                             static_cast<std::uint64_t>(targets.size()),
                             static_cast<std::uint64_t>(whole)));
  }
}

std::vector<db::AddressRange> address_ranges(const audit::TargetSet& targets) {
  std::vector<db::AddressRange> ranges;
  for (const audit::IpRange& range : targets.ranges()) {
    ranges.push_back({range.first.to_string(), range.last.to_string()});
  }
  return ranges;
}

/// The path of a database that must exist already, so a mistyped path
/// creates nothing (not even a lock); throws Errc::usage naming it.
std::filesystem::path existing_database(const std::string& path) {
  std::error_code ignored;
  if (!db::is_database_url(path) && !std::filesystem::exists(path, ignored)) {
    db::Database::open_read_only(path);  // throws, naming the path
  }
  return path;
}

}  // namespace

audit::AuditOptions engine_options(const RunOptions& options) {
  audit::AuditOptions engine;
  engine.resolvers = options.resolvers;
  engine.timeout =
      std::chrono::milliseconds(std::max<long>(1, std::lround(options.timeout_seconds * 1000)));
  engine.retries = options.retries;
  engine.concurrency = options.concurrency;
  engine.concurrency_ceiling = options.concurrency_ceiling;
  engine.qps = options.qps;
  engine.stop_signals = {SIGINT, SIGTERM};
  engine.ptr_only = options.ptr_only;
  engine.dnsbl = options.dnsbl;
  engine.dnsbl_lists = options.dnsbl_lists;
  engine.dnsbl_key = options.dnsbl_key;
  engine.mta_sts_port = options.mta_sts_port;
  engine.ca_file = options.ca_file;
  if (options.smtp) {
    audit::SmtpOptions smtp;
    smtp.port = options.smtp_port;
    smtp.helo_name = options.smtp_helo.empty() ? default_helo_name() : options.smtp_helo;
    smtp.timeout = std::chrono::milliseconds(
        std::max<long>(1, std::lround(options.smtp_timeout_seconds * 1000)));
    smtp.concurrency = options.smtp_concurrency;
    smtp.ca_file = options.ca_file;
    engine.smtp = smtp;
  }
  return engine;
}

namespace {

/// Takes the addresses a run already has results for out of `targets`, a
/// batch at a time: a run of a million stored results never holds them all.
void remove_done(db::Database& database, std::int64_t run_id, audit::TargetSet& targets) {
  constexpr std::size_t kBatch = 65536;
  std::vector<audit::IpAddress> done;
  database.visit_result_addresses(run_id, [&](const std::string& ip) {
    if (const auto address = audit::IpAddress::parse(ip)) done.push_back(*address);
    if (done.size() == kBatch) {
      targets.remove(std::move(done));
      done.clear();
    }
  });
  targets.remove(std::move(done));
}

bool presentation_flag(std::string_view argument) {
  return std::find(kPresentationFlags.begin(), kPresentationFlags.end(), argument) !=
         kPresentationFlags.end();
}

/// A run's arguments as far as they decide what is audited and how.
std::vector<std::string> audited_arguments(const std::vector<std::string>& arguments) {
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == "--") {
      kept.insert(kept.end(), arguments.begin() + static_cast<std::ptrdiff_t>(i), arguments.end());
      break;
    }
    if (!presentation_flag(arguments[i])) {
      kept.push_back(arguments[i]);
    } else if (arguments[i] != "--quiet" && i + 1 < arguments.size()) {
      ++i;  // and its value
    }
  }
  return kept;
}

/// Refuses to join a named run started with other targets or settings,
/// naming the first argument that differs.
void require_same_run(const db::RunInfo& existing, std::string_view command,
                      const std::vector<std::string>& arguments, const db::RunLabel& label,
                      const db::RunShard& part) {
  std::vector<std::string> stored;
  try {
    stored = nlohmann::json::parse(existing.arguments_json).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    throw Error(Errc::database,
                fmt::format("run {}: its stored arguments are unreadable", existing.id));
  }
  const std::vector<std::string> theirs = audited_arguments(stored);
  const std::vector<std::string> mine = audited_arguments(arguments);
  if (existing.command == command && theirs == mine && existing.identity == label.identity) return;
  const auto [first_theirs, first_mine] =
      std::mismatch(theirs.begin(), theirs.end(), mine.begin(), mine.end());
  const std::string difference =
      first_theirs == theirs.end() && first_mine == mine.end()
          ? std::string("the targets differ")
          : fmt::format("the run has '{}' where this shard has '{}'",
                        first_theirs == theirs.end() ? "" : escape_text(*first_theirs),
                        first_mine == mine.end() ? "" : escape_text(*first_mine));
  throw Error(
      Errc::usage,
      fmt::format("run '{}' (run {}) was started with other targets or settings: shard "
                  "{}/{} cannot join it ({}); give every shard the same ones, or use "
                  "another --run-name",
                  escape_text(existing.name), existing.id, part.index, part.count, difference));
}

/// Joins the shard this process audits to its named run (creating the run
/// when it is the first): a first attempt stores its targets, a re-run one
/// keeps only the addresses not stored yet, a complete one audits nothing.
void join_named_run(Plan& plan, const std::vector<std::string>& arguments, std::string_view command,
                    const std::vector<std::string>& resolvers, const db::RunLabel& label,
                    const RunHooks& hooks) {
  const RunOptions& options = plan.options;
  const audit::Shard shard = options.shard.value_or(audit::Shard{});
  const db::RunShard part{shard.index, shard.count};
  const db::ShardJoin joined = plan.database->join_named_run(
      options.run_name, command, nlohmann::json(arguments).dump(), resolvers, RDNSCTL_VERSION,
      label, part, [&](const db::RunInfo& existing) {
        require_same_run(existing, command, arguments, label, part);
      });
  plan.run_id = joined.run_id;
  plan.part = part;
  plan.part_complete = joined.already_complete;
  if (joined.already_complete) return;
  if (joined.attempts == 1) {
    plan.database->store_targets(joined.run_id, address_ranges(plan.targets));
    plan.database->add_domain_findings(joined.run_id, plan.domain_findings);
    return;
  }
  // A re-run shard (a replaced pod): what its earlier attempts stored stays.
  plan.part_targets = plan.targets;
  remove_done(*plan.database, joined.run_id, plan.targets);
  plan.domain_findings.clear();  // stored by the first attempt
  plan.resumed = true;
  if (hooks.notice) {
    hooks.notice(fmt::format("shard {}/{} of run {} resumes (attempt {}): {} addresses left",
                             part.index, part.count, joined.run_id, joined.attempts,
                             static_cast<std::uint64_t>(plan.targets.size())));
  }
}

}  // namespace

Plan plan_resume(const RunOptions& current, const RunHooks& hooks) {
  if (!current.targets.empty() || !current.input_files.empty()) {
    throw Error(Errc::usage, "--resume takes no targets: the run's own are audited");
  }
  if (current.no_database) throw Error(Errc::usage, "--resume needs the run's database");
  Plan plan;
  const std::filesystem::path path = existing_database(current.database);
  if (!db::is_database_url(path.native())) plan.lock.emplace(lock_database(path));
  // Read-write: the resumed run's results go into it.
  plan.database.emplace(db::Database::open(path));
  const auto run = plan.database->find_run(current.resume);
  if (!run || run->command != "audit") {
    throw Error(Errc::usage, fmt::format("no audit run {} in {}", current.resume,
                                         plan.database->path().string()));
  }
  if (run->state == db::RunState::complete) {
    throw Error(Errc::usage, fmt::format("run {} is already complete", run->id));
  }
  if (!run->name.empty()) {
    // Its shards resume themselves, each re-run with its own command line.
    throw Error(Errc::usage,
                fmt::format("run {} is the named run '{}': re-run its unfinished shards with the "
                            "command that started them (--run-name {} --shard K/{}); each resumes "
                            "where it stopped",
                            run->id, escape_text(run->name), escape_text(run->name), run->parts));
  }
  // The audit itself runs as first asked; only how results are judged and
  // shown follows the resuming command line.
  plan.options = hooks.stored_options(*run);
  plan.options.fail_on = current.fail_on;
  plan.options.database = current.database;
  plan.options.prometheus_textfile = current.prometheus_textfile;

  audit::TargetSet targets(~audit::uint128{0});
  for (const db::AddressRange& stored : plan.database->targets(run->id)) {
    const auto first = audit::IpAddress::parse(stored.first);
    const auto last = audit::IpAddress::parse(stored.last);
    if (!first || !last) {
      throw Error(Errc::database, fmt::format("run {}: stored target {}-{} is not an address range",
                                              run->id, stored.first, stored.last));
    }
    targets.add_range({*first, *last}, "stored target");
  }
  remove_done(*plan.database, run->id, targets);
  plan.targets = std::move(targets);
  // Sources are not stored per range: asking the domains again restores
  // them (their findings were stored by the first attempt).
  const auto domains = collect_domains(plan.options);
  if (!domains.empty()) {
    audit::TargetSet ignored(~audit::uint128{0});
    add_domain_targets(domains, engine_options(plan.options), {}, ignored, plan.sources, nullptr);
  }
  plan.database->reopen_run(run->id);
  plan.run_id = run->id;
  plan.resumed = true;
  return plan;
}

Plan plan_new(const RunOptions& options, const std::vector<std::string>& arguments,
              std::string_view command, const audit::AuditOptions& engine,
              const std::vector<std::string>& resolvers, const RunHooks& hooks) {
  if (!options.notify_webhook.empty() && options.no_database) {
    throw Error(Errc::usage,
                "--notify-webhook compares with the previous stored run: drop --no-db");
  }
  Plan plan;
  // Locked before anything is read or asked, so a second run stops at once.
  // A PostgreSQL database takes concurrent writers (the shards of one audit),
  // so only a file gets the lock that keeps scheduled runs from overlapping.
  if (!options.no_database && !db::is_database_url(options.database)) {
    try {
      plan.lock.emplace(lock_database(options.database));
    } catch (const RunLocked& locked) {
      if (options.run_name.empty()) throw;
      // One writer per file: the shards of a named run take turns on it.
      throw RunLocked(Errc::io, fmt::format("{}; the shards of a named run take turns on a SQLite "
                                            "file: run them one after another, or in parallel "
                                            "against PostgreSQL (--db postgresql://...)",
                                            locked.what()));
    }
  }
  plan.options = options;
  plan.targets = collect_targets(options, hooks);
  const auto domains = collect_domains(options);
  const db::RunLabel label = run_label(options, address_ranges(plan.targets), domains);
  // Split on the given targets alone: what the domains add may differ
  // between shards that ask their own resolvers, the given targets do not.
  std::optional<audit::ShardSplit> split;
  if (options.shard) split.emplace(plan.targets, options.shard->count);
  // The domains' own findings belong to the first shard only, so that the
  // shards together report each of them once.
  const bool domain_findings_here = !options.shard || options.shard->index == 1;
  if (!domains.empty()) {
    add_domain_targets(domains, engine, domain_findings_here ? hooks.notice : nullptr, plan.targets,
                       plan.sources, domain_findings_here ? &plan.domain_findings : nullptr);
  }
  // A later shard of domains only cannot tell an empty audit from one whose
  // findings the first shard holds; the first shard decides.
  if (plan.targets.empty() && plan.domain_findings.empty() &&
      (domain_findings_here || domains.empty())) {
    throw Error(Errc::input, "no valid addresses to audit");
  }
  if (split) select_shard(*split, *options.shard, plan.targets, hooks);
  if (!options.run_name.empty()) {
    if (options.no_database) throw Error(Errc::usage, "--run-name stores the run: drop --no-db");
    plan.database.emplace(db::Database::open(options.database));
    join_named_run(plan, arguments, command, resolvers, label, hooks);
    return plan;
  }
  if (!options.no_database) {
    plan.database.emplace(db::Database::open(options.database));
    std::optional<db::RunShard> shard;
    if (options.shard) shard = db::RunShard{options.shard->index, options.shard->count};
    plan.run_id = plan.database->begin_run(command, nlohmann::json(arguments).dump(), resolvers,
                                           RDNSCTL_VERSION, label, shard);
    plan.database->store_targets(*plan.run_id, address_ranges(plan.targets));
    plan.database->add_domain_findings(*plan.run_id, plan.domain_findings);
  }
  return plan;
}

FileLock lock_database(const std::filesystem::path& database) {
  if (db::is_database_url(database.native())) {
    // A lock file named after a URL would be a stray path (and hold its
    // password): audits into PostgreSQL take no lock, ptr commands an
    // advisory lock of the journal's (cli/ptr_command.cpp).
    throw Error(Errc::usage, fmt::format("{}: a PostgreSQL database has no lock file",
                                         escape_text(db::displayed_location(database.native()))));
  }
  // The lock belongs to the real file: two names for one database (a
  // symlink, a relative path) must not give two locks.
  std::error_code ignored;
  const std::filesystem::path real = std::filesystem::weakly_canonical(database, ignored);
  const std::filesystem::path path = (real.empty() ? database : real).string() + ".lock";
  auto lock = FileLock::try_acquire(path);
  if (!lock) {
    throw RunLocked(Errc::io,
                    fmt::format("{}: another rdnsctl run is using this database "
                                "(lock held on {}); not starting a second one",
                                escape_text(database.string()), escape_text(path.string())));
  }
  return std::move(*lock);
}

}  // namespace rdns::run
