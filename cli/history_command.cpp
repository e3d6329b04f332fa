// rdnsctl history IP: one address's stored results across runs, newest
// first, and what changed from each to the previous result of the same
// identity (the runs `report diff` would compare).

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <audit/ip.hpp>
#include <reports/diff.hpp>
#include <util/csv.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "choice_option.hpp"
#include "commands.hpp"
#include "number_option.hpp"
#include "output.hpp"
#include "stored_text.hpp"

namespace rdns::cli {
namespace {

using nlohmann::json;

struct HistoryOptions {
  std::string database;
  std::string ip;
  std::string inventory;
  std::size_t limit = 20;
  Format format = Format::table;
};

/// A stored result and how it moved since the previous (older) result of
/// the same identity: none there ("first"), nothing that differs
/// ("unchanged"), or the change as reports/diff.hpp defines it.
struct HistoryLine {
  const db::AddressResult* entry = nullptr;
  bool first = false;
  std::optional<reports::Change> change;
  std::int64_t compared_with = 0;  ///< the older run's id, 0 for the first
};

/// Lines for entries (newest first): each compared with the next older
/// entry of its identity, which may lie beyond what is shown.
std::vector<HistoryLine> classify_lines(const std::vector<db::AddressResult>& entries,
                                        std::size_t limit) {
  std::vector<HistoryLine> lines(entries.size());
  std::unordered_map<std::string, const db::AddressResult*> older_of_identity;
  for (std::size_t i = entries.size(); i-- > 0;) {
    const db::AddressResult& entry = entries[i];
    HistoryLine& line = lines[i];
    line.entry = &entry;
    const auto older = older_of_identity.find(entry.run.identity);
    if (older == older_of_identity.end()) {
      line.first = true;
    } else {
      line.compared_with = older->second->run.id;
      line.change = reports::compare_address(older->second->run, older->second->result, entry.run,
                                             entry.result);
    }
    older_of_identity[entry.run.identity] = &entry;
  }
  if (lines.size() > limit) lines.resize(limit);
  return lines;
}

/// "first", "unchanged", or the kind: human words for the table,
/// identifiers (as `report diff` and the CSV report use) for programs.
std::string change_text(const HistoryLine& line, bool for_people) {
  if (line.first) return "first";
  if (!line.change) return "unchanged";
  return std::string(for_people ? reports::change_label(line.change->kind)
                                : reports::to_string(line.change->kind));
}

std::string ptr_text(const db::ResultRecord& result) {
  std::string text;
  for (const auto& name : result.ptr) {
    if (!text.empty()) text += ' ';
    text += shown_stored(name);
  }
  return text;
}

/// Each code once, in the order first found.
std::vector<std::string> codes_of(const db::ResultRecord& result) {
  std::vector<std::string> codes;
  for (const auto& finding : result.findings) {
    const std::string code = shown_stored(finding.code);
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) codes.push_back(code);
  }
  return codes;
}

std::string joined(const std::vector<std::string>& values, std::string_view separator) {
  std::string text;
  for (const auto& value : values) {
    if (!text.empty()) text += separator;
    text += value;
  }
  return text;
}

void print_table(const std::vector<HistoryLine>& lines) {
  const std::vector<std::string> header = {"RUN",    "STARTED", "STATE", "INVENTORY",
                                           "STATUS", "PTR",     "CODES", "CHANGE"};
  std::vector<std::vector<std::string>> rows;
  for (const HistoryLine& line : lines) {
    const db::AddressResult& entry = *line.entry;
    const std::string ptr = ptr_text(entry.result);
    const std::string codes = joined(codes_of(entry.result), ",");
    rows.push_back({std::to_string(entry.run.id), shown_stored(entry.run.started_at),
                    std::string(db::to_string(entry.run.state)), run_series(entry.run),
                    std::string(status_name(entry.result.status)), ptr.empty() ? "-" : ptr,
                    codes.empty() ? "-" : codes, change_text(line, true)});
  }
  std::vector<std::size_t> widths;
  for (const auto& title : header) widths.push_back(title.size());
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  const auto format_row = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      // The last column is not padded: no trailing blanks.
      text += i + 1 == cells.size() ? cells[i] : fmt::format("{:<{}}  ", cells[i], widths[i]);
    }
    return text + "\n";
  };
  std::string out = format_row(header);
  for (const auto& row : rows) out += format_row(row);
  write_output(stdout, out);
}

