#pragma once
/// A thin RAII layer over libpq for the PostgreSQL storage: one connection,
/// text parameters, errors as rdns::Error naming the URL with its password
/// masked. libpq reads PG* environment variables, ~/.pgpass and the URL's
/// parameters (sslmode=…) itself.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <libpq-fe.h>

namespace rdns::db::detail {

/// Now as the tables store times: UTC, ISO 8601 with 'Z' (SQLite's
/// strftime('%Y-%m-%dT%H:%M:%SZ', 'now')). The transaction's start: every
/// row a transaction writes gets the same time.
inline constexpr std::string_view kNow =
    R"(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))";

/// The URL as it may be shown: the password after "user:" and any
/// password=… parameter replaced by "***".
std::string mask_database_url(std::string_view url);

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

/// A statement parameter: text, or NULL.
using PgParam = std::optional<std::string>;

class PgConnection {
 public:
  /// Connects to url; throws Errc::database (Errc::io when the server is not
  /// reachable), naming the masked URL.
  explicit PgConnection(const std::string& url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// The URL with its password masked.
  const std::string& name() const { return name_; }

  /// Runs one or more statements without parameters.
  void exec(std::string_view sql, std::string_view action);
  /// Runs one statement; the rows it returned (none for a command).
  PgResult query(std::string_view sql, const std::vector<PgParam>& params, std::string_view action);
  /// Runs one query and hands each row to visit as it arrives, so a large
  /// result is never held in memory.
  void stream(std::string_view sql, const std::vector<PgParam>& params, std::string_view action,
              const std::function<void(const PGresult& row)>& visit);
  /// COPY … FROM STDIN with `data` in COPY's text format.
  void copy_in(std::string_view copy_sql, std::string_view data, std::string_view action);
  /// Starts COPY … FROM STDIN and sends `data` without waiting for the
  /// server to take the rows, so the caller can go on (encode the next
  /// batch) meanwhile. finish_copy must come before any other command.
  void send_copy(std::string_view copy_sql, std::string_view data, std::string_view action);
  /// The outcome of send_copy: true when the rows are in, false when the
  /// server refused them with one of the SQLSTATEs `refusals` (the
  /// transaction is then aborted and must be rolled back); throws on any
  /// other failure.
  bool finish_copy(std::initializer_list<std::string_view> refusals, std::string_view action);

  /// Runs `settle` once, before the next command on this connection (from
  /// any method here): how a batch still in flight is finished before
  /// anything else uses the connection.
  void before_next_command(std::function<void()> settle) { before_next_ = std::move(settle); }

  /// An error naming the URL and the action, with libpq's message (the
  /// password scrubbed from it).
  [[noreturn]] void fail(std::string_view action, const PGresult* result) const;

 private:
  void expect(const PGresult* result, ExecStatusType wanted, std::string_view action) const;
  std::string scrub(std::string text) const;
  /// Runs and forgets the before_next_command hook, if one is set.
  void settle_first();

  PGconn* connection_ = nullptr;
  std::string name_;
  std::string password_;  ///< from the URL, only to scrub it from messages
  std::function<void()> before_next_;
};

/// Text of a column, "" for NULL.
std::string pg_text(const PGresult& result, int row, int column);
bool pg_null(const PGresult& result, int row, int column);
std::int64_t pg_int(const PGresult& result, int row, int column);

/// Runs a transaction's body: BEGIN, then COMMIT when body returns, ROLLBACK
/// when it throws.
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection& connection);
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void commit();

 private:
  PgConnection& connection_;
  bool open_ = true;
};

}  // namespace rdns::db::detail
