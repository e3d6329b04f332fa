// `ptr change`: a staged value change that never leaves resolvers holding
// the old name for a long TTL after the switch. Each step is journaled and
// the stage is persisted after it, so a killed change resumes.

#include <fmt/format.h>

#include <provision/engine.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>

namespace rdns::provision {
namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

bool switched(const StagedChange& stage) {
  return stage.stage == "confirm" || stage.stage == "restore";
}

}  // namespace

/// Writes value and TTL unless the record already has them (a step that
/// completed before an interruption is not written again).
void Engine::change_step(const StagedChange& stage, const std::string& value, int ttl) {
  const RecordState now = current_state(stage.ip);
  if (ascii_lower(now.value) == ascii_lower(value) && now.ttl == ttl) {
    observer_.stage_step(stage, fmt::format("already {} TTL {}", value, ttl));
    return;
  }
  const auto written = write({"ptr change", "update", stage.ip, value, ttl, now});
  observer_.stage_step(stage,
                       fmt::format("{} TTL {} (operation {})", value, ttl, written.operation));
}

/// The stage to go on from: the stored one (checked again unless the switch
/// is made), or a new one after the checks; nullopt when the checks refuse.
std::optional<StagedChange> Engine::begin_change(const ChangeRequest& request,
                                                 const std::string& name) {
  std::optional<StagedChange> saved = journal_.stage(settings_.region, request.ip);
  if (saved) {
    if (ascii_lower(saved->value) != ascii_lower(name)) {
      throw Error(Errc::usage,
                  fmt::format("{}: a change to {} is in progress (stage {}); finish it first "
                              "with rdnsctl ptr change {} {}",
                              request.ip, saved->value, saved->stage, request.ip, saved->value));
    }
    observer_.stage_step(*saved,
                         "resuming the change " + saved->original_value + " -> " + saved->value);
    // The A record or the TXT may have changed since the change began:
    // checked again, before any wait, unless the switch is already made.
    if (!switched(*saved) &&
        !check_write(saved->ip, saved->value, saved->ttl, request.allow_unconfirmed).ok()) {
      return std::nullopt;
    }
    return saved;
  }
  const RecordState now = current_state(request.ip);
  if (!now.exists) {
    throw Error(Errc::input, request.ip + " has no PTR record: use rdnsctl ptr set to create one");
  }
  StagedChange stage{
      settings_.region, request.ip, name, request.ttl.value_or(now.ttl), now.value, now.ttl,
      request.low_ttl,  "lower",    0};
  // The new value must pass what any write would before anything changes.
  if (!check_write(stage.ip, stage.value, stage.ttl, request.allow_unconfirmed).ok()) {
    return std::nullopt;
  }
  stage.low_ttl = std::min(stage.low_ttl, now.ttl);
  journal_.save_stage(stage);
  return stage;
}

ChangeOutcome Engine::change(const ChangeRequest& request) {
  std::string name = request.name;
  if (name.ends_with('.')) name.pop_back();
  std::optional<StagedChange> begun = begin_change(request, name);
  if (!begun) return ChangeOutcome::refused;
  StagedChange& stage = *begun;
  if (stage.stage == "lower") {
    change_step(stage, stage.original_value, stage.low_ttl);
    // Caches may have fetched the old record just before the write: they
    // hold it for the old TTL.
    stage.not_before = unix_seconds(clock_.now()) + stage.original_ttl;
    stage.stage = "wait";
    journal_.save_stage(stage);
  }
  if (stage.stage == "wait") {
    const auto left = stage.not_before - unix_seconds(clock_.now());
    if (left > 0) {
      observer_.stage_step(stage, fmt::format("waiting {} s for the old TTL to run out", left));
      clock_.sleep_for(std::chrono::seconds(left));
    }
    stage.stage = "switch";
    journal_.save_stage(stage);
  }
  if (stage.stage == "switch") {
    change_step(stage, stage.value, stage.low_ttl);
    stage.stage = "confirm";
    journal_.save_stage(stage);
  }
  if (stage.stage == "confirm") {
    if (!wait_visible(stage.ip, stage.value)) {
      observer_.stage_step(stage, "not confirmed in DNS yet; re-run rdnsctl ptr change to go on");
      return ChangeOutcome::not_confirmed;
    }
    stage.stage = "restore";
    journal_.save_stage(stage);
  }
  if (stage.stage == "restore") {
    change_step(stage, stage.value, stage.ttl);
    journal_.clear_stage(settings_.region, stage.ip);
    observer_.stage_step(stage, "done");
  }
  return ChangeOutcome::done;
}

}  // namespace rdns::provision
