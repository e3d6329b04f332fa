#include <algorithm>
#include <ctime>
#include <limits>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include <audit/vocabulary.hpp>
#include <reports/report.hpp>
#include <util/csv.hpp>
#include <util/error.hpp>

#include "common.hpp"

namespace rdns::reports {
namespace {

/// The recent states letter of a status: its name's first letter.
char status_letter(Status status) {
  return status_name(status).front();
}

/// Each result's status in each of `runs`, read in one query.
std::unordered_map<std::string, std::string> recent_states(
    db::Database& database, const std::vector<db::RunInfo>& runs,
    const std::vector<db::ResultRecord>& results) {
  std::unordered_map<std::string, std::string> states;
  states.reserve(results.size());
  for (const auto& result : results) states.emplace(result.ip, std::string(runs.size(), '-'));
  std::unordered_map<std::int64_t, std::size_t> column_of;
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    column_of[runs[i].id] = i;
    ids.push_back(runs[i].id);
  }
  database.visit_statuses(ids, [&](std::int64_t run_id, const std::string& ip, Status status) {
    // Addresses the reported run did not audit have no row to show.
    if (const auto found = states.find(ip); found != states.end()) {
      found->second[column_of.at(run_id)] = status_letter(status);
    }
  });
  return states;
}

}  // namespace

namespace detail {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/// Up to `count` runs of run's identity ending with `run`, oldest first;
/// the others finished ones, since a run still in progress has partial
/// counts and no settled results.
std::vector<db::RunInfo> runs_up_to(db::Database& database, const db::RunInfo& run,
                                    std::size_t count) {
  db::RunFilter same;
  same.identity = run.identity;
  same.up_to_id = run.id;
  same.finished_only = true;
  std::vector<db::RunInfo> runs{run};
  for (auto& info : database.list_runs(count, same)) {
    if (info.id != run.id && runs.size() < count) runs.push_back(std::move(info));
  }
  std::reverse(runs.begin(), runs.end());
  return runs;
}

}  // namespace detail

double Group::pass_rate() const {
  return counts.total == 0 ? 0.0
                           : static_cast<double>(counts.pass) / static_cast<double>(counts.total);
}

ReportData load_report(db::Database& database, std::int64_t run_id, std::size_t history_runs) {
  ReportData data;
  auto run = database.find_run(run_id);
  if (!run) {
    throw Error(Errc::usage, fmt::format("no run {} in {}", run_id, database.path().string()));
  }
  data.run = std::move(*run);
  data.results = database.results(run_id);
  data.generated_at = detail::utc_now();
  data.domain_findings = database.domain_findings(run_id);
  for (const auto& result : data.results) {
    for (const auto& source : result.sources)
      data.source_domains[result.ip].push_back(source.domain);
  }

  // The predecessor and the trend are runs of the same identity only: a
  // one-off run of other addresses says nothing about this one's. A run
  // still in progress has partial counts, so it is not a point of the trend.
  data.previous = database.previous_comparable_run(run_id);
  data.history = detail::runs_up_to(database, data.run, history_runs);
  data.recent_runs = detail::runs_up_to(database, data.run, kRecentRuns);
  data.recent_states = recent_states(database, data.recent_runs, data.results);
  if (data.previous) data.previous_results = database.results(data.previous->id);
  return data;
}

namespace {

std::vector<DomainHealth> domain_health(const std::vector<db::DomainFindingRecord>& findings) {
  std::map<std::string, DomainHealth> by_domain;
  for (const auto& finding : findings) {
    DomainHealth& health = by_domain[finding.domain];
    health.domain = finding.domain;
    health.worst = std::max(health.worst, finding.severity);
    health.findings.push_back(finding);
  }
  std::vector<DomainHealth> out;
  for (auto& [domain, health] : by_domain) out.push_back(std::move(health));
  std::stable_sort(out.begin(), out.end(),
                   [](const DomainHealth& a, const DomainHealth& b) { return a.worst > b.worst; });
  return out;
}

/// The list a DNSBL_* finding is about: its detail starts "ZONE: ".
std::string list_of(const db::FindingRecord& finding) {
  const auto colon = finding.detail.find(": ");
  return colon == std::string::npos ? std::string() : finding.detail.substr(0, colon);
}

}  // namespace

namespace detail {

void SummaryBuilder::add(const db::ResultRecord& record, const std::set<std::string>& domains) {
  summary_.counts.add(record.status);
  Group& family = families_[record.family];
  family.key = record.family;
  family.counts.add(record.status);
  for (const auto& domain : domains) {
    Group& group = domains_[domain];
    group.key = domain;
    group.counts.add(record.status);
  }
  std::set<std::string> seen;
  for (const auto& finding : record.findings) {
    add_blocklist_finding(record.ip, finding);
    if (!seen.insert(finding.code).second) continue;
    CodeCount& entry = codes_[finding.code];
    entry.code = finding.code;
    entry.severity = finding.severity;
    ++entry.ips;
    entry.counts.add(record.status);
  }
}

void SummaryBuilder::add_blocklist_finding(const std::string& ip,
                                           const db::FindingRecord& finding) {
  const bool listing = finding.code == "DNSBL_LISTED";
  if (!listing && finding.code != "DNSBL_ERROR") return;
  summary_.blocklisted.push_back({ip, list_of(finding), finding});
  if (listing) ++listed_[list_of(finding)];
}

Summary SummaryBuilder::finish(const std::vector<db::DomainFindingRecord>& domain_findings) {
  for (auto& [key, group] : families_) summary_.by_family.push_back(std::move(group));
  // ipv4 sorts before ipv6 by name already; domains with most IPs first.
  for (auto& [key, group] : domains_) summary_.by_source_domain.push_back(std::move(group));
  std::stable_sort(summary_.by_source_domain.begin(), summary_.by_source_domain.end(),
                   [](const Group& a, const Group& b) { return a.counts.total > b.counts.total; });
  for (auto& [key, entry] : codes_) summary_.by_code.push_back(std::move(entry));
  std::stable_sort(summary_.by_code.begin(), summary_.by_code.end(),
                   [](const CodeCount& a, const CodeCount& b) { return a.ips > b.ips; });
  summary_.domains = domain_health(domain_findings);
  std::stable_sort(summary_.blocklisted.begin(), summary_.blocklisted.end(),
                   [](const BlocklistEntry& a, const BlocklistEntry& b) {
                     return (a.finding.code == "DNSBL_LISTED") > (b.finding.code == "DNSBL_LISTED");
                   });
  for (const auto& [list, count] : listed_) summary_.by_blocklist.push_back({list, count});
  std::stable_sort(
      summary_.by_blocklist.begin(), summary_.by_blocklist.end(),
      [](const BlocklistCount& a, const BlocklistCount& b) { return a.listed > b.listed; });
  return std::move(summary_);
}

std::set<std::string> source_domains_of(const db::ResultRecord& record) {
  std::set<std::string> domains;
  for (const auto& source : record.sources) domains.insert(source.domain);
  return domains;
}

}  // namespace detail

