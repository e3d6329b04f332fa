// rdnsctl ptr plan / apply / journal / rollback against the emulator and the
// loopback lab: plans printed like a diff and stored, drift and bulk-change
// refusals, throttling and 5xx storms, and a SIGKILL in the middle of an
// apply that the next run reconciles without a duplicate or a lost write.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>
#include <stdlib.h>

#include <db/ptr_journal.hpp>

#include "ptr_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using rdns::test::ApplyFixture;
using rdns::test::cleanup;
using rdns::test::contains;
using rdns::test::count_ops;
using rdns::test::ProcessResult;
using rdns::test::ptr_of;

}  // namespace

TEST_CASE("rdnsctl ptr plan and apply a desired state", "[cli][ptr][apply]") {
  ApplyFixture f;
  f.foreign_record("198.51.100.11", "mx1.mailcorp.test");  // FCrDNS broken
  f.foreign_record("198.51.100.21", "mx3.mailcorp.test");  // not ours, not in the file
  const std::string desired = f.file("desired.csv",
                                     "# mail servers\n"
                                     "ip,name,ttl\n"
                                     "198.51.100.10,mx1.mailcorp.test,1\n"
                                     "198.51.100.11,mx2.mailcorp.test.,1\n"
                                     "198.51.100.20,mx3.mailcorp.test,1\n"
                                     "198.51.100.30,mx1.mailcorp.test\n");
  const std::string plan_file = (f.dir.path() / "plan.json").string();
  const ProcessResult plan = f.ptr({"plan", desired, "-o", plan_file});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 1);  // one line is blocked
  CHECK(contains(plan.out, "+ 198.51.100.10\tmx1.mailcorp.test TTL 1\tcreate: no PTR record"));
  CHECK(contains(plan.out,
                 "~ 198.51.100.11\tmx1.mailcorp.test TTL 1 -> mx2.mailcorp.test TTL "
                 "1\tupdate: value mx1.mailcorp.test -> mx2.mailcorp.test"));
  CHECK(contains(plan.out, "+ 198.51.100.20\tmx3.mailcorp.test TTL 1\tcreate"));
  CHECK(contains(plan.out, "! 198.51.100.30\tmx1.mailcorp.test TTL"));
  CHECK(contains(plan.out, "blocked: 198.51.100.30 IP_OWNED"));
  CHECK(contains(plan.out,
                 "= 198.51.100.21\tmx3.mailcorp.test TTL 1\tno-op: not in the desired "
                 "state but not managed"));
  CHECK(contains(plan.out, "# 2 create, 1 update, 0 enable, 0 delete, 1 no-op, 1 blocked"));
  CHECK(f.operations().empty());  // planning writes nothing

  const ProcessResult applied = f.ptr({"apply", plan_file});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 1);  // the blocked line is still not done
  CHECK(contains(applied.out, "+ 198.51.100.10: create mx1.mailcorp.test (operation 1)"));
  CHECK(contains(applied.out, "198.51.100.10: visible in DNS after"));
  CHECK(contains(applied.out, "# applied 3, already done 0, refused 0, blocked in the plan 1"));
  CHECK(ptr_of("198.51.100.10") == std::vector<std::string>{"mx1.mailcorp.test."});
  CHECK(ptr_of("198.51.100.11") == std::vector<std::string>{"mx2.mailcorp.test."});
  CHECK(ptr_of("198.51.100.20") == std::vector<std::string>{"mx3.mailcorp.test."});
  auto ops = f.operations();
  REQUIRE(ops.size() == 3);
  for (const auto& op : ops) {
    CHECK(op.state == "done");
    CHECK_FALSE(op.request_id.empty());
  }
  CHECK(ops[1].action == "update");  // newest first: .20, .11, .10
  CHECK(ops[1].previous_value == "mx1.mailcorp.test");

  // Again: everything is already as planned; nothing is written twice.
  const ProcessResult again = f.ptr({"apply", plan_file});
  CHECK(contains(again.out, "# applied 0, already done 3"));
  CHECK(f.operations().size() == 3);

  SECTION("a record dropped from the file is deleted only if rdnsctl manages it") {
    const std::string fewer = f.file("fewer.csv",
                                     "198.51.100.10,mx1.mailcorp.test,1\n"
                                     "198.51.100.11,mx2.mailcorp.test,1\n");
    const ProcessResult result = f.ptr({"apply", "--yes", fewer});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(contains(result.out,
                   "- 198.51.100.20\tmx3.mailcorp.test TTL 1\tdelete: not in the "
                   "desired state; managed by rdnsctl"));
    CHECK(contains(result.out, "= 198.51.100.21"));
    CHECK(ptr_of("198.51.100.20").empty());
    CHECK(ptr_of("198.51.100.21") == std::vector<std::string>{"mx3.mailcorp.test."});
  }
  SECTION("rollback undoes an update and a create") {
    const ProcessResult undo_update = f.ptr({"rollback", "2", "--allow-unconfirmed"});
    INFO(undo_update.out << undo_update.err);
    CHECK(undo_update.exit_code == 0);
    CHECK(ptr_of("198.51.100.11") == std::vector<std::string>{"mx1.mailcorp.test."});
    CHECK(f.ptr({"rollback", "1"}).exit_code == 0);
    CHECK(ptr_of("198.51.100.10").empty());
    // Undoing it twice would overwrite what the first undo left.
    CHECK(f.ptr({"rollback", "2", "--allow-unconfirmed"}).exit_code == 1);
    const auto journal = f.ptr({"journal"});
    CHECK(contains(journal.out, "rollback 2"));
  }
  SECTION("a plan is refused when the remote state drifted") {
    const std::string other = f.file("other.csv",
                                     "198.51.100.10,mx1.mailcorp.test,5\n"
                                     "198.51.100.11,mx2.mailcorp.test,1\n"
                                     "198.51.100.20,mx3.mailcorp.test,1\n");
    const std::string stale = (f.dir.path() / "stale.json").string();
    REQUIRE(f.ptr({"plan", other, "-o", stale}).exit_code == 0);
    REQUIRE(f.ptr({"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "7"}).exit_code == 0);
    const ProcessResult refused = f.ptr({"apply", stale});
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err,
                   "198.51.100.10: changed since the plan: planned from "
                   "mx1.mailcorp.test TTL 1 enabled, now mx1.mailcorp.test TTL 7"));
    CHECK(f.operations().size() == 4);  // the set, and nothing from the refused apply
  }
  SECTION("bulk changes beyond the safety limit need --force") {
    const std::string bulk = f.file("bulk.csv",
                                    "198.51.100.10,mx1.mailcorp.test,2\n"
                                    "198.51.100.11,mx2.mailcorp.test,2\n"
                                    "198.51.100.20,mx3.mailcorp.test,1\n");
    const ProcessResult refused = f.ptr({"apply", "--yes", bulk});
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "updates or deletes 2 of 4 existing records, more than 30% (1)"));
    CHECK(f.operations().size() == 3);
    const ProcessResult forced = f.ptr({"apply", "--yes", "--force", bulk});
    CHECK(forced.exit_code == 0);
    CHECK(f.operations().size() == 5);
  }
  cleanup(f, {"198.51.100.10", "198.51.100.11", "198.51.100.20", "198.51.100.21"});
}

