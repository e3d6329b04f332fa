#pragma once
/// The run history: every audit run and its per-IP results, kept in one
/// SQLite file, or in a PostgreSQL database shared by many machines, so later
/// commands can list, show and compare runs. Every failure leaves as
/// rdns::Error(Errc::database) naming the file (or the URL, without its
/// password).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <util/verdict.hpp>

namespace rdns::db {

namespace detail {
class Storage;
}

/// Whether a --db location names a PostgreSQL database ("postgresql://…" or
/// "postgres://…", libpq's URLs) rather than a SQLite file.
bool is_database_url(std::string_view location);

/// A --db location as it may be shown or stored: a URL's password masked
/// ("postgresql://user:***@host/db"), a file path unchanged.
std::string displayed_location(std::string_view location);

/// One problem or remark about an IP.
struct FindingRecord {
  std::string code;
  Severity severity = Severity::info;
  std::string detail;

  bool operator==(const FindingRecord&) const = default;
};

/// A PTR name and the addresses (of the audited IP's family) it resolved to.
struct ForwardRecord {
  std::string name;
  std::vector<std::string> addresses;

  bool operator==(const ForwardRecord&) const = default;
};

/// Where an audited IP came from: a domain's MX host or SPF record.
struct SourceRecord {
  std::string domain;
  std::string via;       ///< "MX mx1.example.com", "SPF ip4:192.0.2.0/28", ...
  std::string expected;  ///< the host name the IP serves, when known

  bool operator==(const SourceRecord&) const = default;
};

/// A problem or remark about a domain (its MX or SPF), not about one IP.
struct DomainFindingRecord {
  std::string domain;
  std::string code;
  Severity severity = Severity::info;
  std::string detail;

  bool operator==(const DomainFindingRecord&) const = default;
};

/// What the SMTP server at an address said (`--smtp`). Names are display-safe
/// text: the bytes the server sent, escaped.
struct SmtpRecord {
  bool greeted = false;       ///< a 220 greeting arrived
  std::string greeting_name;  ///< the first word after "220"
  std::string ehlo_name;      ///< the first word of the EHLO reply
  std::string failure;        ///< why the conversation stopped early

  bool operator==(const SmtpRecord&) const = default;
};

/// Everything stored about one audited IP.
struct ResultRecord {
  std::string ip;      ///< stored and returned in canonical inet_ntop form
  std::string family;  ///< ipv4|ipv6, must match ip
  Status status = Status::unknown;
  std::vector<std::string> ptr;  ///< PTR names, already escaped presentation text
  std::vector<ForwardRecord> forward;
  std::vector<FindingRecord> findings;
  std::vector<SourceRecord> sources;  ///< empty for IPs given directly
  std::optional<SmtpRecord> smtp;     ///< none when SMTP was not checked (or before schema 7)

  bool operator==(const ResultRecord&) const = default;
};

/// A result's list fields as JSON text (db/result_json.hpp encodes them).
struct ResultJson {
  std::string ptr;                  ///< ["name", ...]
  std::string forward;              ///< [{"name", "addresses"}, ...]
  std::string sources;              ///< [{"domain", "via", "expected"}, ...]
  std::string findings;             ///< [{"code", "severity", "detail"}, ...]
  std::optional<std::string> smtp;  ///< {"greeted", ...}; none when SMTP was not checked
};

enum class RunState { running, complete, interrupted, failed };

std::string_view to_string(RunState state);

/// How many IPs a run audited, by status.
struct RunCounts {
  std::int64_t total = 0;
  std::int64_t pass = 0;
  std::int64_t warn = 0;
  std::int64_t fail = 0;
  std::int64_t unknown = 0;

  /// Counts one more IP with this status.
  void add(Status status);
  /// How many IPs have this status.
  std::int64_t of(Status status) const;

  bool operator==(const RunCounts&) const = default;
};

/// An inclusive range of addresses of one family, as canonical text.
struct AddressRange {
  std::string first;
  std::string last;

