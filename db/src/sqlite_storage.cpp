#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <db/database.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/verdict.hpp>

#include "codec.hpp"
#include "inspect.hpp"
#include "migrations.hpp"
#include "queries.hpp"
#include "storage.hpp"

namespace rdns::db {
namespace {

using detail::kResultColumns;
using detail::kRunColumnCount;
using detail::kRunColumns;
using detail::parse_address;
using detail::ParsedAddress;

namespace fs = std::filesystem;
using nlohmann::json;

/// The page cache of a writing connection, in KiB (see connect()).
constexpr int kWriteCacheKiB = 16384;
/// The cache while a whole run is read (WholeRunRead), in KiB: the sorter
/// spills to temporary files beyond it, which costs little.
constexpr int kWholeRunReadCacheKiB = 2048;
constexpr std::string_view kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

/// While a query reads a whole run: every page passes once, so caching
/// them would only cost memory, and SQLite's sorter (ORDER BY) keeps up to
/// the cache size in memory on top of the page cache. Past a million
/// results both would fill at the write cache size.
class WholeRunRead {
 public:
  explicit WholeRunRead(SQLite::Database& connection)
      : connection_(connection), previous_(connection.execAndGet("PRAGMA cache_size").getInt64()) {
    connection_.exec(fmt::format("PRAGMA cache_size = -{}", kWholeRunReadCacheKiB));
  }
  ~WholeRunRead() {
    try {
      connection_.exec(fmt::format("PRAGMA cache_size = {}", previous_));
    } catch (const SQLite::Exception&) {  // NOLINT(bugprone-empty-catch): only slower writes
    }
  }
  WholeRunRead(const WholeRunRead&) = delete;
  WholeRunRead& operator=(const WholeRunRead&) = delete;

 private:
  SQLite::Database& connection_;
  std::int64_t previous_;
};

/// Resets a cached statement however its use ends, so it never holds a read
/// snapshot open (which would stall WAL checkpoints) or blocks a COMMIT.
class StatementUse {
 public:
  explicit StatementUse(SQLite::Statement& statement) : statement_(statement) {}
  ~StatementUse() { statement_.tryReset(); }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  SQLite::Statement& statement_;
};

/// A failed write as the user can act on it: a full disk or another
/// program's lock is the machine's state (Errc::io), not a bad database.
Error storage_error(const fs::path& path, std::string_view action, const SQLite::Exception& error,
                    int system_errno) {
  const int primary = error.getErrorCode() & 0xff;
  const bool full = primary == SQLITE_FULL ||
                    (primary == SQLITE_IOERR &&
                     (system_errno == ENOSPC || system_errno == EFBIG || system_errno == EDQUOT));
  if (full) {
    return Error(Errc::io, fmt::format("database {}: disk full ({} failed: {})", path.string(),
                                       action, error.what()));
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Error(Errc::io, fmt::format("database {}: locked by another program ({} failed: {})",
                                       path.string(), action, error.what()));
  }
  return Error(Errc::database,
               fmt::format("database {}: {} failed: {}", path.string(), action, error.what()));
}

/// SQLite counts every allocation under a global mutex unless told otherwise
/// before its first connection; nothing here reads those counts, and the
/// mutex costs about a tenth of a stored result's CPU. Later calls (the
/// library already initialised) are refused and change nothing.
void skip_memory_statistics() {
  static const int refused_or_done = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  static_cast<void>(refused_or_done);
}

SQLite::Database connect(const fs::path& path) {
  skip_memory_statistics();
  // NOMUTEX: a Database is used from one thread, so SQLite's per-call
  // locking would only slow down bulk inserts.
  SQLite::Database connection(path.string(),
                              SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX,
                              kBusyTimeoutMs);
  // Lets prune() hand freed pages back to the file system. SQLite takes the
  // setting only before the file's first page is written, so this applies to
  // new files; prune() converts older ones with a VACUUM.
  if (connection.execAndGet("PRAGMA page_count").getInt64() == 0) {
    connection.exec("PRAGMA auto_vacuum = INCREMENTAL");
  }
  // WAL lets readers (report commands) run while an audit writes; NORMAL is
  // durable across application crashes, which is what a run history needs.
  const std::string journal_mode = connection.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (journal_mode != "wal") {
    // Without WAL a report would wait on, or block, a running audit.
    throw Error(Errc::database,
                fmt::format("database {}: cannot use write-ahead logging (journal mode stays '{}')",
                            path.string(), journal_mode));
  }
  // Keeps the -wal and -shm files after the last connection closes: a
  // reader that may not write the directory (a monitoring user) can open a
  // WAL database only while they exist. SQLite gives them the database
  // file's permissions, so a group-readable database stays group-readable.
  int persist = 1;
  sqlite3_file_control(connection.getHandle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  connection.exec("PRAGMA synchronous = NORMAL");
  connection.exec("PRAGMA foreign_keys = ON");
  // The indexes of a large run outgrow the 2 MB default cache, and every
  // insert then waits on page reads.
  connection.exec(fmt::format("PRAGMA cache_size = -{}", kWriteCacheKiB));
  connection.exec("PRAGMA wal_autocheckpoint = 10000");
  return connection;
}

// Each step re-reads the version inside its own write transaction, so two
// processes opening an old file at once migrate it exactly once.
std::int64_t migrate(SQLite::Database& connection, const fs::path& path) {
  const auto latest = static_cast<std::int64_t>(kMigrations.size());
  for (;;) {
    SQLite::Transaction transaction(connection, SQLite::TransactionBehavior::IMMEDIATE);
    const Identity identity = read_identity(connection);
    classify(identity, path);
    const std::int64_t version = identity.user_version;
    if (version >= latest) {
      return version;
    }
    if (version == 0) {
      connection.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
    }
    connection.exec(std::string(kMigrations[static_cast<std::size_t>(version)]));
    connection.exec(fmt::format("PRAGMA user_version = {}", version + 1));
    transaction.commit();
  }
}

/// A reader never migrates: the schema must be the one this binary knows.
std::int64_t check_readable(SQLite::Database& connection, const fs::path& path) {
  const Identity identity = read_identity(connection);
  if (classify(identity, path) == FileKind::blank) {
    throw Error(Errc::usage,
                fmt::format("{}: no runs yet (run 'rdnsctl audit' first)", path.string()));
  }
  const auto latest = static_cast<std::int64_t>(kMigrations.size());
  if (identity.user_version < latest) {
    throw Error(Errc::database,
                fmt::format("database {} has schema version {}, older than this rdnsctl's {}: "
                            "let the user that writes it run 'rdnsctl audit' once to upgrade it",
                            path.string(), identity.user_version, latest));
  }
  return identity.user_version;
}

/// Five count columns (total, pass, warn, fail, unknown) from `first` on;
/// a NULL (a sum over no rows) reads as 0.
RunCounts counts_at(SQLite::Statement& row, int first) {
  RunCounts counts;
  counts.total = row.getColumn(first).getInt64();
  counts.pass = row.getColumn(first + 1).getInt64();
  counts.warn = row.getColumn(first + 2).getInt64();
  counts.fail = row.getColumn(first + 3).getInt64();
  counts.unknown = row.getColumn(first + 4).getInt64();
  return counts;
}

/// PRAGMA auto_vacuum's value for a file without auto-vacuum.
constexpr std::int64_t kAutoVacuumNone = 0;

/// The runs a policy removes, oldest first. Ranks are taken over every run of
/// an identity, so the inventory filter never changes which runs are newest.
constexpr std::string_view kPrunableRuns = R"sql(
SELECT id FROM (
  SELECT id, state, inventory, started_at,
         row_number() OVER (PARTITION BY identity ORDER BY id DESC) AS newest
  FROM runs)
WHERE state != 'running'
  AND (?1 = '' OR inventory = ?1)
  AND (?2 IS NULL OR newest > ?2)
  AND (?3 IS NULL OR started_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ?3 || ' days'))
ORDER BY id)sql";

/// The bytes the database occupies: its main file and its write-ahead log
/// (which holds pages not yet copied back). A missing file counts 0.
std::uintmax_t database_bytes(const fs::path& path) {
  std::uintmax_t total = 0;
  for (const fs::path& file : {path, fs::path(path.string() + "-wal")}) {
    std::error_code error;
    const std::uintmax_t size = fs::file_size(file, error);
    if (!error) total += size;
  }
  return total;
}

}  // namespace

