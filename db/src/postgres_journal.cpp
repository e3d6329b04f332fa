// The PTR journal in a PostgreSQL database: the tables of migration 5, as
// PostgresStorage creates them, on a connection of the journal's own.

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <db/database.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "journal_store.hpp"
#include "migrations.hpp"
#include "pg_connection.hpp"

namespace rdns::db {
namespace {

using detail::kNow;
using detail::kOperationColumns;
using detail::pg_int;
using detail::pg_text;
using detail::PgConnection;
using detail::PgParam;
using detail::PgTransaction;

/// The second key of the advisory lock ptr writers take (the first is
/// kApplicationId). Two 32-bit keys never meet the 64-bit key the
/// migrations lock with.
constexpr int kWritersLock = 1;

PgParam number(std::int64_t value) {
  return std::to_string(value);
}

PtrOperationRecord read_operation(const PGresult& rows, int row) {
  PtrOperationRecord op;
  op.id = pg_int(rows, row, 0);
  op.created_at = pg_text(rows, row, 1);
  op.finished_at = pg_text(rows, row, 2);
  op.source = pg_text(rows, row, 3);
  op.action = pg_text(rows, row, 4);
  op.region = pg_text(rows, row, 5);
  op.ip = pg_text(rows, row, 6);
  op.record_id = pg_text(rows, row, 7);
  op.value = pg_text(rows, row, 8);
  op.ttl = static_cast<int>(pg_int(rows, row, 9));
  op.previous_value = pg_text(rows, row, 10);
  op.previous_ttl = static_cast<int>(pg_int(rows, row, 11));
  op.previous_status = pg_text(rows, row, 12);
  op.state = pg_text(rows, row, 13);
  op.outcome = pg_text(rows, row, 14);
  op.request_id = pg_text(rows, row, 15);
  return op;
}

/// Database::open creates, checks and migrates the database (then
/// disconnects); the journal keeps a connection of its own.
std::string migrated(const std::string& url) {
  Database::open(url);
  return url;
}

class PostgresJournal final : public detail::JournalStore {
 public:
  explicit PostgresJournal(const std::string& url) : connection_(migrated(url)) {
    connection_.exec("SET client_min_messages = warning", "configuring the session");
    // Whatever the server's or the role's default: an intent is on disk
    // before the cloud call, as the SQLite journal's synchronous=FULL makes it.
    connection_.exec("SET synchronous_commit = on", "configuring the session");
  }

  std::int64_t begin(const PtrOperationRecord& op) override {
    const auto inserted = connection_.query(
        fmt::format("INSERT INTO ptr_operations (created_at, source, action, region, ip, "
                    "record_id, value, ttl, previous_value, previous_ttl, previous_status, state) "
                    "VALUES ({}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending') RETURNING id",
                    kNow),
        {op.source, op.action, op.region, op.ip, op.record_id, op.value, number(op.ttl),
         op.previous_value, number(op.previous_ttl), op.previous_status},
        "storing an operation");
    return pg_int(*inserted, 0, 0);
  }

  void finish(std::int64_t id, const std::string& state, const std::string& outcome,
              const std::string& request_id, const std::string& record_id) override {
    const auto updated = connection_.query(
        fmt::format("UPDATE ptr_operations SET finished_at = {}, state = $1, outcome = $2, "
                    "request_id = $3, record_id = CASE WHEN $4::text = '' THEN record_id "
                    "ELSE $4::text END WHERE id = $5::bigint AND state = 'pending'",
                    kNow),
        {state, outcome, request_id, record_id, number(id)}, "storing an outcome");
    if (std::string_view(PQcmdTuples(updated.get())) == "0") {
      throw Error(Errc::internal, fmt::format("database {}: operation {} is not pending",
                                              escape_text(connection_.name()), id));
    }
  }

  std::vector<PtrOperationRecord> pending(const std::string& region) override {
    return select("WHERE state = 'pending' AND region = $1::text ORDER BY id", {region},
                  "reading pending operations");
  }

  std::optional<PtrOperationRecord> find(std::int64_t id) override {
    auto found = select("WHERE id = $1::bigint", {number(id)}, "reading an operation");
    if (found.empty()) return std::nullopt;
    return found.front();
  }

  std::vector<PtrOperationRecord> list(std::size_t limit) override {
    return select("ORDER BY id DESC LIMIT $1::bigint", {number(detail::journal_limit(limit))},
                  "listing operations");
  }

  void set_managed(const std::string& region, const std::string& ip, bool managed) override {
    connection_.query(managed
                          ? fmt::format("INSERT INTO ptr_managed (region, ip, since) "
                                        "VALUES ($1, $2, {}) ON CONFLICT DO NOTHING",
                                        kNow)
                          : std::string("DELETE FROM ptr_managed WHERE region = $1 AND ip = $2"),
                      {region, ip}, "marking a managed record");
  }