  bool operator==(const AddressRange&) const = default;
};

/// Which part of a sharded audit a run covered: shard `index` (1-based) of
/// `count` (`audit --shard K/N`).
struct RunShard {
  std::int64_t index = 1;
  std::int64_t count = 1;

  bool operator==(const RunShard&) const = default;
};

/// One run as listed in the history.
struct RunInfo {
  std::int64_t id = 0;
  std::string started_at;   ///< UTC, ISO 8601 with 'Z'
  std::string finished_at;  ///< empty while running
  RunState state = RunState::running;
  std::string command;  ///< e.g. "audit"
  std::string arguments_json;
  std::vector<std::string> resolvers;
  std::string tool_version;
  RunCounts counts;
  std::string inventory;          ///< the named inventory audited; empty for an ad-hoc run
  std::string identity;           ///< runs compare only with runs of the same identity
  std::string checks;             ///< the checks that ran: "dns" or "dns,smtp"
  std::optional<RunShard> shard;  ///< none for a whole audit
  /// A logical run's name (`audit --run-name`): its shards share this run.
  /// Empty for every other run.
  std::string name;
  std::int64_t parts = 0;           ///< a named run's number of shards, N (0: not named)
  std::int64_t parts_complete = 0;  ///< how many of them are complete

  bool ran_smtp() const { return checks.find("smtp") != std::string::npos; }
};

/// What a new run is: see RunInfo. An empty identity gets one of the run's
/// own, so the run is compared with nothing.
struct RunLabel {
  std::string inventory;
  std::string identity;
  std::string checks = "dns";
};

/// One shard's progress in a named run (`audit --run-name NAME --shard K/N`).
struct ShardProgress {
  std::int64_t index = 1;  ///< K, 1-based
  std::int64_t count = 1;  ///< N
  RunState state = RunState::running;
  std::string started_at;   ///< its first attempt's start
  std::string finished_at;  ///< its latest attempt's end; empty while running
  RunCounts counts;         ///< the shard's stored results, when it last ended
  std::int64_t attempts = 1;

  bool operator==(const ShardProgress&) const = default;
};

/// What a shard found when it joined its named run.
struct ShardJoin {
  std::int64_t run_id = 0;
  bool created = false;           ///< this shard created the run
  bool already_complete = false;  ///< the shard is complete: nothing to audit
  std::int64_t attempts = 1;      ///< 2 and more: the shard is re-run, it resumes
};

/// What the end of a shard did to its named run.
struct ShardEnd {
  bool run_complete = false;     ///< this shard completed the run (only one shard does)
  std::int64_t shards_left = 0;  ///< shards not complete yet
};

/// Which runs list_runs returns; empty fields do not filter.
struct RunFilter {
  std::string inventory;
  std::string identity;
  std::int64_t up_to_id = 0;   ///< only runs with an id up to this one (0: all)
  bool finished_only = false;  ///< leave out runs still running
};

/// Which runs prune() removes. A run is removed when it is neither among the
/// newest `keep_runs` runs of its identity nor begun within the last
/// `keep_days` days (only the rules that are set count; at least one must be).
/// A running run is never removed.
struct PrunePolicy {
  std::optional<std::int64_t> keep_runs;  ///< at least 1 when set
  std::optional<std::int64_t> keep_days;  ///< 0 to kMaxPruneDays when set
  std::string inventory;                  ///< only this inventory's runs; empty: every run
  bool dry_run = false;                   ///< report what would go, change nothing
};

/// The largest PrunePolicy::keep_days, a hundred years: the cut-off date
/// must stay within the years SQLite's date functions handle.
inline constexpr std::int64_t kMaxPruneDays = 36500;

/// What prune() removed (or, for a dry run, would remove).
struct PruneOutcome {
  std::vector<std::int64_t> removed;  ///< run ids, ascending
  std::uintmax_t bytes_before = 0;    ///< database file size (main file + WAL)
  std::uintmax_t bytes_after = 0;
};

/// One stored result of an address and the run that produced it.
struct AddressResult {
  RunInfo run;
  ResultRecord result;
};

/// An open run-history database. Not thread-safe: use one per thread. A
/// moved-from Database may only be destroyed or assigned to.
///
/// open() and open_read_only() take a file path, or a PostgreSQL URL
/// (is_database_url): libpq's conventions apply to it (PG* environment
/// variables, ~/.pgpass, sslmode=… in the URL), and the URL's password never
/// appears in an error or in path(). The PostgreSQL schema is the same, from
/// the same migrations; its schema version lives in the table rdnsctl_schema.
class Database {
 public:
  /// Opens or creates the database at path (parent directories created). An
  /// absent or zero-length file, or an empty SQLite file of no application,
  /// becomes a fresh database. Refuses, without modifying the file in any way,
  /// a file that is not SQLite, belongs to another application, has a newer
  /// schema than this binary supports, or fails PRAGMA quick_check.
  static Database open(const std::filesystem::path& path);

