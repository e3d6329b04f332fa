// Write errors and output paths with real conditions: /dev/full, a closed
// stdout, a reader that goes away or reads slowly, a file size limit, a
// database lock held by another program, FIFOs and symbolic links.

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"
#include "stored_runs.hpp"
#include "test_paths.hpp"

using rdns::test::only_run;
using rdns::test::ProcessResult;
using rdns::test::read_file;
using rdns::test::run_command;
using rdns::test::run_rdnsctl;
using rdns::test::shell_quote;
using rdns::test::TempDir;

namespace {

constexpr std::int64_t kTargets = 768;

std::vector<std::string> audit_args(const std::string& db, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"audit",
                                   "--resolver",
                                   rdns::lab::shared_lab().resolver_address(),
                                   "--timeout",
                                   "0.4",
                                   "--retries",
                                   "1",
                                   "--db",
                                   db,
                                   "--format",
                                   "jsonl",
                                   "--fail-on",
                                   "never",
                                   "192.0.2.0/24",
                                   "198.51.100.0/24",
                                   "2001:db8::/120"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// rdnsctl with `args` as a shell command line, for redirections and pipes.
std::string command_line(const std::vector<std::string>& args) {
  std::string line = shell_quote(rdns::test::rdnsctl_binary());
  // Built with append(), not "literal" + std::string: at -O3 GCC 12 warns
  // falsely (-Wrestrict) inside the libstdc++ replace() that operator+ uses.
  for (const auto& arg : args) line.append(" ").append(shell_quote(arg));
  return line;
}

/// Runs a bash script; its stdout and stderr are captured.
ProcessResult bash(const std::string& script) {
  return run_command({"bash", "-c", script});
}

/// The run can be resumed to a complete run holding every target once.
void resume_completes(const std::string& db) {
  const auto id = only_run(db)["id"].get<std::int64_t>();
  const auto resumed = run_rdnsctl({"audit", "--resume", std::to_string(id), "--db", db, "--format",
                                    "jsonl", "--fail-on", "never", "-q"});
  CHECK(resumed.exit_code == 0);
  const auto run = only_run(db);
  CHECK(run["state"] == "complete");
  CHECK(run["counts"]["total"] == kTargets);
}

std::map<std::string, std::string> statuses(const std::string& jsonl) {
  std::map<std::string, std::string> out;
  std::istringstream lines(jsonl);
  std::string line;
  while (std::getline(lines, line)) {
    const auto result = nlohmann::json::parse(line);
    out[result["ip"].get<std::string>()] = result["status"].get<std::string>();
  }
  return out;
}

}  // namespace

TEST_CASE("audit output to /dev/full fails the run with exit 3, and it resumes") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto result = bash(command_line(audit_args(db)) + " >/dev/full");
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("output: standard output: No space left on device"));
  CHECK_THAT(result.err, Catch::Contains("--resume"));
  CHECK(only_run(db)["state"] == "failed");
  resume_completes(db);
}

TEST_CASE("a closed stdout is an output error, never a file the output lands in") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto audit = bash(command_line(audit_args(db)) + " >&-");
  CHECK(audit.exit_code == 3);
  CHECK_THAT(audit.err, Catch::Contains("output: standard output"));
  CHECK(read_file(db + ".lock").empty());
  const auto list = bash(command_line({"runs", "list", "--db", db}) + " >&-");
  CHECK(list.exit_code == 3);
  CHECK_THAT(list.err, Catch::Contains("output: standard output"));
}

TEST_CASE("audit | head ends with a message and an interrupted, resumable run") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto result = bash(command_line(audit_args(db, {"--qps", "300"})) +
                           " | head -1 >/dev/null; exit ${PIPESTATUS[0]}");
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("output: standard output was closed by its reader"));
  CHECK_THAT(result.err, Catch::Contains("interrupted: continue with: rdnsctl audit --resume"));
  CHECK(only_run(db)["state"] == "interrupted");
  resume_completes(db);
}

TEST_CASE("a full disk while storing results exits 3 with 'disk full', and the run resumes") {
  if (geteuid() != 0) {
    WARN("not root: cannot mount the small file system this test fills");
    return;
  }
  TempDir dir;
  const auto disk = dir.path() / "disk";
  std::filesystem::create_directory(disk);
  REQUIRE(
      bash("mount -t tmpfs -o size=384k rdnsctl-test " + shell_quote(disk.string())).exit_code ==
      0);
  // Unmounted however the test ends, leaving the machine as it was.
  struct Unmount {
    std::string path;
    ~Unmount() { bash("umount " + shell_quote(path)); }
  } unmount{disk.string()};
  const std::string db = (disk / "runs.db").string();
  // Paced, so the disk fills mid-run: the old code crashed there (SIGSEGV or
  // SIGABRT) as the error unwound through c-ares.
  const auto result = bash(command_line(audit_args(db, {"--qps", "300"})) + " >/dev/null");
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("runs.db: disk full"));
  CHECK_THAT(result.err, Catch::Contains("--resume"));
  const std::string state = only_run(db)["state"].get<std::string>();
  CHECK((state == "failed" || state == "running"));
  REQUIRE(bash("mount -o remount,size=16m " + shell_quote(disk.string())).exit_code == 0);
  resume_completes(db);
}