namespace detail {

std::string address_results_sql() {
  // Runs newest first, and in each the address's row through the primary
  // key (run_id, ip): one lookup per run, no other address's row read, no
  // index to keep up to date on every insert (tests/db checks the plan).
  // CROSS JOIN keeps runs the outer loop.
  return fmt::format(
      "SELECT {}, {} FROM runs CROSS JOIN results ON results.run_id = runs.id "
      "AND results.ip = ?1 WHERE (?2 = '' OR runs.inventory = ?2) ORDER BY runs.id DESC LIMIT ?3",
      kRunColumns, kResultColumns);
}

}  // namespace detail

namespace {

struct SqliteState {
  SqliteState(const fs::path& database_path, bool read_only_mode)
      : path(database_path),
        decoder(database_path.string()),
        read_only(read_only_mode),
        connection(read_only ? open_read_only_connection(path) : connect(path)),
        version(read_only ? check_readable(connection, path) : migrate(connection, path)),
        insert_run(connection,
                   fmt::format("INSERT INTO runs (command, started_at, state, arguments, "
                               "resolvers, tool_version, inventory, identity, checks, shard_index, "
                               "shard_count) VALUES (?, {}, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                               kNow)),
        select_run_state(connection, "SELECT state FROM runs WHERE id = ?"),
        insert_result(connection,
                      "INSERT INTO results (run_id, ip, family, address, status, ptr, forward, "
                      "sources, findings, smtp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        update_finished_run(
            connection,
            fmt::format("UPDATE runs SET finished_at = {}, state = ?, count_total = ?, "
                        "count_pass = ?, count_warn = ?, count_fail = ?, count_unknown = ? "
                        "WHERE id = ? AND state = 'running'",
                        kNow)),
        select_runs(connection,
                    fmt::format("SELECT {} FROM runs ORDER BY id DESC LIMIT ?", kRunColumns)),
        select_run(connection, fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns)),
        select_latest_run(connection, "SELECT max(id) FROM runs"),
        select_results(connection, fmt::format("SELECT {} FROM results WHERE run_id = ? "
                                               "ORDER BY family, address",
                                               kResultColumns)) {}

  /// Runs body, turning SQLite failures into the project's error naming the file.
  template <typename Body>
  auto guarded(std::string_view action, Body&& body) -> decltype(body()) {
    try {
      return body();
    } catch (const SQLite::Exception& error) {
      throw storage_error(path, action, error, sqlite3_system_errno(connection.getHandle()));
    }
  }

  /// Throws unless run_id names a run that is still running.
  void require_running(std::int64_t run_id) {
    StatementUse use(select_run_state);
    select_run_state.bind(1, run_id);
    if (!select_run_state.executeStep()) {
      throw Error(Errc::internal,
                  fmt::format("database {}: run {} does not exist", path.string(), run_id));
    }
    const std::string state = select_run_state.getColumn(0).getString();
    if (state != to_string(RunState::running)) {
      throw Error(Errc::internal, fmt::format("database {}: run {} is {}, not running",
                                              path.string(), run_id, state));
    }
  }

  void store(std::int64_t run_id, const ResultRecord& result, const ResultJson& lists) {
    const detail::EncodedResult encoded = detail::encode_result(result);
    StatementUse use(insert_result);
    insert_result.bind(1, run_id);
    insert_result.bindNoCopy(2, encoded.address.canonical);
    insert_result.bindNoCopy(3, encoded.address.family);
    insert_result.bindNoCopy(4, encoded.address.bytes.data(), encoded.address.size);
    insert_result.bindNoCopy(5, encoded.status);
    insert_result.bindNoCopy(6, lists.ptr);
    insert_result.bindNoCopy(7, lists.forward);
    insert_result.bindNoCopy(8, lists.sources);
    insert_result.bindNoCopy(9, lists.findings);
    if (lists.smtp) {
      insert_result.bindNoCopy(10, *lists.smtp);
    } else {
      insert_result.bind(10);  // NULL: SMTP not checked
    }
    insert_result.exec();
  }

  std::vector<std::int64_t> prunable_runs(const PrunePolicy& policy) {
    SQLite::Statement query(connection, std::string(kPrunableRuns));
    query.bind(1, policy.inventory);
    if (policy.keep_runs) query.bind(2, *policy.keep_runs);
    if (policy.keep_days) query.bind(3, *policy.keep_days);
    std::vector<std::int64_t> ids;
    while (query.executeStep()) ids.push_back(query.getColumn(0).getInt64());
    return ids;
  }

  /// Deletes the runs the policy selects, all or none; the cascade takes
  /// their results, targets and domain findings.
  std::vector<std::int64_t> delete_prunable_runs(const PrunePolicy& policy) {
    SQLite::Transaction transaction(connection, SQLite::TransactionBehavior::IMMEDIATE);
    const std::vector<std::int64_t> ids = prunable_runs(policy);
    SQLite::Statement remove(connection, "DELETE FROM runs WHERE id = ?");
    for (const std::int64_t id : ids) {
      remove.bind(1, id);
      remove.exec();
      remove.reset();
    }
    transaction.commit();
    return ids;
  }

  /// Shrinks the file to the pages still in use. VACUUM and checkpoints run
  /// outside any transaction.
  void release_free_pages() {
    if (connection.execAndGet("PRAGMA auto_vacuum").getInt64() == kAutoVacuumNone) {
      // Once per database from before auto-vacuum: VACUUM rebuilds the file
      // compactly and applies the new setting, so later prunes stay cheap.
      connection.exec("PRAGMA auto_vacuum = INCREMENTAL");
      connection.exec("VACUUM");
    } else {
      connection.exec("PRAGMA incremental_vacuum");
    }
    // The freed pages leave the main file only when the WAL is copied back;
    // TRUNCATE then empties the WAL, which grew by the deletions.
    connection.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /// A result from the columns kResultColumns names, starting at `first`.
  ResultRecord read_result(SQLite::Statement& row, int first, std::int64_t run_id) const {
    detail::StoredResult stored;
    stored.ip = row.getColumn(first).getString();
    stored.family = row.getColumn(first + 1).getString();
    stored.status = row.getColumn(first + 2).getString();
    stored.ptr = row.getColumn(first + 3).getString();
    stored.forward = row.getColumn(first + 4).getString();
    stored.sources = row.getColumn(first + 5).getString();
    stored.findings = row.getColumn(first + 6).getString();
    if (!row.getColumn(first + 7).isNull()) stored.smtp = row.getColumn(first + 7).getString();
    return decoder.result(stored, run_id);
  }

  RunInfo read_run(SQLite::Statement& row) const {
    detail::StoredRun stored;
    stored.id = row.getColumn(0).getInt64();
    stored.started_at = row.getColumn(1).getString();
    stored.finished_at = row.getColumn(2).getString();  // NULL reads as ""
    stored.state = row.getColumn(3).getString();
    stored.command = row.getColumn(4).getString();
    stored.arguments = row.getColumn(5).getString();
    stored.resolvers = row.getColumn(6).getString();
    stored.tool_version = row.getColumn(7).getString();
    stored.counts = counts_at(row, 8);
    stored.inventory = row.getColumn(13).getString();
    stored.identity = row.getColumn(14).getString();
    stored.checks = row.getColumn(15).getString();
    if (!row.getColumn(16).isNull()) {
      stored.shard = RunShard{row.getColumn(16).getInt64(), row.getColumn(17).getInt64()};
    } else if (!row.getColumn(18).isNull()) {
      stored.parts = row.getColumn(17).getInt64();
    }
    stored.name = row.getColumn(18).getString();
    stored.parts_complete = row.getColumn(19).getInt64();
    return decoder.run(std::move(stored));
  }

  ~SqliteState() {
    if (read_only) return;
    // Readers then find an empty WAL: nothing to replay, nothing a reader
    // without write access would have to index. Best effort: a reader still
    // holding a snapshot only delays it to the next writer.
    try {
      connection.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const SQLite::Exception&) {
    }
  }
  SqliteState(const SqliteState&) = delete;
  SqliteState& operator=(const SqliteState&) = delete;

  fs::path path;
  detail::Decoder decoder;
  bool read_only = false;
  SQLite::Database connection;
  std::int64_t version;
  // Prepared once: re-preparing per row would dominate the cost of a batch.
  SQLite::Statement insert_run;
  SQLite::Statement select_run_state;
  SQLite::Statement insert_result;
  SQLite::Statement update_finished_run;
  SQLite::Statement select_runs;
  SQLite::Statement select_run;
  SQLite::Statement select_latest_run;
  SQLite::Statement select_results;
};

/// db::Database over a SQLite file.
class SqliteStorage final : public detail::Storage {
 public:
  explicit SqliteStorage(std::unique_ptr<SqliteState> state) : impl_(std::move(state)) {}

  std::int64_t begin_run(std::string_view command, std::string_view arguments_json,
                         const std::vector<std::string>& resolvers, std::string_view tool_version,
                         const RunLabel& label, const std::optional<RunShard>& shard) override;
  ShardJoin join_named_run(std::string_view name, std::string_view command,
                           std::string_view arguments_json,
                           const std::vector<std::string>& resolvers, std::string_view tool_version,
                           const RunLabel& label, const RunShard& shard,
                           const std::function<void(const RunInfo&)>& accept) override;
  ShardEnd finish_shard(std::int64_t run_id, std::int64_t shard_index, RunState state,
                        const RunCounts& counts) override;
  std::vector<ShardProgress> run_shards(std::int64_t run_id) override;
  void add_results(std::int64_t run_id, std::span<const ResultRecord> results,
                   std::span<const ResultJson> lists) override;
  void finish_run(std::int64_t run_id, RunState state, const RunCounts& counts) override;
  std::vector<RunInfo> list_runs(std::size_t limit, const RunFilter& filter) override;
  std::optional<RunInfo> previous_comparable_run(std::int64_t run_id) override;
  std::optional<RunInfo> find_run(std::int64_t run_id) override;
  std::optional<std::int64_t> latest_run_id() override;
  void visit_results(std::int64_t run_id,
                     const std::function<void(const ResultRecord&)>& visit) override;
  void visit_result_pairs(
      std::int64_t from_run, std::int64_t to_run,
      const std::function<void(const ResultRecord*, const ResultRecord*)>& visit) override;
  std::vector<AddressResult> address_results(const std::string& ip, std::size_t limit,
                                             const std::string& inventory) override;
  void visit_statuses(
      std::span<const std::int64_t> run_ids,
      const std::function<void(std::int64_t, const std::string&, Status)>& visit) override;
  void store_targets(std::int64_t run_id, std::span<const AddressRange> ranges) override;
  std::vector<AddressRange> targets(std::int64_t run_id) override;
  void visit_result_addresses(std::int64_t run_id,
                              const std::function<void(const std::string&)>& visit) override;
  RunCounts count_results(std::int64_t run_id) override;
  void reopen_run(std::int64_t run_id) override;
  void add_domain_findings(std::int64_t run_id,
                           std::span<const DomainFindingRecord> findings) override;
  std::vector<DomainFindingRecord> domain_findings(std::int64_t run_id) override;
  PruneOutcome prune(const PrunePolicy& policy) override;
  std::int64_t schema_version() const override;
  const fs::path& path() const override;

 private:
  std::unique_ptr<SqliteState> impl_;
};

}  // namespace

std::unique_ptr<detail::Storage> detail::open_sqlite_storage(const fs::path& path) {
  // Inspection reads only; everything after it may write.
  if (inspect_database_file(path) == FileKind::absent && path.has_parent_path()) {
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    if (error) {
      throw Error(Errc::io, fmt::format("cannot create the directory for database {}: {}",
                                        path.string(), error.message()));
    }
  }
  try {
    return std::make_unique<SqliteStorage>(std::make_unique<SqliteState>(path, false));
  } catch (const SQLite::Exception& error) {
    const int primary = error.getErrorCode() & 0xff;
    if (primary == SQLITE_FULL || primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      throw storage_error(path, "opening", error, 0);
    }
    throw Error(Errc::database,
                fmt::format("cannot open database {}: {}", path.string(), error.what()));
  }
}

std::unique_ptr<detail::Storage> detail::open_sqlite_storage_read_only(const fs::path& path) {
  std::error_code ignored;
  if (!fs::exists(path, ignored)) {
    throw Error(Errc::usage,
                fmt::format("{}: no database yet (run 'rdnsctl audit' first)", path.string()));
  }
  try {
    return std::make_unique<SqliteStorage>(std::make_unique<SqliteState>(path, true));
  } catch (const SQLite::Exception& error) {
    throw Error(Errc::database, fmt::format("cannot open database {} for reading: {}",
                                            path.string(), error.what()));
  }
}

std::string Database::sqlite_version() {
  return SQLite::getLibVersion();
}

std::int64_t SqliteStorage::begin_run(std::string_view command, std::string_view arguments_json,
                                      const std::vector<std::string>& resolvers,
                                      std::string_view tool_version, const RunLabel& label,
                                      const std::optional<RunShard>& shard) {
  return impl_->guarded("beginning a run", [&] {
    const std::string command_text(command);
    const std::string arguments_text(arguments_json);
    const std::string resolvers_text = detail::resolvers_json(resolvers);
    const std::string version_text(tool_version);
    StatementUse use(impl_->insert_run);
    impl_->insert_run.bindNoCopy(1, command_text);
    impl_->insert_run.bindNoCopy(2, arguments_text);
    impl_->insert_run.bindNoCopy(3, resolvers_text);
    impl_->insert_run.bindNoCopy(4, version_text);
    impl_->insert_run.bindNoCopy(5, label.inventory);
    impl_->insert_run.bindNoCopy(6, label.identity);
    impl_->insert_run.bindNoCopy(7, label.checks);
    if (shard) {
      impl_->insert_run.bind(8, shard->index);
      impl_->insert_run.bind(9, shard->count);
    } else {
      impl_->insert_run.bind(8);
      impl_->insert_run.bind(9);
    }
    impl_->insert_run.exec();
    const std::int64_t id = impl_->connection.getLastInsertRowid();
    if (label.identity.empty()) {
      SQLite::Statement own(impl_->connection,
                            "UPDATE runs SET identity = 'run:' || id WHERE id = ?");
      own.bind(1, id);
      own.exec();
    }
    return id;
  });
}

ShardJoin SqliteStorage::join_named_run(std::string_view name, std::string_view command,
                                        std::string_view arguments_json,
                                        const std::vector<std::string>& resolvers,
                                        std::string_view tool_version, const RunLabel& label,
                                        const RunShard& shard,
                                        const std::function<void(const RunInfo&)>& accept) {
  return impl_->guarded("joining a named run", [&] {
    const std::string name_text(name);
    // IMMEDIATE: the write lock is taken before the name is looked up, so
    // two processes never both find it missing.
    SQLite::Transaction transaction(impl_->connection, SQLite::TransactionBehavior::IMMEDIATE);
    ShardJoin joined;
    const auto existing = impl_->guarded("finding a named run", [&]() -> std::optional<RunInfo> {
      SQLite::Statement query(impl_->connection,
                              fmt::format("SELECT {} FROM runs WHERE name = ?", kRunColumns));
      query.bind(1, name_text);
      if (!query.executeStep()) return std::nullopt;
      return impl_->read_run(query);
    });
    if (existing) {
      if (existing->parts != shard.count) {
        throw detail::different_shard_count(name, existing->id, existing->parts, shard);
      }
      accept(*existing);
      joined.run_id = existing->id;
    } else {
      joined.run_id =
          begin_run(command, arguments_json, resolvers, tool_version, label, std::nullopt);
      joined.created = true;
      impl_->guarded("naming a run", [&] {
        SQLite::Statement update(impl_->connection,
                                 "UPDATE runs SET name = ?, shard_count = ? WHERE id = ?");
        update.bind(1, name_text);
        update.bind(2, shard.count);
        update.bind(3, joined.run_id);
        update.exec();
      });
    }
    impl_->guarded("joining a shard to its run", [&] {
      SQLite::Statement query(impl_->connection,
                              "SELECT state, attempts FROM run_shards WHERE run_id = ? AND "
                              "shard_index = ?");
      query.bind(1, joined.run_id);
      query.bind(2, shard.index);
      if (query.executeStep()) {
        joined.already_complete = query.getColumn(0).getString() == "complete";
        joined.attempts = query.getColumn(1).getInt64() + (joined.already_complete ? 0 : 1);
        query.reset();
        if (joined.already_complete) return;
        SQLite::Statement again(impl_->connection,
                                "UPDATE run_shards SET state = 'running', finished_at = NULL, "
                                "attempts = attempts + 1 WHERE run_id = ? AND shard_index = ?");
        again.bind(1, joined.run_id);
        again.bind(2, shard.index);
        again.exec();
        return;
      }
      query.reset();
      SQLite::Statement insert(
          impl_->connection,
          fmt::format(
              "INSERT INTO run_shards (run_id, shard_index, shard_count, state, started_at) "
              "VALUES (?, ?, ?, 'running', {})",
              kNow));
      insert.bind(1, joined.run_id);
      insert.bind(2, shard.index);
      insert.bind(3, shard.count);
      insert.exec();
    });
    transaction.commit();
    return joined;
  });
}

ShardEnd SqliteStorage::finish_shard(std::int64_t run_id, std::int64_t shard_index, RunState state,
                                     const RunCounts& counts) {
  return impl_->guarded("ending a shard", [&] {
    // The write lock covers the whole database: no other shard ends meanwhile.
    SQLite::Transaction transaction(impl_->connection, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement update(
        impl_->connection,
        fmt::format("UPDATE run_shards SET state = ?, finished_at = {}, count_total = ?, "
                    "count_pass = ?, count_warn = ?, count_fail = ?, count_unknown = ? "
                    "WHERE run_id = ? AND shard_index = ?",
                    kNow));
    update.bind(1, std::string(to_string(state)));
    update.bind(2, counts.total);
    update.bind(3, counts.pass);
    update.bind(4, counts.warn);
    update.bind(5, counts.fail);
    update.bind(6, counts.unknown);
    update.bind(7, run_id);
    update.bind(8, shard_index);
    if (update.exec() == 0) {
      throw Error(Errc::internal, fmt::format("database {}: run {} has no shard {}",
                                              impl_->path.string(), run_id, shard_index));
    }
    SQLite::Statement sums(impl_->connection,
                           "SELECT runs.shard_count - count(s.shard_index), sum(s.count_total), "
                           "sum(s.count_pass), sum(s.count_warn), sum(s.count_fail), "
                           "sum(s.count_unknown) FROM runs LEFT JOIN run_shards AS s ON "
                           "s.run_id = runs.id AND s.state = 'complete' WHERE runs.id = ?");
    sums.bind(1, run_id);
    sums.executeStep();
    ShardEnd end;
    end.shards_left = sums.getColumn(0).getInt64();
    if (end.shards_left == 0) {
      const RunCounts total = counts_at(sums, 1);
      sums.reset();
      finish_run(run_id, RunState::complete, total);
      end.run_complete = true;
    }
    transaction.commit();
    return end;
  });
}

std::vector<ShardProgress> SqliteStorage::run_shards(std::int64_t run_id) {
  return impl_->guarded("reading a run's shards", [&] {
    SQLite::Statement query(impl_->connection,
                            fmt::format("SELECT {} FROM run_shards WHERE run_id = ? ORDER BY "
                                        "shard_index",
                                        detail::kShardColumns));
    query.bind(1, run_id);
    std::vector<ShardProgress> shards;
    while (query.executeStep()) {
      detail::StoredShard stored;
      stored.index = query.getColumn(0).getInt64();
      stored.count = query.getColumn(1).getInt64();
      stored.state = query.getColumn(2).getString();
      stored.started_at = query.getColumn(3).getString();
      stored.finished_at = query.getColumn(4).getString();
      stored.counts = counts_at(query, 5);
      stored.attempts = query.getColumn(10).getInt64();
      shards.push_back(impl_->decoder.shard(std::move(stored), run_id));
    }
    return shards;
  });
}

void SqliteStorage::add_results(std::int64_t run_id, std::span<const ResultRecord> results,
                                std::span<const ResultJson> lists) {
  impl_->guarded("storing results", [&] {
    SQLite::Transaction transaction(impl_->connection, SQLite::TransactionBehavior::IMMEDIATE);
    impl_->require_running(run_id);
    for (std::size_t i = 0; i < results.size(); ++i) {
      impl_->store(run_id, results[i], lists[i]);
    }
    transaction.commit();
  });
}

void SqliteStorage::finish_run(std::int64_t run_id, RunState state, const RunCounts& counts) {
  impl_->guarded("finishing a run", [&] {
    SQLite::Statement& update = impl_->update_finished_run;
    StatementUse use(update);
    const std::string state_text(to_string(state));
    update.bindNoCopy(1, state_text);
    update.bind(2, counts.total);
    update.bind(3, counts.pass);
    update.bind(4, counts.warn);
    update.bind(5, counts.fail);
    update.bind(6, counts.unknown);
    update.bind(7, run_id);
    if (update.exec() == 0) {
      throw Error(Errc::internal,
                  fmt::format("database {}: run {} is not running or does not exist",
                              impl_->path.string(), run_id));
    }
  });
}

std::vector<RunInfo> SqliteStorage::list_runs(std::size_t limit, const RunFilter& filter) {
  return impl_->guarded("listing runs", [&] {
    constexpr auto kMaxLimit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    const bool filtered = !filter.inventory.empty() || !filter.identity.empty() ||
                          filter.up_to_id > 0 || filter.finished_only;
    std::optional<SQLite::Statement> own;
    if (filtered) {
      own.emplace(impl_->connection,
                  fmt::format("SELECT {} FROM runs WHERE (?1 = '' OR inventory = ?1) AND "
                              "(?2 = '' OR identity = ?2) AND (?3 = 0 OR id <= ?3) AND "
                              "(?4 = 0 OR state != 'running') ORDER BY id DESC LIMIT ?5",
                              kRunColumns));
      own->bind(1, filter.inventory);
      own->bind(2, filter.identity);
      own->bind(3, filter.up_to_id);
      own->bind(4, filter.finished_only ? 1 : 0);
    }
    SQLite::Statement& query = own ? *own : impl_->select_runs;
    StatementUse use(query);
    query.bind(own ? 5 : 1, static_cast<std::int64_t>(std::min(limit, kMaxLimit)));
    std::vector<RunInfo> runs;
    while (query.executeStep()) {
      runs.push_back(impl_->read_run(query));
    }
    return runs;
  });
}

std::optional<RunInfo> SqliteStorage::previous_comparable_run(std::int64_t run_id) {
  return impl_->guarded("finding the previous run", [&]() -> std::optional<RunInfo> {
    SQLite::Statement query(
        impl_->connection,
        fmt::format("SELECT {} FROM runs WHERE identity = (SELECT identity FROM runs WHERE id = "
                    "?1) AND id < ?1 AND state = 'complete' ORDER BY id DESC LIMIT 1",
                    kRunColumns));
    query.bind(1, run_id);
    if (!query.executeStep()) return std::nullopt;
    return impl_->read_run(query);
  });
}

std::optional<RunInfo> SqliteStorage::find_run(std::int64_t run_id) {
  return impl_->guarded("reading a run", [&]() -> std::optional<RunInfo> {
    SQLite::Statement& query = impl_->select_run;
    StatementUse use(query);
    query.bind(1, run_id);
    if (!query.executeStep()) {
      return std::nullopt;
    }
    return impl_->read_run(query);
  });
}

std::optional<std::int64_t> SqliteStorage::latest_run_id() {
  return impl_->guarded("reading the latest run", [&]() -> std::optional<std::int64_t> {
    SQLite::Statement& query = impl_->select_latest_run;
    StatementUse use(query);
    if (!query.executeStep() || query.getColumn(0).isNull()) {
      return std::nullopt;
    }
    return query.getColumn(0).getInt64();
  });
}

void SqliteStorage::visit_results(std::int64_t run_id,
                                  const std::function<void(const ResultRecord&)>& visit) {
  impl_->guarded("reading results", [&] {
    const WholeRunRead whole_run(impl_->connection);
    SQLite::Statement& query = impl_->select_results;
    StatementUse use(query);
    query.bind(1, run_id);
    while (query.executeStep()) visit(impl_->read_result(query, 0, run_id));
  });
}

namespace {

/// Where the row `a` sorts against the row `b` of a query ending in the
/// columns family and address, as its ORDER BY family, address sorts them
/// (both compare bytewise, a shorter prefix first).
int address_order(SQLite::Statement& a, SQLite::Statement& b, int family) {
  const auto bytes = [](SQLite::Statement& row, int column) {
    const SQLite::Column value = row.getColumn(column);
    return std::string_view(static_cast<const char*>(value.getBlob()),
                            static_cast<std::size_t>(value.getBytes()));
  };
  if (const int order = bytes(a, family).compare(bytes(b, family)); order != 0) return order;
  return bytes(a, family + 1).compare(bytes(b, family + 1));
}

}  // namespace

void SqliteStorage::visit_result_pairs(
    std::int64_t from_run, std::int64_t to_run,
    const std::function<void(const ResultRecord*, const ResultRecord*)>& visit) {
  impl_->guarded("reading results", [&] {
    const WholeRunRead whole_run(impl_->connection);
    // Two cursors, each in address order, merged as a sorted merge join.
    const std::string sql = fmt::format(
        "SELECT {}, results.family, results.address FROM results WHERE run_id = ? "
        "ORDER BY family, address",
        kResultColumns);
    SQLite::Statement before(impl_->connection, sql);
    SQLite::Statement after(impl_->connection, sql);
    before.bind(1, from_run);
    after.bind(1, to_run);
    bool has_before = before.executeStep();
    bool has_after = after.executeStep();
    while (has_before || has_after) {
      const int order = !has_after    ? -1
                        : !has_before ? 1
                                      : address_order(before, after, detail::kResultColumnCount);
      std::optional<ResultRecord> old_record;
      std::optional<ResultRecord> new_record;
      if (order <= 0) old_record = impl_->read_result(before, 0, from_run);
      if (order >= 0) new_record = impl_->read_result(after, 0, to_run);
      visit(old_record ? &*old_record : nullptr, new_record ? &*new_record : nullptr);
      if (order <= 0) has_before = before.executeStep();
      if (order >= 0) has_after = after.executeStep();
    }
  });
}

std::vector<AddressResult> SqliteStorage::address_results(const std::string& ip, std::size_t limit,
                                                          const std::string& inventory) {
  return impl_->guarded("reading an address's results", [&] {
    constexpr auto kMaxLimit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    SQLite::Statement query(impl_->connection, detail::address_results_sql());
    query.bind(1, ip);
    query.bind(2, inventory);
    query.bind(3, static_cast<std::int64_t>(std::min(limit, kMaxLimit)));
    std::vector<AddressResult> found;
    while (query.executeStep()) {
      RunInfo run = impl_->read_run(query);
      ResultRecord result = impl_->read_result(query, kRunColumnCount, run.id);
      found.push_back({std::move(run), std::move(result)});
    }
    return found;
  });
}

void SqliteStorage::visit_statuses(
    std::span<const std::int64_t> run_ids,
    const std::function<void(std::int64_t, const std::string&, Status)>& visit) {
  impl_->guarded("reading statuses", [&] {
    const WholeRunRead whole_run(impl_->connection);
    std::string placeholders = "?";
    for (std::size_t i = 1; i < run_ids.size(); ++i) placeholders += ",?";
    SQLite::Statement query(
        impl_->connection,
        fmt::format("SELECT run_id, ip, status FROM results WHERE run_id IN ({})", placeholders));
    for (std::size_t i = 0; i < run_ids.size(); ++i) {
      query.bind(static_cast<int>(i + 1), run_ids[i]);
    }
    while (query.executeStep()) {
      const std::int64_t run_id = query.getColumn(0).getInt64();
      const std::string ip = query.getColumn(1).getString();
      visit(run_id, ip, impl_->decoder.status(query.getColumn(2).getString(), run_id, ip));
    }
  });
}

void SqliteStorage::store_targets(std::int64_t run_id, std::span<const AddressRange> ranges) {
  impl_->guarded("storing targets", [&] {
    SQLite::Transaction transaction(impl_->connection, SQLite::TransactionBehavior::IMMEDIATE);
    impl_->require_running(run_id);
    SQLite::Statement insert(impl_->connection,
                             "INSERT INTO run_targets (run_id, first, last) VALUES (?, ?, ?)");
    for (const AddressRange& range : ranges) {
      const ParsedAddress first = parse_address(range.first);
      const ParsedAddress last = parse_address(range.last);
      if (first.family != last.family) {
        throw Error(Errc::internal,
                    fmt::format("range {}-{} mixes families", range.first, range.last));
      }
      insert.bind(1, run_id);
      insert.bind(2, first.canonical);
      insert.bind(3, last.canonical);
      insert.exec();
      insert.reset();
    }
    transaction.commit();
  });
}

std::vector<AddressRange> SqliteStorage::targets(std::int64_t run_id) {
  return impl_->guarded("reading targets", [&] {
    SQLite::Statement query(impl_->connection,
                            "SELECT first, last FROM run_targets WHERE run_id = ? ORDER BY rowid");
    query.bind(1, run_id);
    std::vector<AddressRange> ranges;
    while (query.executeStep()) {
      ranges.push_back({query.getColumn(0).getString(), query.getColumn(1).getString()});
    }
    return ranges;
  });
}

void SqliteStorage::visit_result_addresses(std::int64_t run_id,
                                           const std::function<void(const std::string&)>& visit) {
  impl_->guarded("reading result addresses", [&] {
    const WholeRunRead whole_run(impl_->connection);
    SQLite::Statement query(impl_->connection,
                            "SELECT ip FROM results WHERE run_id = ? ORDER BY family, address");
    query.bind(1, run_id);
    while (query.executeStep()) visit(query.getColumn(0).getString());
  });
}

RunCounts SqliteStorage::count_results(std::int64_t run_id) {
  return impl_->guarded("counting results", [&] {
    const WholeRunRead whole_run(impl_->connection);
    // One pass without GROUP BY: grouping a million rows by status would sort
    // them, and the sorter holds up to the cache size on top of the cache.
    SQLite::Statement query(impl_->connection,
                            "SELECT count(*), sum(status = 'pass'), sum(status = 'warn'), "
                            "sum(status = 'fail'), sum(status = 'unknown') FROM results "
                            "WHERE run_id = ?");
    query.bind(1, run_id);
    query.executeStep();
    RunCounts counts;
    counts.total = query.getColumn(0).getInt64();
    counts.pass = query.getColumn(1).getInt64();
    counts.warn = query.getColumn(2).getInt64();
    counts.fail = query.getColumn(3).getInt64();
    counts.unknown = query.getColumn(4).getInt64();
    if (counts.pass + counts.warn + counts.fail + counts.unknown != counts.total) {
      // Another program ignored the CHECK constraint: name what it wrote.
      SQLite::Statement odd(impl_->connection,
                            "SELECT ip, status FROM results WHERE run_id = ? AND status NOT IN "
                            "('pass', 'warn', 'fail', 'unknown') LIMIT 1");
      odd.bind(1, run_id);
      odd.executeStep();
      impl_->decoder.status(odd.getColumn(1).getString(), run_id, odd.getColumn(0).getString());
    }
    return counts;
  });
}

void SqliteStorage::reopen_run(std::int64_t run_id) {
  impl_->guarded("reopening a run", [&] {
    SQLite::Statement update(impl_->connection,
                             "UPDATE runs SET state = 'running', finished_at = NULL "
                             "WHERE id = ? AND state != 'complete'");
    update.bind(1, run_id);
    if (update.exec() == 0) {
      throw Error(Errc::usage, fmt::format("run {} in {} is complete or does not exist", run_id,
                                           impl_->path.string()));
    }
  });
}

void SqliteStorage::add_domain_findings(std::int64_t run_id,
                                        std::span<const DomainFindingRecord> findings) {
  impl_->guarded("storing domain findings", [&] {
    SQLite::Transaction transaction(impl_->connection, SQLite::TransactionBehavior::IMMEDIATE);
    impl_->require_running(run_id);
    SQLite::Statement insert(impl_->connection,
                             "INSERT INTO domain_findings (run_id, domain, code, severity, detail) "
                             "VALUES (?, ?, ?, ?, ?)");
    for (const DomainFindingRecord& finding : findings) {
      insert.bind(1, run_id);
      insert.bindNoCopy(2, finding.domain);
      insert.bindNoCopy(3, finding.code);
      insert.bind(4, std::string(severity_name(finding.severity)));
      insert.bindNoCopy(5, finding.detail);
      insert.exec();
      insert.reset();
    }
    transaction.commit();
  });
}

std::vector<DomainFindingRecord> SqliteStorage::domain_findings(std::int64_t run_id) {
  return impl_->guarded("reading domain findings", [&] {
    SQLite::Statement query(impl_->connection,
                            "SELECT domain, code, severity, detail FROM domain_findings "
                            "WHERE run_id = ? ORDER BY id");
    query.bind(1, run_id);
    std::vector<DomainFindingRecord> findings;
    while (query.executeStep()) {
      DomainFindingRecord finding;
      finding.domain = query.getColumn(0).getString();
      finding.code = query.getColumn(1).getString();
      const std::string severity = query.getColumn(2).getString();
      finding.severity = impl_->decoder.domain_severity(severity, run_id, finding.domain);
      finding.detail = query.getColumn(3).getString();
      findings.push_back(std::move(finding));
    }
    return findings;
  });
}

PruneOutcome SqliteStorage::prune(const PrunePolicy& policy) {
  if (impl_->read_only && !policy.dry_run) {
    throw Error(Errc::database,
                fmt::format("database {} is open read-only: cannot prune runs from it",
                            escape_text(impl_->path.string())));
  }
  PruneOutcome outcome;
  outcome.bytes_before = database_bytes(impl_->path);
  if (policy.dry_run) {
    outcome.removed =
        impl_->guarded("finding runs to prune", [&] { return impl_->prunable_runs(policy); });
    outcome.bytes_after = outcome.bytes_before;
    return outcome;
  }
  outcome.removed =
      impl_->guarded("pruning runs", [&] { return impl_->delete_prunable_runs(policy); });
  if (!outcome.removed.empty()) {
    impl_->guarded("releasing the space of pruned runs", [&] { impl_->release_free_pages(); });
  }
  outcome.bytes_after = database_bytes(impl_->path);
  return outcome;
}

std::int64_t SqliteStorage::schema_version() const {
  return impl_->version;
}

const fs::path& SqliteStorage::path() const {
  return impl_->path;
}

}  // namespace rdns::db
