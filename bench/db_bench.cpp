// Storage benchmark: how fast audit results and findings are stored, in a
// SQLite file and in PostgreSQL. Writes N results (default 100,000) with two
// findings each through the same ResultWriter the audit uses, as a fresh
// run, three times per backend (RDNS_BENCH_RUNS), and prints results/s and
// findings/s for each run, their median, and the machine's load average
// before and after (a figure taken on a busy machine says so). For SQLite
// it also prints the library's own floor: the same rows, encoded before
// the clock starts, inserted with SQLite's API straight into the same
// schema, so what rdnsctl adds on top of SQLite is visible; and the same
// floor for two layouts the schema does not use (every row appended without
// a key; 512 records' bytes per row), for what a change of layout would save.
//
//   build/release/bench/rdns_db_bench [N] [DIR] [URL]
//
// DIR holds the SQLite file (default: the temporary directory). URL is the
// PostgreSQL database to write into (runs are added to it); without one the
// benchmark starts its own throw-away server (tests/lab PgServer) when built
// with the tests, and skips PostgreSQL otherwise. RDNS_BENCH_BATCH sets the
// batch size (default: ResultWriter's).

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <unistd.h>

#include <db/database.hpp>
#include <db/result_json.hpp>
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
      "CPU (this process) {:.3f} s, {:.2f} µs per result\n",
      attempt, run_count(), records.size(), seconds, count / seconds, 2.0 * count / seconds, cpu,
      cpu * 1e6 / count);
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

/// How the floor stores the rows: the schema's table, or one of two layouts
/// the schema does not use, measured for what they would save.
enum class FloorLayout {
  schema,  ///< results, keyed by (run_id, ip)
  append,  ///< the same columns in a table without a key: each row appended
  blocks,  ///< kBlockRecords rows' encoded bytes in one row, keyed by (run_id, block)
};
constexpr std::size_t kBlockRecords = 512;

std::string_view layout_name(FloorLayout layout) {
  switch (layout) {
    case FloorLayout::schema:
      return "the schema's results table";
    case FloorLayout::append:
      return "rows appended, no key";
    case FloorLayout::blocks:
      return "blocks of 512 records";
  }
  return "";
}

/// The library's floor: CPU seconds SQLite itself takes to insert the
/// records, already encoded, into a fresh run of the schema at `path` (or
/// into a table of another layout beside it), in transactions of the
/// writer's batch size.
double sqlite_floor_cpu(const std::filesystem::path& path,
                        const std::vector<rdns::db::ResultRecord>& records, FloorLayout layout) {
  struct Row {
    std::array<unsigned char, 4> address{};
    std::string status;
    rdns::db::ResultJson json;
  };
  std::vector<Row> rows;
  rows.reserve(records.size());
  for (const auto& record : records) {
    Row row;
    ::inet_pton(AF_INET, record.ip.c_str(), row.address.data());
    row.status = "fail";
    row.json = rdns::db::result_json(record);
    rows.push_back(std::move(row));
  }
  SQLite::Database connection(path.string(), SQLite::OPEN_READWRITE);
  connection.exec("PRAGMA foreign_keys = ON");
  connection.exec("PRAGMA cache_size = -16384");
  connection.exec(
      "INSERT INTO runs (command, started_at, state, arguments, resolvers, tool_version) "
      "VALUES ('audit', '2026-01-01T00:00:00Z', 'running', '[]', '[]', 'floor')");
  const std::int64_t run = connection.getLastInsertRowid();
  connection.exec(
      "CREATE TABLE appended (run_id INTEGER NOT NULL, ip TEXT NOT NULL, family TEXT NOT NULL, "
      "address BLOB NOT NULL, status TEXT NOT NULL, ptr TEXT NOT NULL, forward TEXT NOT NULL, "
      "sources TEXT NOT NULL, findings TEXT NOT NULL, smtp TEXT)");
  connection.exec(
      "CREATE TABLE blocks (run_id INTEGER NOT NULL, block INTEGER NOT NULL, records BLOB NOT "
      "NULL, PRIMARY KEY (run_id, block))");
  SQLite::Statement insert(
      connection,
      fmt::format("INSERT INTO {} (run_id, ip, family, address, status, ptr, "
                  "forward, sources, findings, smtp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  layout == FloorLayout::append ? "appended" : "results"));
  SQLite::Statement insert_block(connection, "INSERT INTO blocks VALUES (?, ?, ?)");
  std::string block;
  std::int64_t block_number = 0;
  // A record in a block: its fields, each preceded by its length.
  const auto append_field = [&block](std::string_view field) {
    const auto length = static_cast<std::uint32_t>(field.size());
    block.append(reinterpret_cast<const char*>(&length), sizeof length);
    block.append(field);
  };
  const auto store_block = [&] {
    insert_block.bind(1, run);
    insert_block.bind(2, block_number++);
    insert_block.bindNoCopy(3, block.data(), static_cast<int>(block.size()));
    insert_block.exec();
    insert_block.reset();
    block.clear();
  };
  const std::clock_t cpu_start = std::clock();
  const std::size_t batch = batch_size();
  for (std::size_t first = 0; first < rows.size(); first += batch) {
    SQLite::Transaction transaction(connection, SQLite::TransactionBehavior::IMMEDIATE);
    const std::size_t end = std::min(rows.size(), first + batch);
    for (std::size_t i = first; i < end; ++i) {
      const Row& row = rows[i];
      if (layout == FloorLayout::blocks) {
        block.append(reinterpret_cast<const char*>(row.address.data()), row.address.size());
        for (const std::string_view field :
             {std::string_view(row.status), std::string_view(row.json.ptr),
              std::string_view(row.json.forward), std::string_view(row.json.sources),
              std::string_view(row.json.findings)}) {
          append_field(field);
        }
        if ((i + 1 - first) % kBlockRecords == 0 || i + 1 == end) store_block();
        continue;
      }
      insert.bind(1, run);
      insert.bindNoCopy(2, records[i].ip);
      insert.bindNoCopy(3, records[i].family);
      insert.bindNoCopy(4, row.address.data(), static_cast<int>(row.address.size()));
      insert.bindNoCopy(5, row.status);
      insert.bindNoCopy(6, row.json.ptr);
      insert.bindNoCopy(7, row.json.forward);
      insert.bindNoCopy(8, row.json.sources);
      insert.bindNoCopy(9, row.json.findings);
      insert.bind(10);
      insert.exec();
      insert.reset();
    }
    transaction.commit();
  }
  return static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
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
  for (const FloorLayout layout : {FloorLayout::schema, FloorLayout::append, FloorLayout::blocks}) {
    std::vector<double> floors;
    for (int i = 0; i < run_count(); ++i) {
      static_cast<void>(rdns::db::Database::open(path));  // the schema, nothing else
      floors.push_back(sqlite_floor_cpu(path, make_records(count), layout) * 1e6 /
                       static_cast<double>(count));
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(path.string() + suffix);
      }
    }
    std::sort(floors.begin(), floors.end());
    fmt::print(
        "  SQLite's floor    {:.2f} µs CPU per result, {} (median of {}: the same rows encoded "
        "beforehand, inserted with SQLite's API)\n",
        floors[floors.size() / 2], layout_name(layout), floors.size());
  }
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
