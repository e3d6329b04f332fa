// The provisioning engine in-process: a provider held in memory (that can
// fail a write, lose its answer after applying it, or be killed mid-call), a
// real SQLite journal in a scratch directory, a manual clock (every wait is
// instant) and DNS answers the test changes.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <db/engine_journal.hpp>
#include <db/ptr_journal.hpp>
#include <provision/api_error.hpp>
#include <provision/engine.hpp>
#include <util/error.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace {

using namespace rdns::provision;
using namespace std::chrono_literals;

/// Time that moves only when slept through (or advanced by a slow call).
class ManualClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override { return wall_ + offset_; }
  std::chrono::steady_clock::time_point monotonic_now() override { return steady_ + offset_; }
  void sleep_for(std::chrono::milliseconds duration) override {
    offset_ += duration;
    slept += duration;
  }
  void advance(std::chrono::milliseconds duration) { offset_ += duration; }

  std::chrono::milliseconds slept{0};

 private:
  // Starts at the real time: the SQLite journal stamps intents with it.
  std::chrono::system_clock::time_point wall_ = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point steady_ = std::chrono::steady_clock::now();
  std::chrono::milliseconds offset_{0};
};

/// What a killed process leaves: the engine must not catch it.
struct Killed {};

/// PTR records in memory for 198.51.100.0/24 (owned); anything else is not owned.
class MemoryProvider final : public PtrProvider {
 public:
  explicit MemoryProvider(ManualClock& clock) : clock_(clock) {}

  enum class Fault {
    none,
    fail,               ///< the call fails, nothing applied
    lose_answer,        ///< applied, then the answer is lost
    kill_before_apply,  ///< the process dies before the call reaches the provider
    kill_after_apply,   ///< the process dies after the provider applied the call
    land_later,         ///< the process dies; the call is applied two reads later
  };

  const std::string& name() const override { return name_; }
  ProviderCapabilities capabilities() const override {
    ProviderCapabilities capabilities;
    capabilities.supports_disable = true;
    return capabilities;
  }
  std::vector<Ownership> ownership(const std::vector<std::string>& ips) override {
    std::vector<Ownership> result;
    for (const auto& ip : ips) {
      result.push_back({ip, ip.starts_with("198.51.100.") ? IpRole::eip : IpRole::not_owned, "eip",
                        "InUse", ""});
    }
    return result;
  }
  PtrListing list() override {
    PtrListing listing;
    for (const auto& [ip, record] : records) listing.records.push_back(record);
    const int billable = static_cast<int>(records.size());
    listing.billing = {billable, 1.0 * billable, 0, "CNY"};
    return listing;
  }
  std::vector<PtrRecord> read(const std::string& ip) override {
    if (delayed && --delayed->reads_left == 0) {
      delayed->apply();
      delayed.reset();
    }
    const auto found = records.find(ip);
    if (found == records.end()) return {};
    return {found->second};
  }
  std::string write(const std::string& ip, const std::string& value, int ttl,
                    const std::string& current_record_id) override {
    const std::string id =
        current_record_id.empty() ? "r" + std::to_string(++next_id_) : current_record_id;
    call(
        [this, ip, value, ttl, id] { records[ip] = {id, ip, "", value, ttl, PtrStatus::enabled}; });
    return id;
  }
  void remove(const std::string& ip, const std::string&) override {
    call([this, ip] { records.erase(ip); });
  }
  void set_status(const std::string& ip, const std::string&, PtrStatus status) override {
    call([this, ip, status] { records.at(ip).status = status; });
  }
  std::optional<VerificationTxt> verification_txt(const std::string&) override {
    return std::nullopt;
  }
  const std::string& last_request_id() const override { return request_id_; }

  /// A record someone else made: not journaled, not managed.
  void put(const std::string& ip, const std::string& value, int ttl) {
    records[ip] = {"r" + std::to_string(++next_id_), ip, "", value, ttl, PtrStatus::enabled};
  }

  std::map<std::string, PtrRecord> records;
  Fault next_fault = Fault::none;
  std::chrono::milliseconds call_time{0};  ///< how long each write takes (a slow provider)
  int calls = 0;                           ///< writes that reached the provider

 private:
  struct Delayed {
    std::function<void()> apply;
    int reads_left = 0;
  };

