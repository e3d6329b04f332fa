#pragma once
/// The provisioning engine behind `rdnsctl ptr`: every write journaled
/// before and after the provider's call, operations a crash left pending
/// reconciled against what the provider shows, the pre-write checks on every
/// write path, drift refusal and the safety limit of apply, waiting until DNS
/// shows a change, the staged change, rollback and the risk pass. It works
/// on small interfaces (PtrProvider, Journal, DnsView, Clock), so tests drive
/// it in-process with fakes; what it has to say leaves it as events
/// (EngineObserver) and returned reports, which the command line prints.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <provision/api_error.hpp>
#include <provision/clock.hpp>
#include <provision/journal.hpp>
#include <provision/plan.hpp>
#include <provision/provider.hpp>
#include <provision/write_checks.hpp>
#include <util/error.hpp>

namespace rdns::provision {

/// A write refused because its value failed the pre-write checks, whose
/// failures were reported first (the command exits 1).
class Refused : public Error {
 public:
  using Error::Error;
};

/// One write, as the journal stores it.
struct WriteStep {
  std::string source;  ///< "ptr set", "apply plan.json", "rollback 3"
  std::string action;  ///< create|update|delete|enable|disable
  std::string ip;
  std::string value;
  int ttl = 0;
  RecordState before;
  bool allow_unconfirmed = false;  ///< for the pre-write checks
};

/// A journaled write that is done.
struct WriteResult {
  std::int64_t operation = 0;
  std::string record_id;
};

/// How a wait until DNS shows a change ended.
struct Visibility {
  std::string ip;
  bool visible = false;
  double seconds = 0;       ///< how long it took (or was waited)
  std::string last_answer;  ///< when not visible: the PTR value, "no PTR" or the DNS failure
};

/// Where an apply is, item by item.
struct ApplyProgress {
  enum class Phase { writing, written, failed };
  Phase phase = Phase::writing;
  std::size_t position = 0;  ///< 1-based among the items to write
  std::size_t total = 0;
  std::size_t done = 0;  ///< items written so far (for failed)
  PlanAction action = PlanAction::noop;
  std::string journal_action;  ///< create|update|enable|delete
  std::string ip;
  std::string value;           ///< the value written, or deleted
  std::int64_t operation = 0;  ///< once written
};

/// What the engine reports while it works. Every event has a default that
/// ignores it.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  /// A pending operation younger than the in-flight window: watched for up to `watch`.
  virtual void in_flight(const JournalOperation&, std::chrono::seconds /*watch*/) {}
  /// A pending operation settled: `seen` is what the provider shows.
  virtual void reconciled(const JournalOperation&, const std::string& /*seen*/, bool /*done*/) {}
  /// The verdict of the pre-write checks on one write (warnings and failures).
  virtual void checked(const WriteCheck&) {}
  /// A refusal other than a check's (a staged change, a changed record), in words.
  virtual void refused(const std::string&) {}
  /// A delete ended the staged change of ip.
  virtual void change_abandoned(const std::string& /*ip*/) {}
  virtual void visibility(const Visibility&) {}
  virtual void apply_progress(const ApplyProgress&) {}
  /// One step of a staged change, in words.
  virtual void stage_step(const StagedChange&, const std::string& /*text*/) {}
};

struct EngineSettings {
  std::string region;
  /// How long after its start a write may still be carried out by the
  /// provider (its connect and request timeouts): a pending operation younger
  /// than that is watched before it is called not applied.
  std::chrono::milliseconds in_flight{0};
  /// How long to poll DNS after a write until the change is visible (0: once).
  std::chrono::milliseconds wait{30000};
  /// How often to poll DNS and the provider while waiting.
  std::chrono::milliseconds poll{500};
};

struct SetRequest {
  std::string ip;
  std::string name;
  std::optional<int> ttl;  ///< nullopt: the A record's TTL in its zone
  bool allow_unconfirmed = false;
};

struct SetResult {
  enum class Outcome { refused, unchanged, created, updated };
  Outcome outcome = Outcome::refused;
  WriteCheck check;                   ///< name and TTL as written
  std::optional<PtrRecord> existing;  ///< the record before
  WriteResult written;
};

struct StatusResult {
  bool refused = false;  ///< enabling: the checks failed
  bool already = false;  ///< the record already had that status: nothing written
  PtrRecord record;
  WriteResult written;
};

struct RemoveResult {
  PtrRecord record;  ///< the record deleted
  WriteResult written;
};

struct PlanOptions {
  bool delete_unmanaged = false;
  bool allow_unconfirmed = false;
};

struct ApplyOptions {
  double max_change_percent = 30;
  bool force = false;
  bool allow_unconfirmed = false;
};

/// An item whose record is neither as planned nor as the plan leaves it.
struct Drift {
  std::string ip;
  RecordState planned;
  RecordState now;
};

/// The bulk-change safety limit, when a plan goes beyond it.
struct SafetyLimit {
  std::size_t changes = 0;   ///< updates and deletes to do
  std::size_t existing = 0;  ///< records when the plan was made
  double percent = 0;
  std::size_t allowed = 0;
};