TEST_CASE("rdnsctl ptr apply rides out throttling and stops on a 5xx storm", "[cli][ptr][apply]") {
  ApplyFixture f;
  const std::string desired = f.file("desired.csv",
                                     "198.51.100.10,mx1.mailcorp.test,1\n"
                                     "198.51.100.11,mx2.mailcorp.test,1\n");
  SECTION("throttled, then 503: retried with backoff") {
    f.emulator.admin("POST", "faults",
                     R"({"faults":[{"action":"AddPtrRecord","kind":"error","http_status":400,)"
                     R"("code":"Throttling.User","count":2},)"
                     R"({"action":"AddPtrRecord","kind":"error","http_status":503,)"
                     R"("code":"ServiceUnavailable","count":1}]})");
    const ProcessResult applied = f.ptr({"apply", "--yes", desired});
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(count_ops(f.operations(), "198.51.100.10", "done") == 1);
    CHECK(count_ops(f.operations(), "198.51.100.11", "done") == 1);
  }
  SECTION("a storm outlasting the retries stops the apply; the re-run finishes it") {
    f.emulator.admin("POST", "faults",
                     R"({"faults":[{"action":"AddPtrRecord","kind":"error","http_status":503,)"
                     R"("code":"ServiceUnavailable","count":-1}]})");
    const ProcessResult stormed = f.ptr({"apply", "--yes", desired});
    CHECK(stormed.exit_code == 3);
    CHECK(contains(stormed.err, "ServiceUnavailable"));
    CHECK(contains(stormed.err, "stopped after 0 of 2 (re-run apply to go on)"));
    auto ops = f.operations();
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].state == "failed");
    CHECK(contains(ops[0].outcome, "ServiceUnavailable"));
    f.emulator.admin("DELETE", "faults");
    const ProcessResult rerun = f.ptr({"apply", "--yes", desired});
    INFO(rerun.out << rerun.err);
    CHECK(rerun.exit_code == 0);
    CHECK(count_ops(f.operations(), "198.51.100.10", "done") == 1);
    CHECK(count_ops(f.operations(), "198.51.100.11", "done") == 1);
  }
  CHECK_FALSE(contains(f.emulator.output(), rdns::test::kPlantedSecret));
  cleanup(f, {"198.51.100.10", "198.51.100.11"});
}