  void call(const std::function<void()>& apply) {
    const Fault fault = std::exchange(next_fault, Fault::none);
    clock_.advance(call_time);
    if (fault == Fault::kill_before_apply) throw Killed{};
    if (fault == Fault::land_later) {
      delayed = Delayed{apply, 2};
      throw Killed{};
    }
    if (fault == Fault::fail) {
      throw ApiError(ApiErrorKind::unavailable, "ServiceUnavailable", "the service is down",
                     "req-f", 503, 3);
    }
    ++calls;
    apply();
    request_id_ = "req-" + std::to_string(calls);
    if (fault == Fault::kill_after_apply) throw Killed{};
    if (fault == Fault::lose_answer) {
      throw ApiError(ApiErrorKind::network, "Network.Timeout", "no answer within 10 s", "", 0, 3);
    }
  }

  ManualClock& clock_;
  std::string name_ = "memory";
  std::string request_id_;
  int next_id_ = 0;
  std::optional<Delayed> delayed;
};

/// A records the test sets; PTR answers follow the provider's enabled
/// records unless the test holds them back (a slow resolver cache).
class MapDns final : public DnsView {
 public:
  explicit MapDns(MemoryProvider& provider) : provider_(provider) {}

  DnsAnswer a(const std::string& name) override {
    const auto found = a_records.find(name);
    if (found == a_records.end()) return {DnsAnswer::Outcome::nxdomain, {}, 0, {}};
    return {DnsAnswer::Outcome::answered, {found->second}, 300, {}};
  }
  DnsAnswer txt(const std::string&) override { return {DnsAnswer::Outcome::nodata, {}, 0, {}}; }
  DnsAnswer ptr(const std::string& ip) override {
    ++ptr_asked;
    if (stale) return {DnsAnswer::Outcome::answered, {*stale}, 300, {}};
    const auto found = provider_.records.find(ip);
    if (found == provider_.records.end() || found->second.status != PtrStatus::enabled) {
      return {DnsAnswer::Outcome::nxdomain, {}, 0, {}};
    }
    return {DnsAnswer::Outcome::answered, {found->second.value}, 300, {}};
  }
  std::optional<std::uint32_t> zone_ttl_of_a(const std::string&) override { return 300; }

  std::map<std::string, std::string> a_records;
  std::optional<std::string> stale;  ///< set: every PTR answer is this old value
  int ptr_asked = 0;

 private:
  MemoryProvider& provider_;
};

/// Every event, kept for the checks.
class Recorder final : public EngineObserver {
 public:
  void in_flight(const JournalOperation& op, std::chrono::seconds watch) override {
    watched.emplace_back(op.id, watch);
  }
  void reconciled(const JournalOperation& op, const std::string& seen, bool done) override {
    settled.push_back({op.id, seen, done});
  }
  void checked(const WriteCheck& check) override { checks.push_back(check); }
  void refused(const std::string& reason) override { refusals.push_back(reason); }
  void change_abandoned(const std::string& ip) override { abandoned.push_back(ip); }
  void visibility(const Visibility& result) override { waits.push_back(result); }
  void apply_progress(const ApplyProgress& progress) override { progress_.push_back(progress); }
  void stage_step(const StagedChange& stage, const std::string& text) override {
    steps.push_back(stage.stage + ": " + text);
  }

  struct Settled {
    std::int64_t id;
    std::string seen;
    bool done;
  };
  std::vector<std::pair<std::int64_t, std::chrono::seconds>> watched;
  std::vector<Settled> settled;
  std::vector<WriteCheck> checks;
  std::vector<std::string> refusals;
  std::vector<std::string> abandoned;
  std::vector<Visibility> waits;
  std::vector<ApplyProgress> progress_;
  std::vector<std::string> steps;
};

const std::string kRegion = "cn-test";
const std::string kIp = "198.51.100.10";

/// The fakes, a real journal file, and an engine over them.
struct Bench {
  rdns::test::TempDir dir;
  ManualClock clock;
  MemoryProvider provider{clock};
  MapDns dns{provider};
  Recorder events;
  rdns::db::PtrJournal stored = rdns::db::PtrJournal::open(dir.path() / "rdnsctl.db");
  rdns::db::EngineJournal journal{stored};
  EngineSettings settings{kRegion, 0ms, 5s, 500ms};
  std::unique_ptr<Engine> engine = fresh_engine();

