#pragma once
/// The journal of PTR writes: each operation is stored before the cloud call
/// (intent) and after it (outcome), so a process killed in between leaves a
/// pending row that the next run reconciles against the remote state, and
/// no operation is ever lost or carried out twice. Also which IPs' records
/// this tool manages. Plain records: db knows nothing of the cloud client.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rdns::db {

namespace detail {
class JournalStore;
}

/// One PTR write as journaled.
struct PtrOperationRecord {
  std::int64_t id = 0;
  std::string created_at;   ///< UTC ISO 8601, when the intent was stored
  std::string finished_at;  ///< empty while pending
  std::string source;       ///< what asked for it: "ptr set", "apply plan.csv", "rollback 3"
  std::string action;       ///< create|update|delete|enable|disable
  std::string region;
  std::string ip;
  std::string record_id;  ///< known before the call except for create
  std::string value;      ///< the value written (create, update)
  int ttl = 0;
  std::string previous_value;  ///< empty when the IP had no record
  int previous_ttl = 0;
  std::string previous_status;  ///< enabled|disabled, empty when no record
  std::string state;            ///< pending|done|failed|not_applied
  std::string outcome;          ///< what happened, in words (error message, "reconciled: ...")
  std::string request_id;       ///< the API's RequestId of the write, when known

  bool operator==(const PtrOperationRecord&) const = default;
};

/// One finding of `ptr risk` about a managed record, kept to show risk over time.
struct PtrRiskRecord {
  std::string checked_at;  ///< UTC ISO 8601, set when stored
  std::string region;
  std::string ip;
  std::string level;   ///< ok|low|medium|high
  std::string code;    ///< IP_NOT_OWNED, FCRDNS_BROKEN, ...
  std::string reason;  ///< in words
  std::string action;  ///< what to do

  bool operator==(const PtrRiskRecord&) const = default;
};

/// A staged value change in progress (`ptr change`): lower the TTL, wait out
/// the old one, switch, confirm in DNS, restore the TTL. Persisted after each
/// step so an interrupted change resumes where it stopped.
struct PtrStageRecord {
  std::string region;
  std::string ip;
  std::string value;           ///< the new value
  int ttl = 0;                 ///< the TTL to restore at the end
  std::string original_value;  ///< the value when the change began
  int original_ttl = 0;
  int low_ttl = 0;              ///< the TTL held during the switch
  std::string stage;            ///< lower|wait|switch|confirm|restore
  std::int64_t not_before = 0;  ///< Unix time the wait stage ends

  bool operator==(const PtrStageRecord&) const = default;
};

/// The journal in the rdnsctl database (migration 5): a SQLite file or a
/// PostgreSQL database (a postgresql:// URL, as Database::open takes). Not
/// thread-safe.
class PtrJournal {
 public:
  /// Opens (creating and migrating, as Database::open does) the database at path.
  static PtrJournal open(const std::filesystem::path& path);
  ~PtrJournal();
  PtrJournal(PtrJournal&&) noexcept;
  PtrJournal& operator=(PtrJournal&&) noexcept;

  /// Stores the intent durably (state pending, before the call); returns its id.
  std::int64_t begin(const PtrOperationRecord& operation);
  /// Stores the outcome: state done, failed or not_applied.
  void finish(std::int64_t id, const std::string& state, const std::string& outcome,
              const std::string& request_id = {}, const std::string& record_id = {});
  /// Pending operations of a region, oldest first: those a crash left behind.
  std::vector<PtrOperationRecord> pending(const std::string& region);
  std::optional<PtrOperationRecord> find(std::int64_t id);
  /// The newest first, at most limit.
  std::vector<PtrOperationRecord> list(std::size_t limit);

  /// Marks ip's record in region as managed by this tool (or not any more).
  void set_managed(const std::string& region, const std::string& ip, bool managed);
  /// Managed IPs of a region, in text order.
  std::vector<std::string> managed(const std::string& region);

  /// Creates or replaces the staged change of (region, ip).
  void save_stage(const PtrStageRecord& stage);
  std::optional<PtrStageRecord> stage(const std::string& region, const std::string& ip);
  /// Removes a finished staged change.
  void clear_stage(const std::string& region, const std::string& ip);

  /// Stores one `ptr risk` pass (one transaction, one timestamp).
  void add_risks(const std::vector<PtrRiskRecord>& risks);
  /// A region's stored risk findings, newest pass first, at most limit.
  std::vector<PtrRiskRecord> risks(const std::string& region, std::size_t limit);

  /// Makes this journal the only writer of its PostgreSQL database until it
  /// is closed (a session advisory lock: a killed process drops it); false
  /// while another one holds it. A SQLite journal answers true without
  /// locking: its writers lock the file beside it (run::lock_database).
  bool try_lock_writers();

 private:
  explicit PtrJournal(std::unique_ptr<detail::JournalStore> store);
  std::unique_ptr<detail::JournalStore> store_;
};

}  // namespace rdns::db
