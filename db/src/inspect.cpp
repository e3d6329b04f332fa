#include "inspect.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <string>
#include <system_error>

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <util/error.hpp>

#include "migrations.hpp"

namespace rdns::db {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};
constexpr std::size_t kHeaderSize = 100;
constexpr std::size_t kApplicationIdOffset = 68;

std::int32_t read_be32(const std::array<char, kHeaderSize>& header, std::size_t offset) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<unsigned char>(header[offset + i]);
  }
  return static_cast<std::int32_t>(value);
}

std::string foreign_application(std::int32_t application_id) {
  return fmt::format("it belongs to another application (application_id 0x{:08X})",
                     static_cast<std::uint32_t>(application_id));
}

bool is_uri_safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '.' || c == '_' || c == '-' || c == '~';
}

// immutable=1 makes SQLite skip locking, the rollback journal and the WAL, so
// it creates no -wal or -shm file. That is only faithful while no -wal file
// exists: a WAL holds committed pages the main file does not have yet.
std::string immutable_uri(const fs::path& path) {
  std::string uri = "file:";
  for (const unsigned char c : fs::absolute(path).string()) {
    if (is_uri_safe(c)) {
      uri += static_cast<char>(c);
    } else {
      uri += fmt::format("%{:02X}", c);
    }
  }
  return uri + "?immutable=1";
}

void quick_check(SQLite::Database& connection, const fs::path& path) {
  SQLite::Statement check(connection, "PRAGMA quick_check(1)");
  std::string verdict = check.executeStep() ? check.getColumn(0).getString() : "no verdict";
  std::replace(verdict.begin(), verdict.end(), '\n', ' ');  // keep the message one line
  if (verdict != "ok") {
    refuse(path, fmt::format("it is corrupt (PRAGMA quick_check: {})", verdict));
  }
}

FileKind inspect_with_sqlite(const fs::path& path) {
  try {
    SQLite::Database connection = open_read_only_connection(path);
    const FileKind kind = classify(read_identity(connection), path);
    if (kind == FileKind::ours) {
      quick_check(connection, path);
    }
    return kind;
  } catch (const SQLite::Exception& error) {
    switch (error.getErrorCode()) {
      case SQLITE_CORRUPT:
        refuse(path, fmt::format("it is corrupt ({})", error.what()));
      case SQLITE_NOTADB:
        refuse(path, fmt::format("it is not a SQLite database ({})", error.what()));
      default:
        refuse(path, fmt::format("it cannot be read ({})", error.what()));
    }
  }
}

}  // namespace

SQLite::Database open_read_only_connection(const fs::path& path) {
  fs::path wal = path;
  wal += "-wal";
  std::error_code ignored;
  if (fs::exists(wal, ignored)) {
    // A WAL means an rdnsctl is using the file, kept it (PERSIST_WAL) or
    // crashed; reading it needs the -shm index, which SQLite creates if it
    // is missing and the directory allows.
    return SQLite::Database(path.string(), SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX,
                            kBusyTimeoutMs);
  }
  return SQLite::Database(immutable_uri(path), SQLite::OPEN_READONLY | SQLite::OPEN_URI);
}

void refuse(const fs::path& path, std::string_view reason) {
  throw Error(Errc::database, fmt::format("refusing database {}: {}", path.string(), reason));
}

Identity read_identity(SQLite::Database& connection) {
  Identity identity;
  identity.application_id = connection.execAndGet("PRAGMA application_id").getInt();
  identity.user_version = connection.execAndGet("PRAGMA user_version").getInt64();
  identity.schema_objects = connection.execAndGet("SELECT count(*) FROM sqlite_master").getInt64();
  return identity;
}

FileKind classify(const Identity& identity, const fs::path& path) {
  if (identity.application_id == 0) {
    if (identity.schema_objects > 0) {
      refuse(path,
             "it is a SQLite database of another application (it has tables but no "
             "rdnsctl application_id)");
    }
    if (identity.user_version != 0) {
      refuse(path, fmt::format("it is a SQLite database of another application (it has "
                               "user_version {} but no rdnsctl application_id)",
                               identity.user_version));
    }
    return FileKind::blank;
  }
  if (identity.application_id != kApplicationId) {
    refuse(path, foreign_application(identity.application_id));
  }
  const auto latest = static_cast<std::int64_t>(kMigrations.size());
  if (identity.user_version > latest) {
    refuse(path, fmt::format("its schema version {} is newer than this rdnsctl supports ({}); "
                             "use a newer rdnsctl",
                             identity.user_version, latest));
  }
  if (identity.user_version < 0) {
    refuse(path, fmt::format("its schema version {} is invalid", identity.user_version));
  }
  return FileKind::ours;
}

FileKind inspect_database_file(const fs::path& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) {
    return FileKind::absent;
  }
  if (error) {
    refuse(path, fmt::format("it cannot be examined ({})", error.message()));
  }
  if (!fs::is_regular_file(status)) {
    refuse(path, "it is not a regular file");
  }
  const std::uintmax_t size = fs::file_size(path, error);
  if (error) {
    refuse(path, fmt::format("it cannot be examined ({})", error.message()));
  }
  if (size == 0) {
    return FileKind::blank;
  }
  // Recognise non-SQLite files and other applications' databases from the
  // raw header, before SQLite is involved at all.
  if (size < kHeaderSize) {
    refuse(path, "it is not a SQLite database");
  }
  std::array<char, kHeaderSize> header{};
  std::ifstream file(path, std::ios::binary);
  if (!file.read(header.data(), header.size())) {
    refuse(path, "it cannot be read");
  }
  if (std::string_view(header.data(), kSqliteMagic.size()) != kSqliteMagic) {
    refuse(path, "it is not a SQLite database");
  }
  const std::int32_t application_id = read_be32(header, kApplicationIdOffset);
  if (application_id != 0 && application_id != kApplicationId) {
    refuse(path, foreign_application(application_id));
  }
  return inspect_with_sqlite(path);
}

}  // namespace rdns::db
