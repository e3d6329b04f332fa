#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/verdict.hpp>

#include "codec.hpp"
#include "migrations.hpp"
#include "pg_connection.hpp"
#include "storage.hpp"

namespace rdns::db {
namespace {

namespace fs = std::filesystem;
using detail::kResultColumns;
using detail::kRunColumns;
using detail::pg_int;
using detail::pg_null;
using detail::pg_text;
using detail::PgConnection;
using detail::PgParam;
using detail::PgTransaction;

/// Where the schema version lives: PostgreSQL has no PRAGMA user_version.
/// One row: the application id (kApplicationId, as SQLite's application_id
/// says whose a file is) and how many of kMigrations the database has had.
constexpr std::string_view kSchemaTable = "rdnsctl_schema";

using detail::kNow;

// Migrations whose SQLite text has no mechanical translation. 2: SQLite
// keeps run_targets in insertion order by its implicit rowid, which
// PostgreSQL has not; the column `position` stands in for it. 4: it
// rebuilds findings with SQLite's JSON functions (PostgreSQL's json_agg
// does the same for a database migrated from an older version).
constexpr std::string_view kTargetsMigration = R"sql(
CREATE TABLE run_targets (
  position BIGSERIAL PRIMARY KEY,
  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  first TEXT NOT NULL,
  last TEXT NOT NULL
);
CREATE INDEX run_targets_by_run ON run_targets (run_id);
)sql";

constexpr std::string_view kFindingsMigration = R"sql(
ALTER TABLE results ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
UPDATE results SET findings = (
  SELECT json_agg(json_build_object('code', code, 'severity', severity, 'detail', detail)
                  ORDER BY f.id)::text
  FROM findings AS f WHERE f.run_id = results.run_id AND f.ip = results.ip)
WHERE EXISTS (SELECT 1 FROM findings AS f WHERE f.run_id = results.run_id AND f.ip = results.ip);
DROP TABLE findings;
DROP INDEX results_by_address;
)sql";

// 10: SQLite's rebuild of results for cheaper CHECKs and without
// results_by_ip. PostgreSQL evaluates its IN lists without the cost, and
// its history query reads results_by_ip, so nothing changes here.
constexpr std::string_view kSqliteResultsRebuild = "DO $$ BEGIN END $$;";

constexpr std::size_t kTargetsMigrationIndex = 1;
constexpr std::size_t kFindingsMigrationIndex = 3;
constexpr std::size_t kSqliteResultsRebuildIndex = 9;

/// Migration `index` (0-based) of kMigrations in PostgreSQL's dialect: the
/// same tables, columns and constraints.
std::string postgres_migration(std::size_t index) {
  if (index == kTargetsMigrationIndex) return std::string(kTargetsMigration);
  if (index == kFindingsMigrationIndex) return std::string(kFindingsMigration);
  if (index == kSqliteResultsRebuildIndex) return std::string(kSqliteResultsRebuild);
  static const std::vector<std::pair<std::regex, std::string>> kRewrites = {
      // Ids never reused, as AUTOINCREMENT promises; a plain INTEGER PRIMARY
      // KEY (a rowid alias) numbers rows the same way.
      {std::regex(R"(\bINTEGER PRIMARY KEY( AUTOINCREMENT)?)"), "BIGSERIAL PRIMARY KEY"},
      {std::regex(R"(\bINTEGER\b)"), "BIGINT"},
      {std::regex(R"(\bBLOB\b)"), "BYTEA"},
      {std::regex(R"(\)\s*WITHOUT ROWID)"), ")"},
  };
  std::string sql(kMigrations.at(index));
  for (const auto& [pattern, replacement] : kRewrites) {
    sql = std::regex_replace(sql, pattern, replacement);
  }
  return sql;
}

/// The runs a policy removes, oldest first (SQLite's kPrunableRuns).
constexpr std::string_view kPrunableRuns = R"sql(
SELECT id FROM (
  SELECT id, state, inventory, started_at,
         row_number() OVER (PARTITION BY identity ORDER BY id DESC) AS newest
  FROM runs) AS ranked
