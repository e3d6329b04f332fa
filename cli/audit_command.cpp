// rdnsctl audit: resolve and classify the reverse DNS of IPs, print the
// results and store the run; --resume continues an interrupted run. The run
// itself is run/; this file registers its flags and prints what it tells.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <audit/shard.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/paths.hpp>

#include "audit_run.hpp"
#include "choice_option.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "number_option.hpp"
#include "output.hpp"

namespace rdns::cli {
namespace {

/// How far the DNS window may grow when --concurrency is not given: the best
/// fixed setting behind the lab's Unbound (docs/benchmarks.md). At 1000 in
/// flight c-ares' per-event walk over its queries makes the audit three times
/// slower than at 400, with no query lost.
constexpr std::size_t kGrownConcurrencyCeiling = 400;

/// A DQS-style key becomes one label of every query name: letters and
/// digits only, so it cannot add labels or bytes that need escaping.
CLI::Validator dnsbl_key_validator() {
  return CLI::Validator(
      [](const std::string& key) -> std::string {
        const bool plain =
            !key.empty() && key.size() <= 63 &&
            std::all_of(key.begin(), key.end(), [](unsigned char c) {
              return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            });
        // The value is a secret: the message does not repeat it.
        return plain ? std::string() : std::string("expected letters and digits only (1-63)");
      },
      "");
}

/// "K/N" or "auto"; the message names what K and N may be.
CLI::Validator shard_validator() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        if (text == "auto") return {};
        return audit::parse_shard(text).error;
      },
      "");
}

/// A logical run's name: it appears in messages and in `runs list`, so
/// printable and short: letters, digits, '.', '_', '-' and ':' (a
/// Kubernetes Job name, a date and time), starting with a letter or digit.
CLI::Validator run_name_validator() {
  return CLI::Validator(
      [](const std::string& name) -> std::string {
        constexpr std::size_t kMaxRunName = 128;
        const bool valid = !name.empty() && name.size() <= kMaxRunName &&
                           std::isalnum(static_cast<unsigned char>(name[0])) != 0 &&
                           std::all_of(name.begin(), name.end(), [](char c) {
                             return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                                    c == '_' || c == '-' || c == ':';
                           });
        return valid ? std::string()
                     : fmt::format(
                           "{}: expected a run name (letters, digits, '.', '_', '-' and "
                           "':', at most 128 characters)",
                           escape_text(name));
      },
      "");
}

void warn(const std::string& message) {
  std::fprintf(stderr, "rdnsctl: warning: %s\n", message.c_str());
}

/// The progress line on a terminal: done/total, rate, ETA, failures.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  bool enabled() const { return enabled_; }

  /// The rate counts from here: the audit starts once its plan is made.
  void start() { started_ = std::chrono::steady_clock::now(); }

  /// Erases the line so the next output starts on a clean one.
  void clear() {
    if (enabled_ && shown_) std::fputs("\r\x1b[K", stderr);
    shown_ = false;
  }

  void show(std::uint64_t done, std::uint64_t total, const db::RunCounts& counts) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    std::string eta = "-";
    if (rate > 0 && total >= done) {
      const auto left = static_cast<long>(static_cast<double>(total - done) / rate);
      eta = fmt::format("{}:{:02}:{:02}", left / 3600, left / 60 % 60, left % 60);
    }
    std::fprintf(
        stderr, "\r\x1b[K%llu/%llu (%.0f%%)  %.0f IPs/s  ETA %s  %lld fail, %lld unknown",
        static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
        total == 0 ? 100.0 : 100.0 * static_cast<double>(done) / static_cast<double>(total), rate,
        eta.c_str(), static_cast<long long>(counts.fail), static_cast<long long>(counts.unknown));
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

