#pragma once
/// Compliance reports over a stored run: the data a report shows, its
/// summary, and the two file formats (self-contained HTML, CSV).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include <db/database.hpp>
#include <reports/diff.hpp>
#include <util/verdict.hpp>

namespace rdns::reports {

/// How many runs the report's recent states of each address cover.
inline constexpr std::size_t kRecentRuns = 10;

/// Everything one report shows, read from the database up front.
struct ReportData {
  db::RunInfo run;
  std::vector<db::ResultRecord> results;  ///< address order
  /// The run `run` is compared with (Database::previous_comparable_run); the
  /// "changes since the previous run" compare against it.
  std::optional<db::RunInfo> previous;
  std::vector<db::ResultRecord> previous_results;
  /// Up to the requested number of finished runs of the same identity,
  /// ending with `run`, oldest first: the trend.
  std::vector<db::RunInfo> history;
  /// The recent states column: up to kRecentRuns runs of the same identity
  /// ending with `run` (the others finished), oldest first, and for each IP
  /// of `run` its status in each of them, one letter per run: p(ass),
  /// w(arn), f(ail), u(nknown), or '-' where the run did not audit it.
  std::vector<db::RunInfo> recent_runs;
  std::unordered_map<std::string, std::string> recent_states;
  /// IP → the domains whose MX/SPF led to it (from `audit --domain`); the
  /// "by source domain" summary appears only when some result has one.
  std::map<std::string, std::vector<std::string>> source_domains;
  /// Findings about the domains given with --domain (SPF, MX, ...).
  std::vector<db::DomainFindingRecord> domain_findings;
  std::string generated_at;  ///< UTC, ISO 8601 with 'Z'
};

/// Reads run_id, its predecessor and up to history_runs runs of history.
/// Throws rdns::Error(Errc::usage) naming the database when run_id is unknown.
ReportData load_report(db::Database& database, std::int64_t run_id, std::size_t history_runs);

/// A group of IPs and how they fared.
struct Group {
  std::string key;  ///< "ipv4", a code, a domain...
  db::RunCounts counts;
  /// Share of the group's IPs with status pass, 0..1 (0 for an empty group).
  double pass_rate() const;
};

/// How many IPs carry a code, and its severity.
struct CodeCount {
  std::string code;
  Severity severity = Severity::info;
  std::int64_t ips = 0;  ///< IPs with at least one finding of this code
  db::RunCounts counts;  ///< those IPs by status
};

/// One domain's findings and the gravest of their severities.
struct DomainHealth {
  std::string domain;
  Severity worst = Severity::info;
  std::vector<db::DomainFindingRecord> findings;
};

/// An address a blocklist lists (DNSBL_LISTED), or could not be asked about.
struct BlocklistEntry {
  std::string ip;
  std::string list;  ///< the list's zone, from the finding
  db::FindingRecord finding;
};

/// How many addresses one blocklist lists.
struct BlocklistCount {
  std::string list;
  std::int64_t listed = 0;
};

/// The numbers at the top of a report.
struct Summary {
  db::RunCounts counts;                      ///< counted from the results, so they match the table
  std::vector<CodeCount> by_code;            ///< most IPs first, then by code
  std::vector<Group> by_family;              ///< ipv4, ipv6 (only those present)
  std::vector<Group> by_source_domain;       ///< empty while no result has a source domain
  std::optional<RunDiff> since_previous;     ///< absent for the first run
  std::vector<DomainHealth> domains;         ///< gravest first, then by name
  std::vector<BlocklistEntry> blocklisted;   ///< DNSBL_* findings, listings first
  std::vector<BlocklistCount> by_blocklist;  ///< lists with listings, most first
};

Summary summarize(const ReportData& data);

/// The CSV report (RFC 4180, CRLF, UTF-8): one row per IP and finding, an IP
/// without findings on one row; columns in kCsvColumns order.
void write_csv_report(const ReportData& data, std::ostream& out);

/// The same CSV read straight from the database: the run's records merged
/// with its previous run's in one pass (Database::visit_result_pairs), one
/// record of each in memory at a time, so a run of a million addresses is
/// written in bounded memory. Throws rdns::Error (Errc::usage) naming the
/// database when run_id is unknown.
void write_csv_report(db::Database& database, std::int64_t run_id, std::ostream& out);

/// The documented, stable CSV column order.
inline constexpr const char* kCsvColumns[] = {"run_id",   "ip",     "family",  "status",
                                              "change",   "ptr",    "forward", "code",
                                              "severity", "detail", "fix",     "domain"};

/// Whether the HTML report lists passing addresses one by one.
enum class PassingRows {
  automatic,  ///< listed up to kListPassingUpTo addresses, counted above
  listed,     ///< always listed
  counted,    ///< only counted (summary, networks, findings)
};

/// The largest run whose passing addresses the HTML report lists by
/// default: its file stays under about 20 MB and opens in Chromium in a
/// few seconds; above it they are counted per network and status.
inline constexpr std::int64_t kListPassingUpTo = 250000;

/// True when a report of `addresses` lists the passing ones under `mode`.
bool lists_passing(PassingRows mode, std::int64_t addresses);

struct HtmlOptions {
  std::size_t history_runs = 12;  ///< runs in the trend chart
  PassingRows passing = PassingRows::automatic;
};

/// The self-contained HTML report of run_id: no external resource, a
/// Content-Security-Policy that allows only its own inline style and script.
/// Reads the run from the database in a few streamed passes and holds a few
/// dozen bytes per address, never every record. Throws rdns::Error
/// (Errc::usage) naming the database when run_id is unknown.
void write_html_report(db::Database& database, std::int64_t run_id, const HtmlOptions& options,
                       std::ostream& out);

}  // namespace rdns::reports
