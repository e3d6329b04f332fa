#include "last_verdict.hpp"

#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rdns::reports {
namespace {

bool is_verdict(Status status) {
  return status != Status::unknown;
}

/// The change an address makes from its earlier verdict to its status now,
/// the previous run's `unknown` looked through.
ChangeKind rejudged(const Change& change, Status earlier) {
  const Status now = change.after->status;
  if (now == Status::fail && change.kind == ChangeKind::new_failure && earlier == Status::fail) {
    return ChangeKind::changed;
  }
  if ((now == Status::pass || now == Status::warn) && earlier == Status::fail) {
    return ChangeKind::fixed;
  }
  return change.kind;
}

}  // namespace

void look_through_unknown(db::Database& database, const db::RunInfo& previous,
                          const db::RunInfo& run, RunDiff& diff) {
  // Where each address that needs an earlier verdict sits in the diff.
  // The keys view the changes' own addresses: the diff is not resized here.
  std::unordered_map<std::string_view, std::size_t> waiting;
  for (std::size_t at = 0; at < diff.changes.size(); ++at) {
    const Change& change = diff.changes[at];
    if (change.before && change.after && change.before->status == Status::unknown &&
        is_verdict(change.after->status)) {
      waiting.emplace(change.ip, at);
    }
  }
  // up_to_id 0 would mean every run.
  if (waiting.empty() || previous.id <= 1) return;

  // The comparison left out SMTP findings unless both runs checked SMTP; an
  // earlier run's stored status means the same only when it checked alike.
  const bool compared_with_smtp = previous.ran_smtp() && run.ran_smtp();
  db::RunFilter filter;
  filter.identity = run.identity;
  filter.up_to_id = previous.id - 1;
  filter.finished_only = true;
  for (const db::RunInfo& earlier :
       database.list_runs(std::numeric_limits<std::size_t>::max(), filter)) {
    if (earlier.state != db::RunState::complete) continue;
    if (earlier.ran_smtp() != compared_with_smtp) break;
    std::vector<std::pair<std::size_t, Status>> found;
    const std::int64_t ids[] = {earlier.id};
    database.visit_statuses(ids, [&](std::int64_t, const std::string& ip, Status status) {
      if (!is_verdict(status)) return;
      const auto entry = waiting.find(ip);
      if (entry == waiting.end()) return;
      found.emplace_back(entry->second, status);
      waiting.erase(entry);
    });
    for (const auto& [at, status] : found) {
      Change& change = diff.changes[at];
      change.last_verdict = EarlierVerdict{earlier.id, status};
      change.kind = rejudged(change, status);
    }
    if (waiting.empty()) break;
  }
}

}  // namespace rdns::reports
