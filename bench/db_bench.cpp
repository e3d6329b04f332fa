// Storage benchmark: how fast audit results and findings are stored, in a
// SQLite file and in PostgreSQL. Writes N results (default 100,000) with two
// findings each through the same ResultWriter the audit uses, as a fresh
// run, three times per backend (RDNS_BENCH_RUNS), and prints results/s and
// findings/s for each run, their median, and the machine's load average
// before and after (a figure taken on a busy machine says so).
//
//   build/release/bench/rdns_db_bench [N] [DIR] [URL]
//
// DIR holds the SQLite file (default: the temporary directory). URL is the
// PostgreSQL database to write into (runs are added to it); without one the
// benchmark starts its own throw-away server (tests/lab PgServer) when built
// with the tests, and skips PostgreSQL otherwise. RDNS_BENCH_BATCH sets the
// batch size (default: ResultWriter's).

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include <db/database.hpp>
#include <db/result_writer.hpp>
#ifdef RDNS_BENCH_WITH_LAB
#include <lab/pg_server.hpp>
#endif

namespace {

std::vector<rdns::db::ResultRecord> make_records(long count) {
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
  return records;
}

/// RDNS_BENCH_BATCH overrides ResultWriter's batch size, to compare sizes.
std::size_t batch_size() {
  const char* value = std::getenv("RDNS_BENCH_BATCH");
  if (value == nullptr || *value == '\0') return rdns::db::ResultWriter::kDefaultBatchSize;
  return static_cast<std::size_t>(std::strtoul(value, nullptr, 10));
}

/// RDNS_BENCH_RUNS overrides how many runs each backend gets (default 3).
int run_count() {
  const char* value = std::getenv("RDNS_BENCH_RUNS");
  if (value == nullptr || *value == '\0') return 3;
  return std::max(1, static_cast<int>(std::strtol(value, nullptr, 10)));
}

/// The machine's load average over the last minute, from /proc/loadavg.
std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one;
  file >> one;
  return one.empty() ? "unknown" : one;
}

/// Stores the records as one run (the `attempt`th), prints its rates;
/// returns results/s.
double measure(rdns::db::Database& database, std::vector<rdns::db::ResultRecord> records,
               int attempt) {
  const auto count = static_cast<double>(records.size());
  const std::int64_t run = database.begin_run("audit", "[]", {"127.0.0.1:53"}, "bench");
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  {
    rdns::db::ResultWriter writer(database, run, batch_size());
    for (auto& record : records) writer.add(std::move(record));
    writer.flush();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  database.finish_run(run, rdns::db::RunState::complete, database.count_results(run));
  fmt::print(
      "  run {}/{}: {} results in {:.3f} s: {:.0f} results/s, {:.0f} findings/s, "
      "CPU (this process) {:.3f} s\n",
      attempt, run_count(), records.size(), seconds, count / seconds, 2.0 * count / seconds, cpu);
  return count / seconds;
}

/// Prints the median of the runs' rates against the target.
void print_median(std::vector<double> rates) {
  std::sort(rates.begin(), rates.end());
  const double median = rates[rates.size() / 2];
  fmt::print(
      "  median            {:.0f} results/s, {:.0f} findings/s of {} runs "
      "(target >= 100,000 results/s)\n",
      median, 2.0 * median, rates.size());
}

void bench_sqlite(long count, const std::filesystem::path& dir) {
  const auto path = dir / fmt::format("rdns-db-bench-{}.db", ::getpid());
  fmt::print("sqlite {}\n", path.string());
  std::vector<double> rates;
  for (int i = 0; i < run_count(); ++i) {
    std::filesystem::remove(path);
    {
      auto database = rdns::db::Database::open(path);
      rates.push_back(measure(database, make_records(count), i + 1));
    }
    fmt::print("  database size     {:.1f} MiB\n",
               static_cast<double>(std::filesystem::file_size(path)) / 1048576.0);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path.string() + suffix);
    }
  }
  print_median(rates);
}

void bench_postgres(long count, const std::string& url) {
  auto database = rdns::db::Database::open(url);
  fmt::print("postgresql {}\n", database.path().string());
  std::vector<double> rates;
  for (int i = 0; i < run_count(); ++i) {
    rates.push_back(measure(database, make_records(count), i + 1));
  }
  print_median(rates);
}

#ifdef RDNS_BENCH_WITH_LAB
/// CPU seconds of a process and of its children it has reaped (the
/// postmaster reaps each session's backend when it disconnects).
double process_tree_cpu(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::vector<std::string> field{std::istream_iterator<std::string>(fields), {}};
  // Fields 14-17 of proc(5) (utime, stime, cutime, cstime), counted from
  // field 3 here: the state.
  double ticks = 0;
  for (std::size_t i = 11; i <= 14 && i < field.size(); ++i) ticks += std::stod(field[i]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100000;
  const std::filesystem::path dir =
      argc > 2 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path();
  fmt::print("load average (1 min) {} on {} cores\n", load_average(),
             std::thread::hardware_concurrency());
  bench_sqlite(count, dir);
  if (argc > 3) {
    bench_postgres(count, argv[3]);
    fmt::print("load average (1 min) {} after\n", load_average());
    return 0;
  }
#ifdef RDNS_BENCH_WITH_LAB
  rdns::lab::PgServer server;
  const std::string url = server.create_database();
  const double server_cpu_before = process_tree_cpu(server.pid());
  bench_postgres(count, url);
  // The backend has exited; give the postmaster a moment to reap it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double server_cpu = process_tree_cpu(server.pid()) - server_cpu_before;
  fmt::print("  CPU (server)      {:.3f} s for the runs ({:.0f} results per server CPU second)\n",
             server_cpu, static_cast<double>(count) * run_count() / server_cpu);
#else
  fmt::print("postgresql: skipped (give a URL, or build with the tests for a local server)\n");
#endif
  fmt::print("load average (1 min) {} after\n", load_average());
  return 0;
}