/// --shard K/N, or with --shard auto the shard a Kubernetes Indexed Job's
/// pod is: JOB_COMPLETION_INDEX (0-based) of --shards. Throws Errc::usage
/// naming the flag or the variable.
std::optional<audit::Shard> resolve_shard(const AuditCommandOptions& options) {
  if (options.shard_text.empty()) {
    if (options.shards != 0) {
      throw Error(Errc::usage, "--shards goes with --shard auto (--shard K/N names N itself)");
    }
    return std::nullopt;
  }
  if (options.shard_text != "auto") {
    if (options.shards != 0) {
      throw Error(Errc::usage,
                  fmt::format("--shards goes with --shard auto; --shard {} names N itself",
                              escape_text(options.shard_text)));
    }
    const audit::ParsedShard parsed = audit::parse_shard(options.shard_text);
    if (!parsed.shard) throw Error(Errc::usage, "--shard " + parsed.error);
    return parsed.shard;
  }
  if (options.shards == 0) {
    throw Error(Errc::usage, "--shard auto: give the number of shards with --shards N");
  }
  const char* index = std::getenv("JOB_COMPLETION_INDEX");
  if (index == nullptr || *index == '\0') {
    throw Error(Errc::usage,
                "--shard auto: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it "
                "in each pod); give --shard K/N instead");
  }
  const audit::ParsedShard parsed = audit::shard_from_completion_index(index, options.shards);
  if (!parsed.shard) {
    throw Error(Errc::usage, fmt::format("--shard auto: JOB_COMPLETION_INDEX {} (--shards {})",
                                         parsed.error, options.shards));
  }
  return parsed.shard;
}

