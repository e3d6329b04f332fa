#pragma once
/// Desired-state PTR files and the plans made from them: what to create,
/// update, enable or delete so the cloud matches the file, and what is
/// blocked and why. Planning is a pure function of the file, the remote
/// records and the pre-write checks, so it is tested without a cloud.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <provision/ptr_client.hpp>
#include <provision/write_checks.hpp>

namespace rdns::provision {

/// One line of a desired-state file: `ip,name[,ttl]`.
struct DesiredPtr {
  std::string ip;
  std::string name;
  std::optional<int> ttl;
  int line = 0;  ///< 1-based, for messages
};

/// Parses the CSV desired state: `ip,name[,ttl]` per line, '#' comments and
/// blank lines ignored, an optional `ip,name,ttl` header. One line per IP.
/// Throws rdns::Error(Errc::input) naming source and line.
std::vector<DesiredPtr> parse_desired_csv(std::string_view text, const std::string& source);

/// What a plan does for one IP.
enum class PlanAction { create, update, enable, remove, noop, blocked };

/// "create", "update", "enable", "delete", "no-op", "blocked".
const char* to_string(PlanAction action);

/// A record as the plan saw it (exists false: the IP had none).
struct RecordState {
  bool exists = false;
  std::string record_id;
  std::string value;
  int ttl = 0;
  PtrStatus status = PtrStatus::enabled;

  bool operator==(const RecordState&) const = default;
};

/// One IP's step.
struct PlanItem {
  std::string ip;
  PlanAction action = PlanAction::noop;
  std::string value;  ///< the value after the step (empty for delete)
  int ttl = 0;
  std::string reason;
  RecordState before;
  std::vector<std::string> warnings;
};

/// A plan, storable as JSON and applied later by `rdnsctl ptr apply`.
struct Plan {
  int format = 1;
  std::string region;
  std::string source;        ///< the desired-state file
  std::size_t existing = 0;  ///< records in the region when planned (the safety limit's base)
  std::vector<PlanItem> items;
};

/// What planning needs besides the file.
struct PlanInputs {
  std::vector<PtrRecord> remote;  ///< every record of the region now
  std::set<std::string> managed;  ///< IPs whose records this tool manages
  bool delete_unmanaged =
      false;  ///< delete records of IPs absent from the file even if not managed
  /// The pre-write checks for a line that needs a write.
  std::function<WriteCheck(const DesiredPtr&)> check;
  /// The provider's TTL when it chooses TTLs itself (ProviderCapabilities::
  /// fixed_ttl): a line's TTL then asks for no update (its check warns).
  std::optional<int> fixed_ttl;
};

/// Items in file order, then deletions in IP order.
Plan make_plan(const std::vector<DesiredPtr>& desired, const PlanInputs& inputs);

/// The state a record is in once item is applied.
RecordState state_after(const PlanItem& item);

/// The record of ip in records, as a RecordState.
RecordState state_of(const std::vector<PtrRecord>& records, const std::string& ip);

/// Whether a and b show the same thing (values compared case-insensitively,
/// record IDs ignored when either side is new).
bool same_state(const RecordState& a, const RecordState& b);

std::string plan_to_json(const Plan& plan);
/// Throws rdns::Error(Errc::input) naming source.
Plan plan_from_json(std::string_view text, const std::string& source);

}  // namespace rdns::provision