TEST_CASE("rdnsctl ptr apply killed mid-write: the re-run reconciles, no duplicate, none lost",
          "[cli][ptr][apply]") {
  ApplyFixture f;
  const std::string desired = f.file("desired.csv",
                                     "198.51.100.10,mx1.mailcorp.test,1\n"
                                     "198.51.100.11,mx2.mailcorp.test,1\n"
                                     "198.51.100.20,mx3.mailcorp.test,1\n");
  // Every create takes 1.5 s, so the kill lands while one is in flight.
  f.emulator.admin("POST", "faults",
                   R"({"faults":[{"action":"AddPtrRecord","kind":"slow","delay_ms":1500,)"
                   R"("count":-1}]})");
  const auto out = f.dir.path() / "apply.out";
  const auto err = f.dir.path() / "apply.err";
  const pid_t pid = f.spawn("apply", {"apply", "--yes", desired});
  // Kill it once the first create is done and the second is journaled but
  // still in flight: the worst moment, between intent and outcome.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool in_flight = false;
  while (!in_flight && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    const auto ops = f.operations();
    in_flight = ops.size() == 2 && ops[0].state == "pending";
  }
  if (in_flight) rdns::test::wait_creates_received(f, 2);
  ::kill(pid, SIGKILL);
  CHECK(rdns::test::wait_exit(pid) == 128 + SIGKILL);
  REQUIRE(in_flight);
  // stdout is a file, so the progress went to stderr line by line: the kill
  // leaves a record of which write was in flight.
  const std::string progress = rdns::test::read_file(err);
  CHECK(contains(progress, "rdnsctl: apply: 1 of 3 done: operation 1\n"));
  CHECK(contains(progress, "rdnsctl: apply: 2 of 3: create 198.51.100.11 mx2.mailcorp.test\n"));
  const std::int64_t interrupted = f.operations().front().id;
  // The call the killed process made still lands, 1.5 s later.
  std::this_thread::sleep_for(2s);
  f.emulator.admin("DELETE", "faults");

  const ProcessResult rerun = f.ptr({"apply", "--yes", desired});
  INFO(rerun.out << rerun.err);
  CHECK(rerun.exit_code == 0);
  CHECK(contains(rerun.err,
                 "was interrupted; the cloud shows mx2.mailcorp.test TTL 1 enabled, "
                 "so it is done"));
  CHECK(contains(rerun.out, "= 198.51.100.10"));
  CHECK(contains(rerun.out, "= 198.51.100.11"));
  CHECK(contains(rerun.out, "+ 198.51.100.20: create"));
  const auto ops = f.operations();
  CHECK(ops.size() == 3);  // nothing lost, nothing twice
  for (const std::string ip : {"198.51.100.10", "198.51.100.11", "198.51.100.20"}) {
    CHECK(count_ops(ops, ip, "done") == 1);
    CHECK(ptr_of(ip).size() == 1);
  }
  const auto reconciled = rdns::db::PtrJournal::open(f.db).find(interrupted);
  REQUIRE(reconciled);
  CHECK(reconciled->state == "done");
  CHECK(contains(reconciled->outcome, "reconciled after an interruption"));
  CHECK(contains(f.emulator.admin("GET", "stats"), "\"AddPtrRecord\":3"));
  cleanup(f, {"198.51.100.10", "198.51.100.11", "198.51.100.20"});
}