  Bench() {
    dns.a_records["mx1.example.test"] = kIp;
    dns.a_records["mx2.example.test"] = kIp;
    dns.a_records["mx3.example.test"] = "198.51.100.11";
  }

  /// A new engine on the same journal, as the next command would build it.
  std::unique_ptr<Engine> fresh_engine() {
    return std::make_unique<Engine>(provider, journal, dns, clock, events, settings);
  }

  std::vector<rdns::db::PtrOperationRecord> operations() { return stored.list(100); }
  bool managed(const std::string& ip) {
    for (const auto& entry : stored.managed(kRegion)) {
      if (entry == ip) return true;
    }
    return false;
  }
};

bool failed(const WriteCheck& check, WriteRule rule) {
  for (const auto& failure : check.failures) {
    if (failure.rule == rule) return true;
  }
  return false;
}

/// A plan for desired lines, made by the engine from the provider now.
Plan plan_for(Bench& bench, const std::vector<DesiredPtr>& desired) {
  return bench.engine->plan(desired, "desired.csv", {});
}

}  // namespace

TEST_CASE("a write killed between intent and outcome is reconciled by the next command",
          "[provision][engine]") {
  Bench bench;
  SECTION("the provider applied it: done, managed, and the re-run writes nothing") {
    bench.provider.next_fault = MemoryProvider::Fault::kill_after_apply;
    CHECK_THROWS_AS(bench.engine->set({kIp, "mx1.example.test", 600, false}), Killed);
    REQUIRE(bench.operations().at(0).state == "pending");

    auto next = bench.fresh_engine();
    next->reconcile();
    const auto op = bench.operations().at(0);
    CHECK(op.state == "done");
    CHECK(op.record_id == bench.provider.records.at(kIp).record_id);
    CHECK(bench.managed(kIp));
    REQUIRE(bench.events.settled.size() == 1);
    CHECK(bench.events.settled[0].done);
    CHECK(bench.events.settled[0].seen == "mx1.example.test TTL 600 enabled");

    CHECK(next->set({kIp, "mx1.example.test", 600, false}).outcome ==
          SetResult::Outcome::unchanged);
    CHECK(bench.provider.calls == 1);
  }
  SECTION("the provider never saw it: not applied once it cannot be in flight, then written") {
    bench.settings.in_flight = 20s;
    bench.provider.next_fault = MemoryProvider::Fault::kill_before_apply;
    CHECK_THROWS_AS(bench.engine->set({kIp, "mx1.example.test", 600, false}), Killed);

    const auto real_start = std::chrono::steady_clock::now();
    auto next = bench.fresh_engine();
    next->reconcile();
    // Watched for the whole window on the manual clock, at no real cost.
    CHECK(bench.clock.slept >= 20s);
    CHECK(std::chrono::steady_clock::now() - real_start < 5s);
    REQUIRE(bench.events.watched.size() == 1);
    CHECK(bench.events.watched[0].second <= 21s);
    CHECK(bench.operations().at(0).state == "not_applied");
    CHECK_FALSE(bench.managed(kIp));
    REQUIRE(bench.events.settled.size() == 1);
    CHECK_FALSE(bench.events.settled[0].done);
    CHECK(bench.events.settled[0].seen == "no record");

    CHECK(next->set({kIp, "mx1.example.test", 600, false}).outcome == SetResult::Outcome::created);
    CHECK(bench.provider.calls == 1);
    CHECK(bench.managed(kIp));
  }
  SECTION("a slow call killed after the window: not applied without watching") {
    bench.settings.in_flight = 20s;
    bench.provider.call_time = 25s;
    bench.provider.next_fault = MemoryProvider::Fault::kill_before_apply;
    CHECK_THROWS_AS(bench.engine->set({kIp, "mx1.example.test", 600, false}), Killed);
    bench.fresh_engine()->reconcile();
    CHECK(bench.events.watched.empty());
    CHECK(bench.clock.slept == 0ms);
    CHECK(bench.operations().at(0).state == "not_applied");
  }
  SECTION("a call still in flight that lands while watched is done") {
    bench.settings.in_flight = 20s;
    bench.provider.next_fault = MemoryProvider::Fault::land_later;
    CHECK_THROWS_AS(bench.engine->set({kIp, "mx1.example.test", 600, false}), Killed);
    bench.fresh_engine()->reconcile();
    CHECK(bench.operations().at(0).state == "done");
    CHECK(bench.managed(kIp));
    CHECK(bench.clock.slept < 20s);
  }
}