void print_json(const std::string& ip, const std::vector<HistoryLine>& lines) {
  json runs = json::array();
  for (const HistoryLine& line : lines) {
    const db::AddressResult& entry = *line.entry;
    json ptr = json::array();
    for (const auto& name : entry.result.ptr) ptr.push_back(shown_stored(name));
    json findings = json::array();
    for (const auto& finding : entry.result.findings) {
      findings.push_back({{"code", shown_stored(finding.code)},
                          {"severity", severity_name(finding.severity)},
                          {"detail", shown_stored(finding.detail)}});
    }
    runs.push_back(
        {{"run_id", entry.run.id},
         {"started_at", shown_stored(entry.run.started_at)},
         {"state", std::string(db::to_string(entry.run.state))},
         {"inventory", shown_stored(entry.run.inventory)},
         {"status", std::string(status_name(entry.result.status))},
         {"ptr", std::move(ptr)},
         {"codes", codes_of(entry.result)},
         {"findings", std::move(findings)},
         {"change", change_text(line, false)},
         {"changed_fields", line.change ? line.change->fields : std::vector<std::string>{}},
         {"compared_with_run", line.first ? json(nullptr) : json(line.compared_with)}});
  }
  write_output(stdout, json{{"ip", ip}, {"runs", std::move(runs)}}.dump(2) + "\n");
}

void print_csv(const std::vector<HistoryLine>& lines) {
  std::string out =
      csv_row({"run_id", "started_at", "state", "inventory", "status", "ptr", "codes", "change"});
  for (const HistoryLine& line : lines) {
    const db::AddressResult& entry = *line.entry;
    out += csv_row({std::to_string(entry.run.id), shown_stored(entry.run.started_at),
                    std::string(db::to_string(entry.run.state)), shown_stored(entry.run.inventory),
                    std::string(status_name(entry.result.status)), ptr_text(entry.result),
                    joined(codes_of(entry.result), " "), change_text(line, false)});
  }
  write_output(stdout, out);
}

/// The address as the audit names and stores it: canonical text, and an
/// IPv4-mapped IPv6 address (::ffff:192.0.2.10) as its IPv4 address.
std::optional<std::string> stored_form(const std::string& text) {
  if (text.find('/') != std::string::npos) return std::nullopt;
  const audit::ParsedRange parsed = audit::parse_range(text);
  if (!parsed.range) return std::nullopt;
  return parsed.range->first.to_string();
}

void history(const HistoryOptions& options) {
  const std::optional<std::string> ip = stored_form(options.ip);
  if (!ip) {
    throw Error(Errc::usage,
                fmt::format("history: '{}' is not an IP address", escape_text(options.ip)));
  }
  db::Database database = open_existing(options.database);
  // Every stored result of the address, so the oldest line shown is still
  // compared with its predecessor: one row per run that audited it.
  const std::vector<db::AddressResult> entries =
      database.address_results(*ip, std::numeric_limits<std::size_t>::max(), options.inventory);
  if (entries.empty()) {
    const std::string scope = options.inventory.empty()
                                  ? std::string()
                                  : fmt::format(" in inventory {}", escape_text(options.inventory));
    std::fprintf(stderr, "rdnsctl: no stored results for %s%s in %s\n", ip->c_str(), scope.c_str(),
                 escape_text(database.path().string()).c_str());
  }
  const std::vector<HistoryLine> lines = classify_lines(entries, options.limit);
  switch (options.format) {
    case Format::table:
      if (!lines.empty()) print_table(lines);
      break;
    case Format::json:
    case Format::jsonl:  // not offered: the list is one document
      print_json(*ip, lines);
      break;
    case Format::csv:
      print_csv(lines);
      break;
  }
  flush_output(stdout);
}

}  // namespace

void add_history_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<HistoryOptions>();
  CLI::App* command = app.add_subcommand(
      "history", "One address's results across stored runs, newest first, and what changed");
  command->add_option("ip", options->ip, "The IP address (IPv4 or IPv6)")->required();
  add_database_option(*command, options->database);
  add_inventory_filter(*command, options->inventory);
  command->add_option("--limit", options->limit, "Runs to show")
      ->default_val(20)
      ->check(positive_whole_number());
  command->add_option("--format", options->format, "table, json or csv")
      ->transform(enum_choice<Format>(
          {{"table", Format::table}, {"json", Format::json}, {"csv", Format::csv}}))
      ->default_str("table");
  command->callback([options, &context] {
    history(*options);
    context.exit_code = kExitOk;
  });
}

}  // namespace rdns::cli
