// The engine's core: reconciliation of operations a crash left pending, the
// pre-write checks, the journaled write and waiting until DNS shows it; and
// the single-IP commands built on them (set, enable/disable, delete,
// rollback).

#include <fmt/format.h>

#include <provision/api_error.hpp>
#include <provision/engine.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>

namespace rdns::provision {
namespace {

using namespace std::chrono_literals;

const char* status_word(const RecordState& state) {
  if (!state.exists) return "no record";
  return state.status == PtrStatus::enabled ? "enabled" : "disabled";
}

/// Whether the record now shows what a write of action (value, TTL) meant to do.
bool shows_result(const std::string& action, const std::string& value, int ttl,
                  const RecordState& now) {
  if (action == "create" || action == "update") {
    return now.exists && ascii_lower(now.value) == ascii_lower(value) && now.ttl == ttl;
  }
  if (action == "delete") return !now.exists;
  const auto wanted = action == "enable" ? PtrStatus::enabled : PtrStatus::disabled;
  return now.exists && now.status == wanted;
}

/// Whether the step puts a value into DNS that the provider does not serve
/// now (a TTL change of the served value publishes nothing new).
bool publishes_new_value(const WriteStep& step) {
  if (step.action == "create") return true;
  if (step.action != "update" && step.action != "enable") return false;
  const auto& before = step.before;
  return !before.exists || before.status != PtrStatus::enabled ||
         ascii_lower(before.value) != ascii_lower(step.value);
}

JournalOperation intent_of(const WriteStep& step, const std::string& region) {
  JournalOperation op;
  op.source = step.source;
  op.action = step.action;
  op.region = region;
  op.ip = step.ip;
  op.record_id = step.before.record_id;
  op.value = step.value;
  op.ttl = step.ttl;
  if (step.before.exists) {
    op.previous_value = step.before.value;
    op.previous_ttl = step.before.ttl;
    op.previous_status = status_word(step.before);
  }
  return op;
}

/// What DNS shows for a PTR after a write of action: the value, or nothing.
std::string expected_in_dns(const std::string& action, const std::string& value) {
  return action == "delete" || action == "disable" ? std::string() : value;
}

}  // namespace

int risk_rank(const std::string& level) {
  if (level == "high") return 3;
  if (level == "medium") return 2;
  if (level == "low") return 1;
  return 0;
}

std::string describe_state(const RecordState& state) {
  if (!state.exists) return "no record";
  return fmt::format("{} TTL {} {}", state.value, state.ttl, status_word(state));
}

Engine::Engine(PtrProvider& provider, Journal& journal, DnsView& dns, Clock& clock,
               EngineObserver& observer, EngineSettings settings)
    : provider_(provider),
      journal_(journal),
      dns_(dns),
      clock_(clock),
      observer_(observer),
      settings_(std::move(settings)) {}

RecordState Engine::current_state(const std::string& ip) {
  return state_of(provider_.read(ip), ip);
}

std::optional<PtrRecord> Engine::record_of(const std::string& ip) {
  for (auto& record : provider_.read(ip)) {
    if (record.ip == ip) return record;
  }
  return std::nullopt;
}

PtrRecord Engine::require_record(const std::string& ip) {
  auto record = record_of(ip);
  if (!record) throw Error(Errc::input, ip + " has no PTR record in this account and region");
  return *record;
}

void Engine::reconcile() {
  for (const auto& op : journal_.pending(settings_.region)) reconcile_one(op);
}

/// Settles one pending operation by reading the record: if the provider
/// shows what the operation meant to do, it happened. The killed process's
/// call may still be on its way or being carried out, so "not applied" is
/// concluded only once it would have timed out.
void Engine::reconcile_one(const JournalOperation& op) {
  auto now = current_state(op.ip);
  bool done = shows_result(op.action, op.value, op.ttl, now);
  // A second of slack: journal times are stored to the second.
  const auto settled = op.started + settings_.in_flight + 1s;
  if (!done && clock_.now() < settled) {
    observer_.in_flight(op,
                        std::chrono::duration_cast<std::chrono::seconds>(settled - clock_.now()));
    while (!done && clock_.now() < settled) {
      clock_.sleep_for(settings_.poll);
      now = current_state(op.ip);
      done = shows_result(op.action, op.value, op.ttl, now);
    }
  }
  const std::string seen = describe_state(now);
  journal_.finish(op.id, done ? "done" : "not_applied",
                  "reconciled after an interruption: the cloud shows " + seen, {},
                  done ? now.record_id : std::string());
  if (done) journal_.set_managed(settings_.region, op.ip, op.action != "delete");
  observer_.reconciled(op, seen, done);
}

WriteCheck Engine::check_write(const std::string& ip, const std::string& name,
                               std::optional<int> ttl, bool allow_unconfirmed) {
  WriteCheckOptions options;
  options.allow_unconfirmed = allow_unconfirmed;
  WriteCheck check = check_ptr_write(provider_, dns_, ip, name, ttl, options);
  observer_.checked(check);
  if (check.ok()) checked_.emplace(ip, ascii_lower(check.name));
  return check;
}

std::optional<std::string> Engine::change_in_progress(const std::string& ip) {
  const auto stage = journal_.stage(settings_.region, ip);
  if (!stage) return std::nullopt;
  return fmt::format(
      "{}: a change to {} is in progress (stage {}); finish it first with rdnsctl ptr change {} "
      "{}, or delete the record",
      ip, stage->value, stage->stage, ip, stage->value);
}

/// A value published without having passed the checks in this engine is
/// checked now: no write path can skip them.
void Engine::require_checked(const WriteStep& step) {
  if (!publishes_new_value(step) || checked_.contains({step.ip, ascii_lower(step.value)})) return;
  if (!check_write(step.ip, step.value, step.ttl, step.allow_unconfirmed).ok()) {
    throw Refused(Errc::usage, fmt::format("{}: {} of {} refused by the pre-write checks", step.ip,
                                           step.action, step.value));
  }
}

/// The provider's call for the step; returns the record ID after it.
std::string Engine::call_provider(const WriteStep& step) {
  if (step.action == "create" || step.action == "update") {
    // A create writes with no current record; an update replaces it.
    return provider_.write(step.ip, step.value, step.ttl,
                           step.action == "create" ? std::string() : step.before.record_id);
  }
  if (step.action == "delete") {
    provider_.remove(step.ip, step.before.record_id);
  } else {
    provider_.set_status(step.ip, step.before.record_id,
                         step.action == "enable" ? PtrStatus::enabled : PtrStatus::disabled);
  }
  return step.before.record_id;
}

void Engine::finish_done(std::int64_t id, const WriteStep& step, const std::string& outcome,
                         const std::string& request_id, const std::string& record_id) {
  journal_.finish(id, "done", outcome, request_id, record_id);
  journal_.set_managed(settings_.region, step.ip, step.action != "delete");
  if (step.action == "delete" && journal_.stage(settings_.region, step.ip)) {
    journal_.clear_stage(settings_.region, step.ip);
    observer_.change_abandoned(step.ip);
  }
}

WriteResult Engine::write(const WriteStep& step) {
  // A delete ends a staged change of the IP; any other write would be
  // overwritten by it.
  if (step.action != "delete" && step.source != "ptr change") {
    if (auto change = change_in_progress(step.ip)) throw Error(Errc::usage, *change);
  }
  // Refused before the journal sees it: a pending row would make the next
  // run watch the provider for a state that can never come.
  if ((step.action == "enable" || step.action == "disable") &&
      !provider_.capabilities().supports_disable) {
    throw Error(Errc::usage, fmt::format("{}: the {} provider cannot disable or enable a PTR "
                                         "record; delete it with rdnsctl ptr delete",
                                         step.ip, provider_.name()));
  }
  require_checked(step);
  // The intent is durable before the call: a crash from here on leaves a
  // pending row that the next run reconciles.
  const std::int64_t id = journal_.begin(intent_of(step, settings_.region));
  std::string record_id;
  try {
    record_id = call_provider(step);
  } catch (const ApiError& error) {
    if (auto settled = done_despite(id, step, error)) return *settled;
    journal_.finish(id, "failed", error.what(), error.request_id(), {});
    throw;
  }
  finish_done(id, step, "ok", provider_.last_request_id(), record_id);
  return {id, record_id};
}

/// The answer of a failed call may have been lost after the provider acted
/// (or the call met its own earlier attempt): what the provider shows
/// decides. Done, journaled and returned, when it shows the step's result.
std::optional<WriteResult> Engine::done_despite(std::int64_t id, const WriteStep& step,
                                                const ApiError& error) {
  RecordState now;
  try {
    now = current_state(step.ip);
  } catch (const ApiError&) {
    return std::nullopt;  // unreadable now: the write stays failed, with its own error
  }
  if (!shows_result(step.action, step.value, step.ttl, now)) return std::nullopt;
  const std::string record_id = now.exists ? now.record_id : step.before.record_id;
  finish_done(id, step,
              std::string("ok: the cloud shows the result of a call that failed: ") + error.what(),
              error.request_id(), record_id);
  return WriteResult{id, record_id};
}

/// Caches between the provider's servers and the resolver may hold the old
/// answer up to its TTL, so "not yet" is a report, not an error.
bool Engine::wait_visible(const std::string& ip, const std::string& name) {
  const auto start = clock_.monotonic_now();
  const auto deadline = start + settings_.wait;
  for (;;) {
    const DnsAnswer answer = dns_.ptr(ip);
    Visibility result;
    result.ip = ip;
    if (name.empty()) {
      result.visible = answer.outcome == DnsAnswer::Outcome::nxdomain ||
                       answer.outcome == DnsAnswer::Outcome::nodata;
    } else {
      result.visible =
          answer.values.size() == 1 && ascii_lower(answer.values.front()) == ascii_lower(name);
    }
    const auto now = clock_.monotonic_now();
    result.seconds = std::chrono::duration<double>(now - start).count();
    if (!result.visible) {
      result.last_answer = answer.values.empty()
                               ? (answer.failure.empty() ? "no PTR" : answer.failure)
                               : answer.values.front();
    }
    if (result.visible || now >= deadline) {
      observer_.visibility(result);
      return result.visible;
    }
    clock_.sleep_for(settings_.poll);
  }
}

SetResult Engine::set(const SetRequest& request) {
  SetResult result;
  result.check = check_write(request.ip, request.name, request.ttl, request.allow_unconfirmed);
  if (!result.check.ok()) return result;
  result.existing = record_of(request.ip);
  const auto& existing = result.existing;
  const bool same_value =
      existing && ascii_lower(existing->value) == ascii_lower(result.check.name);
  // Without a TTL the record already holding the value keeps its TTL, as in plans.
  if (same_value && (existing->ttl == result.check.ttl || !request.ttl)) {
    result.outcome = SetResult::Outcome::unchanged;
    return result;
  }
  const RecordState before = existing ? state_of({*existing}, request.ip) : RecordState{};
  result.written = write({"ptr set", existing ? "update" : "create", request.ip, result.check.name,
                          result.check.ttl, before, request.allow_unconfirmed});
  result.outcome = existing ? SetResult::Outcome::updated : SetResult::Outcome::created;
  return result;
}

StatusResult Engine::set_status(const std::string& ip, PtrStatus status) {
  StatusResult result;
  result.record = require_record(ip);
  const bool enable = status == PtrStatus::enabled;
  // Enabling publishes the value again, so it must pass what a new write would.
  if (enable && !check_write(ip, result.record.value, result.record.ttl, false).ok()) {
    result.refused = true;
    return result;
  }
  if (result.record.status == status) {
    result.already = true;
    return result;
  }
  result.written = write({enable ? "ptr enable" : "ptr disable", enable ? "enable" : "disable", ip,
                          result.record.value, result.record.ttl, state_of({result.record}, ip)});
  return result;
}

RemoveResult Engine::remove(const std::string& ip) {
  RemoveResult result;
  result.record = require_record(ip);
  result.written =
      write({"ptr delete", "delete", ip, std::string(), 0, state_of({result.record}, ip)});
  return result;
}

RollbackResult Engine::rollback(std::int64_t operation, bool allow_unconfirmed) {
  const auto op = journal_.find(operation);
  if (!op) throw Error(Errc::usage, fmt::format("no operation {}", operation));
  if (op->state != "done") {
    throw Error(Errc::usage,
                fmt::format("operation {} is {}, not done: nothing to undo", op->id, op->state));
  }
  if (op->region != settings_.region) {
    throw Error(Errc::usage, fmt::format("operation {} was in region {}", op->id, op->region));
  }
  RollbackResult result;
  result.undone = *op;
  const auto now = current_state(op->ip);
  // The record must still be what the operation left, or undoing it would
  // overwrite a later change.
  RecordState left;
  if (op->action != "delete") {
    const bool wrote_value = op->action == "create" || op->action == "update";
    left.exists = true;
    left.value = wrote_value ? op->value : now.value;
    left.ttl = wrote_value ? op->ttl : now.ttl;
    left.status = op->action == "disable" ? PtrStatus::disabled : PtrStatus::enabled;
  }
  if (!same_state(now, left)) {
    observer_.refused(fmt::format("{} changed since operation {}: it left {}, now {}", op->ip,
                                  op->id, describe_state(left), describe_state(now)));
    result.refused = true;
    return result;
  }
  // enable and disable keep the value and TTL the record has now.
  WriteStep step{
      fmt::format("rollback {}", op->id), "", op->ip, now.value, now.ttl, now, allow_unconfirmed};
  if (op->action == "create") {
    step.action = "delete";
  } else if (op->action == "delete" || op->action == "update") {
    step.action = op->action == "delete" ? "create" : "update";
    step.value = op->previous_value;
    step.ttl = op->previous_ttl;
  } else {
    step.action = op->action == "enable" ? "disable" : "enable";
  }
  // write() runs the pre-write checks on whatever this publishes.
  result.written = write(step);
  result.step = step;
  result.expect_in_dns = expected_in_dns(step.action, step.value);
  return result;
}

}  // namespace rdns::provision
