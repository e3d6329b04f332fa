#pragma once
/// The one definition of comparing runs, used by the report, `report diff`,
/// `report history`, the trend and the webhook: a run is
/// compared with the previous complete run of the same identity (inventory),
/// only on findings both runs could produce, and every address falls in
/// exactly one class. Also the terminal and JSON forms of `report diff`.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <db/database.hpp>

namespace rdns::reports {

/// How an IP's result moved from the older run to the newer one.
enum class ChangeKind {
  new_failure,  ///< fail now; not fail before, or not audited before
  fixed,        ///< recovered: fail before; pass or warn now (unknown proves nothing)
  ptr_changed,  ///< audited in both, neither of the above, and the PTR names differ
  changed,      ///< audited in both, none of the above, but status, forward or codes differ
  appeared,     ///< audited only in the newer run, and not failing
  disappeared,  ///< audited only in the older run
};

/// "new_failure", "fixed", "ptr_changed", "changed", "appeared", "disappeared".
std::string_view to_string(ChangeKind kind);

/// The newest verdict (pass, warn or fail) an earlier run reached on an
/// address.
struct EarlierVerdict {
  std::int64_t run_id = 0;
  Status status = Status::unknown;
};

/// One IP whose result differs between the runs.
struct Change {
  ChangeKind kind = ChangeKind::changed;
  std::string ip;
  std::optional<db::ResultRecord> before;  ///< absent when the IP is new
  std::optional<db::ResultRecord> after;   ///< absent when the IP disappeared
  /// Which of "status", "ptr", "forward", "codes" differ (both runs only).
  /// PTR and forward names compare as sets; finding details are not compared
  /// because they quote values such as TTLs that drift between runs.
  std::vector<std::string> fields;
  /// Set by compare_with_previous when `before` is unknown: the verdict of
  /// an earlier run of the same identity that the kind was judged against.
  std::optional<EarlierVerdict> last_verdict;

  bool ptr_changed() const;
};

/// Every change between two runs, in address order (IPv4 first).
struct RunDiff {
  std::int64_t from_run = 0;
  std::int64_t to_run = 0;
  std::vector<Change> changes;
  std::size_t unchanged = 0;  ///< IPs audited in both runs with nothing that differs

  std::size_t count(ChangeKind kind) const;
};

/// Compares two runs' results (as db::Database::results returns them).
/// Unless `smtp_in_both`, the SMTP findings (HELO_MISMATCH, HELO_INVALID,
/// SMTP_UNAVAILABLE) are left out of both sides and the statuses judged
/// without them: a run without --smtp neither fixes nor breaks one.
RunDiff diff_runs(std::int64_t from_run, const std::vector<db::ResultRecord>& from,
                  std::int64_t to_run, const std::vector<db::ResultRecord>& to,
                  bool smtp_in_both = true);

/// One address audited in two runs, classified as diff_runs classifies it:
/// new_failure, fixed, ptr_changed or changed, with the fields that differ;
/// none when nothing differs. The records must be as the runs stored them
/// (the SMTP findings are left out here unless both runs checked SMTP).
std::optional<Change> compare_address(const db::RunInfo& from, const db::ResultRecord& before,
                                      const db::RunInfo& to, const db::ResultRecord& after);

/// One address of two stored runs, given the record each run has (either
/// may be null, not both), as compare_runs classifies and shows it: the
/// records masked when the runs did not both check SMTP; none when nothing
/// differs.
std::optional<Change> change_between(const db::RunInfo& from, const db::ResultRecord* before,
                                     const db::RunInfo& to, const db::ResultRecord* after);

/// How many addresses of each kind two runs' comparison found.
struct DiffCounts {
  std::int64_t from_run = 0;
  std::int64_t to_run = 0;
  std::array<std::size_t, 6> of_kind{};  ///< indexed by ChangeKind
  std::size_t unchanged = 0;

  std::size_t count(ChangeKind kind) const { return of_kind[static_cast<std::size_t>(kind)]; }
};

/// The forms `rdnsctl report diff` writes.
enum class DiffFormat { text, json };

/// Writes what diff_text or diff_json writes for compare_runs(from, to),
/// byte for byte, reading both runs once, merged in address order
/// (Database::visit_result_pairs): the changes wait in temporary files, one
/// per kind, until the counts that lead the output are known, so two runs
/// of a million addresses are compared in bounded memory.
DiffCounts write_diff(db::Database& database, const db::RunInfo& from, const db::RunInfo& to,
                      DiffFormat format, std::ostream& out);

/// What the classification needs of one address's record, in a few bytes:
/// its status and hashes of its PTR, forward and code sets (compared as
/// compare_address compares them). A report of a million addresses keeps
/// the previous run's digests, not its records.
struct ResultDigest {
  Status status = Status::unknown;
  std::uint64_t ptr = 0;
  std::uint64_t forward = 0;
  std::uint64_t codes = 0;
};

/// The digest of a record of run `from` or `to`, masked as compare_address
/// masks it when the runs did not both check SMTP.
ResultDigest comparable_digest(const db::RunInfo& from, const db::RunInfo& to,
                               const db::ResultRecord& record);

/// compare_address's kind for two digests of one address; none when nothing
/// differs.
std::optional<ChangeKind> classify_digests(const ResultDigest& before, const ResultDigest& after);

/// What a report or history calls a kind: "newly failing", "recovered",
/// "PTR changed", "changed", "new", "gone".
std::string_view change_label(ChangeKind kind);

/// Two stored runs compared on what both checked.
RunDiff compare_runs(const db::RunInfo& from, const std::vector<db::ResultRecord>& from_results,
                     const db::RunInfo& to, const std::vector<db::ResultRecord>& to_results);

/// Every kind, in the order the outputs list them.
inline constexpr std::array<ChangeKind, 6> kChangeKinds = {
    ChangeKind::new_failure, ChangeKind::fixed,    ChangeKind::ptr_changed,
    ChangeKind::changed,     ChangeKind::appeared, ChangeKind::disappeared};

/// What the alerts list: the addresses that newly fail and those that recovered.
inline constexpr std::array<ChangeKind, 2> kAlertKinds = {ChangeKind::new_failure,
                                                          ChangeKind::fixed};

/// A run against the run it is compared with.
struct Comparison {
  db::RunInfo previous;
  DiffCounts counts;
  /// The changes of the kinds asked for, with both records, in address order.
  std::vector<Change> changes;
};

/// `run` against Database::previous_comparable_run; none for the first run
/// of its identity. Both runs are read in one merged pass
/// (Database::visit_result_pairs): only the counts and the changes of the
/// kinds in `keep` stay in memory, so a run of a million addresses is
/// compared in bounded memory.
///
/// An address `unknown` in the previous run proved nothing there, so it is
/// judged against its last verdict in an earlier complete run of the same
/// identity (Change::last_verdict): failing before and after a lookup that
/// failed temporarily is not newly failing, and failing before it and
/// passing after it has recovered. This is what the webhook, the metrics,
/// `check` and `report history` count; `report diff` and the reports'
/// change column compare the two runs as stored.
std::optional<Comparison> compare_with_previous(db::Database& database, const db::RunInfo& run,
                                                std::span<const ChangeKind> keep = {});

/// The JSON document of `rdnsctl report diff --format json` (docs/reports.md).
std::string diff_json(const RunDiff& diff);

/// The terminal form: a section per kind with before → after. Text that
/// came from DNS is escaped so no control byte reaches the terminal.
std::string diff_text(const RunDiff& diff);

}  // namespace rdns::reports
