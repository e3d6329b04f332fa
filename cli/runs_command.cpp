// rdnsctl runs: the history of stored runs.

#include <charconv>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include <util/error.hpp>
#include <util/escape.hpp>

#include "commands.hpp"
#include "config.hpp"
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

auto format_transformer() {
  return CLI::CheckedTransformer(std::map<std::string, Format>{{"table", Format::table},
                                                               {"json", Format::json},
                                                               {"jsonl", Format::jsonl},
                                                               {"csv", Format::csv}},
                                 CLI::ignore_case);
}

void list(const RunsOptions& options) {
  db::Database database = open_existing(options.database);
  db::RunFilter filter;
  filter.inventory = options.inventory;
  print_runs(database.list_runs(options.limit, filter), options.format, stdout);
}

void show(const RunsOptions& options) {
  db::Database database = open_existing(options.database);
  const std::int64_t id = resolve_run(database, options.run, options.inventory);
  const auto run = database.find_run(id);
  if (!run) throw Error(Errc::usage, fmt::format("no run {} in {}", id, database.path().string()));
  if (options.format == Format::table) print_run_header(*run, stdout);
  const auto printer =
      make_printer(options.format, stdout, use_color(ColorMode::automatic, stdout), id);
  for (const auto& finding : database.domain_findings(id)) printer->add_domain_finding(finding);
  for (const auto& record : database.results(id)) printer->add(record);
  printer->finish(run->counts);
}

}  // namespace

db::Database open_existing(const std::string& flag) {
  return db::Database::open_read_only(database_path(flag));
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
      ->check(inventory_name());
}

void add_runs_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<RunsOptions>();
  CLI::App* runs = app.add_subcommand("runs", "List and show stored audit runs");
  runs->require_subcommand(1);

  CLI::App* list_command = runs->add_subcommand("list", "List runs, newest first");
  add_database_option(*list_command, options->database);
  list_command->add_option("--limit", options->limit, "Runs to show")->default_val(20);
  add_inventory_filter(*list_command, options->inventory);
  list_command->add_option("--format", options->format, "table or json")
      ->transform(format_transformer())
      ->default_str("table")
      ->option_text("table|json (table)");
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
      ->default_str("table")
      ->option_text("table|json|jsonl|csv (table)");
  show_command->callback([options, &context] {
    show(*options);
    context.exit_code = kExitOk;
  });
}

}  // namespace rdns::cli
