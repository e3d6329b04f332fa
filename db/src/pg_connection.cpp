#include "pg_connection.hpp"

#include <cstdlib>
#include <exception>
#include <utility>

#include <fmt/format.h>

#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::db::detail {
namespace {

constexpr std::string_view kMask = "***";
constexpr std::string_view kPasswordParameter = "password=";
/// Shorter passwords are not scrubbed from messages: replacing every "ab"
/// would garble them, and the URL shown is masked anyway.
constexpr std::size_t kMinScrubbedLength = 4;
/// SQLSTATE class 53: the server ran out of a resource (disk, memory).
constexpr std::string_view kInsufficientResources = "53";
/// SQLSTATE class 08: the connection failed or was lost.
constexpr std::string_view kConnectionException = "08";

/// Where the user:password@ part of a URL ends ('@'), or npos.
struct Authority {
  std::size_t begin = std::string_view::npos;
  std::size_t at = std::string_view::npos;
};

Authority find_authority(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  Authority authority;
  authority.begin = scheme_end + 3;
  std::size_t end = url.find_first_of("/?#", authority.begin);
  if (end == std::string_view::npos) end = url.size();
  const std::size_t at = url.substr(0, end).rfind('@');
  if (at != std::string_view::npos && at >= authority.begin) authority.at = at;
  return authority;
}

/// The password's position in url's user:password@ part, or npos.
std::pair<std::size_t, std::size_t> password_span(std::string_view url) {
  const Authority authority = find_authority(url);
  if (authority.at == std::string_view::npos) return {std::string_view::npos, 0};
  const std::size_t colon = url.find(':', authority.begin);
  if (colon == std::string_view::npos || colon > authority.at) return {std::string_view::npos, 0};
  return {colon + 1, authority.at - colon - 1};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.size() < kMinScrubbedLength) return;
  for (std::size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

// libpq prints server notices (CREATE … IF NOT EXISTS skipping) to stderr
// by default; they are of no use to a user of rdnsctl.
void ignore_notice(void* /*unused*/, const char* /*unused*/) {}

}  // namespace

std::string mask_database_url(std::string_view url) {
  std::string masked(url);
  const auto [begin, length] = password_span(masked);
  if (begin != std::string::npos) masked.replace(begin, length, kMask);
  const std::size_t query = masked.find('?');
  if (query == std::string::npos) return masked;
  for (std::size_t pos = query + 1; pos < masked.size();) {
    std::size_t end = masked.find('&', pos);
    if (end == std::string::npos) end = masked.size();
    if (masked.compare(pos, kPasswordParameter.size(), kPasswordParameter) == 0) {
      const std::size_t value = pos + kPasswordParameter.size();
      masked.replace(value, end - value, kMask);
      end = value + kMask.size();
    }
    pos = end + 1;
  }
  return masked;
}

PgConnection::PgConnection(const std::string& url) : name_(mask_database_url(url)) {
  const auto [begin, length] = password_span(url);
  if (begin != std::string::npos) password_ = url.substr(begin, length);
  connection_ = PQconnectdb(url.c_str());
  if (connection_ == nullptr) {
    throw Error(Errc::io,
                fmt::format("cannot connect to database {}: out of memory", escape_text(name_)));
  }
  if (PQstatus(connection_) != CONNECTION_OK) {
    const std::string message = scrub(PQerrorMessage(connection_));
    PQfinish(connection_);
    connection_ = nullptr;
    throw Error(Errc::io, fmt::format("cannot connect to database {}: {}", escape_text(name_),
                                      escape_text(message)));
  }
  PQsetNoticeProcessor(connection_, ignore_notice, nullptr);
}

PgConnection::~PgConnection() {
  if (connection_ != nullptr) PQfinish(connection_);
}

std::string PgConnection::scrub(std::string text) const {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (!password_.empty()) {
    replace_all(text, password_, kMask);
    replace_all(text, percent_decoded(password_), kMask);
  }
  return text;
}

void PgConnection::fail(std::string_view action, const PGresult* result) const {
  const std::string message =
      scrub(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection_));
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state != nullptr ? state : "";
  // A full disk or a lost server is the machine's state, not a bad database.
  const bool machine = sqlstate.starts_with(kInsufficientResources) ||
                       sqlstate.starts_with(kConnectionException) ||
                       PQstatus(connection_) != CONNECTION_OK;
  throw Error(
      machine ? Errc::io : Errc::database,
      fmt::format("database {}: {} failed: {}", escape_text(name_), action, escape_text(message)));
}

void PgConnection::expect(const PGresult* result, ExecStatusType wanted,
                          std::string_view action) const {
  if (result == nullptr || PQresultStatus(result) != wanted) fail(action, result);
}