TEST_CASE("a database lock held by another program exits 3 with 'locked', and the run resumes") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto out = dir.path() / "audit.out";
  const auto err = dir.path() / "audit.err";
  const pid_t pid = rdns::test::spawn_rdnsctl(audit_args(db, {"--qps", "150"}), out, err);
  REQUIRE(rdns::test::wait_for_lines(out, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // The sqlite3 shell holds the write lock longer than the 5 s busy timeout.
  const auto holder =
      bash("(echo 'BEGIN EXCLUSIVE;'; sleep 8; echo 'COMMIT;') | sqlite3 " + shell_quote(db));
  CHECK(holder.exit_code == 0);
  CHECK(rdns::test::wait_exit(pid) == 3);
  CHECK_THAT(read_file(err), Catch::Contains("locked by another program"));
  resume_completes(db);
}

TEST_CASE("a slow reader of the output does not turn answers into timeouts") {
  TempDir dir;
  const auto fast = dir.path() / "fast.jsonl";
  const auto slow = dir.path() / "slow.jsonl";
  const std::vector<std::string> args = {"audit",
                                         "--resolver",
                                         rdns::lab::shared_lab().resolver_address(),
                                         "--timeout",
                                         "0.3",
                                         "--retries",
                                         "0",
                                         "--no-db",
                                         "--format",
                                         "jsonl",
                                         "--fail-on",
                                         "never",
                                         "-q",
                                         "192.0.2.0/24",
                                         "198.51.100.0/24",
                                         "2001:db8::/120"};
  REQUIRE(bash(command_line(args) + " >" + shell_quote(fast.string())).exit_code == 0);
  // The reader starts only after 2 s: the pipe fills long before.
  const auto piped = bash(command_line(args) + " | { sleep 2; cat >" + shell_quote(slow.string()) +
                          "; }; exit ${PIPESTATUS[0]}");
  CHECK(piped.exit_code == 0);
  const auto expected = statuses(read_file(fast));
  const auto got = statuses(read_file(slow));
  CHECK(expected.size() == static_cast<std::size_t>(kTargets));
  CHECK(got == expected);
}

TEST_CASE("report -o writes through a FIFO and a symbolic link's target") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  REQUIRE(run_rdnsctl({"audit", "--resolver", rdns::lab::shared_lab().resolver_address(), "--db",
                       db, "-q", "--fail-on", "never", "192.0.2.10"})
              .exit_code == 0);
  const auto fifo = dir.path() / "report.fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const auto via_fifo =
      bash(command_line({"report", "--db", db, "--format", "csv", "-o", fifo.string()}) +
           " & cat " + shell_quote(fifo.string()) + "; wait $!");
  CHECK(via_fifo.exit_code == 0);
  CHECK_THAT(via_fifo.out, Catch::Contains("192.0.2.10"));
  struct stat status {};
  REQUIRE(lstat(fifo.c_str(), &status) == 0);
  CHECK(S_ISFIFO(status.st_mode));

  const auto target = dir.path() / "real.csv";
  const auto link = dir.path() / "latest.csv";
  std::filesystem::create_symlink(target, link);
  CHECK(run_rdnsctl({"report", "--db", db, "--format", "csv", "-o", link.string()}).exit_code == 0);
  CHECK(std::filesystem::is_symlink(link));
  CHECK_THAT(read_file(target), Catch::Contains("192.0.2.10"));

  const auto textfile_target = dir.path() / "rdnsctl.prom.real";
  const auto textfile = dir.path() / "rdnsctl.prom";
  std::filesystem::create_symlink(textfile_target, textfile);
  CHECK(run_rdnsctl({"audit", "--resolver", rdns::lab::shared_lab().resolver_address(), "--no-db",
                     "-q", "--fail-on", "never", "--prometheus-textfile", textfile.string(),
                     "192.0.2.10"})
            .exit_code == 0);
  CHECK(std::filesystem::is_symlink(textfile));
  CHECK_THAT(read_file(textfile_target), Catch::Contains("rdnsctl_ips"));
}

TEST_CASE("floating-point options refuse infinite, NaN and unbounded values") {
  const std::vector<std::vector<std::string>> cases = {
      {"audit", "--no-db", "--timeout", "inf", "192.0.2.10"},
      {"audit", "--no-db", "--timeout", "1e300", "192.0.2.10"},
      {"audit", "--no-db", "--qps", "nan", "192.0.2.10"},
      {"audit", "--no-db", "--smtp", "--smtp-timeout", "inf", "192.0.2.10"},
      {"fix", "--run", "latest", "--timeout", "inf"},
      {"ptr", "--dns-timeout", "inf", "verify-domain", "example.com"},
      {"ptr", "verify-domain", "example.com", "--poll", "nan"},
  };
  for (const auto& args : cases) {
    std::string shown;
    for (const auto& arg : args) shown += arg + " ";
    INFO(shown);
    const auto result = run_rdnsctl(args);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains(": expected a number of"));
  }
}
