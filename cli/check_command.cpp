// rdnsctl check: a Nagios/Icinga plugin. Audits like `rdnsctl audit` (or
// judges a stored run with --run) and prints one status line with
// performance data, then the failing addresses (long output); exit 0/1/2/3
// is OK/WARNING/CRITICAL/UNKNOWN.

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

#include <reports/diff.hpp>
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

/// A Nagios plugin range over the failing addresses: alert when the count
/// lies outside start..end (or inside, with '@'). Either end may be a
/// percentage of the addresses audited.
struct Range {
  double start = 0;
  double end = std::numeric_limits<double>::infinity();
  bool start_percent = false;
  bool end_percent = false;
  bool inside = false;  ///< '@': alert inside the range instead

  /// The bounds as counts of `total` addresses, rounded so that comparing
  /// whole counts gives what comparing with the exact share would.
  std::pair<double, double> bounds(std::int64_t total) const {
    const auto resolve = [&](double value, bool percent) {
      return percent ? value * static_cast<double>(total) / 100.0 : value;
    };
    return {std::ceil(resolve(start, start_percent)), std::floor(resolve(end, end_percent))};
  }

  bool alerts(std::int64_t value, std::int64_t total) const {
    const auto [low, high] = bounds(total);
    const auto v = static_cast<double>(value);
    const bool within = v >= low && v <= high;
    return inside ? within : !within;
  }

  /// The range in perfdata form, percentages resolved to counts.
  std::string perfdata(std::int64_t total) const {
    const auto [low, high] = bounds(total);
    const std::string from = std::isinf(start) ? "~" : fmt::format("{}", low);
    const std::string to = std::isinf(end) ? std::string() : fmt::format("{}", high);
    std::string text = inside ? "@" : "";
    if (inside || from != "0" || to.empty()) text += from + ":";
    return text + to;
  }
};

/// One end of a range: a number, optionally with '%' (at most 100).
std::optional<std::pair<double, bool>> parse_bound(std::string text) {
  bool percent = false;
  if (!text.empty() && text.back() == '%') {
    percent = true;
    text.pop_back();
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value) || value < 0 || (percent && value > 100)) {
    return std::nullopt;
  }
  return std::pair{value, percent};
}

/// The plugin guidelines' range syntax over failing addresses: "10" (more
/// than 10), "10:" (fewer than 10), "~:10", "10:20", "@10:20" (inside), each
/// number a count or a percentage of those audited ("5%").
std::optional<Range> parse_range(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::nullopt;
  const auto bad = [&] {
    return Error(Errc::usage,
                 fmt::format("{} '{}': expected a number of failing addresses (10), a percentage "
                             "of those audited (5%) or a range (10:, ~:10, 10:20, @10:20)",
                             flag, escape_text(text)));
  };
  Range range;
  std::string_view rest = text;
  if (rest.starts_with('@')) {
    range.inside = true;
    rest.remove_prefix(1);
  }
  const std::size_t colon = rest.find(':');
  std::string_view low = colon == std::string_view::npos ? "" : rest.substr(0, colon);
  std::string_view high = colon == std::string_view::npos ? rest : rest.substr(colon + 1);
  if (low == "~") {
    range.start = -std::numeric_limits<double>::infinity();
  } else if (!low.empty()) {
    const auto bound = parse_bound(std::string(low));
    if (!bound) throw bad();
    std::tie(range.start, range.start_percent) = *bound;
  }
  if (!high.empty()) {
    const auto bound = parse_bound(std::string(high));
    if (!bound) throw bad();
    std::tie(range.end, range.end_percent) = *bound;
  } else if (colon == std::string_view::npos) {
    throw bad();
  }
  if (!range.start_percent && !range.end_percent && range.start > range.end) throw bad();
  if ((!std::isinf(range.start) && range.start != std::floor(range.start) &&
       !range.start_percent) ||
      (!std::isinf(range.end) && range.end != std::floor(range.end) && !range.end_percent)) {
    throw bad();
  }
  return range;
}

