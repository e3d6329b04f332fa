// The webhook document: JSON for programs, with a "text" summary line that
// chat webhooks (Slack, Mattermost, Rocket.Chat) show as the message.

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <reports/diff.hpp>
#include <run/notification.hpp>

namespace rdns::run {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kAddressesInText = 10;

Json counts_json(const db::RunCounts& counts) {
  Json object = {{"total", counts.total}};
  for (const Status status : kStatuses) {
    object[std::string(status_name(status))] = counts.of(status);
  }
  return object;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

Json addresses_json(const std::vector<reports::Change>& changes, reports::ChangeKind kind,
                    std::string& listed) {
  Json addresses = Json::array();
  for (const reports::Change& change : changes) {
    if (change.kind != kind) continue;
    const db::ResultRecord& record = change.after ? *change.after : *change.before;
    Json findings = Json::array();
    std::string codes;
    for (const db::FindingRecord& finding : record.findings) {
      findings.push_back({{"code", finding.code},
                          {"severity", severity_name(finding.severity)},
                          {"detail", finding.detail}});
      if (finding.severity == Severity::error) codes += (codes.empty() ? "" : ", ") + finding.code;
    }
    const Json previous_status = change.before ? Json(status_name(change.before->status)) : Json();
    const Json last_verdict = change.last_verdict
                                  ? Json{{"run", change.last_verdict->run_id},
                                         {"status", status_name(change.last_verdict->status)}}
                                  : Json();
    addresses.push_back({{"ip", record.ip},
                         {"previous_status", previous_status},
                         {"last_verdict", last_verdict},
                         {"status", status_name(record.status)},
                         {"ptr", record.ptr},
                         {"findings", findings}});
    if (addresses.size() <= kAddressesInText) {
      listed += fmt::format("{}{}{}", listed.empty() ? "" : ", ", record.ip,
                            codes.empty() ? "" : " (" + codes + ")");
    }
  }
  if (addresses.size() > kAddressesInText) {
    listed += fmt::format(" and {} more", addresses.size() - kAddressesInText);
  }
  return addresses;
}

}  // namespace

std::string newly_failing_json(db::Database& database, const db::RunInfo& run,
                               const std::optional<reports::Comparison>& comparison,
                               std::size_t& count) {
  // Nothing to compare with: every failing address is new. Only those are
  // read into memory, one stored result at a time.
  std::vector<reports::Change> first_failures;
  if (!comparison) {
    database.visit_results(run.id, [&](const db::ResultRecord& record) {
      if (record.status != Status::fail) return;
      reports::Change& change = first_failures.emplace_back();
      change.kind = reports::ChangeKind::new_failure;
      change.ip = record.ip;
      change.after = record;
    });
  }
  const std::vector<reports::Change>& changes = comparison ? comparison->changes : first_failures;
  std::string failing_text;
  std::string recovered_text;
  Json failing = addresses_json(changes, reports::ChangeKind::new_failure, failing_text);
  Json recovered = addresses_json(changes, reports::ChangeKind::fixed, recovered_text);
  count = failing.size() + recovered.size();
  const std::string host = host_name();
  std::string text = fmt::format("rdnsctl{}:", host.empty() ? "" : " on " + host);
  if (!failing.empty()) {
    text += fmt::format(" {} {} newly {} reverse DNS: {}", failing.size(),
                        failing.size() == 1 ? "address" : "addresses",
                        failing.size() == 1 ? "fails" : "fail", failing_text);
  }
  if (!recovered.empty()) {
    text += fmt::format("{} {} {} {} recovered: {}", failing.empty() ? "" : ";", recovered.size(),
                        recovered.size() == 1 ? "address" : "addresses",
                        recovered.size() == 1 ? "has" : "have", recovered_text);
  }
  const auto& previous = comparison ? std::optional(comparison->previous) : std::nullopt;
  Json document = {{"event", "rdnsctl.newly_failing"},
                   {"text", text},
                   {"host", host},
                   {"database", database.path().string()},
                   {"run",
                    {{"id", run.id},
                     {"command", run.command},
                     {"inventory", run.inventory},
                     {"started_at", run.started_at},
                     {"finished_at", run.finished_at},
                     {"counts", counts_json(run.counts)}}},
                   {"previous_run", previous ? Json{{"id", previous->id},
                                                    {"finished_at", previous->finished_at},
                                                    {"counts", counts_json(previous->counts)}}
                                             : Json()},
                   {"newly_failing", failing},
                   {"recovered", recovered}};
  return document.dump();
}

std::size_t notify_newly_failing(db::Database& database, const db::RunInfo& run,
                                 const std::optional<reports::Comparison>& comparison,
                                 const notify::WebhookOptions& options) {
  std::size_t count = 0;
  const std::string document = newly_failing_json(database, run, comparison, count);
  if (count > 0) notify::post_json(options, document);
  return count;
}

}  // namespace rdns::run
