// rdnsctl runs: the history of stored runs.

#include <array>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/file_lock.hpp>

#include "audit_run.hpp"
#include "choice_option.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "number_option.hpp"
#include "output.hpp"

namespace rdns::cli {
namespace {

struct RunsOptions {
  std::string database;
  std::size_t limit = 20;
  std::string run;
  Format format = Format::table;
  std::string inventory;
};

/// The --format names a command takes: all four by default.
auto format_transformer(std::vector<std::pair<std::string, Format>> formats = {
                            {"table", Format::table},
                            {"json", Format::json},
                            {"jsonl", Format::jsonl},
                            {"csv", Format::csv}}) {
  return enum_choice<Format>(std::move(formats));
}

struct PruneOptions {
  std::string database;
  std::int64_t keep = 0;
  std::int64_t older_than_days = 0;
  CLI::Option* keep_given = nullptr;
  CLI::Option* older_than_given = nullptr;
  std::string inventory;
  bool dry_run = false;
  Format format = Format::table;
};

/// A size as people read it: "812 B", "4.0 KiB", "1.2 MiB".
std::string human_size(std::uintmax_t bytes) {
  constexpr std::array<const char*, 4> kUnits = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  auto size = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (size >= 1024.0 && unit + 1 < kUnits.size()) {
    size /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", size, kUnits[unit]);
}

std::string id_list(const std::vector<std::int64_t>& ids) {
  return fmt::format("{}", fmt::join(ids, ", "));
}

void print_prune(const db::PruneOutcome& outcome, const PruneOptions& options,
                 const std::filesystem::path& path) {
  if (options.format == Format::json) {
    const nlohmann::ordered_json report = {{"removed", outcome.removed},
                                           {"dry_run", options.dry_run},
                                           {"bytes_before", outcome.bytes_before},
                                           {"bytes_after", outcome.bytes_after}};
    std::fputs((report.dump() + "\n").c_str(), stdout);
    return;
  }
  if (outcome.removed.empty()) {
    std::fputs("nothing to remove\n", stdout);
    return;
  }
  const std::size_t count = outcome.removed.size();
  std::fputs(fmt::format("{} {} run{} (ids {}) from {}; {} -> {}\n",
                         options.dry_run ? "would remove" : "removed", count, count == 1 ? "" : "s",
                         id_list(outcome.removed), escape_text(path.string()),
                         human_size(outcome.bytes_before), human_size(outcome.bytes_after))
                 .c_str(),
             stdout);
}

db::PrunePolicy prune_policy(const PruneOptions& options) {
  db::PrunePolicy policy;
  if (options.keep_given->count() > 0) policy.keep_runs = options.keep;
  if (options.older_than_given->count() > 0) policy.keep_days = options.older_than_days;
  if (!policy.keep_runs && !policy.keep_days) {
    throw Error(Errc::usage, "runs prune: give --keep N, --older-than DAYS or both");
  }
  policy.inventory = options.inventory;
  policy.dry_run = options.dry_run;
  return policy;
}

void prune(const PruneOptions& options) {
  const db::PrunePolicy policy = prune_policy(options);
  const std::filesystem::path path = existing_database_path(options.database);
  // Held until the runs are gone, so no audit writes the history meanwhile.
  std::optional<FileLock> lock;
  if (!db::is_database_url(path.native())) lock.emplace(lock_database(path));
  db::Database database = db::Database::open(path);
  print_prune(database.prune(policy), options, database.path());
}

void add_prune_command(CLI::App& runs, Context& context) {
  auto options = std::make_shared<PruneOptions>();
  CLI::App* command = runs.add_subcommand(
      "prune", "Remove old runs and their results, and shrink the database file");
  add_database_option(*command, options->database);
  options->keep_given = command
                            ->add_option("--keep", options->keep,
                                         "Keep the newest N runs of each inventory or target set")
                            ->check(positive_whole_number());
  options->older_than_given = command
                                  ->add_option("--older-than", options->older_than_days,
                                               "Remove only runs begun more than DAYS days ago")
                                  ->check(whole_number_range(0, db::kMaxPruneDays))
                                  ->type_name("DAYS");
  add_inventory_filter(*command, options->inventory);
  command->add_flag("--dry-run", options->dry_run, "Show what would be removed; change nothing");
  command->add_option("--format", options->format, "table or json")
      ->transform(format_transformer({{"table", Format::table}, {"json", Format::json}}))
      ->default_str("table");
  command->callback([options, &context] {
    try {
      prune(*options);
    } catch (const RunLocked& locked) {
      std::fprintf(stderr, "rdnsctl: %s\n", locked.what());
      context.exit_code = kExitLocked;
      return;
    }
    context.exit_code = kExitOk;
  });
}

/// A run's counts as stored; for a named run still waiting for shards, what
/// its shards have counted so far (the run's own are set when it completes).
db::RunCounts shown_counts(const db::RunInfo& run, const std::vector<db::ShardProgress>& shards) {
  if (run.name.empty() || run.state == db::RunState::complete) return run.counts;
  db::RunCounts counts;
  for (const db::ShardProgress& shard : shards) {
    counts.total += shard.counts.total;
    counts.pass += shard.counts.pass;
    counts.warn += shard.counts.warn;
    counts.fail += shard.counts.fail;
    counts.unknown += shard.counts.unknown;
  }
  return counts;
}

void list(const RunsOptions& options) {
  db::Database database = open_existing(options.database);
  db::RunFilter filter;
  filter.inventory = options.inventory;
  std::vector<db::RunInfo> runs = database.list_runs(options.limit, filter);
  for (db::RunInfo& run : runs) {
    if (!run.name.empty() && run.state != db::RunState::complete) {
      run.counts = shown_counts(run, database.run_shards(run.id));
    }
  }
  print_runs(runs, options.format, stdout);
}

void show(const RunsOptions& options) {
  db::Database database = open_existing(options.database);
  const std::int64_t id = resolve_run(database, options.run, options.inventory);
  const auto run = database.find_run(id);
  if (!run) throw Error(Errc::usage, fmt::format("no run {} in {}", id, database.path().string()));
  const std::vector<db::ShardProgress> shards = database.run_shards(id);
  if (options.format == Format::table) print_run_header(*run, shards, stdout);
  const auto printer =
      make_printer(options.format, stdout, use_color(ColorMode::automatic, stdout), id, shards);
  for (const auto& finding : database.domain_findings(id)) printer->add_domain_finding(finding);
  printer->read_back_from(database, id, {});
  // Formats that stream take the results one at a time; the others read
  // them back in finish(), in address order, without holding them.
  if (options.format == Format::jsonl || options.format == Format::csv) {
    database.visit_results(id, [&](const db::ResultRecord& record) { printer->add(record); });
  }
  printer->finish(shown_counts(*run, shards));
}

}  // namespace

db::Database open_existing(const std::string& flag) {
  return db::Database::open_read_only(database_path(flag));
}

std::filesystem::path existing_database_path(const std::string& flag) {
  const std::filesystem::path path = database_path(flag);
  std::error_code ignored;
  if (db::is_database_url(path.native()) || !std::filesystem::exists(path, ignored)) {
    open_existing(flag);  // throws, naming the path (a URL: unless it holds runs)
  }
  return path;
}

std::int64_t resolve_run(db::Database& database, const std::string& text,
                         const std::string& inventory) {
  const std::string scope =
      inventory.empty() ? std::string() : fmt::format(" of inventory {}", escape_text(inventory));
  if (text == "latest") {
    std::optional<std::int64_t> latest;
    if (inventory.empty()) {
      latest = database.latest_run_id();
    } else {
      db::RunFilter filter;
      filter.inventory = inventory;
      const auto runs = database.list_runs(1, filter);
      if (!runs.empty()) latest = runs.front().id;
    }
    if (!latest) {
      throw Error(Errc::usage, fmt::format("{} holds no runs{} yet",
                                           escape_text(database.path().string()), scope));
    }
    return *latest;
  }
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    throw Error(Errc::usage,
                fmt::format("run '{}': expected a run ID or 'latest'", escape_text(text)));
  }
  if (!inventory.empty()) {
    const auto run = database.find_run(id);
    if (run && run->inventory != inventory) {
      throw Error(Errc::usage,
                  fmt::format("run {} is not a run{} ({})", id, scope,
                              run->inventory.empty()
                                  ? std::string("it is an ad-hoc run")
                                  : "it audited inventory " + escape_text(run->inventory)));
    }
  }
  return id;
}

void add_inventory_filter(CLI::App& command, std::string& name) {
  command.add_option("--inventory", name, "Only the runs of this inventory")
      ->type_name("NAME")
      ->check(inventory_name());
}

void add_runs_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<RunsOptions>();
  CLI::App* runs = app.add_subcommand("runs", "List, show and prune stored audit runs");
  runs->require_subcommand(1);

  CLI::App* list_command = runs->add_subcommand("list", "List runs, newest first");
  add_database_option(*list_command, options->database);
  list_command->add_option("--limit", options->limit, "Runs to show")
      ->default_val(20)
      ->check(positive_whole_number());
  add_inventory_filter(*list_command, options->inventory);
  list_command->add_option("--format", options->format, "table or json")
      ->transform(format_transformer({{"table", Format::table}, {"json", Format::json}}))
      ->default_str("table");
  list_command->callback([options, &context] {
    list(*options);
    context.exit_code = kExitOk;
  });

  CLI::App* show_command = runs->add_subcommand("show", "Show one run's results");
  add_database_option(*show_command, options->database);
  show_command->add_option("run", options->run, "Run ID or 'latest'")->required();
  add_inventory_filter(*show_command, options->inventory);
  show_command->add_option("--format", options->format, "table, json, jsonl or csv")
      ->transform(format_transformer())
      ->default_str("table");
  show_command->callback([options, &context] {
    show(*options);
    context.exit_code = kExitOk;
  });

  add_prune_command(*runs, context);
}

}  // namespace rdns::cli
