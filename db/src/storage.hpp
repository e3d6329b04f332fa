#pragma once
/// The storage behind db::Database: one interface, implemented over a SQLite
/// file (sqlite_storage.cpp) and over a PostgreSQL database
/// (postgres_storage.cpp). Database checks its arguments and forwards; each
/// method here has the contract of the Database method of the same name.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <db/database.hpp>

namespace rdns::db::detail {

class Storage {
 public:
  virtual ~Storage() = default;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  /// arguments_json is valid JSON (Database checked it).
  virtual std::int64_t begin_run(std::string_view command, std::string_view arguments_json,
                                 const std::vector<std::string>& resolvers,
                                 std::string_view tool_version, const RunLabel& label,
                                 const std::optional<RunShard>& shard) = 0;
  /// arguments_json is valid JSON; shard.count >= 1.
  virtual ShardJoin join_named_run(std::string_view name, std::string_view command,
                                   std::string_view arguments_json,
                                   const std::vector<std::string>& resolvers,
                                   std::string_view tool_version, const RunLabel& label,
                                   const RunShard& shard,
                                   const std::function<void(const RunInfo&)>& accept) = 0;
  /// state is not running.
  virtual ShardEnd finish_shard(std::int64_t run_id, std::int64_t shard_index, RunState state,
                                const RunCounts& counts) = 0;
  virtual std::vector<ShardProgress> run_shards(std::int64_t run_id) = 0;
  /// results is not empty; lists[i] is results[i]'s lists, encoded.
  virtual void add_results(std::int64_t run_id, std::span<const ResultRecord> results,
                           std::span<const ResultJson> lists) = 0;
  /// state is not running.
  virtual void finish_run(std::int64_t run_id, RunState state, const RunCounts& counts) = 0;
  virtual std::vector<RunInfo> list_runs(std::size_t limit, const RunFilter& filter) = 0;
  virtual std::optional<RunInfo> previous_comparable_run(std::int64_t run_id) = 0;
  virtual std::optional<RunInfo> find_run(std::int64_t run_id) = 0;
  virtual std::optional<std::int64_t> latest_run_id() = 0;
  virtual void visit_results(std::int64_t run_id,
                             const std::function<void(const ResultRecord&)>& visit) = 0;
  virtual void visit_result_pairs(
      std::int64_t from_run, std::int64_t to_run,
      const std::function<void(const ResultRecord*, const ResultRecord*)>& visit) = 0;
  virtual std::vector<AddressResult> address_results(const std::string& ip, std::size_t limit,
                                                     const std::string& inventory) = 0;
  /// run_ids is not empty.
  virtual void visit_statuses(
      std::span<const std::int64_t> run_ids,
      const std::function<void(std::int64_t, const std::string&, Status)>& visit) = 0;
  virtual void store_targets(std::int64_t run_id, std::span<const AddressRange> ranges) = 0;
  virtual std::vector<AddressRange> targets(std::int64_t run_id) = 0;
  virtual void visit_result_addresses(std::int64_t run_id,
                                      const std::function<void(const std::string&)>& visit) = 0;
  virtual RunCounts count_results(std::int64_t run_id) = 0;
  virtual void reopen_run(std::int64_t run_id) = 0;
  virtual void add_domain_findings(std::int64_t run_id,
                                   std::span<const DomainFindingRecord> findings) = 0;
  virtual std::vector<DomainFindingRecord> domain_findings(std::int64_t run_id) = 0;
  /// policy is valid (Database checked it).
  virtual PruneOutcome prune(const PrunePolicy& policy) = 0;
  virtual std::int64_t schema_version() const = 0;
  /// The file, or the URL without its password.
  virtual const std::filesystem::path& path() const = 0;
};

std::unique_ptr<Storage> open_sqlite_storage(const std::filesystem::path& path);
std::unique_ptr<Storage> open_sqlite_storage_read_only(const std::filesystem::path& path);
std::unique_ptr<Storage> open_postgres_storage(const std::string& url, bool read_only);

}  // namespace rdns::db::detail
