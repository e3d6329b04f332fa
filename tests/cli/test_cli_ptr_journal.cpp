// The journal keeps its promise against the emulator and the loopback lab:
// ptr commands on one database take turns, an interrupted create is settled
// by what the cloud shows (never guessed "not applied" while still in
// flight), a lost answer is never re-sent by the HTTP library, every write
// path runs the pre-write checks, TTLs are the zone's, and a staged change
// is not overwritten; all of it with the journal in PostgreSQL too.

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>

#include <lab/pg_server.hpp>

#include "ptr_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using rdns::test::ApplyFixture;
using rdns::test::cleanup;
using rdns::test::contains;
using rdns::test::count_ops;
using rdns::test::ProcessResult;
using rdns::test::ptr_of;
using rdns::test::wait_creates_received;

constexpr const char* kThree =
    "198.51.100.10,mx1.mailcorp.test,1\n"
    "198.51.100.11,mx2.mailcorp.test,1\n"
    "198.51.100.20,mx3.mailcorp.test,1\n";

/// Every create takes 1.5 s, so a write stays in flight long enough to act on.
void slow_creates(const ApplyFixture& f) {
  f.emulator.admin("POST", "faults",
                   R"({"faults":[{"action":"AddPtrRecord","kind":"slow","delay_ms":1500,)"
                   R"("count":-1}]})");
}

/// Waits until the newest journaled operation is number `id` and pending;
/// fails the test with what the journal and the command `name` (spawned
/// with that name) said when it does not come.
void wait_pending(const ApplyFixture& f, std::int64_t id, const std::string& name) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string seen;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto ops = f.operations();
    if (!ops.empty() && ops.front().id == id && ops.front().state == "pending") return;
    seen.clear();
    for (const auto& op : ops) {
      seen += std::to_string(op.id) + " " + op.state + " " + op.action + " " + op.ip + "\n";
    }
    std::this_thread::sleep_for(20ms);
  }
  FAIL("operation " << id << " never pending; journal:\n"
                    << seen << name << ".err:\n"
                    << rdns::test::read_file(f.dir.path() / (name + ".err")));
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

TEST_CASE("rdnsctl ptr commands on one database take turns", "[cli][ptr][journal]") {
  ApplyFixture f;
  slow_creates(f);
  const pid_t pid = f.spawn("apply", {"apply", "--yes", f.file("desired.csv", kThree)});
  wait_pending(f, 1, "apply");

  // risk (the docs suggest cron for it) must not settle the apply's write.
  const ProcessResult risk = f.ptr({"risk"});
  INFO(risk.out << risk.err);
  CHECK(risk.exit_code == 4);
  CHECK(contains(risk.err, "another rdnsctl run is using this database"));
  const ProcessResult set = f.ptr({"set", "198.51.100.21", "mx3.mailcorp.test", "--ttl", "1"});
  CHECK(set.exit_code == 4);
  // Reading needs no lock.
  const ProcessResult journal = f.ptr({"journal"});
  CHECK(journal.exit_code == 0);
  // The create may have finished meanwhile (a slow, sanitised build): pending or done.
  CHECK((contains(journal.out, "\tpending\tcreate\t198.51.100.10\t") ||
         contains(journal.out, "\tdone\tcreate\t198.51.100.10\t")));

  CHECK(rdns::test::wait_exit(pid) == 0);
  INFO(rdns::test::read_file(f.dir.path() / "apply.err"));
  const auto ops = f.operations();
  CHECK(ops.size() == 3);
  for (const std::string ip : {"198.51.100.10", "198.51.100.11", "198.51.100.20"}) {
    CHECK(count_ops(ops, ip, "done") == 1);
    CHECK(has(f.managed(), ip));
  }
  CHECK(contains(rdns::test::read_file(f.dir.path() / "apply.err"),
                 "rdnsctl: apply: 3 of 3 done: operation 3\n"));
  f.emulator.admin("DELETE", "faults");
  cleanup(f, {"198.51.100.10", "198.51.100.11", "198.51.100.20"});
}

