// The run module driven directly, without the rdnsctl binary: its identity,
// and whole runs against the loopback lab with an observer that records
// what a printer would have been given.

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <db/database.hpp>
#include <lab/dns_lab.hpp>
#include <run/run.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace {

using rdns::Status;
using rdns::db::AddressRange;

/// Keeps what the run handed over, for the test to compare afterwards.
struct Recording {
  std::mutex mutex;
  std::vector<std::string> addresses;
  std::vector<std::string> domain_findings;
  std::optional<rdns::db::RunCounts> finished;
  std::optional<std::int64_t> run_id;
};

class RecordingObserver : public rdns::run::ResultObserver {
 public:
  explicit RecordingObserver(Recording& recording) : recording_(recording) {}
  void add(const rdns::db::ResultRecord& record) override {
    const std::lock_guard lock(recording_.mutex);
    recording_.addresses.push_back(record.ip);
  }
  void add_domain_finding(const rdns::db::DomainFindingRecord& finding) override {
    recording_.domain_findings.push_back(finding.code);
  }
  void finish(const rdns::db::RunCounts& counts) override { recording_.finished = counts; }

 private:
  Recording& recording_;
};

rdns::run::RunOptions lab_run(const std::filesystem::path& database) {
  rdns::run::RunOptions options;
  options.resolvers = {rdns::lab::shared_lab().resolver_address()};
  options.timeout_seconds = 0.4;
  options.retries = 1;
  options.database = database.string();
  return options;
}

rdns::run::RunHooks recording_hooks(Recording& recording, std::vector<std::string>* notices) {
  rdns::run::RunHooks hooks;
  hooks.make_observer = [&recording](std::optional<std::int64_t> run_id) {
    recording.run_id = run_id;
    return std::make_unique<RecordingObserver>(recording);
  };
  if (notices != nullptr) {
    hooks.notice = [notices](const std::string& line) { notices->push_back(line); };
  }
  return hooks;
}

}  // namespace

TEST_CASE("a run's identity follows its targets, domains and checks, not their order", "[run]") {
  rdns::run::RunOptions options;
  const std::vector<AddressRange> targets = {{"192.0.2.0", "192.0.2.255"},
                                             {"2001:db8::", "2001:db8::ff"}};
  const auto label = rdns::run::run_label(options, targets, {"Example.COM", "example.net"});
  CHECK(label.identity.rfind("targets:", 0) == 0);
  CHECK(label.checks == "dns");
  CHECK(label.inventory.empty());
  // Domains compare without case and in any order.
  CHECK(rdns::run::run_label(options, targets, {"example.net", "example.com"}).identity ==
        label.identity);
  CHECK(rdns::run::run_label(options, {targets[0]}, {"example.net", "example.com"}).identity !=
        label.identity);
  // "a" + "bc" is not "ab" + "c".
  CHECK(rdns::run::run_label(options, targets, {"example.comexample.net"}).identity !=
        label.identity);

  rdns::run::RunOptions smtp = options;
  smtp.smtp = true;
  const auto with_smtp = rdns::run::run_label(smtp, targets, {"example.com", "example.net"});
  CHECK(with_smtp.checks == "dns,smtp");
  CHECK(with_smtp.identity != label.identity);

  rdns::run::RunOptions inventory = options;
  inventory.inventory = "mail";
  const auto series = rdns::run::run_label(inventory, targets, {});
  CHECK(series.identity == "inventory:mail");
  CHECK(series.inventory == "mail");
  CHECK(rdns::run::run_label(inventory, {}, {"example.org"}).identity == series.identity);
}

