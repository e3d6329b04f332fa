// The result sink's writer thread on its own: it is woken per batch, not per
// result, so these check that a batch that never fills is still handed over
// without waiting for the end, that every result arrives in order and is
// stored, and that its first error stops it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <db/database.hpp>
#include <db/result_writer.hpp>
#include <run/result_sink.hpp>
#include <util/error.hpp>
#include <util/verdict.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace {

using rdns::run::ResultSink;

std::string address_for(std::uint32_t index) {
  return "10.0." + std::to_string(index / 256) + "." + std::to_string(index % 256);
}

rdns::audit::IpResult result_for(std::uint32_t index) {
  rdns::audit::IpResult result;
  result.observation.ip = *rdns::audit::IpAddress::parse(address_for(index));
  result.verdict.status = rdns::Status::pass;
  return result;
}

/// Waits up to 5 s for the writer thread to make `done` true; the caller's
/// checks that follow say what was expected.
template <typename Done>
void wait_until(const Done& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// Keeps the addresses handed over; throws at the `fail_at`-th one when set.
class ListObserver : public rdns::run::ResultObserver {
 public:
  explicit ListObserver(std::size_t fail_at = 0) : fail_at_(fail_at) {}
  void add(const rdns::db::ResultRecord& record) override {
    const std::lock_guard lock(mutex_);
    if (fail_at_ != 0 && seen_.size() + 1 == fail_at_) {
      throw rdns::Error(rdns::Errc::io, "output: No space left on device");
    }
    seen_.push_back(record.ip);
  }
  void finish(const rdns::db::RunCounts& /*counts*/) override { finished_ = true; }
  std::vector<std::string> seen() const {
    const std::lock_guard lock(mutex_);
    return seen_;
  }
  bool finished() const { return finished_; }

 private:
  std::size_t fail_at_;
  mutable std::mutex mutex_;
  std::vector<std::string> seen_;
  bool finished_ = false;
};

}  // namespace

TEST_CASE("the result sink stores every result in order, woken per batch", "[run]") {
  const rdns::test::TempDir scratch;
  auto database = rdns::db::Database::open(scratch.path() / "runs.db");
  const std::int64_t run_id = database.begin_run("audit", "[]", {}, "test");
  ListObserver observer;
  {
    rdns::db::ResultWriter writer(database, run_id);
    ResultSink sink(observer, &writer, {});
    // Not a multiple of the wake-up batch: the last part is written on close.
    const std::uint32_t count = 3 * ResultSink::kWakeBatch + 17;
    std::vector<std::string> pushed;
    for (std::uint32_t i = 0; i < count; ++i) {
      pushed.push_back(address_for(i));
      sink.push(result_for(i));
    }
    sink.close({});
    CHECK(observer.seen() == pushed);
    CHECK(observer.finished());
  }
  CHECK(database.count_results(run_id).total == 3 * ResultSink::kWakeBatch + 17);
}

