// Rough input through the real binary: closed stdin, directories, a database
// reached through a symlink, --resume with settings it cannot honour, hostile
// bytes in stored sources, and configuration mistakes that must name their
// source.

#include <cstdlib>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include <db/database.hpp>
#include <lab/dns_lab.hpp>
#include <util/file_lock.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::Severity;
using rdns::Status;
using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::shell_quote;
using rdns::test::TempDir;

namespace {

std::filesystem::path write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// rdnsctl with standard input closed (`<&-`), as a careless service unit runs it.
ProcessResult run_with_stdin_closed(const TempDir& dir, const std::vector<std::string>& args) {
  // Built with append(), not "literal" + std::string: at -O3 GCC 12 warns
  // falsely (-Wrestrict) inside the libstdc++ replace() that operator+ uses.
  std::string command = "env HOME=";
  command.append(shell_quote(dir.path().string()))
      .append(" ")
      .append(shell_quote(rdns::test::rdnsctl_binary()));
  for (const auto& arg : args) command.append(" ").append(shell_quote(arg));
  const auto out = dir.path() / "closed.out";
  const auto err = dir.path() / "closed.err";
  command.append(" <&- >").append(shell_quote(out.string()));
  command.append(" 2>").append(shell_quote(err.string()));
  const int status = std::system(command.c_str());
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = rdns::test::read_file(out);
  result.err = rdns::test::read_file(err);
  return result;
}

}  // namespace

TEST_CASE("audit - with standard input closed says so instead of reading another file") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const ProcessResult result = run_with_stdin_closed(
      dir, {"audit", "--db", db, "--resolver", rdns::lab::shared_lab().resolver_address(), "-"});
  INFO(result.err);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("standard input is closed"));
}

TEST_CASE("audit -i DIRECTORY names the directory") {
  TempDir dir;
  const ProcessResult result =
      run_rdnsctl({"audit", "--no-db", "-i", dir.path().string(), "192.0.2.10"});
  INFO(result.err);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains(dir.path().string() + ": is a directory"));
}

TEST_CASE("the database lock follows a symlinked database name to the real file") {
  TempDir dir;
  const auto real = dir.path() / "real.db";
  rdns::db::Database::open(real);
  std::filesystem::create_symlink(real, dir.path() / "link.db");
  // A run on the real name holds the lock.
  const auto held = rdns::FileLock::try_acquire(real.string() + ".lock");
  REQUIRE(held);
  const ProcessResult result =
      run_rdnsctl({"audit", "--db", (dir.path() / "link.db").string(), "--resolver",
                   rdns::lab::shared_lab().resolver_address(), "192.0.2.10"});
  INFO(result.err);
  CHECK(result.exit_code == 4);
  CHECK_THAT(result.err, Catch::Contains("another rdnsctl run"));
}

TEST_CASE("audit --resume refuses settings it would ignore, and never creates a database") {
  TempDir dir;
  const auto typo = dir.path() / "typo.db";
  const ProcessResult missing = run_rdnsctl({"audit", "--resume", "3", "--db", typo.string()});
  INFO(missing.err);
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("no database"));
  CHECK_FALSE(std::filesystem::exists(typo));

  const auto db = dir.path() / "runs.db";
  rdns::db::Database::open(db);
  for (const std::string flag : {"--resolver", "--timeout"}) {
    const std::string value = flag == "--resolver" ? "127.0.0.1:1" : "1";
    const ProcessResult given =
        run_rdnsctl({"audit", "--resume", "3", "--db", db.string(), flag, value});
    INFO(given.err);
    CHECK(given.exit_code == 2);
    CHECK_THAT(given.err, Catch::Contains(flag));
  }
}

TEST_CASE("runs show --format csv escapes control bytes in the sources cell") {
  TempDir dir;
  const auto path = dir.path() / "runs.db";
  std::int64_t run = 0;
  {
    auto database = rdns::db::Database::open(path);
    run = database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test");
    rdns::db::ResultRecord record;
    record.ip = "192.0.2.10";
    record.family = "ipv4";
    record.status = Status::pass;
    record.sources = {{"evil\x1b[31m.example", "MX mx\x07.example", ""}};
    database.add_results(run, std::vector<rdns::db::ResultRecord>{record});
    database.finish_run(run, rdns::db::RunState::complete, {1, 1, 0, 0, 0});
  }
  const ProcessResult result =
      run_rdnsctl({"runs", "show", std::to_string(run), "--db", path.string(), "--format", "csv"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("evil\\027[31m.example MX mx\\007.example"));
  CHECK(result.out.find('\x1b') == std::string::npos);
  CHECK(result.out.find('\x07') == std::string::npos);
}

TEST_CASE("configuration mistakes name the file, key or variable") {
  TempDir dir;
  const std::string resolver = rdns::lab::shared_lab().resolver_address();
  SECTION("a number where a path belongs") {
    const auto config = write(dir.path() / "c.toml", "db = 5\n");
    const ProcessResult result =
        run_rdnsctl({"audit", "--config", config.string(), "--resolver", resolver, "192.0.2.10"});
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains(":1: key 'db': expected a string"));
    CHECK_FALSE(std::filesystem::exists(std::filesystem::current_path() / "5"));
  }
  SECTION("one option under two spellings") {
    const auto config =
        write(dir.path() / "c.toml", "fail_on = \"warning\"\nfail-on = \"never\"\n");
    const ProcessResult result = run_rdnsctl(
        {"audit", "--no-db", "--config", config.string(), "--resolver", resolver, "192.0.2.10"});
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("given twice"));
  }
  SECTION("a directory as --config") {
    const ProcessResult result = run_rdnsctl({"audit", "--no-db", "--config", dir.path().string(),
                                              "--resolver", resolver, "192.0.2.10"});
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("is a directory"));
  }
  SECTION("a bad value in the environment") {
    const ProcessResult result =
        run_rdnsctl({"audit", "--no-db", "--resolver", resolver, "192.0.2.10"}, {},
                    {"RDNSCTL_CONCURRENCY=lots"});
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("RDNSCTL_CONCURRENCY"));
  }
  SECTION("a value far out of range") {
    const ProcessResult result =
        run_rdnsctl({"audit", "--no-db", "--resolver", resolver, "--max-ips", "-5", "192.0.2.10"});
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("--max-ips"));
    CHECK(result.err.size() < 200);
  }
}

TEST_CASE("fix shows stored names as stored, without doubling their backslashes") {
  TempDir dir;
  const auto path = dir.path() / "runs.db";
  {
    auto database = rdns::db::Database::open(path);
    const std::int64_t run = database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test");
    rdns::db::ResultRecord record;
    record.ip = "192.0.2.77";
    record.family = "ipv4";
    record.status = Status::fail;
    record.ptr = {"bad\\032name.example.com"};  // a space, escaped as the audit stores it
    record.findings = {{"INVALID_PTR_NAME", Severity::error, "bad\\032name.example.com: a space"}};
    database.add_results(run, std::vector<rdns::db::ResultRecord>{record});
    database.finish_run(run, rdns::db::RunState::complete, {1, 0, 0, 1, 0});
  }
  // Every candidate is refused before DNS is asked; the resolver only has to parse.
  const ProcessResult result =
      run_rdnsctl({"fix", "--run", "latest", "--db", path.string(), "--resolver", "127.0.0.1:1"});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("tried bad\\032name.example.com (not a host name)"));
  CHECK(result.err.find("\\\\") == std::string::npos);
}