  /// Opens an existing database for reading only: no migration, no file
  /// created or changed, nothing written next to it, so a user who may read
  /// the file but not write its directory can use it. Writing through it
  /// fails with Errc::database. Refuses (Errc::usage) a path with no
  /// database, and (Errc::database) a schema older or newer than this binary's.
  static Database open_read_only(const std::filesystem::path& path);

  /// The schema version this binary creates and migrates to.
  static std::int64_t latest_schema_version();

  /// The SQLite library in use, e.g. "3.40.1".
  static std::string sqlite_version();

  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Records a new run in state running and returns its id. arguments_json
  /// must be valid JSON.
  std::int64_t begin_run(std::string_view command, std::string_view arguments_json,
                         const std::vector<std::string>& resolvers, std::string_view tool_version,
                         const RunLabel& label = {},
                         const std::optional<RunShard>& shard = std::nullopt);

  /// Joins shard `shard` to the named run `name`, creating the run (state
  /// running, shard_count N, the given arguments and label) when no run has
  /// that name yet, atomically even against other processes joining at once.
  /// `accept` sees the existing run's record first, inside the transaction,
  /// and throws to refuse joining it (nothing is then changed). A shard seen
  /// before and not complete counts one more attempt; a complete one is
  /// reported as such. Refuses (Errc::usage) a shard whose N differs from the
  /// run's.
  ShardJoin join_named_run(std::string_view name, std::string_view command,
                           std::string_view arguments_json,
                           const std::vector<std::string>& resolvers, std::string_view tool_version,
                           const RunLabel& label, const RunShard& shard,
                           const std::function<void(const RunInfo& existing)>& accept);

  /// Ends one attempt of a named run's shard with its counts. When that
  /// makes every shard complete, the run becomes complete with the summed
  /// counts in the same transaction (the run's row is locked, so of two
  /// shards ending at once exactly one completes it).
  ShardEnd finish_shard(std::int64_t run_id, std::int64_t shard_index, RunState state,
                        const RunCounts& counts);

  /// A named run's shards, by index (empty for any other run).
  std::vector<ShardProgress> run_shards(std::int64_t run_id);

  /// Stores results of a running run in one transaction: all or none. An IP
  /// may appear once per run: SQLite refuses a second result for it;
  /// PostgreSQL keeps the first (a batch that collides is merged from a
  /// staging table, so a re-run shard's batch adds only what is missing).
  /// PostgreSQL returns while the server still stores the batch: it is
  /// committed before the next call other than add_results on this
  /// Database (or the one after next add_results), which reports its
  /// failure if it failed.
  void add_results(std::int64_t run_id, std::span<const ResultRecord> results);
  /// The same with each result's lists encoded already (lists[i] is
  /// result_json(results[i])), for a caller that printed them too.
  void add_results(std::int64_t run_id, std::span<const ResultRecord> results,
                   std::span<const ResultJson> lists);

  /// Ends a run: state must not be running.
  void finish_run(std::int64_t run_id, RunState state, const RunCounts& counts);

  /// The newest runs first, at most limit of them, those `filter` lets through.
  std::vector<RunInfo> list_runs(std::size_t limit, const RunFilter& filter = {});

  /// The run `run_id` is compared with: the newest complete run begun before
  /// it with the same identity; none for the first of its identity.
  std::optional<RunInfo> previous_comparable_run(std::int64_t run_id);

