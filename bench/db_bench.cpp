// Storage benchmark: how fast audit results and findings go into SQLite.
// Writes N results (default 100,000) with two findings each through the
// same ResultWriter the audit uses, into a fresh database file, and prints
// results/s and findings/s.
//
//   build/release/bench/rdns_db_bench [N] [DIR]

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include <db/database.hpp>
#include <db/result_writer.hpp>

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100000;
  const std::filesystem::path dir =
      argc > 2 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path();
  const auto path = dir / fmt::format("rdns-db-bench-{}.db", ::getpid());
  std::filesystem::remove(path);

  auto database = rdns::db::Database::open(path);
  const std::int64_t run = database.begin_run("audit", "[]", {"127.0.0.1:53"}, "bench");
  std::vector<rdns::db::ResultRecord> records;
  records.reserve(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) {
    rdns::db::ResultRecord record;
    record.ip = fmt::format("100.{}.{}.{}", 64 + (i >> 16) % 64, (i >> 8) & 255, i & 255);
    record.family = "ipv4";
    record.status = rdns::Status::fail;
    record.ptr = {fmt::format("mta{}.bench.example", i), fmt::format("alt{}.bench.example", i)};
    record.forward = {{record.ptr[0], {"100.64.0.1"}}, {record.ptr[1], {"127.0.0.1"}}};
    record.findings = {{"MULTIPLE_PTR", rdns::Severity::warning,
                        fmt::format("2 PTR values ({}, {})", record.ptr[0], record.ptr[1])},
                       {"FORWARD_MISMATCH", rdns::Severity::error,
                        fmt::format("{} resolves to 100.64.0.1", record.ptr[0])}};
    records.push_back(std::move(record));
  }

  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  {
    rdns::db::ResultWriter writer(database, run);
    for (auto& record : records) writer.add(std::move(record));
    writer.flush();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  database.finish_run(run, rdns::db::RunState::complete, database.count_results(run));
  const auto bytes = std::filesystem::file_size(path);
  fmt::print("results             {}\n", count);
  fmt::print("findings            {}\n", 2 * count);
  fmt::print("elapsed             {:.3f} s\n", seconds);
  fmt::print("results/s           {:.0f}\n", static_cast<double>(count) / seconds);
  fmt::print("findings/s          {:.0f} (target >= 200,000)\n",
             2.0 * static_cast<double>(count) / seconds);
  fmt::print("CPU                 {:.3f} s ({:.0f} findings per CPU second)\n", cpu,
             2.0 * static_cast<double>(count) / cpu);
  fmt::print("database size       {:.1f} MiB\n", static_cast<double>(bytes) / 1048576.0);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return 0;
}
