// The webhook document: JSON for programs, with a "text" summary line that
// chat webhooks (Slack, Mattermost, Rocket.Chat) show as the message.

#include "notification.hpp"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace rdns::cli {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kRunsToSearch = 1000;
constexpr std::size_t kAddressesInText = 10;

Json counts_json(const db::RunCounts& counts) {
  return {{"total", counts.total},
          {"pass", counts.pass},
          {"warn", counts.warn},
          {"fail", counts.fail},
          {"unknown", counts.unknown}};
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

}  // namespace

std::string newly_failing_json(db::Database& database, std::int64_t run_id, std::size_t& count) {
  const auto run = database.find_run(run_id);
  if (!run) return {};
  // Runs of another command may cover other addresses (checks of a few IPs
  // between full audits), so only the same command is a baseline.
  std::optional<db::RunInfo> previous;
  for (const db::RunInfo& candidate : database.list_runs(kRunsToSearch)) {
    if (candidate.id < run_id && candidate.state == db::RunState::complete &&
        candidate.command == run->command) {
      previous = candidate;
      break;
    }
  }
  std::map<std::string, std::string> before;
  if (previous) {
    for (const db::ResultRecord& record : database.results(previous->id)) {
      before[record.ip] = record.status;
    }
  }
  Json addresses = Json::array();
  std::string listed;
  for (const db::ResultRecord& record : database.results(run_id)) {
    if (record.status != "fail") continue;
    const auto old = before.find(record.ip);
    if (old != before.end() && old->second == "fail") continue;
    Json findings = Json::array();
    std::string codes;
    for (const db::FindingRecord& finding : record.findings) {
      findings.push_back(
          {{"code", finding.code}, {"severity", finding.severity}, {"detail", finding.detail}});
      if (finding.severity == "error") codes += (codes.empty() ? "" : ", ") + finding.code;
    }
    addresses.push_back({{"ip", record.ip},
                         {"previous_status", old == before.end() ? Json() : Json(old->second)},
                         {"ptr", record.ptr},
                         {"findings", findings}});
    if (addresses.size() <= kAddressesInText) {
      listed += fmt::format("{}{} ({})", listed.empty() ? "" : ", ", record.ip, codes);
    }
  }
  count = addresses.size();
  if (count > kAddressesInText) listed += fmt::format(" and {} more", count - kAddressesInText);
  const std::string host = host_name();
  Json document = {{"event", "rdnsctl.newly_failing"},
                   {"text", fmt::format("rdnsctl{}: {} {} newly {} reverse DNS: {}",
                                        host.empty() ? "" : " on " + host, count,
                                        count == 1 ? "address" : "addresses",
                                        count == 1 ? "fails" : "fail", listed)},
                   {"host", host},
                   {"database", database.path().string()},
                   {"run",
                    {{"id", run->id},
                     {"command", run->command},
                     {"started_at", run->started_at},
                     {"finished_at", run->finished_at},
                     {"counts", counts_json(run->counts)}}},
                   {"previous_run", previous ? Json{{"id", previous->id},
                                                    {"finished_at", previous->finished_at},
                                                    {"counts", counts_json(previous->counts)}}
                                             : Json()},
                   {"newly_failing", addresses}};
  return document.dump();
}

std::size_t notify_newly_failing(db::Database& database, std::int64_t run_id,
                                 const notify::WebhookOptions& options) {
  std::size_t count = 0;
  const std::string document = newly_failing_json(database, run_id, count);
  if (count > 0) notify::post_json(options, document);
  return count;
}

}  // namespace rdns::cli
