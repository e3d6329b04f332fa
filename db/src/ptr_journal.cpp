#include <algorithm>
#include <functional>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <db/database.hpp>
#include <db/ptr_journal.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "journal_store.hpp"

namespace rdns::db {
namespace {

namespace fs = std::filesystem;

constexpr int kBusyTimeoutMs = 10000;
constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";
using detail::kOperationColumns;

PtrOperationRecord read_operation(SQLite::Statement& row) {
  PtrOperationRecord op;
  op.id = row.getColumn(0).getInt64();
  op.created_at = row.getColumn(1).getString();
  op.finished_at = row.getColumn(2).getString();
  op.source = row.getColumn(3).getString();
  op.action = row.getColumn(4).getString();
  op.region = row.getColumn(5).getString();
  op.ip = row.getColumn(6).getString();
  op.record_id = row.getColumn(7).getString();
  op.value = row.getColumn(8).getString();
  op.ttl = row.getColumn(9).getInt();
  op.previous_value = row.getColumn(10).getString();
  op.previous_ttl = row.getColumn(11).getInt();
  op.previous_status = row.getColumn(12).getString();
  op.state = row.getColumn(13).getString();
  op.outcome = row.getColumn(14).getString();
  op.request_id = row.getColumn(15).getString();
  return op;
}

/// Database::open creates, checks and migrates the file (then closes it); the
/// journal keeps a connection of its own.
bool ensure_schema(const fs::path& path) {
  Database::open(path);
  return true;
}

/// The journal in a SQLite file, on a connection of its own.
class SqliteJournal final : public detail::JournalStore {
 public:
  explicit SqliteJournal(const fs::path& database_path)
      : path(database_path),
        checked(ensure_schema(path)),
        connection(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX, kBusyTimeoutMs) {
    connection.exec("PRAGMA journal_mode = WAL");
    // FULL, not the run history's NORMAL: an intent must survive a power cut
    // too, or a write the cloud carried out could vanish from the journal.
    connection.exec("PRAGMA synchronous = FULL");
  }

  std::int64_t begin(const PtrOperationRecord& operation) override;
  void finish(std::int64_t id, const std::string& state, const std::string& outcome,
              const std::string& request_id, const std::string& record_id) override;
  std::vector<PtrOperationRecord> pending(const std::string& region) override;
  std::optional<PtrOperationRecord> find(std::int64_t id) override;
  std::vector<PtrOperationRecord> list(std::size_t limit) override;
  void set_managed(const std::string& region, const std::string& ip, bool managed) override;
  std::vector<std::string> managed(const std::string& region) override;
  void save_stage(const PtrStageRecord& stage) override;
  std::optional<PtrStageRecord> stage(const std::string& region, const std::string& ip) override;
  void clear_stage(const std::string& region, const std::string& ip) override;
  void add_risks(const std::vector<PtrRiskRecord>& risks) override;
  std::vector<PtrRiskRecord> risks(const std::string& region, std::size_t limit) override;
  bool try_lock_writers() override { return true; }

 private:
  template <typename Body>
  auto guarded(const char* action, Body&& body) -> decltype(body()) {
    try {
      return body();
    } catch (const SQLite::Exception& error) {
      throw Error(Errc::database,
                  fmt::format("database {}: {} failed: {}", path.string(), action, error.what()));
    }
  }

  std::vector<PtrOperationRecord> select(const std::string& where,
                                         const std::function<void(SQLite::Statement&)>& bind) {
    SQLite::Statement query(
        connection, fmt::format("SELECT {} FROM ptr_operations {}", kOperationColumns, where));
    bind(query);
    std::vector<PtrOperationRecord> out;
    while (query.executeStep()) out.push_back(read_operation(query));
    return out;
  }