/// "26h", "90m", "2d", "45s" or plain seconds.
std::chrono::seconds parse_age(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  const std::int64_t scale = unit.empty() || unit == "s" ? 1
                             : unit == "m"               ? 60
                             : unit == "h"               ? 3600
                             : unit == "d"               ? 86400
                                                         : 0;
  if (ec != std::errc() || value <= 0 || scale == 0) {
    throw Error(Errc::usage, fmt::format("--max-age '{}': expected a duration such as 26h, 90m, "
                                         "2d or seconds",
                                         escape_text(text)));
  }
  return std::chrono::seconds(value * scale);
}

/// Seconds since the epoch of a stored UTC time ("2026-01-02T03:04:05Z").
std::optional<std::int64_t> parse_utc(const std::string& text) {
  std::tm parts{};
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec) != 6) {
    return std::nullopt;
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&parts));
}

struct CheckOptions {
  AuditCommandOptions audit;
  std::string warning;
  std::string critical = "0";
  std::string run;  ///< judge this stored run instead of auditing
  bool store = false;
  std::string max_age;  ///< with --run: older runs are UNKNOWN
};

struct Thresholds {
  std::optional<Range> warning;
  std::optional<Range> critical;
};

std::int64_t changed(const RunMetrics& metrics, const std::string& kind) {
  const auto found = metrics.changes.find(kind);
  return found == metrics.changes.end() ? 0 : found->second;
}

/// What changed since the run this one is compared with, for the status
/// line; empty when there is none.
std::string changes_text(const RunMetrics& metrics) {
  if (metrics.compared_with == 0) return {};
  return fmt::format("; since run {}: {} newly failing, {} recovered", metrics.compared_with,
                     changed(metrics, "new_failure"), changed(metrics, "fixed"));
}

/// The status line: text, then '|' and the performance data
/// ('label'=value;warn;crit;min;max), then the long output, one failing
/// address a line.
std::string plugin_output(PluginState state, const std::string& text, const RunMetrics& metrics,
                          const Thresholds& thresholds, bool with_duration,
                          const std::vector<FailingAddress>& failing = {}) {
  const db::RunCounts& c = metrics.counts;
  const auto limit = [&](const std::optional<Range>& range) {
    return range ? range->perfdata(c.total) : std::string();
  };
  std::string out = fmt::format(
      "RDNS {} - {} | total={};;;0 pass={};;;0;{} warn={};;;0;{} "
      "fail={};{};{};0;{} unknown={};;;0;{}",
      state_name(state), text, c.total, c.pass, c.total, c.warn, c.total, c.fail,
      limit(thresholds.warning), limit(thresholds.critical), c.total, c.unknown, c.total);
  if (metrics.compared_with != 0) {
    out += fmt::format(" new_failures={};;;0 recovered={};;;0", changed(metrics, "new_failure"),
                       changed(metrics, "fixed"));
  }
  // Blocklist listings get a series of their own: a listing is an incident
  // with another fix (a delisting request) than a wrong PTR.
  std::int64_t listed = 0;
  bool asked_blocklists = false;
  for (const auto& [key, count] : metrics.findings) {
    if (key.first.rfind("DNSBL_", 0) != 0) continue;
    asked_blocklists = true;
    if (key.first == "DNSBL_LISTED") listed += count;
  }
  if (asked_blocklists) out += fmt::format(" listed={};;;0;{}", listed, c.total);
  if (with_duration) out += fmt::format(" duration={:.3f}s;;;0", metrics.duration_seconds);
  for (const FailingAddress& address : failing) {
    std::string codes;
    for (const auto& code : address.codes) codes += (codes.empty() ? "" : ",") + code;
    out += fmt::format("\n{} fails: {}", address.ip, codes.empty() ? "-" : codes);
  }
  if (c.fail > static_cast<std::int64_t>(failing.size()) && !failing.empty()) {
    out += fmt::format("\n... and {} more failing addresses",
                       c.fail - static_cast<std::int64_t>(failing.size()));
  }
  return out;
}

std::string counts_text(const db::RunCounts& c) {
  return fmt::format("{} of {} addresses fail reverse DNS ({} warn, {} unknown)", c.fail, c.total,
                     c.warn, c.unknown);
}