/// The arguments to store with a new run: the shard it audits as K/N, never
/// "auto", so that a resumed run does not depend on the environment it is
/// resumed in.
std::vector<std::string> stored_arguments(CLI::App& command,
                                          const std::optional<audit::Shard>& shard,
                                          bool named_run) {
  if (!shard) return effective_arguments(command);
  command.get_option("--shard")->clear();
  command.get_option("--shards")->clear();
  // A named run holds all of its shards: it stores what they share, and
  // each shard's index lives with its progress.
  if (named_run) return effective_arguments(command);
  std::vector<std::string> arguments = effective_arguments(command);
  // After the subcommand's name, with the other flags.
  arguments.insert(arguments.begin() + 1, {"--shard", audit::to_string(*shard)});
  return arguments;
}

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
  stored.shard = resolve_shard(stored);
  return stored;
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
    if (outcome.part) {
      std::fprintf(stderr,
                   "rdnsctl: interrupted; re-run the same command to resume shard %lld/%lld of "
                   "run %lld\n",
                   static_cast<long long>(outcome.part->index),
                   static_cast<long long>(outcome.part->count),
                   static_cast<long long>(*outcome.run_id));
    } else if (outcome.run_id) {
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

AuditOutcome execute_audit(const AuditCommandOptions& options,
                           const std::vector<std::string>& arguments, std::string_view command,
                           bool print) {
  ProgressLine progress(!options.quiet && isatty(STDERR_FILENO) == 1);
  run::RunHooks hooks;
  hooks.stored_options = [](const db::RunInfo& run) -> run::RunOptions {
    return stored_options(run);
  };
  // Output follows the command line, also when it resumes a stored run.
  hooks.make_observer = [&](std::optional<std::int64_t> run_id) -> std::unique_ptr<ResultPrinter> {
    progress.start();
    if (!print) return std::make_unique<NullPrinter>();
    return make_printer(options.format, stdout, use_color(options.color, stdout), run_id);
  };
  if (progress.enabled()) {
    hooks.show_progress = [&](std::uint64_t done, std::uint64_t total,
                              const db::RunCounts& counts) { progress.show(done, total, counts); };
    hooks.clear_progress = [&] { progress.clear(); };
  }
  if (!options.quiet) {
    hooks.notice = [](const std::string& line) {
      std::fprintf(stderr, "rdnsctl: %s\n", line.c_str());
    };
  }
  hooks.warning = warn;
  hooks.standard_input_closed = standard_input_closed();
  return run::execute(options, arguments, command, hooks);
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
  // Not given (on the command line, in the environment or the file), the
  // window starts at the default and grows while answers are clean; given,
  // it is a hard cap.
  options.concurrency_ceiling = kGrownConcurrencyCeiling;
  command
      .add_option_function<std::size_t>(
          "--concurrency",
          [&options](const std::size_t& concurrency) {
            options.concurrency = concurrency;
            options.concurrency_ceiling = 0;
          },
          fmt::format("DNS queries in flight at most (halved on timeouts, regrown gradually); "
                      "not given: from 100 up to {} while answers are clean",
                      kGrownConcurrencyCeiling))
      ->default_str("100")
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
  if (set == OptionSet::audit) {
    command.add_flag("--ptr-only", options.ptr_only,
                     "Only the PTR lookups: which reverse names exist and what they say (NO_PTR, "
                     "MULTIPLE_PTR, GENERIC_PTR, INVALID_PTR_NAME...); no A/AAAA lookups, so an "
                     "address with a PTR is 'unknown' with FORWARD_NOT_CHECKED, never 'pass'");
  }
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
  command.add_flag("--dnsbl", options.dnsbl,
                   "Also ask the DNS blocklists of the rules about each address (DNSBL_LISTED; "
                   "each list self-tested first; docs/rules.md for the lists and their terms)");
  command
      .add_option("--dnsbl-key", options.dnsbl_key,
                  "Key for lists queried under a key zone (a Spamhaus DQS key); never stored "
                  "with the run, so set it as RDNSCTL_DNSBL_KEY or in the configuration file")
      ->type_name("KEY")
      ->check(dnsbl_key_validator());
  command
      .add_option("--dnsbl-list", options.dnsbl_lists,
                  "Ask this list (the zone of a [[dnsbl]] table of the rules, enabled or not) "
                  "instead of the enabled ones; repeatable; implies --dnsbl")
      ->type_name("ZONE")
      ->allow_extra_args(false);
  command
      .add_option("--domain", options.domains,
                  "Audit a mail domain's sending IPs (its MX hosts and SPF-authorised "
                  "addresses) and its DMARC, MTA-STS and TLS-RPT records; repeatable")
      ->allow_extra_args(false);
  command
      .add_option("--domains-file", options.domain_files,
                  "File with one domain per line ('#' comments); repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false);
  command
      .add_option("--mta-sts-port", options.mta_sts_port,
                  "Port of https://mta-sts.DOMAIN/ for a --domain's MTA-STS policy (443; for "
                  "tests and port-forwarding proxies)")
      ->default_val(443)
      ->check(whole_number_range(1, 65535));
  command
      .add_option("--ca-file", options.ca_file,
                  "PEM file of the CAs that STARTTLS certificates (--smtp) and MTA-STS policy "
                  "servers must chain to (default: the system's trust store)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
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
        .add_option("--shard", options.shard_text,
                    "Audit only shard K of N (1-based): whole /24s and /64s, split evenly, so N "
                    "runs cover every address once; 'auto' takes K from JOB_COMPLETION_INDEX "
                    "(a Kubernetes Indexed Job) and N from --shards")
        ->type_name("K/N")
        ->check(shard_validator());
    command.add_option("--shards", options.shards, "Number of shards, N, for --shard auto")
        ->type_name("N")
        ->check(whole_number_range(1, audit::kMaxShards));
    command
        .add_option("--run-name", options.run_name,
                    "Store the audit as part of the logical run NAME: the shards given the same "
                    "name share one run, complete when every shard is; a shard run again "
                    "resumes where it stopped (a Kubernetes Job's name, an inventory and a date)")
        ->type_name("NAME")
        ->check(run_name_validator());
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
  // Besides the presentation flags: the flag itself, --quiet's short form,
  // and where the settings and a key come from.
  static constexpr std::string_view kResumeMay[] = {"--resume", "-q", "--config", "--dnsbl-key"};
  for (const std::string& argument : arguments) {
    if (argument == "--") break;
    if (argument.size() < 2 || argument[0] != '-') continue;
    const std::string_view flag = std::string_view(argument).substr(0, argument.find('='));
    const auto allowed = [flag](const auto& flags) {
      return std::find(std::begin(flags), std::end(flags), flag) != std::end(flags);
    };
    if (allowed(run::kPresentationFlags) || allowed(kResumeMay)) continue;
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
            ? std::vector<std::string>{"targets", "input", "domain", "domains-file",
                                       "resume",  "shard", "shards", "run-name"}
            : std::vector<std::string>{};
    if (options->resume != 0) refuse_settings_on_resume(context.arguments);
    options->retention = apply_config(*command, options->config, {skipped, options->inventory});
    settle_database(*options);
    if (options->resume == 0) {
      options->shard = resolve_shard(*options);
      context.arguments = stored_arguments(*command, options->shard, !options->run_name.empty());
    }
    run_audit(*options, context);
  });
}

}  // namespace rdns::cli
