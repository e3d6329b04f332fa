// rdnsctl audit: resolve and classify the reverse DNS of IPs, print the
// results and store the run; --resume continues an interrupted run.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <audit/auditor.hpp>
#include <audit/domains.hpp>
#include <audit/targets.hpp>
#include <db/result_writer.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/file_lock.hpp>
#include <util/paths.hpp>

#include "audit_run.hpp"
#include "choice_option.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "notification.hpp"
#include "number_option.hpp"
#include "output.hpp"
#include "result_sink.hpp"

namespace rdns::cli {
namespace {

/// The EHLO name: --smtp-helo, else this machine's host name.
std::string default_helo_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

bool reaches(const db::FindingRecord& finding, FailOn threshold) {
  switch (threshold) {
    case FailOn::never:
      return false;
    case FailOn::info:
      return true;
    case FailOn::warning:
      return finding.severity != "info";
    case FailOn::error:
      return finding.severity == "error";
  }
  return false;
}

bool any_reaches(const std::vector<db::FindingRecord>& findings, FailOn threshold) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const db::FindingRecord& f) { return reaches(f, threshold); });
}

void warn(const std::string& message) {
  std::fprintf(stderr, "rdnsctl: warning: %s\n", message.c_str());
}

/// Domains from --domain and --domains-file (one per line, '#' comments).
std::vector<std::string> collect_domains(const AuditCommandOptions& options) {
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

/// Expands domains into targets and their sources; prints domain findings.
void add_domain_targets(const std::vector<std::string>& domains, const audit::AuditOptions& engine,
                        bool quiet, audit::TargetSet& targets, audit::SourceIndex& sources,
                        std::vector<db::DomainFindingRecord>* findings) {
  const audit::DomainExpansion expansion = audit::expand_domains(domains, engine);
  for (const auto& [range, source] : expansion.ranges) {
    targets.add_range(range, fmt::format("domain {} ({})", source.domain, source.via));
    sources.add(range, source);
  }
  if (findings == nullptr) return;
  for (const audit::DomainFinding& finding : expansion.findings) {
    findings->push_back({finding.domain, finding.code,
                         std::string(audit::severity_name(finding.severity)), finding.detail});
    if (!quiet) {
      std::fprintf(stderr, "rdnsctl: %s: %s: %s\n", escape_text(finding.domain).c_str(),
                   finding.code.c_str(), escape_text(finding.detail).c_str());
    }
  }
}

audit::TargetSet collect_targets(const AuditCommandOptions& options) {
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
    if (standard_input_closed()) {
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

audit::AuditOptions engine_options(const AuditCommandOptions& options) {
  audit::AuditOptions engine;
  engine.resolvers = options.resolvers;
  engine.timeout =
      std::chrono::milliseconds(std::max<long>(1, std::lround(options.timeout_seconds * 1000)));
  engine.retries = options.retries;
  engine.concurrency = options.concurrency;
  engine.qps = options.qps;
  engine.stop_signals = {SIGINT, SIGTERM};
  if (options.smtp) {
    audit::SmtpOptions smtp;
    smtp.port = options.smtp_port;
    smtp.helo_name = options.smtp_helo.empty() ? default_helo_name() : options.smtp_helo;
    smtp.timeout = std::chrono::milliseconds(
        std::max<long>(1, std::lround(options.smtp_timeout_seconds * 1000)));
    smtp.concurrency = options.smtp_concurrency;
    engine.smtp = smtp;
  }
  return engine;
}

std::vector<db::AddressRange> address_ranges(const audit::TargetSet& targets) {
  std::vector<db::AddressRange> ranges;
  for (const audit::IpRange& range : targets.ranges()) {
    ranges.push_back({range.first.to_string(), range.last.to_string()});
  }
  return ranges;
}

/// The progress line on a terminal: done/total, rate, ETA, failures.
class ProgressLine {
 public:
  ProgressLine(bool enabled, std::uint64_t total, const db::RunCounts& counts)
      : enabled_(enabled), total_(total), counts_(counts) {}
  ~ProgressLine() { clear(); }
  bool enabled() const { return enabled_; }

  /// Erases the line so the next output starts on a clean one.
  void clear() {
    if (enabled_ && shown_) std::fputs("\r\x1b[K", stderr);
    shown_ = false;
  }

  void show(std::uint64_t done) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    std::string eta = "-";
    if (rate > 0 && total_ >= done) {
      const auto left = static_cast<long>(static_cast<double>(total_ - done) / rate);
      eta = fmt::format("{}:{:02}:{:02}", left / 3600, left / 60 % 60, left % 60);
    }
    std::fprintf(
        stderr, "\r\x1b[K%llu/%llu (%.0f%%)  %.0f IPs/s  ETA %s  %lld fail, %lld unknown",
        static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
        total_ == 0 ? 100.0 : 100.0 * static_cast<double>(done) / static_cast<double>(total_), rate,
        eta.c_str(), static_cast<long long>(counts_.fail), static_cast<long long>(counts_.unknown));
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  bool enabled_;
  std::uint64_t total_;
  const db::RunCounts& counts_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

/// What the run is about to do: a new run, or the rest of a stored one.
struct Plan {
  std::optional<FileLock> lock;  ///< before the database, released after it
  AuditCommandOptions options;
  audit::TargetSet targets{1};
  std::optional<db::Database> database;
  std::optional<std::int64_t> run_id;
  bool resumed = false;
  audit::SourceIndex sources;
  std::vector<db::DomainFindingRecord> domain_findings;
};

/// The options a stored run was started with, parsed from its arguments.
AuditCommandOptions stored_options(const db::RunInfo& run) {
  std::vector<std::string> arguments;
  try {
    arguments = nlohmann::json::parse(run.arguments_json).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    throw Error(Errc::database, fmt::format("run {}: its stored arguments are unreadable", run.id));
  }
  CLI::App app;
  AuditCommandOptions stored;
  register_options(*app.add_subcommand("audit"), stored);
  std::reverse(arguments.begin(), arguments.end());  // CLI11 takes them last first
  try {
    app.parse(arguments);
  } catch (const CLI::ParseError& error) {
    throw Error(Errc::database,
                fmt::format("run {}: its stored arguments do not parse: {}", run.id, error.what()));
  }
  return stored;
}

Plan plan_resume(const AuditCommandOptions& current) {
  if (!current.targets.empty() || !current.input_files.empty()) {
    throw Error(Errc::usage, "--resume takes no targets: the run's own are audited");
  }
  if (current.no_database) throw Error(Errc::usage, "--resume needs the run's database");
  Plan plan;
  const std::filesystem::path path = existing_database_path(current.database);
  plan.lock.emplace(lock_database(path));
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
  // The audit itself runs as first asked; only how results are shown follows
  // the resuming command line.
  plan.options = stored_options(*run);
  plan.options.format = current.format;
  plan.options.color = current.color;
  plan.options.quiet = current.quiet;
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
  std::vector<audit::IpAddress> done;
  for (const std::string& ip : plan.database->result_addresses(run->id)) {
    if (const auto address = audit::IpAddress::parse(ip)) done.push_back(*address);
  }
  targets.remove(std::move(done));
  plan.targets = std::move(targets);
  // Sources are not stored per range: asking the domains again restores
  // them (their findings were stored by the first attempt).
  const auto domains = collect_domains(plan.options);
  if (!domains.empty()) {
    audit::TargetSet ignored(~audit::uint128{0});
    add_domain_targets(domains, engine_options(plan.options), true, ignored, plan.sources, nullptr);
  }
  plan.database->reopen_run(run->id);
  plan.run_id = run->id;
  plan.resumed = true;
  return plan;
}

/// What a new run is compared with: runs of the same targets (as given, so a
/// domain whose addresses move keeps its identity) and the same checks.
db::RunLabel run_label(const AuditCommandOptions& options, const audit::TargetSet& targets,
                       const std::vector<std::string>& domains) {
  db::RunLabel label;
  label.checks = options.smtp ? "dns,smtp" : "dns";
  if (!options.inventory.empty()) {
    // What the inventory lists may change between runs; it stays one series.
    label.inventory = options.inventory;
    label.identity = "inventory:" + options.inventory;
    return label;
  }
  // FNV-1a: stable across builds and platforms, unlike std::hash.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  const auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ULL;
    }
    hash ^= 0xff;  // separator: "a" + "bc" differs from "ab" + "c"
    hash *= 0x100000001b3ULL;
  };
  for (const db::AddressRange& range : address_ranges(targets)) {
    mix(range.first);
    mix(range.last);
  }
  std::vector<std::string> names;
  for (std::string name : domains) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) mix("domain:" + name);
  mix(label.checks);
  label.identity = fmt::format("targets:{:016x}", hash);
  return label;
}

Plan plan_new(const AuditCommandOptions& options, const std::vector<std::string>& arguments,
              std::string_view command, const audit::AuditOptions& engine,
              const std::vector<std::string>& resolvers) {
  if (!options.notify_webhook.empty() && options.no_database) {
    throw Error(Errc::usage,
                "--notify-webhook compares with the previous stored run: drop --no-db");
  }
  Plan plan;
  // Locked before anything is read or asked, so a second run stops at once.
  if (!options.no_database) plan.lock.emplace(lock_database(database_path(options.database)));
  plan.options = options;
  plan.targets = collect_targets(options);
  const auto domains = collect_domains(options);
  const db::RunLabel label = run_label(options, plan.targets, domains);
  if (!domains.empty()) {
    add_domain_targets(domains, engine, options.quiet, plan.targets, plan.sources,
                       &plan.domain_findings);
  }
  if (plan.targets.empty() && plan.domain_findings.empty()) {
    throw Error(Errc::input, "no valid addresses to audit");
  }
  if (!options.no_database) {
    plan.database.emplace(db::Database::open(database_path(options.database)));
    plan.run_id = plan.database->begin_run(command, nlohmann::json(arguments).dump(), resolvers,
                                           RDNSCTL_VERSION, label);
    plan.database->store_targets(*plan.run_id, address_ranges(plan.targets));
    plan.database->add_domain_findings(*plan.run_id, plan.domain_findings);
  }
  return plan;
}

/// Marks a run that printing or storing stopped, keeping it resumable, and
/// says so in the error: a reader that went away (`| head`) interrupted it,
/// anything else failed it.
Error stopped_run(Plan& plan, std::string_view command, const Error& error) {
  if (!plan.database) return error;
  const bool closed = dynamic_cast<const OutputClosed*>(&error) != nullptr;
  const db::RunState state = closed ? db::RunState::interrupted : db::RunState::failed;
  try {
    plan.database->finish_run(*plan.run_id, state, plan.database->count_results(*plan.run_id));
  } catch (const Error&) {
    // A full disk or a held lock may refuse this too; the run stays
    // "running", which --resume continues just the same.
  }
  if (command != "audit") {
    return Error(Errc::io,
                 fmt::format("{}; run {} {}", error.what(), *plan.run_id, db::to_string(state)));
  }
  return Error(Errc::io, fmt::format("{}; run {} {}: continue with: rdnsctl audit --resume {} "
                                     "--db {}",
                                     error.what(), *plan.run_id, db::to_string(state), *plan.run_id,
                                     escape_text(plan.database->path().string())));
}

/// The inventory's retention, after one of its runs completed (and was
/// compared, so its predecessor was still there to compare with).
void apply_retention(const AuditCommandOptions& options, db::Database& database,
                     AuditOutcome& outcome) {
  if (options.inventory.empty() || !options.retention.any()) return;
  db::PrunePolicy policy;
  policy.keep_runs = options.retention.keep_runs;
  policy.keep_days = options.retention.keep_days;
  policy.inventory = options.inventory;
  outcome.pruned = database.prune(policy).removed.size();
  if (!options.quiet && outcome.pruned > 0) {
    std::fprintf(stderr, "rdnsctl: removed %zu older runs of inventory %s (its retention)\n",
                 outcome.pruned, escape_text(options.inventory).c_str());
  }
}

/// For `check`: results are counted, stored and judged, never printed.
class NullPrinter : public ResultPrinter {
 public:
  void add(const db::ResultRecord& /*record*/) override {}
  void finish(const db::RunCounts& /*counts*/) override {}
};

void run_audit(const AuditCommandOptions& options, Context& context) {
  AuditOutcome outcome;
  try {
    outcome = execute_audit(options, context.arguments, "audit", true);
  } catch (const RunLocked& locked) {
    std::fprintf(stderr, "rdnsctl: %s\n", locked.what());
    context.exit_code = kExitLocked;
    return;
  }
  if (outcome.stopped_by_signal != 0) {
    if (outcome.run_id) {
      std::fprintf(stderr,
                   "rdnsctl: interrupted; continue with: rdnsctl audit --resume %lld --db %s\n",
                   static_cast<long long>(*outcome.run_id), escape_text(outcome.database).c_str());
    }
    context.exit_code = 128 + outcome.stopped_by_signal;
    return;
  }
  if (outcome.no_resolver_answered) {
    std::fprintf(stderr, "rdnsctl: %s\n", escape_text(outcome.resolver_failure).c_str());
    context.exit_code = kExitOperational;
    return;
  }
  context.exit_code = outcome.reached ? kExitFindings : kExitOk;
  if (!outcome.notify_error.empty()) {
    // The run is stored; the scheduler should still learn nobody was told.
    std::fprintf(stderr, "rdnsctl: %s\n", outcome.notify_error.c_str());
    context.exit_code = kExitOperational;
  }
}

}  // namespace