  std::optional<RunInfo> find_run(std::int64_t run_id);

  /// The most recently begun run, whatever its state.
  std::optional<std::int64_t> latest_run_id();

  /// A run's results (none for an unknown run): IPv4 before IPv6, each in
  /// numeric address order, with findings in the order they were added.
  /// Statuses and severities are stored as their names (util/verdict.hpp);
  /// any other stored text is damage (Errc::database naming the file and
  /// the text), here and in every reader below.
  std::vector<ResultRecord> results(std::int64_t run_id);

  /// Calls visit for each of a run's results in the order results() returns
  /// them, one row in memory at a time: a run of a million addresses is read
  /// back without holding it. visit must not use this Database.
  void visit_results(std::int64_t run_id, const std::function<void(const ResultRecord&)>& visit);

  /// Two runs' results merged in one pass, in the order results() returns
  /// them: visit is called once per address either run audited, with
  /// from_run's record as `before` and to_run's as `after`, a null pointer
  /// where a run has none. One row of each run is in memory at a time, so
  /// comparing two runs of a million addresses holds neither. visit must not
  /// use this Database.
  void visit_result_pairs(
      std::int64_t from_run, std::int64_t to_run,
      const std::function<void(const ResultRecord* before, const ResultRecord* after)>& visit);

  /// One address's results across runs, newest run first, at most limit of
  /// them; only runs of `inventory` when it is not empty. Runs in every state
  /// are included (a running or interrupted run's result is still what was
  /// seen): RunInfo::state tells them apart. `ip` must be in the canonical
  /// form results are stored in (inet_ntop's: "2001:db8::1").
  std::vector<AddressResult> address_results(const std::string& ip, std::size_t limit,
                                             const std::string& inventory = {});

  /// Calls visit(run_id, ip, status) for every result of the given runs, in
  /// one query: what the report's recent states need, without reading PTR
  /// names, forward results and findings into memory.
  void visit_statuses(
      std::span<const std::int64_t> run_ids,
      const std::function<void(std::int64_t run_id, const std::string& ip, Status status)>& visit);

  /// Records the ranges a running run audits (in one transaction).
  void store_targets(std::int64_t run_id, std::span<const AddressRange> ranges);
  /// The ranges stored for a run, in the order they were stored.
  std::vector<AddressRange> targets(std::int64_t run_id);
  /// Canonical addresses a run has results for: IPv4 first, numeric order.
  std::vector<std::string> result_addresses(std::int64_t run_id);
  /// The same addresses, one at a time (visit must not use this Database).
  void visit_result_addresses(std::int64_t run_id,
                              const std::function<void(const std::string& ip)>& visit);
  /// Counts a run's stored results by status.
  RunCounts count_results(std::int64_t run_id);
  /// Puts an interrupted, failed or still-running (killed) run back to
  /// running so more results can be added; refuses a complete run.
  void reopen_run(std::int64_t run_id);

  /// Stores findings about the domains a run expanded (one transaction).
  void add_domain_findings(std::int64_t run_id, std::span<const DomainFindingRecord> findings);
  std::vector<DomainFindingRecord> domain_findings(std::int64_t run_id);

  /// Removes the runs `policy` selects, with their results, targets and
  /// findings, in one transaction, then returns the freed pages to the file
  /// system (a database from before incremental auto-vacuum is rebuilt once
  /// with VACUUM) and empties the WAL. Refuses (Errc::usage) a policy with
  /// no rule or a rule out of range, and (Errc::database) a database opened
  /// read-only unless it is a dry run. Callers hold the database's lock, so
  /// no audit is writing runs meanwhile.
  PruneOutcome prune(const PrunePolicy& policy);

  std::int64_t schema_version() const;

  /// The file, or the PostgreSQL URL with its password masked.
  const std::filesystem::path& path() const;

 private:
  explicit Database(std::unique_ptr<detail::Storage> storage);
  std::unique_ptr<detail::Storage> storage_;
};

}  // namespace rdns::db
