// The PTR write journal: intents and outcomes, pending rows for the next run
// to reconcile, the managed set, staged changes, risk passes and the writers'
// lock, in a SQLite file and in PostgreSQL alike; and migration 5 on a
// version 4 file.

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <stdlib.h>

#include <db/database.hpp>
#include <db/ptr_journal.hpp>
#include <util/error.hpp>

#include "backend_location.hpp"
#include "old_schema.hpp"
#include "scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using rdns::db::PtrJournal;
using rdns::db::PtrOperationRecord;

PtrOperationRecord intent(const std::string& action, const std::string& ip) {
  PtrOperationRecord op;
  op.source = "test";
  op.action = action;
  op.region = "cn-hangzhou";
  op.ip = ip;
  op.value = "mx1.example.com";
  op.ttl = 600;
  return op;
}

/// The server drops a closed session's lock once its backend has exited:
/// soon after the disconnect, not at once.
bool eventually_locks(PtrJournal& journal) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (journal.try_lock_writers()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("journal: intent, outcome and the pending rows a crash leaves", "[db][journal]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  const rdns::test::BackendLocation location(backend);
  const fs::path path = location.location();
  {
    PtrJournal journal = PtrJournal::open(path);
    const auto first = journal.begin(intent("create", "192.0.2.1"));
    PtrOperationRecord update = intent("update", "192.0.2.2");
    update.record_id = "ptr-9";
    update.previous_value = "old.example.com";
    update.previous_ttl = 60;
    update.previous_status = "enabled";
    const auto second = journal.begin(update);
    journal.finish(first, "done", "ok", "req-1", "ptr-1");
    CHECK_THROWS_AS(journal.finish(first, "failed", "again"), rdns::Error);  // settled once
    (void)second;
  }
  // A new process (the next run) sees the unfinished one.
  PtrJournal journal = PtrJournal::open(path);
  const auto pending = journal.pending("cn-hangzhou");
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].ip == "192.0.2.2");
  CHECK(pending[0].previous_value == "old.example.com");
  CHECK(pending[0].record_id == "ptr-9");
  CHECK(journal.pending("cn-shanghai").empty());
  const auto done = journal.find(1);
  REQUIRE(done);
  CHECK(done->state == "done");
  CHECK(done->request_id == "req-1");
  CHECK(done->record_id == "ptr-1");
  CHECK_FALSE(done->finished_at.empty());
  journal.finish(pending[0].id, "not_applied", "reconciled");
  CHECK(journal.pending("cn-hangzhou").empty());
  CHECK(journal.list(10).size() == 2);
  CHECK(journal.list(10).front().id == 2);  // newest first

  journal.set_managed("cn-hangzhou", "192.0.2.2", true);
  journal.set_managed("cn-hangzhou", "192.0.2.1", true);
  journal.set_managed("cn-hangzhou", "192.0.2.1", true);  // idempotent
  CHECK(journal.managed("cn-hangzhou") == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
  journal.set_managed("cn-hangzhou", "192.0.2.1", false);
  CHECK(journal.managed("cn-hangzhou") == std::vector<std::string>{"192.0.2.2"});
}

TEST_CASE("journal: staged changes, risk passes and the writers' lock", "[db][journal]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  const rdns::test::BackendLocation location(backend);
  PtrJournal journal = PtrJournal::open(location.location());

  rdns::db::PtrStageRecord stage{
      "cn-hangzhou", "192.0.2.5", "mx2.example.com", 600, "mx1.example.com", 3600, 60, "lower", 0};
  journal.save_stage(stage);
  stage.stage = "wait";
  stage.not_before = 1900000000;
  journal.save_stage(stage);  // replaces, never adds a second row
  CHECK(journal.stage("cn-hangzhou", "192.0.2.5") == stage);
  CHECK_FALSE(journal.stage("cn-shanghai", "192.0.2.5"));
  journal.clear_stage("cn-hangzhou", "192.0.2.5");
  CHECK_FALSE(journal.stage("cn-hangzhou", "192.0.2.5"));

  journal.add_risks({{"", "cn-hangzhou", "192.0.2.5", "high", "FCRDNS_BROKEN", "no A", "fix"},
                     {"", "cn-hangzhou", "192.0.2.6", "ok", "OK", "fine", "none"}});
  const auto risks = journal.risks("cn-hangzhou", 10);
  REQUIRE(risks.size() == 2);
  CHECK(risks[0].ip == "192.0.2.6");                  // newest first
  CHECK(risks[0].checked_at == risks[1].checked_at);  // one pass, one time
  CHECK(risks[1].code == "FCRDNS_BROKEN");
  CHECK(journal.risks("cn-hangzhou", 1).size() == 1);
  CHECK(journal.risks("cn-shanghai", 10).empty());

  // Managed IPs in byte order, as SQLite sorts text, whatever the locale.
  for (const char* ip : {"192.0.2.10", "192.0.2.9", "2001:db8::1"}) {
    journal.set_managed("cn-hangzhou", ip, true);
  }
  CHECK(journal.managed("cn-hangzhou") ==
        std::vector<std::string>{"192.0.2.10", "192.0.2.9", "2001:db8::1"});

  // One writer at a time: PostgreSQL's advisory lock lasts as long as the
  // journal that took it; a SQLite file is locked by its callers instead.
  REQUIRE(journal.try_lock_writers());
  PtrJournal second = PtrJournal::open(location.location());
  CHECK(second.try_lock_writers() == (backend == "sqlite"));
  journal = PtrJournal::open(location.location());  // the first one closes
  CHECK(eventually_locks(second));
}

TEST_CASE("journal: a version 4 database gains the journal tables on open", "[db][journal]") {
  const rdns::test::ScratchDir dir("rdns-journal");
  const auto path = dir / "v4.db";
  const std::string sql = rdns::test::schema_at_version(4);
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &handle) == SQLITE_OK);
  const int executed = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(handle);
  REQUIRE(executed == SQLITE_OK);

  PtrJournal journal = PtrJournal::open(path);
  CHECK(journal.begin(intent("delete", "192.0.2.3")) == 1);
  CHECK(rdns::db::Database::open(path).schema_version() ==
        rdns::db::Database::latest_schema_version());
}