struct ApplyReport {
  std::vector<Drift> drift;             ///< not empty: nothing was written
  std::optional<SafetyLimit> exceeded;  ///< set: nothing was written
  int applied = 0;
  std::size_t already_done = 0;  ///< found as the plan leaves them (an earlier apply)
  int refused = 0;               ///< a check or a staged change stopped the item
  int blocked = 0;               ///< blocked in the plan
  bool written_at_all() const { return drift.empty() && !exceeded; }
  bool complete() const { return written_at_all() && refused + blocked == 0; }
};

struct RollbackResult {
  bool refused = false;  ///< the record changed since the operation
  JournalOperation undone;
  WriteStep step;
  WriteResult written;
  std::string expect_in_dns;  ///< the PTR value DNS shows once the undo is visible (empty: none)
};

struct ChangeRequest {
  std::string ip;
  std::string name;
  std::optional<int> ttl;  ///< after the change; nullopt: the current one
  int low_ttl = 60;
  bool allow_unconfirmed = false;
};

enum class ChangeOutcome {
  done,
  refused,        ///< the pre-write checks failed
  not_confirmed,  ///< DNS did not show the new value in time; re-run to go on
};

struct RiskReport {
  std::size_t managed = 0;
  std::vector<RiskFinding> findings;  ///< at least one per managed IP (OK when all passes)
  std::string worst = "none";         ///< high|medium|low|none
};

/// 3 high, 2 medium, 1 low, 0 anything else.
int risk_rank(const std::string& level);

/// "no record", or "VALUE TTL N enabled|disabled".
std::string describe_state(const RecordState& state);

class Engine {
 public:
  /// Every reference must outlive the engine.
  Engine(PtrProvider& provider, Journal& journal, DnsView& dns, Clock& clock,
         EngineObserver& observer, EngineSettings settings);

  const std::string& region() const { return settings_.region; }

  /// Settles every operation of the region a crash left pending: done (and
  /// the IP managed) when the provider shows what it meant to do, else not
  /// applied once it can no longer be in flight.
  void reconcile();

  /// The pre-write checks of writing name (TTL ttl, or the A record's) as
  /// ip's PTR, reported to the observer; a pass is remembered for write().
  WriteCheck check_write(const std::string& ip, const std::string& name, std::optional<int> ttl,
                         bool allow_unconfirmed);

  /// Why ip must not be written now: a staged change of it is in progress and
  /// would overwrite the write later; nullopt when none is.
  std::optional<std::string> change_in_progress(const std::string& ip);

  /// Refuses the step while a staged change of its IP is in progress
  /// (Errc::usage; the change's own steps and a delete, which abandons the
  /// change, go on), and when it publishes a value the provider does not
  /// serve now that fails the pre-write checks (Refused). Then stores the
  /// intent, calls the provider, stores the outcome and marks the IP managed
  /// (or not, after a delete). A failed call whose result the provider shows
  /// anyway (its answer was lost) is done; otherwise it is journaled as
  /// failed and the ApiError rethrown.
  WriteResult write(const WriteStep& step);

  /// Polls DNS until ip's PTR is exactly name (empty name: gone) or the wait
  /// passes; reports which and returns whether it became visible.
  bool wait_visible(const std::string& ip, const std::string& name);

  /// `ptr set`: the checks, then create, update or nothing.
  SetResult set(const SetRequest& request);
  /// `ptr enable` (after the checks) and `ptr disable`; Errc::input without a record.
  StatusResult set_status(const std::string& ip, PtrStatus status);
  /// `ptr delete`; Errc::input without a record.
  RemoveResult remove(const std::string& ip);

  /// The plan that makes the provider match desired.
  Plan plan(const std::vector<DesiredPtr>& desired, const std::string& source,
            const PlanOptions& options);
  /// Carries out plan (stored from `source`) against the provider as it is now.
  ApplyReport apply(const Plan& plan, const std::string& source, const ApplyOptions& options);

  /// Undoes a done operation of the journal, itself journaled (and checked).
  RollbackResult rollback(std::int64_t operation, bool allow_unconfirmed);

  /// `ptr change`: the staged change, begun or resumed.
  ChangeOutcome change(const ChangeRequest& request);

  /// Re-checks every managed record and stores the pass.
  RiskReport risk();

 private:
  void reconcile_one(const JournalOperation& op);
  RecordState current_state(const std::string& ip);
  std::optional<PtrRecord> record_of(const std::string& ip);
  PtrRecord require_record(const std::string& ip);
  void require_checked(const WriteStep& step);
  std::string call_provider(const WriteStep& step);
  std::optional<WriteResult> done_despite(std::int64_t id, const WriteStep& step,
                                          const ApiError& error);
  void finish_done(std::int64_t id, const WriteStep& step, const std::string& outcome,
                   const std::string& request_id, const std::string& record_id);
  bool apply_item(const PlanItem& item, const ApplyOptions& options, const std::string& source,
                  ApplyProgress& progress);
  void change_step(const StagedChange& stage, const std::string& value, int ttl);
  std::optional<StagedChange> begin_change(const ChangeRequest& request, const std::string& name);
  std::vector<RiskFinding> assess(const std::string& ip, const RecordState& record, bool owned,
                                  double fee_per_record, const std::string& currency);

  PtrProvider& provider_;
  Journal& journal_;
  DnsView& dns_;
  Clock& clock_;
  EngineObserver& observer_;
  EngineSettings settings_;
  /// (IP, lower-case value) pairs that passed the pre-write checks.
  std::set<std::pair<std::string, std::string>> checked_;
};

}  // namespace rdns::provision
