// Named runs (`audit --run-name`) in the storage, on both backends: the
// shards of one name share one run, the first creates it, a shard of another
// N or other settings is refused, and the run completes when its last shard
// does; shards joining and ending at once from many connections create the
// run once and complete it once.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <db/database.hpp>
#include <util/error.hpp>

#include "backend_location.hpp"

using rdns::Errc;
using rdns::Status;
using rdns::db::Database;
using rdns::db::ResultRecord;
using rdns::db::RunCounts;
using rdns::db::RunInfo;
using rdns::db::RunShard;
using rdns::db::RunState;
using rdns::db::ShardJoin;

namespace {

ShardJoin join(Database& database, const std::string& name, RunShard shard,
               const std::string& arguments = R"(["audit","--","192.0.2.0/24"])") {
  rdns::db::RunLabel label;
  label.identity = "targets:0123";
  return database.join_named_run(name, "audit", arguments, {"127.0.0.1:53"}, "test", label, shard,
                                 [&](const RunInfo& existing) {
                                   if (existing.arguments_json != arguments) {
                                     throw rdns::Error(Errc::usage, "other arguments");
                                   }
                                 });
}

ResultRecord result(const std::string& ip, Status status) {
  ResultRecord record;
  record.ip = ip;
  record.family = "ipv4";
  record.status = status;
  return record;
}

}  // namespace

TEST_CASE("both backends keep the shards of a named run as one run", "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const rdns::test::BackendLocation where(backend);
  Database database = Database::open(where.location());

  const ShardJoin first = join(database, "nightly", {1, 2});
  CHECK(first.created);
  CHECK(first.attempts == 1);
  CHECK_FALSE(first.already_complete);
  const ShardJoin second = join(database, "nightly", {2, 2});
  CHECK_FALSE(second.created);
  CHECK(second.run_id == first.run_id);

  // Another N, or what `accept` refuses, changes nothing.
  try {
    join(database, "nightly", {3, 3});
    FAIL("a shard of another N joined");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == Errc::usage);
    CHECK_THAT(error.what(),
               Catch::Contains("run 'nightly'") && Catch::Contains("has 2 shards, not 3"));
  }
  CHECK_THROWS_WITH(join(database, "nightly", {1, 2}, R"(["audit"])"), "other arguments");
  CHECK(database.run_shards(first.run_id).size() == 2);
  CHECK(database.run_shards(first.run_id)[0].attempts == 1);

  database.add_results(first.run_id, std::vector{result("192.0.2.1", Status::pass),
                                                 result("192.0.2.2", Status::fail)});
  database.add_results(second.run_id, std::vector{result("192.0.2.200", Status::warn)});
  const auto first_end =
      database.finish_shard(first.run_id, 1, RunState::interrupted, RunCounts{2, 1, 0, 1, 0});
  CHECK_FALSE(first_end.run_complete);
  const auto second_end =
      database.finish_shard(first.run_id, 2, RunState::complete, RunCounts{1, 0, 1, 0, 0});
  CHECK_FALSE(second_end.run_complete);
  CHECK(second_end.shards_left == 1);
  RunInfo run = *database.find_run(first.run_id);
  CHECK(run.state == RunState::running);
  CHECK(run.name == "nightly");
  CHECK(run.parts == 2);
  CHECK(run.parts_complete == 1);
  CHECK_FALSE(run.shard.has_value());

  // Shard 1 again: a second attempt; shard 2 again: complete, nothing to do.
  const ShardJoin again = join(database, "nightly", {1, 2});
  CHECK(again.attempts == 2);
  CHECK_FALSE(again.already_complete);
  CHECK(join(database, "nightly", {2, 2}).already_complete);
  const auto last = database.finish_shard(first.run_id, 1, RunState::complete, {2, 1, 0, 1, 0});
  CHECK(last.run_complete);
  CHECK(last.shards_left == 0);
  run = *database.find_run(first.run_id);
  CHECK(run.state == RunState::complete);
  CHECK(run.counts == RunCounts{3, 1, 1, 1, 0});
  CHECK(run.parts_complete == 2);
  CHECK_FALSE(run.finished_at.empty());
  const auto shards = database.run_shards(first.run_id);
  REQUIRE(shards.size() == 2);
  CHECK(shards[0].index == 1);
  CHECK(shards[0].attempts == 2);
  CHECK(shards[0].state == RunState::complete);
  CHECK(shards[1].counts == RunCounts{1, 0, 1, 0, 0});
  CHECK(database.list_runs(10).size() == 1);

  // Another name is another run; a run of its own has no shards.
  CHECK(join(database, "nightly-2", {1, 1}).run_id != first.run_id);
  const std::int64_t plain = database.begin_run("audit", "[]", {}, "test");
  CHECK(database.run_shards(plain).empty());
  CHECK(database.find_run(plain)->name.empty());
  CHECK(database.find_run(plain)->parts == 0);
}

TEST_CASE("both backends create a named run once and complete it once under contention",
          "[db][backends]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  CAPTURE(backend);
  const rdns::test::BackendLocation where(backend);
  const std::string& location = where.location();
  Database::open(location);  // the schema first, as the first shard would make it
  constexpr int kShards = 6;
  std::atomic<int> created{0};
  std::atomic<int> completed{0};
  std::atomic<std::int64_t> run_id{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> shards;
  for (int k = 1; k <= kShards; ++k) {
    shards.emplace_back([&, k] {
      try {
        Database database = Database::open(location);
        const ShardJoin joined = join(database, "busy", {k, kShards});
        if (joined.created) ++created;
        run_id = joined.run_id;
        if (database.finish_shard(joined.run_id, k, RunState::complete, {1, 1, 0, 0, 0})
                .run_complete) {
          ++completed;
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (std::thread& shard : shards) shard.join();
  CHECK(failures == 0);
  CHECK(created == 1);
  CHECK(completed == 1);
  Database database = Database::open(location);
  const RunInfo run = *database.find_run(run_id);
  CHECK(run.state == RunState::complete);
  CHECK(run.counts.total == kShards);
  CHECK(database.list_runs(10).size() == 1);
}
