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

namespace rdns::db {
namespace {

namespace fs = std::filesystem;

constexpr int kBusyTimeoutMs = 10000;
constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";
constexpr const char* kColumns =
    "id, created_at, COALESCE(finished_at, ''), source, action, region, ip, record_id, value, "
    "ttl, previous_value, previous_ttl, previous_status, state, outcome, request_id";

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

}  // namespace

/// The journal's own connection to the database file.
struct PtrJournal::Impl {
  explicit Impl(const fs::path& database_path)
      : path(database_path),
        checked(ensure_schema(path)),
        connection(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX, kBusyTimeoutMs) {
    connection.exec("PRAGMA journal_mode = WAL");
    // FULL, not the run history's NORMAL: an intent must survive a power cut
    // too, or a write the cloud carried out could vanish from the journal.
    connection.exec("PRAGMA synchronous = FULL");
  }

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
    SQLite::Statement query(connection,
                            fmt::format("SELECT {} FROM ptr_operations {}", kColumns, where));
    bind(query);
    std::vector<PtrOperationRecord> out;
    while (query.executeStep()) out.push_back(read_operation(query));
    return out;
  }

  fs::path path;
  bool checked;
  SQLite::Database connection;
};

PtrJournal::PtrJournal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PtrJournal::~PtrJournal() = default;
PtrJournal::PtrJournal(PtrJournal&&) noexcept = default;
PtrJournal& PtrJournal::operator=(PtrJournal&&) noexcept = default;

PtrJournal PtrJournal::open(const fs::path& path) {
  if (is_database_url(path.native())) {
    // Before anything else: SQLite would take the URL for a file name.
    throw Error(Errc::usage,
                fmt::format("{}: the PTR journal needs a SQLite file for --db; PostgreSQL holds "
                            "audit runs only so far",
                            escape_text(displayed_location(path.native()))));
  }
  try {
    return PtrJournal(std::make_unique<Impl>(path));
  } catch (const SQLite::Exception& error) {
    throw Error(Errc::database, fmt::format("database {}: cannot open the journal: {}",
                                            path.string(), error.what()));
  }
}

std::int64_t PtrJournal::begin(const PtrOperationRecord& op) {
  return impl_->guarded("storing an operation", [&] {
    SQLite::Statement insert(
        impl_->connection,
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
    return impl_->connection.getLastInsertRowid();
  });
}

void PtrJournal::finish(std::int64_t id, const std::string& state, const std::string& outcome,
                        const std::string& request_id, const std::string& record_id) {
  impl_->guarded("storing an outcome", [&] {
    SQLite::Statement update(
        impl_->connection,
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
      throw Error(Errc::internal, fmt::format("database {}: operation {} is not pending",
                                              impl_->path.string(), id));
    }
  });
}

std::vector<PtrOperationRecord> PtrJournal::pending(const std::string& region) {
  return impl_->guarded("reading pending operations", [&] {
    return impl_->select("WHERE state = 'pending' AND region = ? ORDER BY id",
                         [&](SQLite::Statement& query) { query.bind(1, region); });
  });
}

std::optional<PtrOperationRecord> PtrJournal::find(std::int64_t id) {
  return impl_->guarded("reading an operation", [&]() -> std::optional<PtrOperationRecord> {
    auto found =
        impl_->select("WHERE id = ?", [&](SQLite::Statement& query) { query.bind(1, id); });
    if (found.empty()) return std::nullopt;
    return found.front();
  });
}

std::vector<PtrOperationRecord> PtrJournal::list(std::size_t limit) {
  return impl_->guarded("listing operations", [&] {
    return impl_->select("ORDER BY id DESC LIMIT ?", [&](SQLite::Statement& query) {
      query.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30)));
    });
  });
}

void PtrJournal::set_managed(const std::string& region, const std::string& ip, bool managed) {
  impl_->guarded("marking a managed record", [&] {
    SQLite::Statement statement(
        impl_->connection,
        managed ? fmt::format("INSERT OR IGNORE INTO ptr_managed (region, ip, since) "
                              "VALUES (?, ?, {})",
                              kNow)
                : std::string("DELETE FROM ptr_managed WHERE region = ? AND ip = ?"));
    statement.bind(1, region);
    statement.bind(2, ip);
    statement.exec();
  });
}

std::vector<std::string> PtrJournal::managed(const std::string& region) {
  return impl_->guarded("reading managed records", [&] {
    SQLite::Statement query(impl_->connection,
                            "SELECT ip FROM ptr_managed WHERE region = ? ORDER BY ip");
    query.bind(1, region);
    std::vector<std::string> out;
    while (query.executeStep()) out.push_back(query.getColumn(0).getString());
    return out;
  });
}

void PtrJournal::save_stage(const PtrStageRecord& stage) {
  impl_->guarded("storing a staged change", [&] {
    SQLite::Statement upsert(
        impl_->connection,
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

std::optional<PtrStageRecord> PtrJournal::stage(const std::string& region, const std::string& ip) {
  return impl_->guarded("reading a staged change", [&]() -> std::optional<PtrStageRecord> {
    SQLite::Statement query(impl_->connection,
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

void PtrJournal::clear_stage(const std::string& region, const std::string& ip) {
  impl_->guarded("removing a staged change", [&] {
    SQLite::Statement remove(impl_->connection,
                             "DELETE FROM ptr_stages WHERE region = ? AND ip = ?");
    remove.bind(1, region);
    remove.bind(2, ip);
    remove.exec();
  });
}

void PtrJournal::add_risks(const std::vector<PtrRiskRecord>& risks) {
  impl_->guarded("storing risk findings", [&] {
    SQLite::Transaction transaction(impl_->connection, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(
        impl_->connection,
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

std::vector<PtrRiskRecord> PtrJournal::risks(const std::string& region, std::size_t limit) {
  return impl_->guarded("reading risk findings", [&] {
    SQLite::Statement query(impl_->connection,
                            "SELECT checked_at, region, ip, level, code, reason, action FROM "
                            "ptr_risks WHERE region = ? ORDER BY id DESC LIMIT ?");
    query.bind(1, region);
    query.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30)));
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

}  // namespace rdns::db