  fs::path path;
  bool checked;
  SQLite::Database connection;
};

std::int64_t SqliteJournal::begin(const PtrOperationRecord& op) {
  return guarded("storing an operation", [&] {
    SQLite::Statement insert(
        connection,
        fmt::format("INSERT INTO ptr_operations (created_at, source, action, region, ip, "
                    "record_id, value, ttl, previous_value, previous_ttl, previous_status, state) "
                    "VALUES ({}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                    kNow));
    insert.bind(1, op.source);
    insert.bind(2, op.action);
    insert.bind(3, op.region);
    insert.bind(4, op.ip);
    insert.bind(5, op.record_id);
    insert.bind(6, op.value);
    insert.bind(7, op.ttl);
    insert.bind(8, op.previous_value);
    insert.bind(9, op.previous_ttl);
    insert.bind(10, op.previous_status);
    insert.exec();
    return connection.getLastInsertRowid();
  });
}

void SqliteJournal::finish(std::int64_t id, const std::string& state, const std::string& outcome,
                           const std::string& request_id, const std::string& record_id) {
  guarded("storing an outcome", [&] {
    SQLite::Statement update(
        connection,
        fmt::format("UPDATE ptr_operations SET finished_at = {}, state = ?, outcome = ?, "
                    "request_id = ?, record_id = CASE WHEN ? = '' THEN record_id ELSE ? END "
                    "WHERE id = ? AND state = 'pending'",
                    kNow));
    update.bind(1, state);
    update.bind(2, outcome);
    update.bind(3, request_id);
    update.bind(4, record_id);
    update.bind(5, record_id);
    update.bind(6, id);
    if (update.exec() == 0) {
      throw Error(Errc::internal,
                  fmt::format("database {}: operation {} is not pending", path.string(), id));
    }
  });
}

std::vector<PtrOperationRecord> SqliteJournal::pending(const std::string& region) {
  return guarded("reading pending operations", [&] {
    return select("WHERE state = 'pending' AND region = ? ORDER BY id",
                  [&](SQLite::Statement& query) { query.bind(1, region); });
  });
}

std::optional<PtrOperationRecord> SqliteJournal::find(std::int64_t id) {
  return guarded("reading an operation", [&]() -> std::optional<PtrOperationRecord> {
    auto found = select("WHERE id = ?", [&](SQLite::Statement& query) { query.bind(1, id); });
    if (found.empty()) return std::nullopt;
    return found.front();
  });
}

std::vector<PtrOperationRecord> SqliteJournal::list(std::size_t limit) {
  return guarded("listing operations", [&] {
    return select("ORDER BY id DESC LIMIT ?",
                  [&](SQLite::Statement& query) { query.bind(1, detail::journal_limit(limit)); });
  });
}

void SqliteJournal::set_managed(const std::string& region, const std::string& ip, bool managed) {
  guarded("marking a managed record", [&] {
    SQLite::Statement statement(
        connection, managed ? fmt::format("INSERT OR IGNORE INTO ptr_managed (region, ip, since) "
                                          "VALUES (?, ?, {})",
                                          kNow)
                            : std::string("DELETE FROM ptr_managed WHERE region = ? AND ip = ?"));
    statement.bind(1, region);
    statement.bind(2, ip);
    statement.exec();
  });
}

std::vector<std::string> SqliteJournal::managed(const std::string& region) {
  return guarded("reading managed records", [&] {
    SQLite::Statement query(connection, "SELECT ip FROM ptr_managed WHERE region = ? ORDER BY ip");
    query.bind(1, region);
    std::vector<std::string> out;
    while (query.executeStep()) out.push_back(query.getColumn(0).getString());
    return out;
  });
}

void SqliteJournal::save_stage(const PtrStageRecord& stage) {
  guarded("storing a staged change", [&] {
    SQLite::Statement upsert(
        connection,
        fmt::format("INSERT OR REPLACE INTO ptr_stages (region, ip, value, ttl, original_value, "
                    "original_ttl, low_ttl, stage, not_before, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {})",
                    kNow));
    upsert.bind(1, stage.region);
    upsert.bind(2, stage.ip);
    upsert.bind(3, stage.value);
    upsert.bind(4, stage.ttl);
    upsert.bind(5, stage.original_value);
    upsert.bind(6, stage.original_ttl);
    upsert.bind(7, stage.low_ttl);
    upsert.bind(8, stage.stage);
    upsert.bind(9, stage.not_before);
    upsert.exec();
  });
}

std::optional<PtrStageRecord> SqliteJournal::stage(const std::string& region,
                                                   const std::string& ip) {
  return guarded("reading a staged change", [&]() -> std::optional<PtrStageRecord> {
    SQLite::Statement query(connection,
                            "SELECT region, ip, value, ttl, original_value, original_ttl, "
                            "low_ttl, stage, not_before FROM ptr_stages WHERE region = ? AND "
                            "ip = ?");
    query.bind(1, region);
    query.bind(2, ip);
    if (!query.executeStep()) return std::nullopt;
    PtrStageRecord stage;
    stage.region = query.getColumn(0).getString();
    stage.ip = query.getColumn(1).getString();
    stage.value = query.getColumn(2).getString();
    stage.ttl = query.getColumn(3).getInt();
    stage.original_value = query.getColumn(4).getString();
    stage.original_ttl = query.getColumn(5).getInt();
    stage.low_ttl = query.getColumn(6).getInt();
    stage.stage = query.getColumn(7).getString();
    stage.not_before = query.getColumn(8).getInt64();
    return stage;
  });
}

void SqliteJournal::clear_stage(const std::string& region, const std::string& ip) {
  guarded("removing a staged change", [&] {
    SQLite::Statement remove(connection, "DELETE FROM ptr_stages WHERE region = ? AND ip = ?");
    remove.bind(1, region);
    remove.bind(2, ip);
    remove.exec();
  });
}

void SqliteJournal::add_risks(const std::vector<PtrRiskRecord>& risks) {
  guarded("storing risk findings", [&] {
    SQLite::Transaction transaction(connection, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(
        connection,
        fmt::format("INSERT INTO ptr_risks (checked_at, region, ip, level, code, reason, action) "
                    "VALUES ({}, ?, ?, ?, ?, ?, ?)",
                    kNow));
    for (const auto& risk : risks) {
      insert.bind(1, risk.region);
      insert.bind(2, risk.ip);
      insert.bind(3, risk.level);
      insert.bind(4, risk.code);
      insert.bind(5, risk.reason);
      insert.bind(6, risk.action);
      insert.exec();
      insert.reset();
    }
    transaction.commit();
  });
}

std::vector<PtrRiskRecord> SqliteJournal::risks(const std::string& region, std::size_t limit) {
  return guarded("reading risk findings", [&] {
    SQLite::Statement query(connection,
                            "SELECT checked_at, region, ip, level, code, reason, action FROM "
                            "ptr_risks WHERE region = ? ORDER BY id DESC LIMIT ?");
    query.bind(1, region);
    query.bind(2, detail::journal_limit(limit));
    std::vector<PtrRiskRecord> out;
    while (query.executeStep()) {
      out.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                     query.getColumn(2).getString(), query.getColumn(3).getString(),
                     query.getColumn(4).getString(), query.getColumn(5).getString(),
                     query.getColumn(6).getString()});
    }
    return out;
  });
}

}  // namespace

std::unique_ptr<detail::JournalStore> detail::open_sqlite_journal(const fs::path& path) {
  try {
    return std::make_unique<SqliteJournal>(path);
  } catch (const SQLite::Exception& error) {
    throw Error(Errc::database, fmt::format("database {}: cannot open the journal: {}",
                                            path.string(), error.what()));
  }
}

PtrJournal::PtrJournal(std::unique_ptr<detail::JournalStore> store) : store_(std::move(store)) {}
PtrJournal::~PtrJournal() = default;
PtrJournal::PtrJournal(PtrJournal&&) noexcept = default;
PtrJournal& PtrJournal::operator=(PtrJournal&&) noexcept = default;

PtrJournal PtrJournal::open(const fs::path& path) {
  // Before anything else: SQLite would take a URL for a file name.
  if (is_database_url(path.native()))
    return PtrJournal(detail::open_postgres_journal(path.native()));
  return PtrJournal(detail::open_sqlite_journal(path));
}

std::int64_t PtrJournal::begin(const PtrOperationRecord& operation) {
  return store_->begin(operation);
}

void PtrJournal::finish(std::int64_t id, const std::string& state, const std::string& outcome,
                        const std::string& request_id, const std::string& record_id) {
  store_->finish(id, state, outcome, request_id, record_id);
}

std::vector<PtrOperationRecord> PtrJournal::pending(const std::string& region) {
  return store_->pending(region);
}

std::optional<PtrOperationRecord> PtrJournal::find(std::int64_t id) {
  return store_->find(id);
}

std::vector<PtrOperationRecord> PtrJournal::list(std::size_t limit) {
  return store_->list(limit);
}

void PtrJournal::set_managed(const std::string& region, const std::string& ip, bool managed) {
  store_->set_managed(region, ip, managed);
}

std::vector<std::string> PtrJournal::managed(const std::string& region) {
  return store_->managed(region);
}

void PtrJournal::save_stage(const PtrStageRecord& stage) {
  store_->save_stage(stage);
}

std::optional<PtrStageRecord> PtrJournal::stage(const std::string& region, const std::string& ip) {
  return store_->stage(region, ip);
}

void PtrJournal::clear_stage(const std::string& region, const std::string& ip) {
  store_->clear_stage(region, ip);
}

void PtrJournal::add_risks(const std::vector<PtrRiskRecord>& risks) {
  store_->add_risks(risks);
}

std::vector<PtrRiskRecord> PtrJournal::risks(const std::string& region, std::size_t limit) {
  return store_->risks(region, limit);
}

bool PtrJournal::try_lock_writers() {
  return store_->try_lock_writers();
}

}  // namespace rdns::db