/// The state the counts of a completed run deserve. Nothing judged is never
/// OK: no addresses, or every one unknown, is UNKNOWN.
PluginState judge(const db::RunCounts& counts, const Thresholds& thresholds) {
  if (counts.total == 0 || counts.unknown == counts.total) return PluginState::unknown;
  if (thresholds.critical && thresholds.critical->alerts(counts.fail, counts.total)) {
    return PluginState::critical;
  }
  if (thresholds.warning && thresholds.warning->alerts(counts.fail, counts.total)) {
    return PluginState::warning;
  }
  return PluginState::ok;
}

std::string judged_text(const db::RunCounts& counts, const std::string& suffix) {
  if (counts.total == 0) return "no addresses were audited" + suffix;
  if (counts.unknown == counts.total) {
    return fmt::format("all {} addresses are unknown: nothing could be judged{}", counts.total,
                       suffix);
  }
  return counts_text(counts) + suffix;
}

/// The run `--run` names; "latest" skips a run still in progress (the next
/// scheduled audit may be running right now) for the newest finished one.
std::int64_t run_to_judge(db::Database& database, const std::string& text,
                          const std::string& inventory) {
  if (text != "latest") return resolve_run(database, text, inventory);
  db::RunFilter filter;
  filter.inventory = inventory;
  filter.finished_only = true;
  const auto finished = database.list_runs(1, filter);
  if (!finished.empty()) return finished.front().id;
  return resolve_run(database, text, inventory);
}

/// For a named run: which of its shards are not complete yet, and how far
/// each got (": shards 2/4 interrupted, 4/4 not started"); empty otherwise.
std::string unfinished_shards(db::Database& database, const db::RunInfo& run) {
  if (run.name.empty()) return {};
  std::vector<std::string> state(static_cast<std::size_t>(run.parts) + 1, "not started");
  for (const db::ShardProgress& shard : database.run_shards(run.id)) {
    if (shard.index >= 1 && shard.index <= run.parts) {
      state[static_cast<std::size_t>(shard.index)] = std::string(db::to_string(shard.state));
    }
  }
  std::string list;
  for (std::int64_t index = 1; index <= run.parts; ++index) {
    const std::string& shard_state = state[static_cast<std::size_t>(index)];
    if (shard_state == db::to_string(db::RunState::complete)) continue;
    list += fmt::format("{}{}/{} {}", list.empty() ? "" : ", ", index, run.parts, shard_state);
  }
  return fmt::format(" ('{}', {} of {} shards complete: {})", escape_text(run.name),
                     run.parts_complete, run.parts, list);
}

/// Judges a stored run: its counts as recorded; a run that did not
/// complete, or is older than --max-age, cannot vouch for anything.
std::string check_stored(const CheckOptions& options, const Thresholds& thresholds,
                         PluginState& state) {
  if (!options.audit.prometheus_textfile.empty()) {
    throw Error(Errc::usage, "--prometheus-textfile needs a new audit, not --run");
  }
  // 0: no limit.
  const std::int64_t max_age = options.max_age.empty() ? 0 : parse_age(options.max_age).count();
  db::Database database = open_existing(options.audit.database);
  const std::int64_t id = run_to_judge(database, options.run, options.audit.inventory);
  const auto run = database.find_run(id);
  if (!run) throw Error(Errc::usage, fmt::format("no run {} in {}", id, database.path().string()));
  RunMetrics metrics;
  metrics.counts = run->counts;
  if (run->state != db::RunState::complete) {
    state = PluginState::unknown;
    return plugin_output(
        state,
        fmt::format("run {} is {}, not complete{}", id, std::string(db::to_string(run->state)),
                    unfinished_shards(database, *run)),
        metrics, thresholds, false);
  }
  // One stored result in memory at a time: a run may hold a million.
  std::vector<FailingAddress> failing;
  database.visit_results(id, [&](const db::ResultRecord& record) {
    count_findings(metrics, record.findings);
    if (record.status != Status::fail || failing.size() == kFailingListed) return;
    FailingAddress& address = failing.emplace_back();
    address.ip = record.ip;
    for (const auto& finding : record.findings) address.codes.push_back(finding.code);
  });
  if (const auto comparison = reports::compare_with_previous(database, *run)) {
    record_changes(metrics, *comparison);
  }
  if (max_age > 0) {
    const auto finished = parse_utc(run->finished_at);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (!finished || now - *finished > max_age) {
      state = PluginState::unknown;
      return plugin_output(state,
                           fmt::format("run {} finished at {}, longer ago than --max-age {}", id,
                                       run->finished_at, options.max_age),
                           metrics, thresholds, false);
    }
  }
  state = judge(run->counts, thresholds);
  return plugin_output(state,
                       judged_text(run->counts, fmt::format(" (run {}, {}{})", id, run->finished_at,
                                                            changes_text(metrics))),
                       metrics, thresholds, false, failing);
}