  std::vector<std::string> managed(const std::string& region) override {
    // COLLATE "C": byte order, as SQLite sorts text, whatever the database's locale.
    const auto rows =
        connection_.query("SELECT ip FROM ptr_managed WHERE region = $1 ORDER BY ip COLLATE \"C\"",
                          {region}, "reading managed records");
    std::vector<std::string> out;
    for (int row = 0; row < PQntuples(rows.get()); ++row) out.push_back(pg_text(*rows, row, 0));
    return out;
  }

  void save_stage(const PtrStageRecord& stage) override {
    connection_.query(
        fmt::format("INSERT INTO ptr_stages (region, ip, value, ttl, original_value, "
                    "original_ttl, low_ttl, stage, not_before, updated_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {}) "
                    "ON CONFLICT (region, ip) DO UPDATE SET value = EXCLUDED.value, "
                    "ttl = EXCLUDED.ttl, original_value = EXCLUDED.original_value, "
                    "original_ttl = EXCLUDED.original_ttl, low_ttl = EXCLUDED.low_ttl, "
                    "stage = EXCLUDED.stage, not_before = EXCLUDED.not_before, "
                    "updated_at = EXCLUDED.updated_at",
                    kNow),
        {stage.region, stage.ip, stage.value, number(stage.ttl), stage.original_value,
         number(stage.original_ttl), number(stage.low_ttl), stage.stage, number(stage.not_before)},
        "storing a staged change");
  }

  std::optional<PtrStageRecord> stage(const std::string& region, const std::string& ip) override {
    const auto rows = connection_.query(
        "SELECT region, ip, value, ttl, original_value, original_ttl, low_ttl, stage, not_before "
        "FROM ptr_stages WHERE region = $1 AND ip = $2",
        {region, ip}, "reading a staged change");
    if (PQntuples(rows.get()) == 0) return std::nullopt;
    PtrStageRecord stage;
    stage.region = pg_text(*rows, 0, 0);
    stage.ip = pg_text(*rows, 0, 1);
    stage.value = pg_text(*rows, 0, 2);
    stage.ttl = static_cast<int>(pg_int(*rows, 0, 3));
    stage.original_value = pg_text(*rows, 0, 4);
    stage.original_ttl = static_cast<int>(pg_int(*rows, 0, 5));
    stage.low_ttl = static_cast<int>(pg_int(*rows, 0, 6));
    stage.stage = pg_text(*rows, 0, 7);
    stage.not_before = pg_int(*rows, 0, 8);
    return stage;
  }

  void clear_stage(const std::string& region, const std::string& ip) override {
    connection_.query("DELETE FROM ptr_stages WHERE region = $1 AND ip = $2", {region, ip},
                      "removing a staged change");
  }

  void add_risks(const std::vector<PtrRiskRecord>& risks) override {
    PgTransaction transaction(connection_);
    for (const auto& risk : risks) {
      connection_.query(
          fmt::format("INSERT INTO ptr_risks (checked_at, region, ip, level, code, reason, "
                      "action) VALUES ({}, $1, $2, $3, $4, $5, $6)",
                      kNow),
          {risk.region, risk.ip, risk.level, risk.code, risk.reason, risk.action},
          "storing risk findings");
    }
    transaction.commit();
  }

  std::vector<PtrRiskRecord> risks(const std::string& region, std::size_t limit) override {
    const auto rows = connection_.query(
        "SELECT checked_at, region, ip, level, code, reason, action FROM ptr_risks "
        "WHERE region = $1 ORDER BY id DESC LIMIT $2::bigint",
        {region, number(detail::journal_limit(limit))}, "reading risk findings");
    std::vector<PtrRiskRecord> out;
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      out.push_back({pg_text(*rows, row, 0), pg_text(*rows, row, 1), pg_text(*rows, row, 2),
                     pg_text(*rows, row, 3), pg_text(*rows, row, 4), pg_text(*rows, row, 5),
                     pg_text(*rows, row, 6)});
    }
    return out;
  }

  bool try_lock_writers() override {
    const auto locked =
        connection_.query("SELECT pg_try_advisory_lock($1::int, $2::int)",
                          {number(kApplicationId), number(kWritersLock)}, "locking the journal");
    return pg_text(*locked, 0, 0) == "t";
  }

 private:
  std::vector<PtrOperationRecord> select(const std::string& where,
                                         const std::vector<PgParam>& params,
                                         std::string_view action) {
    const auto rows = connection_.query(
        fmt::format("SELECT {} FROM ptr_operations {}", kOperationColumns, where), params, action);
    std::vector<PtrOperationRecord> out;
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      out.push_back(read_operation(*rows, row));
    }
    return out;
  }

  PgConnection connection_;
};

}  // namespace

std::unique_ptr<detail::JournalStore> detail::open_postgres_journal(const std::string& url) {
  return std::make_unique<PostgresJournal>(url);
}

}  // namespace rdns::db