AuditOutcome execute_audit(const AuditCommandOptions& command_line,
                           const std::vector<std::string>& arguments, std::string_view command,
                           bool print) {
  // The engine exists before anything is stored, so a bad resolver or rules
  // file leaves no half-made run behind.
  audit::AuditOptions engine;
  std::optional<audit::Auditor> auditor;
  Plan plan;
  if (command_line.resume != 0) {
    plan = plan_resume(command_line);
    engine = engine_options(plan.options);
    auditor.emplace(engine, audit::Rules::load(plan.options.rules));
  } else {
    engine = engine_options(command_line);
    auditor.emplace(engine, audit::Rules::load(command_line.rules));
    plan = plan_new(command_line, arguments, command, engine, auditor->resolvers());
  }
  const AuditCommandOptions& options = plan.options;
  AuditOutcome outcome;
  outcome.run_id = plan.run_id;
  outcome.resolvers = auditor->resolvers();
  if (plan.database) outcome.database = plan.database->path().string();

  std::optional<db::ResultWriter> writer;
  if (plan.database) writer.emplace(*plan.database, *plan.run_id);
  const std::unique_ptr<ResultPrinter> printer =
      print ? make_printer(options.format, stdout, use_color(options.color, stdout), plan.run_id)
            : std::make_unique<NullPrinter>();
  db::RunCounts counts;
  bool reached = false;
  for (const auto& finding : plan.domain_findings) {
    printer->add_domain_finding(finding);
    reached = reached || reaches(db::FindingRecord{finding.code, finding.severity, finding.detail},
                                 options.fail_on);
  }
  ProgressLine progress(!options.quiet && isatty(STDERR_FILENO) == 1,
                        static_cast<std::uint64_t>(plan.targets.size()), counts);
  if (progress.enabled()) {
    auditor->set_progress([&](std::uint64_t done) { progress.show(done); });
  }
  const auto started = std::chrono::steady_clock::now();

  // Results leave the loop for the sink's thread; while its queue is full no
  // new address starts, and its first error ends the run.
  ResultSink sink(*printer, writer ? &*writer : nullptr,
                  {.on_room = [&] { auditor->wake(); }, .on_failure = [&] { auditor->stop(); }});
  auditor->set_admission([&] { return sink.has_room(); });
  audit::AuditSummary summary;
  try {
    summary = auditor->run(
        plan.targets,
        [&](audit::IpResult&& result) {
          db::ResultRecord record = audit::to_record(result);
          counts.add(record.status);
          reached = reached || any_reaches(record.findings, options.fail_on);
          count_findings(outcome.metrics, record.findings);
          if (record.status == "fail" && outcome.failing.size() < kFailingListed) {
            FailingAddress& failing = outcome.failing.emplace_back();
            failing.ip = record.ip;
            for (const auto& finding : record.findings) failing.codes.push_back(finding.code);
          }
          sink.push(std::move(record));
        },
        &plan.sources);
    progress.clear();
    sink.close(counts);
  } catch (const Error& error) {
    progress.clear();
    throw stopped_run(plan, command, error);
  } catch (...) {
    progress.clear();
    if (plan.database) {
      try {
        plan.database->finish_run(*plan.run_id, db::RunState::failed,
                                  plan.database->count_results(*plan.run_id));
      } catch (...) {  // NOLINT(bugprone-empty-catch): the first error is the one to report
      }
    }
    throw;
  }

  const bool interrupted = summary.stopped_by_signal != 0;
  // A resolver that only refuses, fails or stays silent proves nothing about
  // any address: the run failed, whatever the verdicts say.
  const bool no_resolver_answered = !interrupted && summary.queries > 0 &&
                                    (summary.usable == 0 || !summary.resolver_failure.empty());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!options.quiet) {
    std::fprintf(stderr,
                 "rdnsctl: audited %llu addresses with %llu queries (%llu answered) in %.2f s\n",
                 static_cast<unsigned long long>(summary.addresses),
                 static_cast<unsigned long long>(summary.queries),
                 static_cast<unsigned long long>(summary.responses), seconds);
  }
  outcome.metrics.counts = counts;
  outcome.metrics.success = !interrupted && !no_resolver_answered;
  if (plan.database) {
    const db::RunState state = interrupted            ? db::RunState::interrupted
                               : no_resolver_answered ? db::RunState::failed
                                                      : db::RunState::complete;
    const db::RunCounts totals = plan.database->count_results(*plan.run_id);
    plan.database->finish_run(*plan.run_id, state, totals);
    outcome.metrics.counts = totals;
    if (plan.resumed) {
      // The verdict and the metrics cover the whole run, not only this part.
      outcome.metrics.findings.clear();
      for (const auto& stored : plan.database->results(*plan.run_id)) {
        reached = reached || any_reaches(stored.findings, options.fail_on);
        count_findings(outcome.metrics, stored.findings);
      }
    }
    if (!options.quiet) {
      std::fprintf(stderr, "rdnsctl: run %lld %s in %s (%lld addresses)\n",
                   static_cast<long long>(*plan.run_id), std::string(db::to_string(state)).c_str(),
                   escape_text(plan.database->path().string()).c_str(),
                   static_cast<long long>(totals.total));
    }
  }
  if (plan.database && outcome.metrics.success) {
    // One comparison for the metrics, the webhook and check's verdict.
    const db::RunInfo run = *plan.database->find_run(*plan.run_id);
    const auto comparison = reports::compare_with_previous(*plan.database, run);
    if (comparison) record_changes(outcome.metrics, *comparison);
    if (!options.notify_webhook.empty()) {
      notify::WebhookOptions webhook;
      webhook.url = options.notify_webhook;
      webhook.retries = options.notify_retries;
      try {
        outcome.notified = notify_newly_failing(*plan.database, run, comparison, webhook);
      } catch (const Error& error) {
        outcome.notify_error = error.what();
      }
    }
    apply_retention(options, *plan.database, outcome);
  }
  outcome.reached = reached;
  outcome.stopped_by_signal = summary.stopped_by_signal;
  outcome.no_resolver_answered = no_resolver_answered;
  if (no_resolver_answered) {
    std::string servers;
    for (const auto& server : outcome.resolvers) servers += (servers.empty() ? "" : ", ") + server;
    outcome.resolver_failure = fmt::format(
        "no resolver answered ({}) with a usable answer: {}", servers,
        summary.resolver_failure.empty()
            ? fmt::format("{} queries, {} usable answers", summary.queries, summary.usable)
            : summary.resolver_failure);
  }
  outcome.queries = summary.queries;
  outcome.metrics.duration_seconds = seconds;
  if (!options.prometheus_textfile.empty()) {
    write_prometheus_textfile(options.prometheus_textfile, outcome.metrics);
  }
  return outcome;
}