TEST_CASE("rdnsctl ptr apply killed during a create, re-run at once: the create is done",
          "[cli][ptr][journal]") {
  ApplyFixture f;
  const std::string desired = f.file("desired.csv", kThree);
  slow_creates(f);
  const pid_t pid = f.spawn("apply", {"apply", "--yes", desired});
  wait_pending(f, 1, "apply");
  wait_creates_received(f, 1);
  ::kill(pid, SIGKILL);
  CHECK(rdns::test::wait_exit(pid) == 128 + SIGKILL);

  // At once: the killed create is still being carried out by the cloud.
  const ProcessResult rerun = f.ptr({"apply", "--yes", desired});
  INFO(rerun.out << rerun.err);
  CHECK(rerun.exit_code == 0);
  CHECK(
      contains(rerun.err, "operation 1 (create 198.51.100.10 mx1.mailcorp.test) was interrupted"));
  CHECK(contains(rerun.err, "so it is done"));
  auto ops = f.operations();
  CHECK(ops.size() == 3);
  for (const std::string ip : {"198.51.100.10", "198.51.100.11", "198.51.100.20"}) {
    CHECK(count_ops(ops, ip, "done") == 1);
    CHECK(has(f.managed(), ip));
    CHECK(ptr_of(ip).size() == 1);
  }

  // A third run finds everything done and changes nothing.
  f.emulator.admin("DELETE", "faults");
  const ProcessResult third = f.ptr({"apply", "--yes", desired});
  INFO(third.out << third.err);
  CHECK(third.exit_code == 0);
  CHECK(f.operations().size() == 3);
  CHECK(f.managed().size() == 3);
  CHECK(contains(f.emulator.admin("GET", "stats"), "\"AddPtrRecord\":3"));
  cleanup(f, {"198.51.100.10", "198.51.100.11", "198.51.100.20"});
}

TEST_CASE("rdnsctl ptr apply finding an item already done marks it managed",
          "[cli][ptr][journal]") {
  ApplyFixture f;
  const std::string plan_file = (f.dir.path() / "plan.json").string();
  REQUIRE(
      f.ptr({"plan", f.file("desired.csv", "198.51.100.10,mx1.mailcorp.test,1\n"), "-o", plan_file})
          .exit_code == 0);
  // As an earlier apply would have left it, but without this journal's outcome.
  f.foreign_record("198.51.100.10", "mx1.mailcorp.test");
  const ProcessResult applied = f.ptr({"apply", plan_file});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);
  CHECK(contains(applied.out, "# applied 0, already done 1"));
  CHECK(has(f.managed(), "198.51.100.10"));
  cleanup(f, {"198.51.100.10"});
}

