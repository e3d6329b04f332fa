#pragma once
/// Deciding whether a file may be opened for writing, by reading it only: the
/// write-mode setup (journal_mode=WAL, migrations) alters a file, and a file
/// we refuse must be left exactly as it was.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include <SQLiteCpp/Database.h>

namespace rdns::db {

/// Long enough to ride out another rdnsctl committing a batch.
inline constexpr int kBusyTimeoutMs = 5000;

/// What an acceptable file holds.
enum class FileKind {
  absent,  ///< nothing at the path yet
  blank,   ///< zero bytes, or SQLite with no tables and no application: ours to initialise
  ours,    ///< an rdnsctl database this binary can open
};

/// The header fields and schema size that tell whose a SQLite file is.
struct Identity {
  std::int32_t application_id = 0;
  std::int64_t user_version = 0;
  std::int64_t schema_objects = 0;
};

/// Throws Error(Errc::database) naming path and reason.
[[noreturn]] void refuse(const std::filesystem::path& path, std::string_view reason);

Identity read_identity(SQLite::Database& connection);

/// Refuses a file that is not ours or is newer than kMigrations; tells blank
/// from ours otherwise.
FileKind classify(const Identity& identity, const std::filesystem::path& path);

/// A read-only connection that writes nothing next to the file: SQLite's own
/// read-only mode while the -wal and -shm files exist (a writer keeps them,
/// with the database's permissions), immutable=1 when there is no WAL. So a
/// user who may read the file but not write its directory can open it.
SQLite::Database open_read_only_connection(const std::filesystem::path& path);

/// Refuses, without writing anything next to or into it, a file at path that
/// is not SQLite, belongs to another application, is newer than this binary
/// or fails PRAGMA quick_check.
FileKind inspect_database_file(const std::filesystem::path& path);

}  // namespace rdns::db