WHERE state != 'running'
  AND ($1::text = '' OR inventory = $1::text)
  AND ($2::bigint IS NULL OR newest > $2::bigint)
  AND ($3::bigint IS NULL OR started_at < to_char((now() - make_interval(days => $3::int))
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
ORDER BY id)sql";

/// SQLSTATE unique_violation: a row with the same (run_id, ip) is stored.
constexpr std::string_view kUniqueViolation = "23505";
/// SQLSTATE deadlock_detected: another process's batch held rows this one
/// needed, and the other way round; the server rolled this one back.
constexpr std::string_view kDeadlockDetected = "40P01";

/// The results columns COPY fills, in the order copy_row writes them.
constexpr std::string_view kResultInsertColumns =
    "run_id, ip, family, address, status, ptr, forward, sources, findings, smtp";

PgParam number(std::int64_t value) {
  return std::to_string(value);
}

/// Appends text in COPY's text format: backslash, tab, newline and carriage
/// return escaped, everything else as it is.
void append_copy_text(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

/// One results row in COPY's text format (the bytea as \\x hex).
void append_copy_row(std::string& out, std::int64_t run_id, const detail::EncodedResult& row,
                     const ResultJson& lists) {
  constexpr std::string_view kHex = "0123456789abcdef";
  out += std::to_string(run_id);
  out += '\t';
  out += row.address.canonical;
  out += '\t';
  out += row.address.family;
  out += "\t\\\\x";
  for (int i = 0; i < row.address.size; ++i) {
    const auto byte = row.address.bytes[static_cast<std::size_t>(i)];
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  for (const std::string* column :
       {&row.status, &lists.ptr, &lists.forward, &lists.sources, &lists.findings}) {
    out += '\t';
    append_copy_text(out, *column);
  }
  out += '\t';
  if (lists.smtp) {
    append_copy_text(out, *lists.smtp);
  } else {
    out += "\\N";
  }
  out += '\n';
}

detail::StoredResult stored_result(const PGresult& row, int first) {
  detail::StoredResult stored;
  stored.ip = pg_text(row, 0, first);
  stored.family = pg_text(row, 0, first + 1);
  stored.status = pg_text(row, 0, first + 2);
  stored.ptr = pg_text(row, 0, first + 3);
  stored.forward = pg_text(row, 0, first + 4);
  stored.sources = pg_text(row, 0, first + 5);
  stored.findings = pg_text(row, 0, first + 6);
  if (!pg_null(row, 0, first + 7)) stored.smtp = pg_text(row, 0, first + 7);
  return stored;
}

detail::StoredRun stored_run(const PGresult& rows, int row) {
  detail::StoredRun stored;
  stored.id = pg_int(rows, row, 0);
  stored.started_at = pg_text(rows, row, 1);
  stored.finished_at = pg_text(rows, row, 2);  // NULL reads as ""
  stored.state = pg_text(rows, row, 3);
  stored.command = pg_text(rows, row, 4);
  stored.arguments = pg_text(rows, row, 5);
  stored.resolvers = pg_text(rows, row, 6);
  stored.tool_version = pg_text(rows, row, 7);
  stored.counts.total = pg_int(rows, row, 8);
  stored.counts.pass = pg_int(rows, row, 9);
  stored.counts.warn = pg_int(rows, row, 10);
  stored.counts.fail = pg_int(rows, row, 11);
  stored.counts.unknown = pg_int(rows, row, 12);
  stored.inventory = pg_text(rows, row, 13);
  stored.identity = pg_text(rows, row, 14);
  stored.checks = pg_text(rows, row, 15);
  if (!pg_null(rows, row, 16)) {
    stored.shard = RunShard{pg_int(rows, row, 16), pg_int(rows, row, 17)};
  } else if (!pg_null(rows, row, 18)) {
    stored.parts = pg_int(rows, row, 17);
  }
  stored.name = pg_text(rows, row, 18);  // NULL reads as ""
  stored.parts_complete = pg_int(rows, row, 19);
  return stored;
}

/// A batch whose rows the server may still be storing.
struct InFlightBatch {
  std::int64_t run_id = 0;
  std::string rows;  ///< kept for the staging merge, should the COPY collide
  std::unordered_set<std::string> addresses;
};

/// One session that stores batches, and its batch in flight.
struct WriterLane {
  PgConnection* session = nullptr;
  std::optional<InFlightBatch> batch;
  std::optional<PgTransaction> transaction;
};

/// db::Database over a PostgreSQL database.
class PostgresStorage final : public detail::Storage {
 public:
  PostgresStorage(const std::string& url, bool read_only)
      : connection_(url),
        name_(connection_.name()),
        decoder_(connection_.name()),
        read_only_(read_only),
        url_(url) {
    connection_.exec("SET client_min_messages = warning", "configuring the session");
    if (read_only_) {
      version_ = check_readable();
      connection_.exec("SET default_transaction_read_only = on", "configuring the session");
    } else {
      version_ = migrate();
    }
  }

  // The batch in flight is committed here at the latest. Callers read or
  // finish the run after writing, which settles it and reports its errors;
  // an error here (nothing left to report it to) leaves the batch to be
  // audited again when the run is resumed.
  ~PostgresStorage() override {
    try {
      settle_all();
    } catch (const Error&) {  // NOLINT(bugprone-empty-catch)
    }
  }
  PostgresStorage(const PostgresStorage&) = delete;
  PostgresStorage& operator=(const PostgresStorage&) = delete;

  std::int64_t begin_run(std::string_view command, std::string_view arguments_json,
                         const std::vector<std::string>& resolvers, std::string_view tool_version,
                         const RunLabel& label, const std::optional<RunShard>& shard) override {
    PgTransaction transaction(connection_);
    const auto inserted = connection_.query(
        fmt::format("INSERT INTO runs (command, started_at, state, arguments, resolvers, "
                    "tool_version, inventory, identity, checks, shard_index, shard_count) "
                    "VALUES ($1, {}, 'running', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    kNow),
        {std::string(command), std::string(arguments_json), detail::resolvers_json(resolvers),
         std::string(tool_version), label.inventory, label.identity, label.checks,
         shard ? number(shard->index) : std::nullopt, shard ? number(shard->count) : std::nullopt},
        "beginning a run");
    const std::int64_t id = pg_int(*inserted, 0, 0);
    if (label.identity.empty()) {
      connection_.query("UPDATE runs SET identity = 'run:' || id WHERE id = $1", {number(id)},
                        "beginning a run");
    }
    transaction.commit();
    return id;
  }

  ShardJoin join_named_run(std::string_view name, std::string_view command,
                           std::string_view arguments_json,
                           const std::vector<std::string>& resolvers, std::string_view tool_version,
                           const RunLabel& label, const RunShard& shard,
                           const std::function<void(const RunInfo&)>& accept) override {
    PgTransaction transaction(connection_);
    ShardJoin joined;
    // The unique index on the name makes a second INSERT wait for the first
    // and then do nothing: of shards starting at once, exactly one creates
    // the run. The others lock the row it made.
    const auto inserted = connection_.query(
        fmt::format("INSERT INTO runs (command, started_at, state, arguments, resolvers, "
                    "tool_version, inventory, identity, checks, shard_count, name) "
                    "VALUES ($1, {}, 'running', $2, $3, $4, $5, $6, $7, $8, $9) "
                    "ON CONFLICT (name) WHERE name IS NOT NULL DO NOTHING RETURNING id",
                    kNow),
        {std::string(command), std::string(arguments_json), detail::resolvers_json(resolvers),
         std::string(tool_version), label.inventory, label.identity, label.checks,
         number(shard.count), std::string(name)},
        "beginning a named run");
    if (PQntuples(inserted.get()) == 1) {
      joined.run_id = pg_int(*inserted, 0, 0);
      joined.created = true;
      if (label.identity.empty()) {
        connection_.query("UPDATE runs SET identity = 'run:' || id WHERE id = $1",
                          {number(joined.run_id)}, "beginning a named run");
      }
    } else {
      std::vector<RunInfo> found =
          runs(fmt::format("SELECT {} FROM runs WHERE name = $1::text FOR UPDATE", kRunColumns),
               {std::string(name)}, "finding a named run");
      if (found.empty()) {
        throw Error(Errc::internal,
                    fmt::format("database {}: run '{}' vanished while joining it",
                                escape_text(connection_.name()), escape_text(name)));
      }
      const RunInfo& existing = found.front();
      if (existing.parts != shard.count) {
        throw detail::different_shard_count(name, existing.id, existing.parts, shard);
      }
      accept(existing);
      joined.run_id = existing.id;
    }
    const auto shard_row = connection_.query(
        fmt::format("INSERT INTO run_shards (run_id, shard_index, shard_count, state, started_at) "
                    "VALUES ($1, $2, $3, 'running', {}) ON CONFLICT (run_id, shard_index) DO "
                    "UPDATE SET state = 'running', finished_at = NULL, attempts = "
                    "run_shards.attempts + 1 WHERE run_shards.state != 'complete' "
                    "RETURNING attempts",
                    kNow),
        {number(joined.run_id), number(shard.index), number(shard.count)}, "joining a shard");
    // No row returned: the shard exists and is complete.
    joined.already_complete = PQntuples(shard_row.get()) == 0;
    if (!joined.already_complete) joined.attempts = pg_int(*shard_row, 0, 0);
    transaction.commit();
    return joined;
  }

  ShardEnd finish_shard(std::int64_t run_id, std::int64_t shard_index, RunState state,
                        const RunCounts& counts) override {
    PgTransaction transaction(connection_);
    // The run's row locked first: of two shards ending at once, the second
    // waits here and then sees the first one's state.
    connection_.query("SELECT id FROM runs WHERE id = $1::bigint FOR UPDATE", {number(run_id)},
                      "ending a shard");
    const auto updated = connection_.query(
        fmt::format("UPDATE run_shards SET state = $1, finished_at = {}, count_total = $2, "
                    "count_pass = $3, count_warn = $4, count_fail = $5, count_unknown = $6 "
                    "WHERE run_id = $7::bigint AND shard_index = $8::bigint",
                    kNow),
        {std::string(to_string(state)), number(counts.total), number(counts.pass),
         number(counts.warn), number(counts.fail), number(counts.unknown), number(run_id),
         number(shard_index)},
        "ending a shard");
    if (affected(*updated) == 0) {
      throw Error(Errc::internal,
                  fmt::format("database {}: run {} has no shard {}",
                              escape_text(connection_.name()), run_id, shard_index));
    }
    const auto sums = connection_.query(
        "SELECT runs.shard_count - count(s.shard_index), coalesce(sum(s.count_total), 0), "
        "coalesce(sum(s.count_pass), 0), coalesce(sum(s.count_warn), 0), "
        "coalesce(sum(s.count_fail), 0), coalesce(sum(s.count_unknown), 0) FROM runs LEFT JOIN "
        "run_shards AS s ON s.run_id = runs.id AND s.state = 'complete' WHERE runs.id = "
        "$1::bigint GROUP BY runs.shard_count",
        {number(run_id)}, "ending a shard");
    ShardEnd end;
    end.shards_left = pg_int(*sums, 0, 0);
    if (end.shards_left == 0) {
      finish_run(run_id, RunState::complete,
                 RunCounts{pg_int(*sums, 0, 1), pg_int(*sums, 0, 2), pg_int(*sums, 0, 3),
                           pg_int(*sums, 0, 4), pg_int(*sums, 0, 5)});
      end.run_complete = true;
    }
    transaction.commit();
    return end;
  }

  std::vector<ShardProgress> run_shards(std::int64_t run_id) override {
    const auto rows = connection_.query(
        fmt::format("SELECT {} FROM run_shards WHERE run_id = $1::bigint ORDER BY shard_index",
                    detail::kShardColumns),
        {number(run_id)}, "reading a run's shards");
    std::vector<ShardProgress> shards;
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      detail::StoredShard stored;
      stored.index = pg_int(*rows, row, 0);
      stored.count = pg_int(*rows, row, 1);
      stored.state = pg_text(*rows, row, 2);
      stored.started_at = pg_text(*rows, row, 3);
      stored.finished_at = pg_text(*rows, row, 4);
      stored.counts = RunCounts{pg_int(*rows, row, 5), pg_int(*rows, row, 6), pg_int(*rows, row, 7),
                                pg_int(*rows, row, 8), pg_int(*rows, row, 9)};
      stored.attempts = pg_int(*rows, row, 10);
      shards.push_back(decoder_.shard(std::move(stored), run_id));
    }
    return shards;
  }

  // Most batches go straight into results with COPY: the cheapest way in.
  // The rows are sent and add_results returns while the server stores them,
  // so the next batch is encoded meanwhile, and two sessions take turns,
  // so the server stores two batches at once (on two cores). A batch is
  // committed before its session sends the next one, and every batch before
  // any other command (finish_run, any read), which is also where its
  // failure is reported. A batch that
  // collides with stored rows (re-sent after a lost commit, or a re-run
  // shard repeating addresses it already stored) makes its COPY fail with
  // a unique violation; the batch is one transaction, so nothing of it
  // stays, and it goes again through the staging merge, which keeps the
  // stored rows and adds only the new ones.
  void add_results(std::int64_t run_id, std::span<const ResultRecord> results,
                   std::span<const ResultJson> lists) override {
    std::string rows;
    rows.reserve(results.size() * kTypicalRowBytes);
    std::unordered_set<std::string> addresses;
    addresses.reserve(results.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
      const detail::EncodedResult encoded = detail::encode_result(results[i]);
      addresses.insert(encoded.address.canonical);
      append_copy_row(rows, run_id, encoded, lists[i]);
    }
    send_batch(InFlightBatch{run_id, std::move(rows), std::move(addresses)});
  }

  void finish_run(std::int64_t run_id, RunState state, const RunCounts& counts) override {
    const auto updated = connection_.query(
        fmt::format("UPDATE runs SET finished_at = {}, state = $1, count_total = $2, "
                    "count_pass = $3, count_warn = $4, count_fail = $5, count_unknown = $6 "
                    "WHERE id = $7 AND state = 'running'",
                    kNow),
        {std::string(to_string(state)), number(counts.total), number(counts.pass),
         number(counts.warn), number(counts.fail), number(counts.unknown), number(run_id)},
        "finishing a run");
    if (affected(*updated) == 0) {
      throw Error(Errc::internal,
                  fmt::format("database {}: run {} is not running or does not exist",
                              escape_text(connection_.name()), run_id));
    }
  }

  std::vector<RunInfo> list_runs(std::size_t limit, const RunFilter& filter) override {
    return runs(fmt::format("SELECT {} FROM runs WHERE ($1::text = '' OR inventory = $1::text) "
                            "AND ($2::text = '' OR identity = $2::text) AND ($3::bigint = 0 OR "
                            "id <= $3::bigint) AND ($4::int = 0 OR state != 'running') "
                            "ORDER BY id DESC LIMIT $5::bigint",
                            kRunColumns),
                {filter.inventory, filter.identity, number(filter.up_to_id),
                 number(filter.finished_only ? 1 : 0), number(clamped(limit))},
                "listing runs");
  }

  std::optional<RunInfo> previous_comparable_run(std::int64_t run_id) override {
    return first_run(fmt::format("SELECT {} FROM runs WHERE identity = (SELECT identity FROM runs "
                                 "WHERE id = $1::bigint) AND id < $1::bigint AND state = "
                                 "'complete' ORDER BY id DESC LIMIT 1",
                                 kRunColumns),
                     run_id, "finding the previous run");
  }

  std::optional<RunInfo> find_run(std::int64_t run_id) override {
    return first_run(fmt::format("SELECT {} FROM runs WHERE id = $1::bigint", kRunColumns), run_id,
                     "reading a run");
  }

  std::optional<std::int64_t> latest_run_id() override {
    const auto latest = connection_.query("SELECT max(id) FROM runs", {}, "reading the latest run");
    if (pg_null(*latest, 0, 0)) return std::nullopt;
    return pg_int(*latest, 0, 0);
  }

  void visit_results(std::int64_t run_id,
                     const std::function<void(const ResultRecord&)>& visit) override {
    connection_.stream(fmt::format("SELECT {} FROM results WHERE run_id = $1::bigint "
                                   "ORDER BY family, address",
                                   kResultColumns),
                       {number(run_id)}, "reading results", [&](const PGresult& row) {
                         visit(decoder_.result(stored_result(row, 0), run_id));
                       });
  }

  void visit_result_pairs(
      std::int64_t from_run, std::int64_t to_run,
      const std::function<void(const ResultRecord*, const ResultRecord*)>& visit) override {
    // The server merges both runs (a full join on the address) and sends the
    // rows in address order, one at a time; a side is NULL where its run
    // did not audit the address.
    const auto columns_of = [](std::string_view alias) {
      return std::regex_replace(std::string(kResultColumns), std::regex("results\\."),
                                std::string(alias) + ".");
    };
    const std::string sql = fmt::format(
        "SELECT {}, {} FROM (SELECT * FROM results WHERE run_id = $1::bigint) AS b "
        "FULL JOIN (SELECT * FROM results WHERE run_id = $2::bigint) AS a "
        "ON a.family = b.family AND a.address = b.address "
        "ORDER BY coalesce(b.family, a.family), coalesce(b.address, a.address)",
        columns_of("b"), columns_of("a"));
    constexpr int kAfter = detail::kResultColumnCount;
    connection_.stream(sql, {number(from_run), number(to_run)}, "reading results",
                       [&](const PGresult& row) {
                         std::optional<ResultRecord> before;
                         std::optional<ResultRecord> after;
                         if (!pg_null(row, 0, 0))
                           before = decoder_.result(stored_result(row, 0), from_run);
                         if (!pg_null(row, 0, kAfter))
                           after = decoder_.result(stored_result(row, kAfter), to_run);
                         visit(before ? &*before : nullptr, after ? &*after : nullptr);
                       });
  }

  std::vector<AddressResult> address_results(const std::string& ip, std::size_t limit,
                                             const std::string& inventory) override {
    const auto rows = connection_.query(
        fmt::format("SELECT {}, {} FROM results JOIN runs ON runs.id = results.run_id "
                    "WHERE results.ip = $1::text AND ($2::text = '' OR runs.inventory = $2::text) "
                    "ORDER BY results.run_id DESC LIMIT $3::bigint",
                    kRunColumns, kResultColumns),
        {ip, inventory, number(clamped(limit))}, "reading an address's results");
    std::vector<AddressResult> found;
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      RunInfo run = decoder_.run(stored_run(*rows, row));
      detail::StoredResult stored;
      const int first = detail::kRunColumnCount;
      stored.ip = pg_text(*rows, row, first);
      stored.family = pg_text(*rows, row, first + 1);
      stored.status = pg_text(*rows, row, first + 2);
      stored.ptr = pg_text(*rows, row, first + 3);
      stored.forward = pg_text(*rows, row, first + 4);
      stored.sources = pg_text(*rows, row, first + 5);
      stored.findings = pg_text(*rows, row, first + 6);
      if (!pg_null(*rows, row, first + 7)) stored.smtp = pg_text(*rows, row, first + 7);
      ResultRecord result = decoder_.result(stored, run.id);
      found.push_back({std::move(run), std::move(result)});
    }
    return found;
  }

  void visit_statuses(
      std::span<const std::int64_t> run_ids,
      const std::function<void(std::int64_t, const std::string&, Status)>& visit) override {
    std::string ids = "{";
    for (std::size_t i = 0; i < run_ids.size(); ++i) {
      if (i > 0) ids += ',';
      ids += std::to_string(run_ids[i]);
    }
    ids += '}';
    connection_.stream("SELECT run_id, ip, status FROM results WHERE run_id = ANY($1::bigint[])",
                       {ids}, "reading statuses", [&](const PGresult& row) {
                         const std::int64_t run_id = pg_int(row, 0, 0);
                         const std::string ip = pg_text(row, 0, 1);
                         visit(run_id, ip, decoder_.status(pg_text(row, 0, 2), run_id, ip));
                       });
  }

  void store_targets(std::int64_t run_id, std::span<const AddressRange> ranges) override {
    PgTransaction transaction(connection_);
    require_running(run_id, "storing targets");
    for (const AddressRange& range : ranges) {
      const detail::ParsedAddress first = detail::parse_address(range.first);
      const detail::ParsedAddress last = detail::parse_address(range.last);
      if (first.family != last.family) {
        throw Error(Errc::internal,
                    fmt::format("range {}-{} mixes families", range.first, range.last));
      }
      connection_.query("INSERT INTO run_targets (run_id, first, last) VALUES ($1, $2, $3)",
                        {number(run_id), first.canonical, last.canonical}, "storing targets");
    }
    transaction.commit();
  }

  std::vector<AddressRange> targets(std::int64_t run_id) override {
    const auto rows = connection_.query(
        "SELECT first, last FROM run_targets WHERE run_id = $1::bigint ORDER BY position",
        {number(run_id)}, "reading targets");
    std::vector<AddressRange> ranges;
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      ranges.push_back({pg_text(*rows, row, 0), pg_text(*rows, row, 1)});
    }
    return ranges;
  }

  void visit_result_addresses(std::int64_t run_id,
                              const std::function<void(const std::string&)>& visit) override {
    connection_.stream("SELECT ip FROM results WHERE run_id = $1::bigint ORDER BY family, address",
                       {number(run_id)}, "reading result addresses",
                       [&](const PGresult& row) { visit(pg_text(row, 0, 0)); });
  }

  RunCounts count_results(std::int64_t run_id) override {
    const auto rows = connection_.query(
        "SELECT count(*), count(*) FILTER (WHERE status = 'pass'), "
        "count(*) FILTER (WHERE status = 'warn'), count(*) FILTER (WHERE status = 'fail'), "
        "count(*) FILTER (WHERE status = 'unknown') FROM results WHERE run_id = $1::bigint",
        {number(run_id)}, "counting results");
    RunCounts counts;
    counts.total = pg_int(*rows, 0, 0);
    counts.pass = pg_int(*rows, 0, 1);
    counts.warn = pg_int(*rows, 0, 2);
    counts.fail = pg_int(*rows, 0, 3);
    counts.unknown = pg_int(*rows, 0, 4);
    return counts;
  }

  void reopen_run(std::int64_t run_id) override {
    const auto updated = connection_.query(
        "UPDATE runs SET state = 'running', finished_at = NULL "
        "WHERE id = $1::bigint AND state != 'complete'",
        {number(run_id)}, "reopening a run");
    if (affected(*updated) == 0) {
      throw Error(Errc::usage, fmt::format("run {} in {} is complete or does not exist", run_id,
                                           escape_text(connection_.name())));
    }
  }

  void add_domain_findings(std::int64_t run_id,
                           std::span<const DomainFindingRecord> findings) override {
    PgTransaction transaction(connection_);
    require_running(run_id, "storing domain findings");
    for (const DomainFindingRecord& finding : findings) {
      connection_.query(
          "INSERT INTO domain_findings (run_id, domain, code, severity, detail) "
          "VALUES ($1, $2, $3, $4, $5)",
          {number(run_id), finding.domain, finding.code,
           std::string(severity_name(finding.severity)), finding.detail},
          "storing domain findings");
    }
    transaction.commit();
  }

  std::vector<DomainFindingRecord> domain_findings(std::int64_t run_id) override {
    const auto rows = connection_.query(
        "SELECT domain, code, severity, detail FROM domain_findings WHERE run_id = $1::bigint "
        "ORDER BY id",
        {number(run_id)}, "reading domain findings");
    std::vector<DomainFindingRecord> findings;
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      DomainFindingRecord finding;
      finding.domain = pg_text(*rows, row, 0);
      finding.code = pg_text(*rows, row, 1);
      finding.severity = decoder_.domain_severity(pg_text(*rows, row, 2), run_id, finding.domain);
      finding.detail = pg_text(*rows, row, 3);
      findings.push_back(std::move(finding));
    }
    return findings;
  }

  /// Removes the runs in one transaction. The space returns to PostgreSQL's
  /// free space map through autovacuum, not to the file system: the sizes
  /// reported are the database's (pg_database_size) before and after.
  PruneOutcome prune(const PrunePolicy& policy) override {
    if (read_only_ && !policy.dry_run) {
      throw Error(Errc::database, fmt::format("database {} is open read-only: cannot prune runs "
                                              "from it",
                                              escape_text(connection_.name())));
    }
    PruneOutcome outcome;
    outcome.bytes_before = database_bytes();
    PgTransaction transaction(connection_);
    outcome.removed = prunable_runs(policy);
    if (!policy.dry_run) {
      for (const std::int64_t id : outcome.removed) {
        connection_.query("DELETE FROM runs WHERE id = $1::bigint", {number(id)}, "pruning runs");
      }
    }
    transaction.commit();
    outcome.bytes_after = policy.dry_run ? outcome.bytes_before : database_bytes();
    return outcome;
  }

  std::int64_t schema_version() const override { return version_; }
  const fs::path& path() const override { return name_; }

 private:
  /// About what one encoded result takes in COPY's text format.
  static constexpr std::size_t kTypicalRowBytes = 256;

  static std::int64_t clamped(std::size_t limit) {
    constexpr auto kMaxLimit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(std::min(limit, kMaxLimit));
  }

  static std::int64_t affected(const PGresult& result) {
    return std::strtoll(PQcmdTuples(const_cast<PGresult*>(&result)), nullptr, 10);
  }

  std::vector<RunInfo> runs(const std::string& sql, const std::vector<PgParam>& params,
                            std::string_view action) {
    const auto rows = connection_.query(sql, params, action);
    std::vector<RunInfo> found;
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      found.push_back(decoder_.run(stored_run(*rows, row)));
    }
    return found;
  }

  std::optional<RunInfo> first_run(const std::string& sql, std::int64_t run_id,
                                   std::string_view action) {
    std::vector<RunInfo> found = runs(sql, {number(run_id)}, action);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }

  /// Starts storing results in the open transaction on `session`: the run
  /// must be running, and stays so until the transaction ends.
  void begin_storing(PgConnection& session, std::int64_t run_id) {
    // As durable as the SQLite file's synchronous=NORMAL: a committed batch
    // survives rdnsctl crashing (those in flight do not); a server crash
    // may lose the last moments of batches. A resumed run audits what is
    // missing again, and never stores an address twice. Waiting for the
    // flush of every batch would halve the rate.
    session.exec("SET LOCAL synchronous_commit = off", "storing results");
    require_running(session, run_id, "storing results");
  }

  /// Sends the batch on the lane whose turn it is, once that lane's
  /// previous batch is settled; the main connection settles every lane
  /// before its next command.
  void send_batch(InFlightBatch batch) {
    // Work on the main connection's lane must not settle the other lane.
    connection_.before_next_command(nullptr);
    WriterLane& lane = writer_lane(next_lane_);
    try {
      settle(lane);
      // Two batches in flight with an address in common would wait on each
      // other's uncommitted rows while rdnsctl waits on the older one: the
      // other lane goes first then. Never the case in an audit, whose
      // batches hold distinct addresses.
      if (overlaps_other_lane(batch)) settle_all();
      lane.transaction.emplace(*lane.session);
      begin_storing(*lane.session, batch.run_id);
      lane.session->send_copy(fmt::format("COPY results ({}) FROM STDIN", kResultInsertColumns),
                              batch.rows, "storing results");
    } catch (...) {
      lane.transaction.reset();  // rolls back
      arm_settling();            // the other lane may still be in flight
      throw;
    }
    lane.batch = std::move(batch);
    next_lane_ = 1 - next_lane_;
    arm_settling();
  }

  bool overlaps_other_lane(const InFlightBatch& batch) const {
    const std::optional<InFlightBatch>& other = lanes_[1 - next_lane_].batch;
    if (!other) return false;
    return std::any_of(batch.addresses.begin(), batch.addresses.end(),
                       [&](const std::string& ip) { return other->addresses.contains(ip); });
  }

  void arm_settling() {
    connection_.before_next_command([this] { settle_all(); });
  }

  /// Settles both lanes, the older batch first: a batch that collides with
  /// the other one's rows waits on the server for the other one's commit.
  void settle_all() {
    connection_.before_next_command(nullptr);
    std::exception_ptr first_error;
    for (const std::size_t index : {next_lane_, 1 - next_lane_}) {
      try {
        settle(lanes_[index]);
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
  }

  /// Commits the lane's batch in flight, or merges it when its COPY collided.
  void settle(WriterLane& lane) {
    if (!lane.batch) return;
    const InFlightBatch batch = std::move(*lane.batch);
    lane.batch.reset();
    bool stored = false;
    try {
      stored = lane.session->finish_copy({kUniqueViolation, kDeadlockDetected}, "storing results");
      if (stored) lane.transaction->commit();
    } catch (...) {
      lane.transaction.reset();  // rolls back
      throw;
    }
    lane.transaction.reset();  // committed, or rolls the refused COPY back
    if (!stored) merge_through_staging(*lane.session, batch.run_id, batch.rows);
  }

  /// Lane 0 writes on the main connection, lane 1 on a second session,
  /// connected when first needed.
  WriterLane& writer_lane(std::size_t index) {
    WriterLane& lane = lanes_[index];
    if (lane.session != nullptr) return lane;
    if (index == 0) {
      lane.session = &connection_;
    } else {
      second_session_ = std::make_unique<PgConnection>(url_);
      second_session_->exec("SET client_min_messages = warning", "configuring the session");
      lane.session = second_session_.get();
    }
    return lane;
  }

  /// COPY into a staging table, then only the rows results lacks.
  void merge_through_staging(PgConnection& session, std::int64_t run_id, std::string_view rows) {
    PgTransaction transaction(session);
    begin_storing(session, run_id);
    // Per session, emptied at each commit: concurrent writers (shards)
    // never see each other's rows.
    session.exec(
        "CREATE TEMPORARY TABLE IF NOT EXISTS results_staging "
        "(LIKE results INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
        "storing results");
    session.copy_in(fmt::format("COPY results_staging ({}) FROM STDIN", kResultInsertColumns), rows,
                    "storing results");
    // ON CONFLICT: a shard re-run after a crash merges only the results the
    // database does not have yet, so no address is ever stored twice.
    session.exec(fmt::format("INSERT INTO results ({0}) SELECT {0} FROM results_staging "
                             "ON CONFLICT (run_id, ip) DO NOTHING",
                             kResultInsertColumns),
                 "storing results");
    transaction.commit();
  }

  /// Throws unless run_id names a run that is still running; the row stays
  /// locked against finishing until the transaction ends.
  void require_running(std::int64_t run_id, std::string_view action) {
    require_running(connection_, run_id, action);
  }

  void require_running(PgConnection& session, std::int64_t run_id, std::string_view action) {
    const auto rows = session.query("SELECT state FROM runs WHERE id = $1::bigint FOR SHARE",
                                    {number(run_id)}, action);
    if (PQntuples(rows.get()) == 0) {
      throw Error(Errc::internal, fmt::format("database {}: run {} does not exist",
                                              escape_text(connection_.name()), run_id));
    }
    const std::string state = pg_text(*rows, 0, 0);
    if (state != to_string(RunState::running)) {
      throw Error(Errc::internal, fmt::format("database {}: run {} is {}, not running",
                                              escape_text(connection_.name()), run_id, state));
    }
  }

  std::vector<std::int64_t> prunable_runs(const PrunePolicy& policy) {
    const auto rows = connection_.query(
        kPrunableRuns,
        {policy.inventory, policy.keep_runs ? number(*policy.keep_runs) : std::nullopt,
         policy.keep_days ? number(*policy.keep_days) : std::nullopt},
        "finding runs to prune");
    std::vector<std::int64_t> ids;
    for (int row = 0; row < PQntuples(rows.get()); ++row) ids.push_back(pg_int(*rows, row, 0));
    return ids;
  }

  std::uintmax_t database_bytes() {
    const auto rows = connection_.query("SELECT pg_database_size(current_database())", {},
                                        "measuring the database");
    return static_cast<std::uintmax_t>(pg_int(*rows, 0, 0));
  }

  /// The schema version, or nullopt for a database with no rdnsctl schema
  /// and no tables (ours to initialise). Refuses a database whose tables
  /// belong to another application or whose schema is newer than this binary.
  std::optional<std::int64_t> stored_version() {
    const auto schema = connection_.query(
        "SELECT to_regclass($1::text) IS NOT NULL, (SELECT count(*) FROM pg_tables WHERE "
        "schemaname = current_schema())",
        {std::string(kSchemaTable)}, "reading the schema version");
    if (pg_text(*schema, 0, 0) != "t") {
      if (pg_int(*schema, 0, 1) > 0) {
        refuse("it holds tables of another application (no rdnsctl_schema table)");
      }
      return std::nullopt;
    }
    const auto row =
        connection_.query(fmt::format("SELECT application_id, version FROM {}", kSchemaTable), {},
                          "reading the schema version");
    if (PQntuples(row.get()) != 1 || pg_int(*row, 0, 0) != kApplicationId) {
      refuse("its rdnsctl_schema table is not rdnsctl's");
    }
    const std::int64_t version = pg_int(*row, 0, 1);
    const auto latest = static_cast<std::int64_t>(kMigrations.size());
    if (version > latest) {
      refuse(fmt::format("its schema version {} is newer than this rdnsctl's {}", version, latest));
    }
    return version;
  }

  [[noreturn]] void refuse(std::string_view reason) const {
    throw Error(Errc::database,
                fmt::format("refusing database {}: {}", escape_text(connection_.name()), reason));
  }

  // Each step runs in its own transaction under an advisory lock and
  // re-reads the version, so processes (shards) starting at once on a new
  // database migrate it exactly once; PostgreSQL's DDL is transactional.
  std::int64_t migrate() {
    const auto latest = static_cast<std::int64_t>(kMigrations.size());
    for (;;) {
      PgTransaction transaction(connection_);
      connection_.query("SELECT pg_advisory_xact_lock($1::bigint)", {number(kApplicationId)},
                        "locking the schema");
      const std::optional<std::int64_t> stored = stored_version();
      const std::int64_t version = stored.value_or(0);
      if (version >= latest) {
        transaction.commit();
        return version;
      }
      if (!stored) {
        connection_.exec(fmt::format("CREATE TABLE {} (application_id INTEGER NOT NULL, "
                                     "version BIGINT NOT NULL); INSERT INTO {} VALUES ({}, 0)",
                                     kSchemaTable, kSchemaTable, kApplicationId),
                         "creating the schema");
      }
      connection_.exec(postgres_migration(static_cast<std::size_t>(version)),
                       fmt::format("migrating to schema version {}", version + 1));
      connection_.query(fmt::format("UPDATE {} SET version = $1::bigint", kSchemaTable),
                        {number(version + 1)}, "migrating");
      transaction.commit();
    }
  }

  /// A reader never migrates: the schema must be the one this binary knows.
  std::int64_t check_readable() {
    const std::optional<std::int64_t> version = stored_version();
    if (!version) {
      throw Error(Errc::usage, fmt::format("{}: no runs yet (run 'rdnsctl audit' first)",
                                           escape_text(connection_.name())));
    }
    const auto latest = static_cast<std::int64_t>(kMigrations.size());
    if (*version < latest) {
      throw Error(Errc::database,
                  fmt::format("database {} has schema version {}, older than this rdnsctl's {}: "
                              "run 'rdnsctl audit' against it once to upgrade it",
                              escape_text(connection_.name()), *version, latest));
    }
    return *version;
  }

  PgConnection connection_;
  fs::path name_;
  detail::Decoder decoder_;
  bool read_only_ = false;
  std::int64_t version_ = 0;

  /// Where results are written from: the server stores two batches at once
  /// while rdnsctl encodes the next one.
  std::string url_;
  std::unique_ptr<PgConnection> second_session_;
  std::array<WriterLane, 2> lanes_;
  std::size_t next_lane_ = 0;
};

}  // namespace

std::unique_ptr<detail::Storage> detail::open_postgres_storage(const std::string& url,
                                                               bool read_only) {
  return std::make_unique<PostgresStorage>(url, read_only);
}

}  // namespace rdns::db