std::string check_new(const CheckOptions& options, const std::vector<std::string>& arguments,
                      const Thresholds& thresholds, PluginState& state) {
  if (!options.max_age.empty()) throw Error(Errc::usage, "--max-age judges a stored --run");
  AuditCommandOptions audit = options.audit;
  audit.quiet = true;  // a plugin's output is its status line and the failing addresses
  // A probe is not part of the history unless asked: stored probes would
  // sit between the scheduled runs that reports compare.
  if (!options.store) {
    if (!audit.notify_webhook.empty()) {
      throw Error(Errc::usage, "--notify-webhook compares with the stored runs: add --store");
    }
    audit.no_database = true;
  } else if (audit.no_database) {
    throw Error(Errc::usage, "--store and --no-db contradict each other");
  }
  const AuditOutcome outcome = execute_audit(audit, arguments, "check", false);
  const std::string run =
      outcome.run_id ? fmt::format(" (run {}{})", *outcome.run_id, changes_text(outcome.metrics))
                     : std::string();
  if (outcome.stopped_by_signal != 0) {
    state = PluginState::unknown;
    return plugin_output(state, "interrupted by a signal" + run, outcome.metrics, thresholds, true);
  }
  if (outcome.no_resolver_answered) {
    state = PluginState::unknown;
    return plugin_output(state, outcome.resolver_failure + run, outcome.metrics, thresholds, true);
  }
  if (!outcome.notify_error.empty()) {
    std::fprintf(stderr, "rdnsctl: %s\n", outcome.notify_error.c_str());
  }
  state = judge(outcome.metrics.counts, thresholds);
  return plugin_output(state, judged_text(outcome.metrics.counts, run), outcome.metrics, thresholds,
                       true, outcome.failing);
}

void run_check(CLI::App& command, CheckOptions& options, Context& context) {
  PluginState state = PluginState::unknown;
  std::string line;
  try {
    // Judging a stored run, the inventory only picks the run: a monitoring
    // user need not be able to read its definition.
    const ConfigScope scope{{}, options.run.empty() ? options.audit.inventory : std::string()};
    options.audit.retention = apply_config(command, options.audit.config, scope);
    settle_database(options.audit);
    const Thresholds thresholds{parse_range("-w", options.warning),
                                parse_range("-c", options.critical)};
    line = options.run.empty() ? check_new(options, context.arguments, thresholds, state)
                               : check_stored(options, thresholds, state);
  } catch (const std::exception& error) {
    // Whatever went wrong, the monitoring must see UNKNOWN, never CRITICAL.
    state = PluginState::unknown;
    line = fmt::format("RDNS UNKNOWN - {}", error.what());
  }
  for (char& c : line) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f) c = '?';
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
  command
      ->add_option("-w,--warning", options->warning,
                   "WARNING when the failing addresses fall outside this range: N (more than "
                   "N), N:, ~:N, N:M, @N:M (inside); N a count or N% of those audited")
      ->type_name("RANGE");
  command
      ->add_option("-c,--critical", options->critical,
                   "CRITICAL when the failing addresses fall outside this range (as -w)")
      ->type_name("RANGE")
      ->default_str("0");
  command
      ->add_option("--run", options->run,
                   "Judge this stored run (ID, or 'latest': the newest finished one) instead "
                   "of auditing")
      ->type_name("RUN");
  command
      ->add_option("--max-age", options->max_age,
                   "With --run: UNKNOWN when the run finished longer ago than this (26h, "
                   "90m, 2d)")
      ->type_name("AGE");
  command->add_flag("--store", options->store,
                    "Store the audit as a run (by default a check leaves the history alone)");
  add_config_support(*command, options->audit.config);
  command->callback([options, command, &context] { run_check(*command, *options, context); });
}

}  // namespace rdns::cli
