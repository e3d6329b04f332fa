// The webhook document: JSON for programs, with a "text" summary line that
// chat webhooks (Slack, Mattermost, Rocket.Chat) show as the message.

#include <fmt/format.h>
#include <unistd.h>

#include <db/result_json.hpp>
#include <reports/diff.hpp>
#include <run/notification.hpp>
#include <util/json_writer.hpp>

namespace rdns::run {
namespace {

constexpr std::size_t kAddressesInText = 10;

void write_counts(JsonWriter& out, const db::RunCounts& counts) {
  out.raw("{").key("total").raw(std::to_string(counts.total));
  for (const Status status : kStatuses) {
    out.raw(",").key(status_name(status)).raw(std::to_string(counts.of(status)));
  }
  out.raw("}");
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

/// One kind's addresses as a JSON array written as they come, one stored
/// result at a time, and the first few of them for the text line: a first
/// run may list a hundred thousand, so no tree of them is built.
class AddressList {
 public:
  explicit AddressList(std::string_view what) : out_(what, "the webhook document") {
    out_.raw("[");
  }

  void add(const db::ResultRecord& record, const db::ResultRecord* before,
           const std::optional<reports::EarlierVerdict>& last_verdict) {
    out_.raw(count_ == 0 ? "{" : ",{").key("ip").string(record.ip).raw(",");
    out_.key("previous_status");
    before ? out_.string(status_name(before->status)) : out_.raw("null");
    out_.raw(",").key("last_verdict");
    if (last_verdict) {
      out_.raw("{").key("run").raw(std::to_string(last_verdict->run_id)).raw(",");
      out_.key("status").string(status_name(last_verdict->status)).raw("}");
    } else {
      out_.raw("null");
    }
    out_.raw(",").key("status").string(status_name(record.status)).raw(",");
    // The PTR names and findings as the results table and JSONL show them.
    const db::ResultJson lists = db::result_json(record);
    out_.key("ptr").raw(lists.ptr).raw(",").key("findings").raw(lists.findings).raw("}");
    if (++count_ > kAddressesInText) return;
    std::string codes;
    for (const db::FindingRecord& finding : record.findings) {
      if (finding.severity == Severity::error) codes += (codes.empty() ? "" : ", ") + finding.code;
    }
    listed_ += fmt::format("{}{}{}", listed_.empty() ? "" : ", ", record.ip,
                           codes.empty() ? "" : " (" + codes + ")");
  }

  std::size_t size() const { return count_; }
  /// "192.0.2.12 (NO_PTR), 192.0.2.13 and 4 more"
  std::string listed() const {
    return count_ > kAddressesInText
               ? fmt::format("{} and {} more", listed_, count_ - kAddressesInText)
               : listed_;
  }
  std::string take() { return out_.raw("]").take(); }

 private:
  JsonWriter out_;
  std::size_t count_ = 0;
  std::string listed_;
};

}  // namespace

std::string newly_failing_json(db::Database& database, const db::RunInfo& run,
                               const std::optional<reports::Comparison>& comparison,
                               std::size_t& count) {
  AddressList failing("the newly failing addresses");
  AddressList recovered("the recovered addresses");
  if (comparison) {
    for (const reports::Change& change : comparison->changes) {
      if (change.kind != reports::ChangeKind::new_failure &&
          change.kind != reports::ChangeKind::fixed) {
        continue;
      }
      const db::ResultRecord& record = change.after ? *change.after : *change.before;
      const db::ResultRecord* before = change.before ? &*change.before : nullptr;
      (change.kind == reports::ChangeKind::fixed ? recovered : failing)
          .add(record, before, change.last_verdict);
    }
  } else {
    // Nothing to compare with: every failing address is new.
    database.visit_results(run.id, [&](const db::ResultRecord& record) {
      if (record.status == Status::fail) failing.add(record, nullptr, std::nullopt);
    });
  }
  count = failing.size() + recovered.size();
  const std::string host = host_name();
  std::string text = fmt::format("rdnsctl{}:", host.empty() ? "" : " on " + host);
  if (failing.size() > 0) {
    text += fmt::format(" {} {} newly {} reverse DNS: {}", failing.size(),
                        failing.size() == 1 ? "address" : "addresses",
                        failing.size() == 1 ? "fails" : "fail", failing.listed());
  }
  if (recovered.size() > 0) {
    text += fmt::format("{} {} {} {} recovered: {}", failing.size() == 0 ? "" : ";",
                        recovered.size(), recovered.size() == 1 ? "address" : "addresses",
                        recovered.size() == 1 ? "has" : "have", recovered.listed());
  }

  const std::string subject = fmt::format("run {}", run.id);
  JsonWriter out("the webhook document", subject);
  out.raw("{").key("event").string("rdnsctl.newly_failing").raw(",");
  out.key("text").string(text).raw(",").key("host").string(host).raw(",");
  out.key("database").string(database.path().string()).raw(",");
  out.key("run").raw("{").key("id").raw(std::to_string(run.id)).raw(",");
  out.key("command").string(run.command).raw(",").key("inventory").string(run.inventory).raw(",");
  out.key("started_at").string(run.started_at).raw(",");
  out.key("finished_at").string(run.finished_at).raw(",").key("counts");
  write_counts(out, run.counts);
  out.raw("},").key("previous_run");
  if (comparison) {
    const db::RunInfo& previous = comparison->previous;
    out.raw("{").key("id").raw(std::to_string(previous.id)).raw(",");
    out.key("finished_at").string(previous.finished_at).raw(",").key("counts");
    write_counts(out, previous.counts);
    out.raw("}");
  } else {
    out.raw("null");
  }
  out.raw(",").key("newly_failing").raw(failing.take());
  out.raw(",").key("recovered").raw(recovered.take()).raw("}");
  return out.take();
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