TEST_CASE("a lost answer counts as success when the provider shows the result",
          "[provision][engine]") {
  Bench bench;
  bench.provider.put(kIp, "mx1.example.test", 600);
  bench.stored.set_managed(kRegion, kIp, true);
  SECTION("delete: the record is gone, so the delete is done and the IP no longer managed") {
    bench.provider.next_fault = MemoryProvider::Fault::lose_answer;
    const RemoveResult removed = bench.engine->remove(kIp);
    CHECK(bench.provider.records.empty());
    const auto op = bench.operations().at(0);
    CHECK(op.id == removed.written.operation);
    CHECK(op.state == "done");
    CHECK(op.outcome.find("no answer within 10 s") != std::string::npos);
    CHECK_FALSE(bench.managed(kIp));
  }
  SECTION("a failure that applied nothing is journaled failed and rethrown") {
    bench.provider.next_fault = MemoryProvider::Fault::fail;
    CHECK_THROWS_AS(bench.engine->remove(kIp), ApiError);
    CHECK(bench.provider.records.size() == 1);
    const auto op = bench.operations().at(0);
    CHECK(op.state == "failed");
    CHECK(op.request_id == "req-f");
    CHECK(bench.managed(kIp));
  }
}

TEST_CASE("apply refuses drift and bulk changes before writing anything", "[provision][engine]") {
  Bench bench;
  for (const char* ip : {"198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13"}) {
    bench.provider.put(ip, "old.example.test", 600);
    bench.stored.set_managed(kRegion, ip, true);
  }
  bench.dns.a_records["mx3.example.test"] = "198.51.100.11";
  const std::vector<DesiredPtr> desired = {{"198.51.100.10", "mx1.example.test", 600, 1},
                                           {"198.51.100.11", "mx3.example.test", 600, 2},
                                           {"198.51.100.12", "old.example.test", 600, 3},
                                           {"198.51.100.13", "old.example.test", 600, 4}};
  const Plan plan = plan_for(bench, desired);
  REQUIRE(plan.existing == 4);

  SECTION("a record changed since the plan: refused, naming it with both states") {
    bench.provider.records.at("198.51.100.11").value = "elsewhere.example.test";
    const ApplyReport report = bench.engine->apply(plan, "plan.json", {30, true, false});
    CHECK_FALSE(report.written_at_all());
    REQUIRE(report.drift.size() == 1);
    CHECK(report.drift[0].ip == "198.51.100.11");
    CHECK(describe_state(report.drift[0].planned) == "old.example.test TTL 600 enabled");
    CHECK(describe_state(report.drift[0].now) == "elsewhere.example.test TTL 600 enabled");
    CHECK(bench.provider.calls == 0);
    CHECK(bench.operations().empty());
  }
  SECTION("two updates of four records exceed 30%: refused; --force writes them") {
    const ApplyReport refused = bench.engine->apply(plan, "plan.json", {30, false, false});
    REQUIRE(refused.exceeded);
    CHECK(refused.exceeded->changes == 2);
    CHECK(refused.exceeded->existing == 4);
    CHECK(refused.exceeded->allowed == 1);
    CHECK(bench.provider.calls == 0);
    CHECK(bench.operations().empty());

    CHECK(bench.engine->apply(plan, "plan.json", {50, false, false}).complete());
    CHECK(bench.provider.records.at("198.51.100.10").value == "mx1.example.test");
    CHECK(bench.provider.records.at("198.51.100.11").value == "mx3.example.test");
    CHECK(bench.provider.calls == 2);
  }
  SECTION("a re-run of an applied plan finds it done and writes nothing") {
    CHECK(bench.engine->apply(plan, "plan.json", {30, true, false}).applied == 2);
    const ApplyReport again = bench.engine->apply(plan, "plan.json", {30, false, false});
    CHECK(again.complete());
    CHECK(again.applied == 0);
    CHECK(again.already_done == 2);
    CHECK(bench.provider.calls == 2);
  }
}