Summary summarize(const ReportData& data) {
  detail::SummaryBuilder builder;
  for (const auto& record : data.results) {
    const auto found = data.source_domains.find(record.ip);
    builder.add(record, found == data.source_domains.end()
                            ? std::set<std::string>{}
                            : std::set<std::string>(found->second.begin(), found->second.end()));
  }
  Summary summary = builder.finish(data.domain_findings);
  if (data.previous) {
    summary.since_previous =
        compare_runs(*data.previous, data.previous_results, data.run, data.results);
  }
  return summary;
}

namespace {

/// The CSV report's rows, written in slices so a large run never holds its
/// whole CSV in memory.
class CsvRows {
 public:
  CsvRows(std::int64_t run_id, std::ostream& out) : run_id_(std::to_string(run_id)), out_(out) {
    out_ << csv_row(std::vector<std::string>(std::begin(kCsvColumns), std::end(kCsvColumns)));
  }
  ~CsvRows() { out_ << rows_; }
  CsvRows(const CsvRows&) = delete;
  CsvRows& operator=(const CsvRows&) = delete;

  /// The domains' own findings: rows without an address.
  void add_domain_findings(const std::vector<db::DomainFindingRecord>& findings) {
    for (const auto& finding : findings) {
      const audit::CodeEntry* info = audit::find_code(finding.code);
      rows_ += csv_row({run_id_, "", "", "", "", "", "", detail::shown(finding.code),
                        std::string(severity_name(finding.severity)), detail::shown(finding.detail),
                        info ? std::string(info->fix) : "", detail::shown(finding.domain)});
    }
  }

  /// One row per finding of record, or one row when it has none.
  void add(const db::ResultRecord& record, std::optional<ChangeKind> change) {
    const std::string change_text = change ? std::string(to_string(*change)) : "";
    const std::string ptr = detail::join_ptr(record);
    const std::string forward = detail::join_forward(record);
    std::string domains;
    for (const auto& domain : detail::source_domains_of(record)) {
      detail::append(domains, " ", detail::shown(domain));
    }
    const auto row = [&](const std::string& code, std::string_view severity,
                         const std::string& text) {
      const audit::CodeEntry* info = audit::find_code(code);
      rows_ += csv_row({run_id_, detail::shown(record.ip), detail::shown(record.family),
                        std::string(status_name(record.status)), change_text, ptr, forward,
                        detail::shown(code), std::string(severity), detail::shown(text),
                        info ? std::string(info->fix) : "", domains});
    };
    if (record.findings.empty()) row("", "", "");
    for (const auto& finding : record.findings) {
      row(finding.code, severity_name(finding.severity), finding.detail);
    }
    if (rows_.size() > (1u << 16)) {
      out_ << rows_;
      rows_.clear();
    }
  }

 private:
  std::string run_id_;
  std::ostream& out_;
  std::string rows_;
};

}  // namespace

void write_csv_report(const ReportData& data, std::ostream& out) {
  std::unordered_map<std::string, ChangeKind> changes;
  if (data.previous) {
    for (auto& change :
         compare_runs(*data.previous, data.previous_results, data.run, data.results).changes) {
      changes.emplace(change.ip, change.kind);
    }
  }
  CsvRows rows(data.run.id, out);
  rows.add_domain_findings(data.domain_findings);
  for (const auto& record : data.results) {
    const auto change = changes.find(record.ip);
    rows.add(record, change == changes.end() ? std::nullopt : std::optional(change->second));
  }
}

void write_csv_report(db::Database& database, std::int64_t run_id, std::ostream& out) {
  const std::optional<db::RunInfo> run = database.find_run(run_id);
  if (!run) {
    throw Error(Errc::usage, fmt::format("no run {} in {}", run_id, database.path().string()));
  }
  const std::optional<db::RunInfo> previous = database.previous_comparable_run(run_id);
  CsvRows rows(run_id, out);
  rows.add_domain_findings(database.domain_findings(run_id));
  if (!previous) {
    database.visit_results(run_id, [&](const db::ResultRecord& record) { rows.add(record, {}); });
    return;
  }
  // Both runs merged in address order: an address only the previous run
  // audited has no row.
  database.visit_result_pairs(
      previous->id, run_id, [&](const db::ResultRecord* before, const db::ResultRecord* after) {
        if (!after) return;
        const std::optional<Change> change = change_between(*previous, before, *run, after);
        rows.add(*after, change ? std::optional(change->kind) : std::nullopt);
      });
}

}  // namespace rdns::reports
