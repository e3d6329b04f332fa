#pragma once
/// What both storage backends share: how a result is encoded into the
/// columns of the results table (JSON text, canonical address, raw address
/// bytes) and decoded back, how a stored run row becomes a RunInfo, and the
/// checks on what callers pass in. A stored value outside the vocabulary is
/// damage (Errc::database naming the database), never read as some default.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <db/database.hpp>
#include <db/result_json.hpp>
#include <util/error.hpp>

namespace rdns::db::detail {

/// The run columns decode_run reads, in its order (same names in both backends).
inline constexpr std::string_view kRunColumns =
    "id, started_at, finished_at, state, command, arguments, resolvers, tool_version, "
    "count_total, count_pass, count_warn, count_fail, count_unknown, inventory, identity, checks, "
    "shard_index, shard_count, name, (SELECT count(*) FROM run_shards WHERE run_shards.run_id = "
    "runs.id AND run_shards.state = 'complete')";
inline constexpr int kRunColumnCount = 20;  ///< how many columns kRunColumns names

/// The result columns decode_result reads, in its order.
inline constexpr std::string_view kResultColumns =
    "results.ip, results.family, results.status, results.ptr, results.forward, results.sources, "
    "results.findings, results.smtp";
inline constexpr int kResultColumnCount = 8;

/// An IP in the forms the results table stores: canonical text for lookups by
/// IP, raw network-order bytes for numeric ordering.
struct ParsedAddress {
  std::string family;
  std::string canonical;
  std::array<unsigned char, 16> bytes{};
  int size = 0;
};

/// Throws Errc::internal for text that is no IP address.
ParsedAddress parse_address(const std::string& ip);

/// A result's address and status as the results table holds them; its
/// lists are result_json's.
struct EncodedResult {
  ParsedAddress address;
  std::string status;
};

/// The resolver list as runs.resolvers stores it (a JSON array).
std::string resolvers_json(const std::vector<std::string>& resolvers);

/// Refuses (Errc::internal) an address that is not of the record's family.
EncodedResult encode_result(const ResultRecord& result);

/// The text columns of one stored result (kResultColumns' order).
struct StoredResult {
  std::string ip;
  std::string family;
  std::string status;
  std::string ptr;
  std::string forward;
  std::string sources;
  std::string findings;
  std::optional<std::string> smtp;
};

/// The columns of one stored run (kRunColumns' order), as text and numbers.
struct StoredRun {
  std::int64_t id = 0;
  std::string started_at;
  std::string finished_at;  ///< empty when NULL
  std::string state;
  std::string command;
  std::string arguments;
  std::string resolvers;
  std::string tool_version;
  RunCounts counts;
  std::string inventory;
  std::string identity;
  std::string checks;
  std::optional<RunShard> shard;
  std::string name;        ///< empty when NULL
  std::int64_t parts = 0;  ///< shard_count of a named run (shard_index NULL)
  std::int64_t parts_complete = 0;
};

/// The run_shards columns Decoder::shard reads, in its order.
inline constexpr std::string_view kShardColumns =
    "shard_index, shard_count, state, started_at, finished_at, count_total, count_pass, "
    "count_warn, count_fail, count_unknown, attempts";

/// The columns of one run_shards row (kShardColumns' order).
struct StoredShard {
  std::int64_t index = 0;
  std::int64_t count = 0;
  std::string state;
  std::string started_at;
  std::string finished_at;  ///< empty when NULL
  RunCounts counts;
  std::int64_t attempts = 0;
};

/// The refusal of a shard whose N is not its named run's.
Error different_shard_count(std::string_view name, std::int64_t run_id, std::int64_t stored,
                            const RunShard& given);

/// Reads stored rows back, naming `database` (a path, or a URL without its
/// password) in every complaint about damage.
class Decoder {
 public:
  explicit Decoder(std::string database) : database_(std::move(database)) {}

  ResultRecord result(const StoredResult& stored, std::int64_t run_id) const;
  RunInfo run(StoredRun stored) const;
  ShardProgress shard(StoredShard stored, std::int64_t run_id) const;
  Status status(const std::string& text, std::int64_t run_id, const std::string& ip) const;
  Severity domain_severity(const std::string& text, std::int64_t run_id,
                           const std::string& domain) const;
  [[noreturn]] void damaged(std::int64_t run_id, std::string_view what) const;

 private:
  std::string database_;
};

/// Throws Errc::usage for a policy with no rule or a rule out of range.
void validate(const PrunePolicy& policy);

}  // namespace rdns::db::detail
