#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <db/database.hpp>
#include <db/result_json.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "codec.hpp"
#include "migrations.hpp"
#include "pg_connection.hpp"
#include "storage.hpp"

namespace rdns::db {

namespace fs = std::filesystem;

namespace {

/// The counter of `status` in counts (const or not).
template <typename Counts>
auto& status_counter(Counts& counts, Status status) {
  switch (status) {
    case Status::pass:
      return counts.pass;
    case Status::warn:
      return counts.warn;
    case Status::fail:
      return counts.fail;
    case Status::unknown:
      return counts.unknown;
  }
  return counts.unknown;
}

}  // namespace

void RunCounts::add(Status status) {
  ++total;
  ++status_counter(*this, status);
}

std::int64_t RunCounts::of(Status status) const {
  return status_counter(*this, status);
}

std::string_view to_string(RunState state) {
  switch (state) {
    case RunState::running:
      return "running";
    case RunState::complete:
      return "complete";
    case RunState::interrupted:
      return "interrupted";
    case RunState::failed:
      return "failed";
  }
  return "unknown";
}

bool is_database_url(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string displayed_location(std::string_view location) {
  return is_database_url(location) ? detail::mask_database_url(location) : std::string(location);
}

Database::Database(std::unique_ptr<detail::Storage> storage) : storage_(std::move(storage)) {}
Database::~Database() = default;
Database::Database(Database&& other) noexcept = default;
Database& Database::operator=(Database&& other) noexcept = default;

Database Database::open(const fs::path& path) {
  if (is_database_url(path.native())) {
    return Database(detail::open_postgres_storage(path.native(), false));
  }
  return Database(detail::open_sqlite_storage(path));
}

Database Database::open_read_only(const fs::path& path) {
  if (is_database_url(path.native())) {
    return Database(detail::open_postgres_storage(path.native(), true));
  }
  return Database(detail::open_sqlite_storage_read_only(path));
}

std::int64_t Database::latest_schema_version() {
  return static_cast<std::int64_t>(kMigrations.size());
}

std::int64_t Database::begin_run(std::string_view command, std::string_view arguments_json,
                                 const std::vector<std::string>& resolvers,
                                 std::string_view tool_version, const RunLabel& label,
                                 const std::optional<RunShard>& shard) {
  if (!nlohmann::json::accept(arguments_json)) {
    throw Error(Errc::internal,
                fmt::format("cannot begin run: arguments are not valid JSON: {}", arguments_json));
  }
  return storage_->begin_run(command, arguments_json, resolvers, tool_version, label, shard);
}

ShardJoin Database::join_named_run(std::string_view name, std::string_view command,
                                   std::string_view arguments_json,
                                   const std::vector<std::string>& resolvers,
                                   std::string_view tool_version, const RunLabel& label,
                                   const RunShard& shard,
                                   const std::function<void(const RunInfo&)>& accept) {
  if (name.empty() || !nlohmann::json::accept(arguments_json) || shard.count < 1 ||
      shard.index < 1 || shard.index > shard.count) {
    throw Error(Errc::internal,
                fmt::format("cannot join run '{}' as shard {}/{}: invalid arguments",
                            escape_text(name), shard.index, shard.count));
  }
  return storage_->join_named_run(name, command, arguments_json, resolvers, tool_version, label,
                                  shard, accept);
}

ShardEnd Database::finish_shard(std::int64_t run_id, std::int64_t shard_index, RunState state,
                                const RunCounts& counts) {
  if (state == RunState::running) {
    throw Error(Errc::internal,
                fmt::format("cannot end shard {} of run {} in state running", shard_index, run_id));
  }
  return storage_->finish_shard(run_id, shard_index, state, counts);
}

std::vector<ShardProgress> Database::run_shards(std::int64_t run_id) {
  return storage_->run_shards(run_id);
}

void Database::add_results(std::int64_t run_id, std::span<const ResultRecord> results) {
  std::vector<ResultJson> lists;
  lists.reserve(results.size());
  for (const ResultRecord& result : results) lists.push_back(result_json(result));
  add_results(run_id, results, lists);
}

void Database::add_results(std::int64_t run_id, std::span<const ResultRecord> results,
                           std::span<const ResultJson> lists) {
  if (results.empty()) return;
  if (lists.size() != results.size()) {
    throw Error(Errc::internal, "storing results: each result needs its encoded lists");
  }
  storage_->add_results(run_id, results, lists);
}

void Database::finish_run(std::int64_t run_id, RunState state, const RunCounts& counts) {
  if (state == RunState::running) {
    throw Error(Errc::internal, fmt::format("cannot finish run {} in state running", run_id));
  }
  storage_->finish_run(run_id, state, counts);
}

std::vector<RunInfo> Database::list_runs(std::size_t limit, const RunFilter& filter) {
  return storage_->list_runs(limit, filter);
}

std::optional<RunInfo> Database::previous_comparable_run(std::int64_t run_id) {
  return storage_->previous_comparable_run(run_id);
}

std::optional<RunInfo> Database::find_run(std::int64_t run_id) {
  return storage_->find_run(run_id);
}

std::optional<std::int64_t> Database::latest_run_id() {
  return storage_->latest_run_id();
}

std::vector<ResultRecord> Database::results(std::int64_t run_id) {
  std::vector<ResultRecord> results;
  visit_results(run_id, [&](const ResultRecord& record) { results.push_back(record); });
  return results;
}

void Database::visit_results(std::int64_t run_id,
                             const std::function<void(const ResultRecord&)>& visit) {
  storage_->visit_results(run_id, visit);
}

void Database::visit_result_pairs(
    std::int64_t from_run, std::int64_t to_run,
    const std::function<void(const ResultRecord*, const ResultRecord*)>& visit) {
  storage_->visit_result_pairs(from_run, to_run, visit);
}

std::vector<AddressResult> Database::address_results(const std::string& ip, std::size_t limit,
                                                     const std::string& inventory) {
  return storage_->address_results(ip, limit, inventory);
}

void Database::visit_statuses(
    std::span<const std::int64_t> run_ids,
    const std::function<void(std::int64_t, const std::string&, Status)>& visit) {
  if (run_ids.empty()) return;
  storage_->visit_statuses(run_ids, visit);
}

void Database::store_targets(std::int64_t run_id, std::span<const AddressRange> ranges) {
  storage_->store_targets(run_id, ranges);
}

std::vector<AddressRange> Database::targets(std::int64_t run_id) {
  return storage_->targets(run_id);
}

std::vector<std::string> Database::result_addresses(std::int64_t run_id) {
  std::vector<std::string> addresses;
  visit_result_addresses(run_id, [&](const std::string& ip) { addresses.push_back(ip); });
  return addresses;
}

void Database::visit_result_addresses(std::int64_t run_id,
                                      const std::function<void(const std::string&)>& visit) {
  storage_->visit_result_addresses(run_id, visit);
}

RunCounts Database::count_results(std::int64_t run_id) {
  return storage_->count_results(run_id);
}

void Database::reopen_run(std::int64_t run_id) {
  storage_->reopen_run(run_id);
}

void Database::add_domain_findings(std::int64_t run_id,
                                   std::span<const DomainFindingRecord> findings) {
  storage_->add_domain_findings(run_id, findings);
}

std::vector<DomainFindingRecord> Database::domain_findings(std::int64_t run_id) {
  return storage_->domain_findings(run_id);
}

PruneOutcome Database::prune(const PrunePolicy& policy) {
  detail::validate(policy);
  return storage_->prune(policy);
}

std::int64_t Database::schema_version() const {
  return storage_->schema_version();
}

const fs::path& Database::path() const {
  return storage_->path();
}

}  // namespace rdns::db