TEST_CASE("the result sink hands over a batch that never fills within its delay", "[run]") {
  ListObserver observer;
  ResultSink sink(observer, nullptr, {});
  sink.push(result_for(1));
  sink.push(result_for(2));
  sink.hand_over();
  // No more results come (the run's tail waits on slow lookups): the thread
  // wakes by itself instead of holding them until close().
  wait_until([&] { return observer.seen().size() >= 2; });
  CHECK(observer.seen() == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  sink.close({});
}

TEST_CASE("the result sink's first error stops it, refuses more and reaches close()", "[run]") {
  ListObserver observer(5);
  std::atomic<int> failures{0};
  ResultSink sink(observer, nullptr,
                  {.on_room = {}, .on_failure = [&] { ++failures; }, .on_record = {}});
  for (std::uint32_t i = 0; i < 2 * ResultSink::kWakeBatch; ++i) sink.push(result_for(i));
  wait_until([&] { return failures != 0; });
  CHECK(failures == 1);
  CHECK_FALSE(sink.has_room());
  CHECK_THROWS_WITH(sink.close({}), Catch::Contains("No space left on device"));
  CHECK(observer.seen().size() == 4);
  CHECK_FALSE(observer.finished());
}

TEST_CASE("the result sink hands over a full collection by itself and records each result",
          "[run]") {
  ListObserver observer;
  std::vector<std::string> recorded;  // the writer thread's until close()
  ResultSink sink(
      observer, nullptr,
      {.on_room = {}, .on_failure = {}, .on_record = [&](const rdns::db::ResultRecord& record) {
         recorded.push_back(record.ip + " " + std::string(rdns::status_name(record.status)));
       }});
  // Exactly one collection, and no hand_over(): the producer need not say
  // when a batch is full.
  for (std::uint32_t i = 0; i < ResultSink::kHandOverBatch; ++i) sink.push(result_for(i));
  wait_until([&] { return observer.seen().size() >= ResultSink::kHandOverBatch; });
  CHECK(observer.seen().size() == ResultSink::kHandOverBatch);
  sink.close({});
  REQUIRE(recorded.size() == ResultSink::kHandOverBatch);
  CHECK(recorded.front() == "10.0.0.0 pass");
}

TEST_CASE("a full result sink refuses room, then calls on_room once it has taken the results",
          "[run]") {
  // The writer thread is held inside its first batch, so the queue can only
  // fill: without that, it could take the results before the producer asks
  // for room, and the test would depend on which thread ran first.
  class GatedObserver : public ListObserver {
   public:
    void add(const rdns::db::ResultRecord& record) override {
      std::unique_lock lock(gate_mutex_);
      entered_ = true;
      gate_.notify_all();
      gate_.wait(lock, [this] { return open_; });
      lock.unlock();
      ListObserver::add(record);
    }
    void wait_entered() {
      std::unique_lock lock(gate_mutex_);
      REQUIRE(gate_.wait_for(lock, std::chrono::seconds(5), [this] { return entered_; }));
    }
    void open() {
      const std::lock_guard lock(gate_mutex_);
      open_ = true;
      gate_.notify_all();
    }

   private:
    std::mutex gate_mutex_;
    std::condition_variable gate_;
    bool entered_ = false;
    bool open_ = false;
  };
  GatedObserver observer;
  std::atomic<int> rooms{0};
  constexpr std::size_t kCapacity = 8;
  ResultSink sink(observer, nullptr,
                  {.on_room = [&] { ++rooms; }, .on_failure = {}, .on_record = {}}, kCapacity);
  sink.push(result_for(kCapacity));
  sink.hand_over();
  observer.wait_entered();  // the writer holds that one result, and waits
  for (std::uint32_t i = 0; i < kCapacity - 1; ++i) sink.push(result_for(i));
  CHECK(sink.has_room());  // results collected, not handed over yet, count too
  sink.push(result_for(kCapacity - 1));
  // The collection reached the capacity and was handed over by push().
  CHECK_FALSE(sink.has_room());
  observer.open();
  wait_until([&] { return rooms != 0; });
  CHECK(rooms == 1);
  CHECK(sink.has_room());
  sink.close({});
  CHECK(observer.seen().size() == kCapacity + 1);
}

namespace {

/// Keeps the lists each record arrived with (none: it came through add()).
class EncodedObserver : public rdns::run::ResultObserver {
 public:
  void add(const rdns::db::ResultRecord& record) override { plain_.push_back(record.ip); }
  void add_encoded(const rdns::db::ResultRecord& record,
                   const rdns::db::ResultJson& lists) override {
    encoded_.push_back(record.ip + " " + lists.ptr + " " + lists.findings);
  }
  void finish(const rdns::db::RunCounts& /*counts*/) override {}
  std::vector<std::string> plain_;
  std::vector<std::string> encoded_;
};

rdns::audit::IpResult failing_result() {
  rdns::audit::IpResult result = result_for(9);
  result.verdict.status = rdns::Status::fail;
  result.verdict.findings.push_back(
      {rdns::audit::Code::no_ptr, rdns::Severity::error, "no \"PTR\""});
  return result;
}

}  // namespace

TEST_CASE("a stored run's observer gets the lists the database stores, encoded once", "[run]") {
  const rdns::test::TempDir scratch;
  auto database = rdns::db::Database::open(scratch.path() / "runs.db");
  const std::int64_t run_id = database.begin_run("audit", "[]", {}, "test");
  EncodedObserver observer;
  {
    rdns::db::ResultWriter writer(database, run_id);
    ResultSink sink(observer, &writer, {});
    sink.push(failing_result());
    sink.close({});
  }
  CHECK(observer.plain_.empty());
  REQUIRE(observer.encoded_.size() == 1);
  CHECK(observer.encoded_[0] ==
        R"(10.0.0.9 [] [{"code":"NO_PTR","severity":"error","detail":"no \"PTR\""}])");
  const auto stored = database.results(run_id);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].findings ==
        std::vector<rdns::db::FindingRecord>{{"NO_PTR", rdns::Severity::error, "no \"PTR\""}});

  // Nothing stored: the observer encodes what it needs itself.
  EncodedObserver unstored;
  ResultSink sink(unstored, nullptr, {});
  sink.push(failing_result());
  sink.close({});
  CHECK(unstored.plain_ == std::vector<std::string>{"10.0.0.9"});
  CHECK(unstored.encoded_.empty());
}
