#pragma once
/// What the provisioning engine needs from its journal: each write stored
/// before the call (intent) and after it (outcome), the operations a crash
/// left pending, which IPs' records this tool manages, staged changes in
/// progress and the risk passes. The rdnsctl database implements it
/// (db/engine_journal.hpp); tests use it in memory.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rdns::provision {

/// One PTR write as journaled.
struct JournalOperation {
  std::int64_t id = 0;
  std::chrono::system_clock::time_point started;  ///< when the intent was stored
  std::string source;  ///< what asked for it: "ptr set", "apply plan.json", "rollback 3"
  std::string action;  ///< create|update|delete|enable|disable
  std::string region;
  std::string ip;
  std::string record_id;  ///< known before the call except for create
  std::string value;      ///< the value written (create, update)
  int ttl = 0;
  std::string previous_value;  ///< empty when the IP had no record
  int previous_ttl = 0;
  std::string previous_status;  ///< enabled|disabled, empty when no record
  std::string state;            ///< pending|done|failed|not_applied
};

/// A staged value change in progress (`ptr change`), persisted after each step.
struct StagedChange {
  std::string region;
  std::string ip;
  std::string value;           ///< the new value
  int ttl = 0;                 ///< the TTL to restore at the end
  std::string original_value;  ///< the value when the change began
  int original_ttl = 0;
  int low_ttl = 0;              ///< the TTL held during the switch
  std::string stage;            ///< lower|wait|switch|confirm|restore
  std::int64_t not_before = 0;  ///< Unix time the wait stage ends
};

/// One finding of a risk pass about a managed record.
struct RiskFinding {
  std::string region;
  std::string ip;
  std::string level;   ///< ok|low|medium|high
  std::string code;    ///< IP_NOT_OWNED, FCRDNS_BROKEN, ...
  std::string reason;  ///< in words
  std::string action;  ///< what to do
};

class Journal {
 public:
  virtual ~Journal() = default;

  /// Stores the intent durably (state pending, before the call); returns its id.
  virtual std::int64_t begin(const JournalOperation& operation) = 0;
  /// Stores the outcome: state done, failed or not_applied.
  virtual void finish(std::int64_t id, const std::string& state, const std::string& outcome,
                      const std::string& request_id, const std::string& record_id) = 0;
  /// Pending operations of a region, oldest first.
  virtual std::vector<JournalOperation> pending(const std::string& region) = 0;
  virtual std::optional<JournalOperation> find(std::int64_t id) = 0;

  /// Marks ip's record in region as managed by this tool (or not any more).
  virtual void set_managed(const std::string& region, const std::string& ip, bool managed) = 0;
  /// Managed IPs of a region, in text order.
  virtual std::vector<std::string> managed(const std::string& region) = 0;

  /// Creates or replaces the staged change of (region, ip).
  virtual void save_stage(const StagedChange& stage) = 0;
  virtual std::optional<StagedChange> stage(const std::string& region, const std::string& ip) = 0;
  virtual void clear_stage(const std::string& region, const std::string& ip) = 0;

  /// Stores one risk pass.
  virtual void add_risks(const std::vector<RiskFinding>& risks) = 0;
};

}  // namespace rdns::provision