FileLock lock_database(const std::filesystem::path& database) {
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

void settle_database(AuditCommandOptions& options) {
  if (options.database.empty() && !options.no_database) {
    options.database = (xdg_data_home() / "rdnsctl" / "rdnsctl.db").string();
  }
}

void register_options(CLI::App& command, AuditCommandOptions& options, OptionSet set) {
  command.add_option("targets", options.targets,
                     "IP addresses or CIDR ranges (IPv4/IPv6); '-' reads standard input");
  // A vector option would otherwise swallow the positional targets after it.
  command
      .add_option("-i,--input", options.input_files,
                  "File with one IP or CIDR per line ('#' comments); repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false);
  command
      .add_option("--resolver", options.resolvers,
                  "Recursive resolver IP[:PORT] or [IPv6]:PORT; repeatable (default: resolv.conf)")
      ->type_name("ADDR")
      ->allow_extra_args(false);
  command
      .add_option("--concurrency", options.concurrency,
                  "DNS queries in flight at most (halved on timeouts, regrown gradually)")
      ->default_val(100)
      ->check(whole_number_range(1, 10000));
  command.add_option("--qps", options.qps, "Queries per second at most (0: no cap)")
      ->default_val(0)
      ->check(finite_range(0, 1e7, "queries per second"));
  command
      .add_option("--timeout", options.timeout_seconds,
                  "Seconds to wait for the first try; doubled on each retry round")
      ->default_val(1.0)
      // Below 10 ms not even a loopback resolver answers reliably; above a
      // minute per try the retry schedule would hold one address for over an hour.
      ->check(finite_range(0.01, 60, "seconds"));
  command.add_option("--retries", options.retries, "Tries after the first")
      ->default_val(3)
      ->check(whole_number_range(0, 10));
  command
      .add_option("--max-ips", options.max_ips,
                  "Refuse to audit more addresses than this (guards against huge ranges)")
      ->default_val(1u << 20)
      ->check(positive_whole_number());
  command.add_flag("--skip-invalid", options.skip_invalid,
                   "Warn about malformed targets and go on instead of stopping");
  if (set == OptionSet::audit) {
    command.add_option("--format", options.format, "Output: table, json, jsonl or csv")
        ->transform(enum_choice<Format>({{"table", Format::table},
                                         {"json", Format::json},
                                         {"jsonl", Format::jsonl},
                                         {"csv", Format::csv}}))
        ->default_str("table");
    command
        .add_option("--fail-on", options.fail_on,
                    "Exit 1 when a finding reaches this severity: error, warning, info, never")
        ->transform(enum_choice<FailOn>({{"error", FailOn::error},
                                         {"warning", FailOn::warning},
                                         {"info", FailOn::info},
                                         {"never", FailOn::never}}))
        ->default_str("error");
    command.add_option("--color", options.color, "Colour the table: auto, always, never")
        ->transform(enum_choice<ColorMode>({{"auto", ColorMode::automatic},
                                            {"always", ColorMode::always},
                                            {"never", ColorMode::never}}))
        ->default_str("auto");
  }
  add_database_option(command, options.database);
  command.add_flag("--no-db", options.no_database, "Do not store the run");
  if (set == OptionSet::audit) {
    command.add_flag("-q,--quiet", options.quiet, "No progress or summary lines on stderr");
  }
  command
      .add_option("--rules", options.rules,
                  "TOML naming rules read on top of the built-in ones (docs/rules.md)")
      ->type_name("FILE");
  command.add_flag("--smtp", options.smtp,
                   "Also connect to each address's SMTP port: greeting and EHLO names against "
                   "the PTR (HELO_MISMATCH, HELO_INVALID); never sends mail");
  command.add_option("--smtp-port", options.smtp_port, "Port for --smtp")
      ->default_val(25)
      ->check(whole_number_range(1, 65535));
  command
      .add_option("--smtp-helo", options.smtp_helo,
                  "Name to send with EHLO (default: this host's name)")
      ->type_name("NAME");
  command
      .add_option("--smtp-timeout", options.smtp_timeout_seconds,
                  "Seconds to wait for the connection and each reply")
      ->default_val(5.0)
      ->check(try_seconds());
  command.add_option("--smtp-concurrency", options.smtp_concurrency, "SMTP conversations at once")
      ->default_val(20)
      ->check(whole_number_range(1, 1000));
  command
      .add_option("--domain", options.domains,
                  "Audit a mail domain's sending IPs: its MX hosts and SPF-authorised "
                  "addresses; repeatable")
      ->allow_extra_args(false);
  command
      .add_option("--domains-file", options.domain_files,
                  "File with one domain per line ('#' comments); repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false);
  command
      .add_option("--prometheus-textfile", options.prometheus_textfile,
                  "Write the run's metrics to this file for node_exporter's textfile "
                  "collector (a regular file is replaced atomically)")
      ->type_name("FILE");
  command
      .add_option("--notify-webhook", options.notify_webhook,
                  "POST JSON listing the addresses that newly fail (against the previous "
                  "complete run) to this http(s) URL")
      ->type_name("URL");
  command
      .add_option("--notify-retries", options.notify_retries,
                  "Tries after the first when the webhook fails (connection, 5xx, 429)")
      ->default_val(3)
      ->check(whole_number_range(0, 10));
  command
      .add_option("--inventory", options.inventory,
                  "Audit the targets and settings of [inventory.NAME] in the configuration "
                  "file; its runs are compared only with each other")
      ->type_name("NAME")
      ->check(inventory_name());
  if (set == OptionSet::audit) {
    command
        .add_option("--resume", options.resume,
                    "Continue an interrupted or killed run with its own targets and settings")
        ->type_name("RUN")
        ->check(positive_whole_number());
  }
}

namespace {

/// --resume audits with the settings the run was started with (stored with
/// it); a flag that would change them is refused rather than ignored.
void refuse_settings_on_resume(const std::vector<std::string>& arguments) {
  static constexpr std::string_view kResumeMay[] = {
      "--resume", "--db", "--format",  "--color",
      "--quiet",  "-q",   "--fail-on", "--prometheus-textfile",
      "--config"};
  for (const std::string& argument : arguments) {
    if (argument == "--") break;
    if (argument.size() < 2 || argument[0] != '-') continue;
    const std::string_view flag = std::string_view(argument).substr(0, argument.find('='));
    if (std::find(std::begin(kResumeMay), std::end(kResumeMay), flag) != std::end(kResumeMay)) {
      continue;
    }
    throw Error(Errc::usage,
                fmt::format("{}: --resume continues the run with its own settings; drop {} (or "
                            "start a new run to audit with it)",
                            escape_text(std::string(flag)), escape_text(std::string(flag))));
  }
}

}  // namespace

void add_audit_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<AuditCommandOptions>();
  CLI::App* command =
      app.add_subcommand("audit", "Check forward-confirmed reverse DNS of IPs and CIDR ranges");
  register_options(*command, *options);
  add_config_support(*command, options->config);
  command->callback([options, command, &context] {
    // A resumed run audits its own stored targets, whatever the file lists.
    const std::vector<std::string> skipped =
        options->resume != 0
            ? std::vector<std::string>{"targets", "input", "domain", "domains-file", "resume"}
            : std::vector<std::string>{};
    if (options->resume != 0) refuse_settings_on_resume(context.arguments);
    options->retention = apply_config(*command, options->config, {skipped, options->inventory});
    settle_database(*options);
    if (options->resume == 0) context.arguments = effective_arguments(*command);
    run_audit(*options, context);
  });
}

}  // namespace rdns::cli
