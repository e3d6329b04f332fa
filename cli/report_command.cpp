// rdnsctl report: compliance reports (HTML, CSV) of a stored run, the diff
// between two runs, and the history of runs.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>

#include <reports/diff.hpp>
#include <reports/history.hpp>
#include <reports/report.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/output_file.hpp>

#include "choice_option.hpp"
#include "commands.hpp"
#include "number_option.hpp"

namespace rdns::cli {
namespace {

enum class ReportFormat { html, csv };
enum class TextFormat { table, json };

struct ReportOptions {
  std::string database;
  std::string run = "latest";
  ReportFormat format = ReportFormat::html;
  std::string output = "-";
  std::size_t history_runs = 12;
  reports::PassingRows passing = reports::PassingRows::automatic;
  // report diff
  std::string from_run;
  std::string to_run;
  TextFormat text_format = TextFormat::table;
  bool fail_on_new = false;
  // report history
  std::size_t limit = 20;
  std::string inventory;
};

void write(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void report(const ReportOptions& options) {
  db::Database database = open_existing(options.database);
  const std::int64_t id = resolve_run(database, options.run, options.inventory);
  if (!database.find_run(id)) {
    throw Error(Errc::usage, fmt::format("no run {} in {}", id, database.path().string()));
  }
  OutputFile output(options.output, "the report");
  if (options.format == ReportFormat::csv) {
    reports::write_csv_report(database, id, output.stream());
  } else {
    reports::write_html_report(database, id, {options.history_runs, options.passing},
                               output.stream());
  }
  output.commit();
}

/// The newest complete run (of the inventory, when one is named) and the
/// run it is compared with: what `report diff` shows without run IDs.
std::pair<db::RunInfo, db::RunInfo> latest_comparison(db::Database& database,
                                                      const std::string& inventory) {
  db::RunFilter filter;
  filter.inventory = inventory;
  filter.finished_only = true;
  const std::string scope =
      inventory.empty() ? std::string() : fmt::format(" of inventory {}", escape_text(inventory));
  for (const db::RunInfo& run :
       database.list_runs(std::numeric_limits<std::size_t>::max(), filter)) {
    if (run.state != db::RunState::complete) continue;
    auto previous = database.previous_comparable_run(run.id);
    if (!previous) {
      throw Error(Errc::usage,
                  fmt::format("run {}, the newest complete run{}, has no earlier complete run of "
                              "the same targets and checks to compare with",
                              run.id, scope));
    }
    return {std::move(*previous), run};
  }
  throw Error(Errc::usage, fmt::format("{} holds no complete runs{} yet",
                                       escape_text(database.path().string()), scope));
}

/// True when an address newly fails.
bool diff(const ReportOptions& options) {
  // A mistake in the arguments is reported before any database is looked for.
  if (options.from_run.empty() != options.to_run.empty()) {
    throw Error(Errc::usage,
                "report diff: give two runs (older, newer), or none to compare the newest complete "
                "run with the one before it");
  }
  db::Database database = open_existing(options.database);
  const auto find = [&](const std::string& text) {
    const std::int64_t id = resolve_run(database, text, options.inventory);
    auto run = database.find_run(id);
    if (!run)
      throw Error(Errc::usage, fmt::format("no run {} in {}", id, database.path().string()));
    return std::move(*run);
  };
  const auto [from, to] = options.from_run.empty()
                              ? latest_comparison(database, options.inventory)
                              : std::pair{find(options.from_run), find(options.to_run)};
  if (from.identity != to.identity) {
    std::fprintf(stderr,
                 "rdnsctl: note: runs %lld and %lld audited different inventories or targets; "
                 "addresses only one of them audited show as appeared or disappeared\n",
                 static_cast<long long>(from.id), static_cast<long long>(to.id));
  }
  const reports::DiffCounts counts =
      reports::write_diff(database, from, to,
                          options.text_format == TextFormat::json ? reports::DiffFormat::json
                                                                  : reports::DiffFormat::text,
                          std::cout);
  std::cout.flush();
  return counts.count(reports::ChangeKind::new_failure) > 0;
}

void history(const ReportOptions& options) {
  db::Database database = open_existing(options.database);
  const auto entries = reports::load_history(database, options.limit, options.inventory);
  write(options.text_format == TextFormat::json ? reports::history_json(entries)
                                                : reports::history_text(entries));
}

auto text_format_transformer() {
  return enum_choice<TextFormat>({{"table", TextFormat::table}, {"json", TextFormat::json}});
}

}  // namespace

void add_report_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* command = app.add_subcommand(
      "report", "Write a compliance report (HTML or CSV) of a run; diff runs; show the history");
  command->require_subcommand(0, 1);
  add_database_option(*command, options->database);
  command->add_option("--run", options->run, "Run ID or 'latest'")->default_str("latest");
  add_inventory_filter(*command, options->inventory);
  command->add_option("--format", options->format, "html or csv")
      ->transform(
          enum_choice<ReportFormat>({{"html", ReportFormat::html}, {"csv", ReportFormat::csv}}))
      ->default_str("html");
  command->add_option("-o,--output", options->output, "Report file ('-' is standard output)")
      ->type_name("FILE")
      ->default_str("-");
  command->add_option("--history", options->history_runs, "Runs shown in the HTML trend chart")
      ->default_val(12)
      ->check(whole_number_range(1, 1000));
  command
      ->add_option("--passing-rows", options->passing,
                   "HTML: list passing addresses one by one (all), only count them (none), or "
                   "list them up to 250000 addresses (auto)")
      ->type_name("MODE")
      ->transform(enum_choice<reports::PassingRows>({{"auto", reports::PassingRows::automatic},
                                                     {"all", reports::PassingRows::listed},
                                                     {"none", reports::PassingRows::counted}}))
      ->default_str("auto");

  CLI::App* diff_command = command->add_subcommand("diff", "What changed between two runs, per IP");
  add_database_option(*diff_command, options->database);
  diff_command->add_option("run_a", options->from_run,
                           "Older run ID or 'latest' (none: the newest complete run against the "
                           "one it is compared with)");
  diff_command->add_option("run_b", options->to_run, "Newer run ID or 'latest'");
  add_inventory_filter(*diff_command, options->inventory);
  diff_command->add_option("--format", options->text_format, "table or json")
      ->transform(text_format_transformer())
      ->default_str("table");
  diff_command->add_flag("--fail-on-new", options->fail_on_new,
                         "Exit 1 when an address newly fails in the newer run");
  diff_command->callback([options, &context] {
    const bool new_failures = diff(*options);
    context.exit_code = options->fail_on_new && new_failures ? kExitFindings : kExitOk;
  });

  CLI::App* history_command =
      command->add_subcommand("history", "Runs over time: counts, pass rate, changes");
  add_database_option(*history_command, options->database);
  history_command->add_option("--limit", options->limit, "Runs to show")
      ->default_val(20)
      ->check(positive_whole_number());
  add_inventory_filter(*history_command, options->inventory);
  history_command->add_option("--format", options->text_format, "table or json")
      ->transform(text_format_transformer())
      ->default_str("table");
  history_command->callback([options, &context] {
    history(*options);
    context.exit_code = kExitOk;
  });

  // The parent's callback also runs after a subcommand's; it writes a report
  // only when no subcommand was given.
  command->callback([command, options, &context] {
    if (!command->get_subcommands().empty()) return;
    report(*options);
    context.exit_code = kExitOk;
  });
}

}  // namespace rdns::cli