TEST_CASE("a staged change goes through its steps and holds off other writes",
          "[provision][engine]") {
  Bench bench;
  bench.provider.put(kIp, "mx1.example.test", 3600);
  const ChangeRequest request{kIp, "mx2.example.test", std::nullopt, 60, false};

  SECTION("lower, wait out the old TTL, switch, confirm, restore") {
    CHECK(bench.engine->change(request) == ChangeOutcome::done);
    CHECK(bench.events.steps ==
          std::vector<std::string>{"lower: mx1.example.test TTL 60 (operation 1)",
                                   "wait: waiting 3600 s for the old TTL to run out",
                                   "switch: mx2.example.test TTL 60 (operation 2)",
                                   "restore: mx2.example.test TTL 3600 (operation 3)",
                                   "restore: done"});
    CHECK(bench.clock.slept >= 3600s);
    CHECK(bench.provider.records.at(kIp).value == "mx2.example.test");
    CHECK(bench.provider.records.at(kIp).ttl == 3600);
    CHECK_FALSE(bench.stored.stage(kRegion, kIp));
  }
  SECTION("not confirmed in DNS: it stays, and other writes of the IP are refused meanwhile") {
    bench.dns.stale = "mx1.example.test";
    CHECK(bench.engine->change(request) == ChangeOutcome::not_confirmed);
    REQUIRE(bench.stored.stage(kRegion, kIp));
    CHECK(bench.stored.stage(kRegion, kIp)->stage == "confirm");
    const int written = bench.provider.calls;

    CHECK_THROWS_AS(bench.engine->set({kIp, "mx1.example.test", 600, false}), rdns::Error);
    CHECK_THROWS_AS(bench.engine->set_status(kIp, PtrStatus::disabled), rdns::Error);
    CHECK_THROWS_AS(bench.engine->change({kIp, "mx1.example.test", std::nullopt, 60, false}),
                    rdns::Error);
    const Plan plan = plan_for(bench, {{kIp, "mx1.example.test", 600, 1}});
    const ApplyReport report = bench.engine->apply(plan, "plan.json", {100, true, false});
    CHECK(report.refused == 1);
    REQUIRE_FALSE(bench.events.refusals.empty());
    CHECK(bench.events.refusals.back().find("a change to mx2.example.test is in progress") !=
          std::string::npos);
    CHECK(bench.provider.calls == written);

    // Resumed once DNS shows the new value: only the restore is left.
    bench.dns.stale.reset();
    CHECK(bench.engine->change(request) == ChangeOutcome::done);
    CHECK(bench.provider.records.at(kIp).ttl == 3600);
    CHECK(bench.provider.calls == written + 1);
  }
  SECTION("a resumed change runs the checks again before switching") {
    bench.provider.next_fault = MemoryProvider::Fault::kill_after_apply;  // during the lower step
    CHECK_THROWS_AS(bench.engine->change(request), Killed);
    bench.dns.a_records.erase("mx2.example.test");
    auto next = bench.fresh_engine();
    next->reconcile();
    CHECK(next->change(request) == ChangeOutcome::refused);
    REQUIRE_FALSE(bench.events.checks.empty());
    CHECK(failed(bench.events.checks.back(), WriteRule::forward_confirmed));
    CHECK(bench.provider.records.at(kIp).value == "mx1.example.test");
  }
  SECTION("a delete abandons the change") {
    bench.dns.stale = "mx1.example.test";
    REQUIRE(bench.engine->change(request) == ChangeOutcome::not_confirmed);
    bench.engine->remove(kIp);
    CHECK(bench.events.abandoned == std::vector<std::string>{kIp});
    CHECK_FALSE(bench.stored.stage(kRegion, kIp));
  }
}

