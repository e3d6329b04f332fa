#include "last_verdict.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include <util/error.hpp>

namespace rdns::reports {
namespace {

bool is_verdict(Status status) {
  return status != Status::unknown;
}

ChangeKind rejudged(const AwaitingVerdict& address, Status earlier) {
  // Failing now against `unknown` is always a new failure: against an
  // earlier failure it is not.
  if (address.now == Status::fail && earlier == Status::fail) return ChangeKind::changed;
  if ((address.now == Status::pass || address.now == Status::warn) && earlier == Status::fail) {
    return ChangeKind::fixed;
  }
  return address.kind;
}

bool ip_less(const AwaitingVerdict& address, const std::string& ip) {
  return address.ip < ip;
}

}  // namespace

bool awaits_verdict(const Change& change) {
  return change.before && change.after && change.before->status == Status::unknown &&
         is_verdict(change.after->status);
}

void find_last_verdicts(db::Database& database, const db::RunInfo& previous, const db::RunInfo& run,
                        std::vector<AwaitingVerdict>& awaiting) {
  std::sort(awaiting.begin(), awaiting.end(),
            [](const AwaitingVerdict& a, const AwaitingVerdict& b) { return a.ip < b.ip; });
  // up_to_id 0 would mean every run.
  if (awaiting.empty() || previous.id <= 1) return;

  // The comparison left out SMTP findings unless both runs checked SMTP; an
  // earlier run's stored status means the same only when it checked alike.
  const bool compared_with_smtp = previous.ran_smtp() && run.ran_smtp();
  db::RunFilter filter;
  filter.identity = run.identity;
  filter.up_to_id = previous.id - 1;
  filter.finished_only = true;
  std::size_t waiting = awaiting.size();
  for (const db::RunInfo& earlier :
       database.list_runs(std::numeric_limits<std::size_t>::max(), filter)) {
    if (earlier.state != db::RunState::complete) continue;
    if (earlier.ran_smtp() != compared_with_smtp) break;
    const std::int64_t ids[] = {earlier.id};
    database.visit_statuses(ids, [&](std::int64_t, const std::string& ip, Status status) {
      if (!is_verdict(status)) return;
      const auto found = std::lower_bound(awaiting.begin(), awaiting.end(), ip, ip_less);
      if (found == awaiting.end() || found->ip != ip || found->earlier) return;
      found->earlier = EarlierVerdict{earlier.id, status};
      found->kind = rejudged(*found, status);
      --waiting;
    });
    if (waiting == 0) break;
  }
}

const AwaitingVerdict& awaited(const std::vector<AwaitingVerdict>& awaiting,
                               const std::string& ip) {
  const auto found = std::lower_bound(awaiting.begin(), awaiting.end(), ip, ip_less);
  if (found == awaiting.end() || found->ip != ip) {
    throw Error(Errc::internal, fmt::format("{} changed between two reads of its run", ip));
  }
  return *found;
}

}  // namespace rdns::reports
