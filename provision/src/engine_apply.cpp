// Plans and their apply: drift refusal, the bulk-change safety limit, the
// checks again before each write, and the journaled writes in plan order.

#include <cmath>

#include <fmt/format.h>

#include <provision/api_error.hpp>
#include <provision/engine.hpp>
#include <util/error.hpp>

namespace rdns::provision {
namespace {

/// The actions that write (their names, to_string, are the journal's).
bool writes(PlanAction action) {
  return action == PlanAction::create || action == PlanAction::update ||
         action == PlanAction::enable || action == PlanAction::remove;
}

/// The plan's items sorted by what the remote state says of them.
struct Triage {
  std::vector<const PlanItem*> todo;          ///< the record is as planned
  std::vector<const PlanItem*> already_done;  ///< as the plan leaves it: an earlier apply
  std::vector<Drift> drift;                   ///< anything else
};

Triage triage(const Plan& plan, const std::vector<PtrRecord>& remote) {
  Triage result;
  for (const auto& item : plan.items) {
    if (item.action == PlanAction::blocked) continue;
    const auto now = state_of(remote, item.ip);
    if (same_state(now, item.before)) {
      if (writes(item.action)) result.todo.push_back(&item);
    } else if (same_state(now, state_after(item))) {
      if (writes(item.action)) result.already_done.push_back(&item);
    } else {
      result.drift.push_back({item.ip, item.before, now});
    }
  }
  return result;
}

/// Updates plus deletes beyond the share of the records that existed when
/// the plan was made; one change is never "bulk".
std::optional<SafetyLimit> beyond_safety_limit(const std::vector<const PlanItem*>& todo,
                                               std::size_t existing, double percent) {
  SafetyLimit limit;
  for (const auto* item : todo) {
    if (item->action == PlanAction::update || item->action == PlanAction::remove) ++limit.changes;
  }
  limit.existing = existing;
  limit.percent = percent;
  limit.allowed = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::floor(static_cast<double>(existing) * percent / 100.0)));
  if (limit.changes <= limit.allowed) return std::nullopt;
  return limit;
}

}  // namespace

Plan Engine::plan(const std::vector<DesiredPtr>& desired, const std::string& source,
                  const PlanOptions& options) {
  PlanInputs inputs;
  inputs.remote = provider_.list().records;
  for (const auto& ip : journal_.managed(settings_.region)) inputs.managed.insert(ip);
  inputs.delete_unmanaged = options.delete_unmanaged;
  inputs.fixed_ttl = provider_.capabilities().fixed_ttl;
  WriteCheckOptions check_options;
  check_options.allow_unconfirmed = options.allow_unconfirmed;
  inputs.check = [&](const DesiredPtr& line) {
    return check_ptr_write(provider_, dns_, line.ip, line.name, line.ttl, check_options);
  };
  Plan result = make_plan(desired, inputs);
  result.region = settings_.region;
  result.source = source;
  return result;
}

ApplyReport Engine::apply(const Plan& plan, const std::string& source,
                          const ApplyOptions& options) {
  if (plan.region != settings_.region) {
    throw Error(Errc::usage, fmt::format("{} was planned for region {}, not {}", source,
                                         plan.region, settings_.region));
  }
  ApplyReport report;
  for (const auto& item : plan.items) {
    if (item.action == PlanAction::blocked) ++report.blocked;
  }
  // Every item must find the record as planned (to do) or as the plan leaves
  // it (done by an earlier, interrupted apply); anything else is drift, and
  // nothing is written.
  Triage items = triage(plan, provider_.list().records);
  report.already_done = items.already_done.size();
  if (!items.drift.empty()) {
    report.drift = std::move(items.drift);
    return report;
  }
  report.exceeded = beyond_safety_limit(items.todo, plan.existing, options.max_change_percent);
  if (report.exceeded && !options.force) return report;
  report.exceeded.reset();

  // Done by an earlier apply of this plan: the record is this tool's as if
  // this run had written it.
  for (const auto* item : items.already_done) {
    journal_.set_managed(settings_.region, item->ip, item->action != PlanAction::remove);
  }
  ApplyProgress progress;
  progress.total = items.todo.size();
  for (const auto* item : items.todo) {
    ++progress.position;
    if (apply_item(*item, options, source, progress)) {
      ++report.applied;
    } else {
      ++report.refused;
    }
  }
  return report;
}

/// One item: refused while a staged change of its IP is in progress or when
/// the checks fail now (TXT, ownership or the A record may have changed
/// since planning), else written and waited for. False when refused.
bool Engine::apply_item(const PlanItem& item, const ApplyOptions& options,
                        const std::string& source, ApplyProgress& progress) {
  const bool removes = item.action == PlanAction::remove;
  if (const auto change = change_in_progress(item.ip); change && !removes) {
    observer_.refused(*change);
    return false;
  }
  if (!removes) {
    const bool allow = options.allow_unconfirmed || !item.warnings.empty();
    if (!check_write(item.ip, item.value, item.ttl, allow).ok()) return false;
  }
  const WriteStep step{"apply " + source, to_string(item.action), item.ip, item.value, item.ttl,
                       item.before};
  progress.phase = ApplyProgress::Phase::writing;
  progress.action = item.action;
  progress.journal_action = step.action;
  progress.ip = item.ip;
  progress.value = removes ? item.before.value : item.value;
  progress.operation = 0;
  observer_.apply_progress(progress);
  try {
    progress.operation = write(step).operation;
  } catch (const ApiError&) {
    progress.phase = ApplyProgress::Phase::failed;
    observer_.apply_progress(progress);
    throw;
  }
  ++progress.done;
  progress.phase = ApplyProgress::Phase::written;
  observer_.apply_progress(progress);
  wait_visible(item.ip, removes ? std::string() : item.value);
  return true;
}

}  // namespace rdns::provision