TEST_CASE("rdnsctl ptr risk re-checks managed records and stores each pass", "[cli][ptr][risk]") {
  ApplyFixture f;
  const std::string desired = f.file("desired.csv",
                                     "198.51.100.10,mx1.mailcorp.test,1\n"
                                     "198.51.100.11,mx2.mailcorp.test,1\n"
                                     "198.51.100.20,mx3.mailcorp.test,1\n");
  REQUIRE(f.ptr({"apply", "--yes", desired}).exit_code == 0);
  const ProcessResult clean = f.ptr({"risk"});
  INFO(clean.out << clean.err);
  CHECK(clean.exit_code == 0);
  CHECK(contains(clean.out, "198.51.100.10\tok\tOK"));
  CHECK(contains(clean.out, "# 3 managed records checked; worst risk: none"));

  // A disabled record is billed: low, so only --fail-on low fails on it.
  REQUIRE(f.ptr({"disable", "198.51.100.20"}).exit_code == 0);
  const ProcessResult billed = f.ptr({"risk"});
  CHECK(billed.exit_code == 0);
  CHECK(contains(billed.out,
                 "198.51.100.20\tlow\tDISABLED_BILLED\tthe record is disabled but "
                 "still billed, about 1.00 CNY/day"));
  CHECK(f.ptr({"risk", "--fail-on", "low"}).exit_code == 1);

  // The IP leaves the account: high, before and after the cloud reclaims it.
  f.emulator.admin("POST", "release-ip", R"({"ip":"198.51.100.11"})");
  const ProcessResult moved = f.ptr({"risk"});
  INFO(moved.out << moved.err);
  CHECK(moved.exit_code == 1);
  CHECK(contains(moved.out,
                 "198.51.100.11\thigh\tIP_NOT_OWNED\t198.51.100.11 no longer belongs "
                 "to the account in cn-hangzhou"));
  f.emulator.admin("POST", "reclaim");
  const ProcessResult reclaimed = f.ptr({"risk", "--fail-on", "high"});
  CHECK(reclaimed.exit_code == 1);
  CHECK(contains(reclaimed.out, "198.51.100.11\thigh\tRECORD_GONE"));

  // A managed record whose name no longer resolves to it, and a lost TXT.
  REQUIRE(f.ptr({"set", "198.51.100.21", "mx3.mailcorp.test", "--ttl", "1", "--allow-unconfirmed"})
              .exit_code == 0);
  rdns::test::publish_txt("alidnsptrcheck.mailcorp.test", "emu-someone-else");
  std::this_thread::sleep_for(2s);  // the resolver may hold the old TXT for its 1 s TTL
  const ProcessResult broken = f.ptr({"risk"});
  INFO(broken.out << broken.err);
  CHECK(contains(broken.out,
                 "198.51.100.21\thigh\tFCRDNS_BROKEN\tmx3.mailcorp.test resolves to "
                 "198.51.100.20, not 198.51.100.21"));
  CHECK(contains(broken.out, "198.51.100.10\tmedium\tTXT_MISSING"));
  CHECK(contains(broken.out, "publish alidnsptrcheck.mailcorp.test TXT \"emu-"));

  // Every pass is kept, newest first.
  const auto stored = rdns::db::PtrJournal::open(f.db).risks(rdns::test::kRegion, 1000);
  CHECK(stored.size() >= 15);
  CHECK(stored.front().checked_at >= stored.back().checked_at);
  CHECK(std::count_if(stored.begin(), stored.end(),
                      [](const auto& row) { return row.code == "IP_NOT_OWNED"; }) >= 2);
  // ... and shown without a new check: the newest pass first.
  const ProcessResult history = f.ptr({"risk", "--history", "1"});
  INFO(history.out << history.err);
  CHECK(history.exit_code == 0);
  CHECK(contains(history.out, "# pass of " + stored.front().checked_at));
  CHECK(contains(history.out, "198.51.100.21\thigh\tFCRDNS_BROKEN"));
  CHECK(std::count(history.out.begin(), history.out.end(), '#') == 1);
  CHECK(contains(f.ptr({"risk", "--history", "50"}).out, "198.51.100.20\tlow\tDISABLED_BILLED"));
  // The listing says which records the journal manages.
  const ProcessResult listed = f.ptr({"list"});
  CHECK(contains(listed.out, "198.51.100.21\tmx3.mailcorp.test\t1\tenabled\t"));
  CHECK(contains(listed.out, "\tmanaged\n"));

  cleanup(f, {"198.51.100.10", "198.51.100.20", "198.51.100.21"});
}