void PgConnection::exec(std::string_view sql, std::string_view action) {
  settle_first();
  const PgResult result(PQexec(connection_, std::string(sql).c_str()));
  expect(result.get(), PGRES_COMMAND_OK, action);
}

namespace {

/// The C strings PQexecParams takes, pointing into params.
std::vector<const char*> param_values(const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& param : params) values.push_back(param ? param->c_str() : nullptr);
  return values;
}

}  // namespace

PgResult PgConnection::query(std::string_view sql, const std::vector<PgParam>& params,
                             std::string_view action) {
  settle_first();
  const std::vector<const char*> values = param_values(params);
  PgResult result(PQexecParams(connection_, std::string(sql).c_str(),
                               static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                               nullptr, 0));
  if (result == nullptr || (PQresultStatus(result.get()) != PGRES_TUPLES_OK &&
                            PQresultStatus(result.get()) != PGRES_COMMAND_OK)) {
    fail(action, result.get());
  }
  return result;
}

void PgConnection::stream(std::string_view sql, const std::vector<PgParam>& params,
                          std::string_view action,
                          const std::function<void(const PGresult& row)>& visit) {
  settle_first();
  const std::vector<const char*> values = param_values(params);
  if (PQsendQueryParams(connection_, std::string(sql).c_str(), static_cast<int>(values.size()),
                        nullptr, values.data(), nullptr, nullptr, 0) == 0 ||
      PQsetSingleRowMode(connection_) == 0) {
    fail(action, nullptr);
  }
  // Every result must be read, even after a failure or a throwing visit,
  // before the connection takes another command.
  std::exception_ptr thrown;
  while (PgResult result{PQgetResult(connection_)}) {
    if (thrown) continue;
    const ExecStatusType status = PQresultStatus(result.get());
    try {
      if (status == PGRES_SINGLE_TUPLE) {
        visit(*result);
      } else if (status != PGRES_TUPLES_OK) {
        fail(action, result.get());
      }
    } catch (...) {
      thrown = std::current_exception();
    }
  }
  if (thrown) std::rethrow_exception(thrown);
}

void PgConnection::copy_in(std::string_view copy_sql, std::string_view data,
                           std::string_view action) {
  send_copy(copy_sql, data, action);
  finish_copy({}, action);
}

void PgConnection::send_copy(std::string_view copy_sql, std::string_view data,
                             std::string_view action) {
  settle_first();
  const PgResult started(PQexec(connection_, std::string(copy_sql).c_str()));
  expect(started.get(), PGRES_COPY_IN, action);
  const bool sent = PQputCopyData(connection_, data.data(), static_cast<int>(data.size())) == 1;
  if (PQputCopyEnd(connection_, sent ? nullptr : "sending the rows failed") != 1) {
    fail(action, nullptr);
  }
}

bool PgConnection::finish_copy(std::initializer_list<std::string_view> refusals,
                               std::string_view action) {
  const PgResult finished(PQgetResult(connection_));
  // Drains the connection, so the next command starts on a clean slate.
  while (PgResult rest{PQgetResult(connection_)}) {
  }
  if (finished != nullptr && PQresultStatus(finished.get()) == PGRES_FATAL_ERROR) {
    const char* state = PQresultErrorField(finished.get(), PG_DIAG_SQLSTATE);
    for (const std::string_view refusal : refusals) {
      if (state != nullptr && refusal == state) return false;
    }
  }
  expect(finished.get(), PGRES_COMMAND_OK, action);
  return true;
}

void PgConnection::settle_first() {
  if (!before_next_) return;
  // Cleared first: the hook itself runs commands on this connection.
  const std::function<void()> settle = std::move(before_next_);
  before_next_ = nullptr;
  settle();
}

std::string pg_text(const PGresult& result, int row, int column) {
  return PQgetvalue(&result, row, column);
}

bool pg_null(const PGresult& result, int row, int column) {
  return PQgetisnull(&result, row, column) == 1;
}

std::int64_t pg_int(const PGresult& result, int row, int column) {
  return std::strtoll(PQgetvalue(&result, row, column), nullptr, 10);
}

PgTransaction::PgTransaction(PgConnection& connection) : connection_(connection) {
  connection_.exec("BEGIN", "beginning a transaction");
}

PgTransaction::~PgTransaction() {
  if (!open_) return;
  try {
    connection_.exec("ROLLBACK", "rolling back");
  } catch (const Error&) {  // NOLINT(bugprone-empty-catch): the first error is the one to report
  }
}

void PgTransaction::commit() {
  open_ = false;
  connection_.exec("COMMIT", "committing");
}

}  // namespace rdns::db::detail