TEST_CASE("rollback runs the pre-write checks on what it publishes again", "[provision][engine]") {
  Bench bench;
  bench.engine->set({kIp, "mx1.example.test", 600, false});
  SECTION("undoing a disable whose value lost its A record is refused") {
    const StatusResult disabled = bench.engine->set_status(kIp, PtrStatus::disabled);
    bench.dns.a_records.erase("mx1.example.test");
    auto next = bench.fresh_engine();
    CHECK_THROWS_AS(next->rollback(disabled.written.operation, false), Refused);
    REQUIRE_FALSE(bench.events.checks.empty());
    CHECK(failed(bench.events.checks.back(), WriteRule::forward_confirmed));
    CHECK(bench.provider.records.at(kIp).status == PtrStatus::disabled);
    CHECK(bench.operations().at(0).action == "disable");  // nothing journaled
  }
  SECTION("undoing an update to a value that passes is written and journaled") {
    const SetResult updated = bench.engine->set({kIp, "mx2.example.test", 600, false});
    const RollbackResult undone = bench.fresh_engine()->rollback(updated.written.operation, false);
    CHECK(undone.step.action == "update");
    CHECK(undone.expect_in_dns == "mx1.example.test");
    CHECK(bench.provider.records.at(kIp).value == "mx1.example.test");
    CHECK(bench.operations().at(0).source ==
          "rollback " + std::to_string(updated.written.operation));
  }
  SECTION("a record changed since the operation is refused") {
    const SetResult updated = bench.engine->set({kIp, "mx2.example.test", 600, false});
    bench.provider.records.at(kIp).ttl = 60;
    const RollbackResult undone = bench.engine->rollback(updated.written.operation, false);
    CHECK(undone.refused);
    REQUIRE(bench.events.refusals.size() == 1);
    CHECK(bench.events.refusals[0].find("it left mx2.example.test TTL 600 enabled, now "
                                        "mx2.example.test TTL 60 enabled") != std::string::npos);
  }
}

TEST_CASE("waiting until DNS shows a write follows the clock", "[provision][engine]") {
  Bench bench;
  bench.settings.wait = 30s;
  auto engine = bench.fresh_engine();
  SECTION("a resolver holding the old answer: not visible after the whole wait, instantly") {
    bench.dns.stale = "old.example.test";
    const auto real_start = std::chrono::steady_clock::now();
    CHECK_FALSE(engine->wait_visible(kIp, "mx1.example.test"));
    CHECK(std::chrono::steady_clock::now() - real_start < 5s);
    REQUIRE(bench.events.waits.size() == 1);
    CHECK_FALSE(bench.events.waits[0].visible);
    CHECK(bench.events.waits[0].seconds >= 30.0);
    CHECK(bench.events.waits[0].last_answer == "old.example.test");
    CHECK(bench.dns.ptr_asked == 61);  // every half second, and once at the start
  }
  SECTION("visible at once after a set") {
    engine->set({kIp, "mx1.example.test", 600, false});
    CHECK(engine->wait_visible(kIp, "mx1.example.test"));
    CHECK(bench.events.waits.at(0).seconds == 0.0);
    CHECK(bench.dns.ptr_asked == 1);
  }
}

TEST_CASE("every write path refuses an unchecked value the checks reject", "[provision][engine]") {
  Bench bench;
  SECTION("set reports each failed rule and writes nothing") {
    const SetResult result = bench.engine->set({"203.0.113.5", "mx1.example.test", 600, false});
    CHECK(result.outcome == SetResult::Outcome::refused);
    CHECK(failed(result.check, WriteRule::ip_owned));
    CHECK(failed(result.check, WriteRule::forward_confirmed));
    CHECK(bench.provider.calls == 0);
    CHECK(bench.operations().empty());
  }
  SECTION("a direct write of a value never checked runs the checks itself") {
    WriteStep step{"test", "create", kIp, "mx3.example.test", 600, {}, false};
    CHECK_THROWS_AS(bench.engine->write(step), Refused);
    CHECK(bench.provider.calls == 0);
    step.value = "mx1.example.test";
    CHECK(bench.engine->write(step).operation > 0);
    CHECK(bench.provider.calls == 1);
  }
}

TEST_CASE("the risk pass checks each managed record and stores the pass", "[provision][engine]") {
  Bench bench;
  bench.engine->set({kIp, "mx1.example.test", 600, false});
  bench.engine->set({"198.51.100.11", "mx3.example.test", 600, false});
  bench.dns.a_records.erase("mx3.example.test");
  const RiskReport report = bench.engine->risk();
  CHECK(report.managed == 2);
  CHECK(report.worst == "high");
  REQUIRE(report.findings.size() == 2);
  CHECK(report.findings[0].code == "OK");
  CHECK(report.findings[1].code == "FCRDNS_BROKEN");
  const auto stored = bench.stored.risks(kRegion, 10);
  REQUIRE(stored.size() == 2);
  CHECK(risk_rank(report.worst) == 3);
}
