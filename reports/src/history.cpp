#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <reports/diff.hpp>
#include <reports/history.hpp>

namespace rdns::reports {
namespace {

using nlohmann::json;

double pass_rate(const db::RunCounts& counts) {
  return counts.total == 0 ? 0.0
                           : static_cast<double>(counts.pass) / static_cast<double>(counts.total);
}

}  // namespace

std::vector<HistoryEntry> load_history(db::Database& database, std::size_t limit,
                                       const std::string& inventory) {
  db::RunFilter filter;
  filter.inventory = inventory;
  std::vector<HistoryEntry> history;
  for (const db::RunInfo& run : database.list_runs(limit, filter)) {
    HistoryEntry entry;
    entry.run = run;
    entry.pass_rate = pass_rate(run.counts);
    if (run.state != db::RunState::running) {
      if (const auto comparison = compare_with_previous(database, run)) {
        const DiffCounts& counts = comparison->counts;
        entry.since_previous = ChangeCounts{comparison->previous.id,
                                            counts.count(ChangeKind::new_failure),
                                            counts.count(ChangeKind::fixed),
                                            counts.count(ChangeKind::ptr_changed),
                                            counts.count(ChangeKind::changed),
                                            counts.count(ChangeKind::appeared),
                                            counts.count(ChangeKind::disappeared),
                                            counts.unchanged};
      }
    }
    history.push_back(std::move(entry));
  }
  return history;
}

std::string history_json(const std::vector<HistoryEntry>& history) {
  json list = json::array();
  for (const auto& entry : history) {
    const db::RunCounts& c = entry.run.counts;
    json item{{"id", entry.run.id},
              {"started_at", entry.run.started_at},
              {"finished_at", entry.run.finished_at},
              {"state", std::string(db::to_string(entry.run.state))},
              {"counts",
               {{"total", c.total},
                {"pass", c.pass},
                {"warn", c.warn},
                {"fail", c.fail},
                {"unknown", c.unknown}}},
              {"pass_rate", entry.pass_rate},
              {"inventory", entry.run.inventory}};
    if (entry.since_previous) {
      const ChangeCounts& s = *entry.since_previous;
      item["since_previous"] = {{"from_run", s.from_run},
                                {"new_failures", s.new_failures},
                                {"fixed", s.fixed},
                                {"ptr_changed", s.ptr_changed},
                                {"changed", s.changed},
                                {"appeared", s.appeared},
                                {"disappeared", s.disappeared},
                                {"unchanged", s.unchanged}};
    } else {
      item["since_previous"] = nullptr;
    }
    list.push_back(std::move(item));
  }
  return list.dump(2) + "\n";
}

std::string history_text(const std::vector<HistoryEntry>& history) {
  std::string out = fmt::format(
      "{:>5}  {:<20}  {:<11}  {:>8}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6}  {:>8}  {:>6}\n", "ID",
      "STARTED", "STATE", "TOTAL", "PASS", "WARN", "FAIL", "UNKNOWN", "PASS%", "NEW FAIL", "FIXED");
  for (const auto& entry : history) {
    const db::RunCounts& c = entry.run.counts;
    const std::string new_failures =
        entry.since_previous ? std::to_string(entry.since_previous->new_failures) : "-";
    const std::string fixed =
        entry.since_previous ? std::to_string(entry.since_previous->fixed) : "-";
    out += fmt::format(
        "{:>5}  {:<20}  {:<11}  {:>8}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6.1f}  {:>8}  {:>6}\n",
        entry.run.id, entry.run.started_at, db::to_string(entry.run.state), c.total, c.pass, c.warn,
        c.fail, c.unknown, entry.pass_rate * 100, new_failures, fixed);
  }
  return out;
}

}  // namespace rdns::reports
