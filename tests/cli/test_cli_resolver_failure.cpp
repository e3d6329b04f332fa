// A resolver that refuses, fails or never answers: the run stops early,
// is marked failed and says which resolver; SIGTERM ends a run at once.

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <lab/scripted_resolver.hpp>

#include "run_rdnsctl.hpp"

using rdns::lab::ScriptedResolver;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

using Clock = std::chrono::steady_clock;

std::string run_state(const std::string& db) {
  const auto list = run_rdnsctl({"runs", "list", "--db", db, "--format", "json"});
  REQUIRE(list.exit_code == 0);
  const auto runs = nlohmann::json::parse(list.out);
  REQUIRE(runs.size() == 1);
  return runs[0]["state"].get<std::string>();
}

/// Waits up to `limit` for a spawned process; kills it when it overstays.
int wait_at_most(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("a resolver that refuses or fails every query fails the run with exit 3") {
  const auto behaviour =
      GENERATE(ScriptedResolver::Behaviour::refuse, ScriptedResolver::Behaviour::servfail);
  ScriptedResolver resolver(behaviour);
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto metrics = dir.path() / "rdnsctl.prom";
  const auto audit =
      run_rdnsctl({"audit", "--db", db, "--resolver", resolver.address(), "--timeout", "0.2",
                   "--retries", "1", "--prometheus-textfile", metrics.string(), "192.0.2.0/24"});
  INFO(audit.err);
  CHECK(audit.exit_code == 3);
  CHECK_THAT(audit.err, Catch::Contains("no resolver answered (" + resolver.address()));
  CHECK(run_state(db) == "failed");
  CHECK_THAT(rdns::test::read_file(metrics), Catch::Contains("rdnsctl_run_success 0"));
  // The breaker stopped it before every address was asked.
  CHECK(resolver.queries() < 256);

  const auto check = run_rdnsctl({"check", "--no-db", "--resolver", resolver.address(), "--timeout",
                                  "0.2", "--retries", "1", "192.0.2.0/24"});
  CHECK(check.exit_code == 3);
  CHECK_THAT(check.out,
             Catch::StartsWith("RDNS UNKNOWN - no resolver answered (" + resolver.address()));
}

TEST_CASE("a blackholed resolver ends the run after about two timeout schedules") {
  ScriptedResolver resolver(ScriptedResolver::Behaviour::drop);
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  // One query's schedule: 0.2 s + 0.4 s.
  const auto started = Clock::now();
  const auto audit =
      run_rdnsctl({"audit", "--db", db, "--resolver", resolver.address(), "--timeout", "0.2",
                   "--retries", "1", "--format", "jsonl", "192.0.2.0/24"});
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  INFO(audit.err);
  CHECK(audit.exit_code == 3);
  CHECK_THAT(audit.err, Catch::Contains(resolver.address()) && Catch::Contains("no answer after"));
  CHECK(seconds < 5.0);
  CHECK(run_state(db) == "failed");
  // The run is resumable: it stored no verdict built on silence.
  CHECK(audit.out.empty());
}

TEST_CASE("SIGTERM ends a run within seconds and nothing is sent after it") {
  ScriptedResolver resolver(ScriptedResolver::Behaviour::drop);
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  // Default timeouts: every lookup would hold the run for 15 s.
  const pid_t pid = rdns::test::spawn_rdnsctl(
      {"audit", "--db", db, "--resolver", resolver.address(), "192.0.2.0/24", "198.51.100.0/24"},
      dir.path() / "out", dir.path() / "err");
  // Signalled once the run is under way (its queries reach the resolver),
  // however long a sanitised build takes to start.
  const auto started_by = Clock::now() + std::chrono::seconds(30);
  while (resolver.queries() == 0 && Clock::now() < started_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(resolver.queries() > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto signalled = Clock::now();
  kill(pid, SIGTERM);
  const int code = wait_at_most(pid, std::chrono::seconds(20));
  const double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
  const std::uint64_t sent = resolver.queries();
  CHECK(code == 128 + SIGTERM);
  CHECK(seconds < 2.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(resolver.queries() == sent);
  CHECK(run_state(db) == "interrupted");
  CHECK_THAT(rdns::test::read_file(dir.path() / "err"), Catch::Contains("--resume 1"));
}

TEST_CASE("--timeout refuses absurdly small and large values") {
  for (const char* value : {"0", "0.001", "61", "1e9", "nan"}) {
    INFO(value);
    const auto result = run_rdnsctl(
        {"audit", "--no-db", "--resolver", "127.0.0.1:9", "--timeout", value, "192.0.2.10"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("--timeout"));
  }
}
