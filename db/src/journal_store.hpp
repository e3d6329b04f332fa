#pragma once
/// Where the PTR journal lives: the tables of migration 5 in a SQLite file
/// (ptr_journal.cpp) or in a PostgreSQL database (postgres_journal.cpp).
/// PtrJournal forwards to one of these; each method has the contract of the
/// PtrJournal method of the same name.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <db/ptr_journal.hpp>

namespace rdns::db::detail {

class JournalStore {
 public:
  virtual ~JournalStore() = default;
  JournalStore() = default;
  JournalStore(const JournalStore&) = delete;
  JournalStore& operator=(const JournalStore&) = delete;

  virtual std::int64_t begin(const PtrOperationRecord& operation) = 0;
  virtual void finish(std::int64_t id, const std::string& state, const std::string& outcome,
                      const std::string& request_id, const std::string& record_id) = 0;
  virtual std::vector<PtrOperationRecord> pending(const std::string& region) = 0;
  virtual std::optional<PtrOperationRecord> find(std::int64_t id) = 0;
  virtual std::vector<PtrOperationRecord> list(std::size_t limit) = 0;
  virtual void set_managed(const std::string& region, const std::string& ip, bool managed) = 0;
  virtual std::vector<std::string> managed(const std::string& region) = 0;
  virtual void save_stage(const PtrStageRecord& stage) = 0;
  virtual std::optional<PtrStageRecord> stage(const std::string& region, const std::string& ip) = 0;
  virtual void clear_stage(const std::string& region, const std::string& ip) = 0;
  virtual void add_risks(const std::vector<PtrRiskRecord>& risks) = 0;
  virtual std::vector<PtrRiskRecord> risks(const std::string& region, std::size_t limit) = 0;
  virtual bool try_lock_writers() = 0;
};

std::unique_ptr<JournalStore> open_sqlite_journal(const std::filesystem::path& path);
std::unique_ptr<JournalStore> open_postgres_journal(const std::string& url);

/// The ptr_operations columns both stores read, in PtrOperationRecord's order.
inline constexpr const char* kOperationColumns =
    "id, created_at, COALESCE(finished_at, ''), source, action, region, ip, record_id, value, "
    "ttl, previous_value, previous_ttl, previous_status, state, outcome, request_id";

/// At most this many rows for a LIMIT: SQLite and PostgreSQL take a signed 64-bit limit.
inline std::int64_t journal_limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, std::size_t{1} << 30));
}

}  // namespace rdns::db::detail