TEST_CASE("rdnsctl ptr change: staged, killed while waiting, resumed", "[cli][ptr][change]") {
  ApplyFixture f;
  // .11 points at mx1 with a 4 s TTL; the change moves it to mx2 (whose A is .11).
  REQUIRE(f.ptr({"set", "198.51.100.11", "mx1.mailcorp.test", "--ttl", "4", "--allow-unconfirmed"})
              .exit_code == 0);
  const auto out = f.dir.path() / "change.out";
  const auto err = f.dir.path() / "change.err";
  const pid_t pid = f.spawn(
      "change", {"--wait", "10", "change", "198.51.100.11", "mx2.mailcorp.test", "--low-ttl", "1"});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!contains(rdns::test::read_file(out), "waiting") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid, SIGKILL);
  CHECK(rdns::test::wait_exit(pid) == 128 + SIGKILL);
  INFO(rdns::test::read_file(out) << rdns::test::read_file(err));
  const auto stage = rdns::db::PtrJournal::open(f.db).stage(rdns::test::kRegion, "198.51.100.11");
  REQUIRE(stage);
  CHECK(stage->stage == "wait");
  CHECK(stage->original_value == "mx1.mailcorp.test");
  CHECK(stage->original_ttl == 4);
  CHECK(stage->low_ttl == 1);
  CHECK(ptr_of("198.51.100.11") == std::vector<std::string>{"mx1.mailcorp.test."});  // TTL 1 now

  // Another change of the same IP waits for this one.
  const ProcessResult other = f.ptr({"change", "198.51.100.11", "mx3.mailcorp.test"});
  CHECK(other.exit_code == 2);
  CHECK(contains(other.err, "a change to mx2.mailcorp.test is in progress (stage wait)"));

  const ProcessResult resumed = f.ptr({"change", "198.51.100.11", "mx2.mailcorp.test"});
  INFO(resumed.out << resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(contains(resumed.out, "[wait] resuming the change mx1.mailcorp.test -> mx2.mailcorp.test"));
  CHECK(contains(resumed.out, "198.51.100.11: visible in DNS after"));
  CHECK(contains(resumed.out, "[restore] done"));
  CHECK(ptr_of("198.51.100.11") == std::vector<std::string>{"mx2.mailcorp.test."});
  CHECK_FALSE(rdns::db::PtrJournal::open(f.db).stage(rdns::test::kRegion, "198.51.100.11"));
  const auto record = f.ptr({"show", "198.51.100.11"});
  CHECK(contains(record.out, "198.51.100.11\tmx2.mailcorp.test\t4\tenabled"));  // TTL restored
  int staged = 0;
  for (const auto& op : f.operations()) {
    if (op.source != "ptr change") continue;
    CHECK(op.state == "done");
    ++staged;
  }
  CHECK(staged == 3);  // lower, switch, restore: each once
  cleanup(f, {"198.51.100.11"});
}