TEST_CASE("rdnsctl ptr create meeting the same value already there is done and managed",
          "[cli][ptr][journal]") {
  ApplyFixture f;
  slow_creates(f);
  // Another journal creates the same record a moment earlier: this create
  // found no record, and its call lands second.
  const auto other_db = (f.dir.path() / "other.db").string();
  const pid_t other = rdns::test::spawn_ptr(
      f.emulator,
      {"--db", other_db, "--wait", "0", "set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "1"},
      f.dir.path() / "other.out", f.dir.path() / "other.err");
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool in_flight = false;
  while (!in_flight && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    const auto ops = rdns::db::PtrJournal::open(other_db).list(1);
    in_flight = !ops.empty() && ops.front().state == "pending";
  }
  REQUIRE(in_flight);
  const ProcessResult set =
      f.ptr({"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "1", "--wait", "0"});
  INFO(set.out << set.err);
  CHECK(rdns::test::wait_exit(other) == 0);
  CHECK(set.exit_code == 0);
  const auto ops = f.operations();
  REQUIRE(ops.size() == 1);
  CHECK(ops.front().state == "done");
  CHECK_FALSE(ops.front().record_id.empty());
  CHECK(has(f.managed(), "198.51.100.10"));
  CHECK(contains(f.emulator.admin("GET", "stats"), "\"AddPtrRecord\":2"));
  f.emulator.admin("DELETE", "faults");
  cleanup(f, {"198.51.100.10"});
}

TEST_CASE("rdnsctl ptr delete whose answer is lost: no silent re-send, done, not managed",
          "[cli][ptr][journal]") {
  ApplyFixture f;
  REQUIRE(f.ptr({"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "1"}).exit_code == 0);
  REQUIRE(has(f.managed(), "198.51.100.10"));
  f.emulator.admin("POST", "faults",
                   R"({"faults":[{"action":"DeletePtrRecord","kind":"drop_after","count":1}]})");
  const ProcessResult removed = f.ptr({"delete", "198.51.100.10", "--wait", "0"});
  INFO(removed.out << removed.err << f.emulator.output());
  CHECK(removed.exit_code == 0);
  const auto ops = f.operations();
  REQUIRE(ops.size() == 2);
  CHECK(ops.front().action == "delete");
  CHECK(ops.front().state == "done");
  CHECK_FALSE(has(f.managed(), "198.51.100.10"));
  // The request the server carried out was sent once: no replayed signature.
  CHECK_FALSE(contains(f.emulator.output(), "SignatureNonceUsed"));
  CHECK(contains(f.emulator.admin("GET", "stats"), "\"DeletePtrRecord\":1"));
  const ProcessResult risk = f.ptr({"risk"});
  CHECK(risk.exit_code == 0);
  CHECK_FALSE(contains(risk.out, "RECORD_GONE"));
}

TEST_CASE("rdnsctl ptr rollback and a resumed change run the pre-write checks",
          "[cli][ptr][journal]") {
  ApplyFixture f;
  SECTION("rollback of a disable re-publishes only a forward-confirmed value") {
    // mx1's A record holds .10, not .11.
    REQUIRE(
        f.ptr({"set", "198.51.100.11", "mx1.mailcorp.test", "--ttl", "1", "--allow-unconfirmed"})
            .exit_code == 0);
    REQUIRE(f.ptr({"disable", "198.51.100.11", "--wait", "0"}).exit_code == 0);
    const ProcessResult undo = f.ptr({"rollback", "2"});
    INFO(undo.out << undo.err);
    CHECK(undo.exit_code == 1);
    CHECK(contains(undo.err, "198.51.100.11 FORWARD_CONFIRMED"));
    CHECK(ptr_of("198.51.100.11").empty());  // still disabled
    CHECK(f.operations().size() == 2);
    const ProcessResult allowed = f.ptr({"rollback", "2", "--allow-unconfirmed"});
    CHECK(allowed.exit_code == 0);
    CHECK(contains(allowed.err, "WARNING: 198.51.100.11 FORWARD_CONFIRMED"));
    cleanup(f, {"198.51.100.11"});
  }
  SECTION("a resumed change refuses a name whose A record is gone") {
    rdns::test::publish_a("mx9.mailcorp.test", {"198.51.100.10"});
    REQUIRE(f.ptr({"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "20"}).exit_code == 0);
    const pid_t pid =
        f.spawn("change", {"change", "198.51.100.10", "mx9.mailcorp.test", "--low-ttl", "1"});
    const auto out = f.dir.path() / "change.out";
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!contains(rdns::test::read_file(out), "waiting") &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    CHECK(rdns::test::wait_exit(pid) == 128 + SIGKILL);
    rdns::test::publish_a("mx9.mailcorp.test", {});
    std::this_thread::sleep_for(2s);  // the resolver may hold the A record for its 1 s TTL

    const ProcessResult resumed = f.ptr({"change", "198.51.100.10", "mx9.mailcorp.test"});
    INFO(resumed.out << resumed.err);
    CHECK(resumed.exit_code == 1);
    CHECK(contains(resumed.err, "198.51.100.10 FORWARD_CONFIRMED"));
    CHECK(ptr_of("198.51.100.10") == std::vector<std::string>{"mx1.mailcorp.test."});

    // A set of the same IP would be overwritten by the change: refused, naming it.
    const ProcessResult set = f.ptr({"set", "198.51.100.10", "mx1.mailcorp.test", "--ttl", "5"});
    CHECK(set.exit_code == 2);
    CHECK(contains(set.err, "a change to mx9.mailcorp.test is in progress (stage wait)"));
    const ProcessResult applied =
        f.ptr({"apply", "--yes", f.file("desired.csv", "198.51.100.10,mx1.mailcorp.test,5\n")});
    CHECK(applied.exit_code == 1);
    CHECK(contains(applied.err, "refused: 198.51.100.10: a change to mx9.mailcorp.test"));
    cleanup(f, {"198.51.100.10"});
  }
}

TEST_CASE("rdnsctl ptr set without --ttl takes the zone's TTL, and a repeat is a no-op",
          "[cli][ptr][journal]") {
  ApplyFixture f;
  // mailcorp.test's records have TTL 60 in the zone; a resolver counts down.
  const ProcessResult first = f.ptr({"set", "198.51.100.10", "mx1.mailcorp.test"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(contains(first.out, "created mx1.mailcorp.test, TTL 60 ("));
  std::this_thread::sleep_for(2s);
  const ProcessResult again = f.ptr({"set", "198.51.100.10", "mx1.mailcorp.test"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "198.51.100.10: unchanged (mx1.mailcorp.test, TTL 60)"));
  CHECK(f.operations().size() == 1);

  const std::string desired = f.file("desired.csv", "198.51.100.11,mx2.mailcorp.test\n");
  REQUIRE(f.ptr({"plan", desired}).exit_code == 0);  // the resolver caches mx2 now
  std::this_thread::sleep_for(2s);
  const ProcessResult plan = f.ptr({"plan", desired});
  CHECK(contains(plan.out, "+ 198.51.100.11\tmx2.mailcorp.test TTL 60\tcreate"));
  cleanup(f, {"198.51.100.10"});
}

TEST_CASE("rdnsctl ptr keeps its journal in PostgreSQL: one writer, a killed create settled",
          "[cli][ptr][journal][postgresql]") {
  ApplyFixture f;
  rdns::lab::PgServer& server = rdns::lab::shared_pg_server();
  f.db = server.create_database();
  const std::string desired = f.file("desired.csv", kThree);
  slow_creates(f);
  const pid_t pid = f.spawn("apply", {"apply", "--yes", desired});
  wait_pending(f, 1, "apply");

  // The advisory lock keeps a second writer out, as the lock file does.
  const ProcessResult set = f.ptr({"set", "198.51.100.21", "mx3.mailcorp.test", "--ttl", "1"});
  INFO(set.out << set.err);
  CHECK(set.exit_code == 4);
  CHECK(contains(set.err, "another rdnsctl run is using this database"));
  CHECK(contains(set.err, "rdns:***@127.0.0.1"));
  CHECK_FALSE(contains(set.out + set.err, server.password()));

  wait_creates_received(f, 1);
  ::kill(pid, SIGKILL);
  CHECK(rdns::test::wait_exit(pid) == 128 + SIGKILL);
  // The server lets go of a killed session's lock once it sees the
  // connection closed: at once, or a moment later.
  ProcessResult rerun;
  for (int attempt = 0; attempt < 50; ++attempt) {
    rerun = f.ptr({"apply", "--yes", desired});
    if (rerun.exit_code != 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(rerun.out << rerun.err);
  CHECK(rerun.exit_code == 0);
  CHECK(
      contains(rerun.err, "operation 1 (create 198.51.100.10 mx1.mailcorp.test) was interrupted"));
  const auto ops = f.operations();
  CHECK(ops.size() == 3);
  for (const std::string ip : {"198.51.100.10", "198.51.100.11", "198.51.100.20"}) {
    CHECK(count_ops(ops, ip, "done") == 1);
    CHECK(has(f.managed(), ip));
  }
  const ProcessResult journal = f.ptr({"journal"});
  CHECK(journal.exit_code == 0);
  CHECK(contains(journal.out, "\tdone\tcreate\t198.51.100.10\t"));
  const ProcessResult list = f.ptr({"list"});
  CHECK(contains(list.out, "managed"));
  CHECK_FALSE(contains(journal.out + journal.err + list.out + list.err, server.password()));
  f.emulator.admin("DELETE", "faults");
  cleanup(f, {"198.51.100.10", "198.51.100.11", "198.51.100.20"});
}