TEST_CASE("a run stores every result, hands each to the observer and compares with the last one",
          "[run]") {
  const rdns::test::TempDir scratch;
  const auto database = scratch.path() / "runs.db";
  rdns::run::RunOptions options = lab_run(database);
  options.targets = {"192.0.2.10/31", "192.0.2.12"};

  Recording first;
  std::vector<std::string> notices;
  const auto outcome = rdns::run::execute(options, {"192.0.2.10/31", "192.0.2.12"}, "audit",
                                          recording_hooks(first, &notices));
  REQUIRE(outcome.run_id);
  CHECK(first.run_id == outcome.run_id);
  std::sort(first.addresses.begin(), first.addresses.end());
  CHECK(first.addresses == std::vector<std::string>{"192.0.2.10", "192.0.2.11", "192.0.2.12"});
  REQUIRE(first.finished);
  CHECK(first.finished->total == 3);
  CHECK(first.finished->fail == 1);
  CHECK(outcome.reached);  // NO_PTR is an error
  REQUIRE(outcome.failing.size() == 1);
  CHECK(outcome.failing[0].ip == "192.0.2.12");
  CHECK(outcome.metrics.success);
  CHECK(outcome.metrics.compared_with == 0);  // the first of its identity
  REQUIRE(notices.size() == 2);
  CHECK(notices[1].rfind("run " + std::to_string(*outcome.run_id) + " complete in ", 0) == 0);

  auto stored = rdns::db::Database::open_read_only(database);
  const auto run = stored.find_run(*outcome.run_id);
  REQUIRE(run);
  CHECK(run->state == rdns::db::RunState::complete);
  CHECK(run->counts.total == 3);

  Recording second;
  const auto again = rdns::run::execute(options, {"192.0.2.12", "192.0.2.10/31"}, "audit",
                                        recording_hooks(second, nullptr));
  REQUIRE(again.run_id);
  CHECK(*again.run_id != *outcome.run_id);
  CHECK(again.metrics.compared_with == *outcome.run_id);
  CHECK(again.metrics.changes.at("unchanged") == 3);
}

TEST_CASE("a run holds its database's lock and refuses a second one", "[run]") {
  const rdns::test::TempDir scratch;
  const auto database = scratch.path() / "runs.db";
  const auto held = rdns::run::lock_database(database);
  rdns::run::RunOptions options = lab_run(database);
  options.targets = {"192.0.2.10"};
  Recording recording;
  CHECK_THROWS_AS(
      rdns::run::execute(options, {"192.0.2.10"}, "audit", recording_hooks(recording, nullptr)),
      rdns::run::RunLocked);
  CHECK_FALSE(recording.run_id);  // nothing was planned, nothing observed
}

TEST_CASE("a resumed run reads its stored options through the hook and audits only the rest",
          "[run]") {
  const rdns::test::TempDir scratch;
  const auto database = scratch.path() / "runs.db";
  std::int64_t id = 0;
  {
    // A run that stopped after one of its two addresses.
    auto db = rdns::db::Database::open(database);
    id = db.begin_run("audit", R"(["audit","192.0.2.10/31"])", {}, "test", {});
    const std::vector<AddressRange> targets = {{"192.0.2.10", "192.0.2.11"}};
    db.store_targets(id, targets);
    rdns::db::ResultRecord done;
    done.ip = "192.0.2.10";
    done.family = "ipv4";
    done.status = Status::pass;
    const std::vector<rdns::db::ResultRecord> results = {done};
    db.add_results(id, results);
    db.finish_run(id, rdns::db::RunState::interrupted, db.count_results(id));
  }
  rdns::run::RunOptions resume;
  resume.resume = id;
  resume.database = database.string();
  Recording recording;
  rdns::run::RunHooks hooks = recording_hooks(recording, nullptr);
  std::vector<std::int64_t> asked;
  hooks.stored_options = [&](const rdns::db::RunInfo& run) {
    asked.push_back(run.id);
    return lab_run(database);
  };
  const auto outcome = rdns::run::execute(resume, {}, "audit", hooks);
  CHECK(asked == std::vector<std::int64_t>{id});
  CHECK(outcome.run_id == id);
  CHECK(recording.addresses == std::vector<std::string>{"192.0.2.11"});
  CHECK(outcome.metrics.counts.total == 2);  // the whole run, not only this part
  auto stored = rdns::db::Database::open_read_only(database);
  CHECK(stored.find_run(id)->state == rdns::db::RunState::complete);
}

TEST_CASE("a paced run reports its progress against the whole target count, unstored", "[run]") {
  rdns::run::RunOptions options = lab_run({});
  options.no_database = true;
  options.qps = 60;  // long enough for the progress timer to fire
  options.targets = {"192.0.2.0/28"};
  Recording recording;
  rdns::run::RunHooks hooks = recording_hooks(recording, nullptr);
  std::vector<std::uint64_t> totals;
  std::size_t cleared = 0;
  hooks.show_progress = [&](std::uint64_t /*done*/, std::uint64_t total,
                            const rdns::db::RunCounts& /*counts*/) { totals.push_back(total); };
  hooks.clear_progress = [&] { ++cleared; };
  const auto outcome = rdns::run::execute(options, {"192.0.2.0/28"}, "audit", hooks);
  CHECK_FALSE(outcome.run_id);
  CHECK(outcome.database.empty());
  CHECK(recording.addresses.size() == 16);
  REQUIRE_FALSE(totals.empty());
  CHECK(std::all_of(totals.begin(), totals.end(), [](std::uint64_t total) { return total == 16; }));
  CHECK(cleared >= 1);
}
