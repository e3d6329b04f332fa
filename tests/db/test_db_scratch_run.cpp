#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <db/scratch_run.hpp>
#include <util/error.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace fs = std::filesystem;
using rdns::db::ResultRecord;
using rdns::db::ScratchRun;

namespace {

std::size_t entries(const fs::path& directory) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(directory), {}));
}

ResultRecord record(const std::string& ip) {
  ResultRecord result;
  result.ip = ip;
  result.family = ip.find(':') == std::string::npos ? "ipv4" : "ipv6";
  result.status = rdns::Status::pass;
  result.ptr = {"mail-" + std::to_string(ip.size()) + ".example."};
  return result;
}

/// Addresses in the order the database reads a run back: IPv4 first, then
/// numerically (10.0.0.9 before 10.0.0.10, :: before ::1).
const std::vector<std::string> kOrdered = {
    "9.255.255.255", "10.0.0.9",    "10.0.0.10",   "10.0.1.0",    "192.0.2.1", "::",
    "::1",           "2001:db8::9", "2001:db8::a", "2001:db8:1::"};

std::vector<std::string> visited(ScratchRun& run) {
  std::vector<std::string> out;
  run.visit([&](const ResultRecord& result) { out.push_back(result.ip); });
  return out;
}

}  // namespace

TEST_CASE("ScratchRun gives results back in address order, in memory or on disk") {
  const std::size_t in_memory = GENERATE(std::size_t{100}, std::size_t{3});
  rdns::test::TempDir parent;
  std::vector<std::string> shuffled = kOrdered;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  {
    ScratchRun run(in_memory, parent.path());
    for (const auto& ip : shuffled) run.add(record(ip));
    CHECK(run.on_disk() == (in_memory < kOrdered.size()));
    CHECK(entries(parent.path()) == (run.on_disk() ? 1U : 0U));
    CHECK(visited(run) == kOrdered);
    // A second pass (the table's column widths, then its rows) sees the same.
    CHECK(visited(run) == kOrdered);
    std::vector<ResultRecord> full;
    run.visit([&](const ResultRecord& result) { full.push_back(result); });
    CHECK(full.front() == record(kOrdered.front()));
  }
  CHECK(entries(parent.path()) == 0);
}

TEST_CASE("ScratchRun names the directory it cannot use") {
  rdns::test::TempDir parent;
  const fs::path not_a_directory = parent.path() / "file";
  { std::ofstream(not_a_directory) << "x"; }
  ScratchRun run(1, not_a_directory);
  run.add(record("192.0.2.1"));
  try {
    run.add(record("192.0.2.2"));
    FAIL("a file as the temporary directory was accepted");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::io);
    CHECK_THAT(error.what(),
               Catch::Contains(not_a_directory.string()) && Catch::Contains("TMPDIR"));
  }
}
