// rdnsctl check: a Nagios/Icinga plugin. Audits like `rdnsctl audit` (or
// judges a stored run with --run) and prints one status line with
// performance data; exit 0/1/2/3 is OK/WARNING/CRITICAL/UNKNOWN.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include <util/error.hpp>
#include <util/escape.hpp>

#include "audit_run.hpp"
#include "commands.hpp"
#include "config.hpp"

namespace rdns::cli {
namespace {

/// The Nagios plugin API's states and exit codes.
enum class PluginState : int { ok = 0, warning = 1, critical = 2, unknown = 3 };

const char* state_name(PluginState state) {
  switch (state) {
    case PluginState::ok:
      return "OK";
    case PluginState::warning:
      return "WARNING";
    case PluginState::critical:
      return "CRITICAL";
    case PluginState::unknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

/// A limit on failing addresses: a count, or a percentage of those audited.
struct Threshold {
  double value = 0;
  bool percent = false;

  /// The largest number of failing addresses still inside the limit.
  std::int64_t limit(std::int64_t total) const {
    if (!percent) return static_cast<std::int64_t>(value);
    return static_cast<std::int64_t>(std::floor(value * static_cast<double>(total) / 100.0));
  }
};

/// "N" or "N%", N >= 0 (and at most 100 as a percentage).
std::optional<Threshold> parse_threshold(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::nullopt;
  Threshold threshold;
  std::string number = text;
  if (number.back() == '%') {
    threshold.percent = true;
    number.pop_back();
  }
  const auto [end, ec] =
      std::from_chars(number.data(), number.data() + number.size(), threshold.value);
  if (ec != std::errc() || end != number.data() + number.size() || number.empty() ||
      !std::isfinite(threshold.value) || threshold.value < 0 ||
      (threshold.percent && threshold.value > 100) ||
      (!threshold.percent && threshold.value != std::floor(threshold.value))) {
    throw Error(Errc::usage, fmt::format("{} '{}': expected a number of failing addresses (10) "
                                         "or a percentage of those audited (5%)",
                                         flag, escape_text(text)));
  }
  return threshold;
}

struct CheckOptions {
  AuditCommandOptions audit;
  std::string warning;
  std::string critical = "0";
  std::string run;  ///< judge this stored run instead of auditing
};

/// The status line: text, then '|' and the performance data
/// ('label'=value;warn;crit;min;max), all on one line as plugins print it.
std::string status_line(PluginState state, const std::string& text, const RunMetrics& metrics,
                        const std::optional<Threshold>& warning,
                        const std::optional<Threshold>& critical, bool with_duration) {
  const db::RunCounts& c = metrics.counts;
  const auto limit = [&](const std::optional<Threshold>& t) {
    return t ? std::to_string(t->limit(c.total)) : std::string();
  };
  std::string line = fmt::format(
      "RDNS {} - {} | total={};;;0 pass={};;;0;{} warn={};;;0;{} "
      "fail={};{};{};0;{} unknown={};;;0;{}",
      state_name(state), text, c.total, c.pass, c.total, c.warn, c.total, c.fail, limit(warning),
      limit(critical), c.total, c.unknown, c.total);
  if (with_duration) line += fmt::format(" duration={:.3f}s;;;0", metrics.duration_seconds);
  return line;
}

std::string counts_text(const db::RunCounts& c) {
  return fmt::format("{} of {} addresses fail reverse DNS ({} warn, {} unknown)", c.fail, c.total,
                     c.warn, c.unknown);
}

/// The state the counts of a completed run deserve.
PluginState judge(const db::RunCounts& counts, const std::optional<Threshold>& warning,
                  const std::optional<Threshold>& critical) {
  if (critical && counts.fail > critical->limit(counts.total)) return PluginState::critical;
  if (warning && counts.fail > warning->limit(counts.total)) return PluginState::warning;
  return PluginState::ok;
}

/// Judges a stored run: its counts as recorded; a run that did not
/// complete cannot vouch for anything.
std::string check_stored(const CheckOptions& options, const std::optional<Threshold>& warning,
                         const std::optional<Threshold>& critical, PluginState& state) {
  if (!options.audit.prometheus_textfile.empty()) {
    throw Error(Errc::usage, "--prometheus-textfile needs a new audit, not --run");
  }
  db::Database database = open_existing(options.audit.database);
  const std::int64_t id = resolve_run(database, options.run);
  const auto run = database.find_run(id);
  if (!run) throw Error(Errc::usage, fmt::format("no run {} in {}", id, database.path().string()));
  RunMetrics metrics;
  metrics.counts = run->counts;
  if (run->state != db::RunState::complete) {
    state = PluginState::unknown;
    return status_line(
        state,
        fmt::format("run {} is {}, not complete", id, std::string(db::to_string(run->state))),
        metrics, warning, critical, false);
  }
  state = judge(run->counts, warning, critical);
  return status_line(state,
                     fmt::format("{} (run {}, {})", counts_text(run->counts), id, run->finished_at),
                     metrics, warning, critical, false);
}

std::string check_new(const CheckOptions& options, const std::vector<std::string>& arguments,
                      const std::optional<Threshold>& warning,
                      const std::optional<Threshold>& critical, PluginState& state) {
  AuditCommandOptions audit = options.audit;
  audit.quiet = true;  // a plugin's output is its one status line
  const AuditOutcome outcome = execute_audit(audit, arguments, "check", false);
  const std::string run =
      outcome.run_id ? fmt::format(" (run {})", *outcome.run_id) : std::string();
  if (outcome.stopped_by_signal != 0) {
    state = PluginState::unknown;
    return status_line(state, "interrupted by a signal" + run, outcome.metrics, warning, critical,
                       true);
  }
  if (outcome.no_resolver_answered) {
    state = PluginState::unknown;
    return status_line(state, outcome.resolver_failure + run, outcome.metrics, warning, critical,
                       true);
  }
  if (!outcome.notify_error.empty()) {
    std::fprintf(stderr, "rdnsctl: %s\n", outcome.notify_error.c_str());
  }
  state = judge(outcome.metrics.counts, warning, critical);
  return status_line(state, counts_text(outcome.metrics.counts) + run, outcome.metrics, warning,
                     critical, true);
}

void run_check(CLI::App& command, CheckOptions& options, Context& context) {
  PluginState state = PluginState::unknown;
  std::string line;
  try {
    apply_config(command, options.audit.config);
    settle_database(options.audit);
    const auto warning = parse_threshold("-w", options.warning);
    const auto critical = parse_threshold("-c", options.critical);
    line = options.run.empty() ? check_new(options, context.arguments, warning, critical, state)
                               : check_stored(options, warning, critical, state);
  } catch (const std::exception& error) {
    // Whatever went wrong, the monitoring must see UNKNOWN, never CRITICAL.
    state = PluginState::unknown;
    line = fmt::format("RDNS UNKNOWN - {}", error.what());
  }
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  std::printf("%s\n", line.c_str());
  context.exit_code = static_cast<int>(state);
}

}  // namespace

void add_check_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* command = app.add_subcommand(
      "check", "Nagios/Icinga plugin: audit (or judge a stored run) and print one status line");
  register_options(*command, options->audit, OptionSet::check);
  command->add_option("-w,--warning", options->warning,
                      "WARNING when more addresses fail than this: N or N% of those audited");
  command
      ->add_option("-c,--critical", options->critical,
                   "CRITICAL when more addresses fail than this: N or N% of those audited")
      ->default_str("0");
  command->add_option("--run", options->run,
                      "Judge this stored run (ID or 'latest') instead of auditing");
  add_config_support(*command, options->audit.config);
  command->callback([options, command, &context] { run_check(*command, *options, context); });
}

}  // namespace rdns::cli
