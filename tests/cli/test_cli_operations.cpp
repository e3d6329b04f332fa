// Scheduled runs: the Prometheus textfile checked by promtool, the lock that
// keeps two runs off one database, and the systemd units checked by
// systemd-analyze. The tools are the real ones from Debian.

#include <fstream>
#include <regex>

#include <catch2/catch.hpp>

#include <lab/dns_lab.hpp>
#include <util/file_lock.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::ProcessResult;
using rdns::test::read_file;
using rdns::test::run_command;
using rdns::test::run_rdnsctl;
using rdns::test::shell_quote;
using rdns::test::TempDir;

namespace {

bool have_program(const std::string& name) {
  return run_command({"sh", "-c", "command -v " + shell_quote(name)}).exit_code == 0;
}

std::vector<std::string> audit_args(const std::string& db, std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "audit",     "--resolver", rdns::lab::shared_lab().resolver_address(),
      "--timeout", "0.4",        "--retries",
      "1",         "--db",       db};
  for (auto& e : extra) args.push_back(e);
  return args;
}

/// promtool's verdict on a textfile: lint included.
ProcessResult promtool_check(const std::filesystem::path& file) {
  return run_command({"sh", "-c", "promtool check metrics < " + shell_quote(file.string())});
}

double sample(const std::string& text, const std::string& name) {
  const std::regex line("(^|\n)" + std::regex_replace(name, std::regex(R"([{}\\"])"), R"(\$&)") +
                        " ([0-9.e+-]+)\n");
  std::smatch match;
  if (!std::regex_search(text, match, line)) return -1;
  return std::stod(match[2]);
}

}  // namespace

TEST_CASE("--prometheus-textfile writes metrics promtool accepts") {
  REQUIRE(have_program("promtool"));  // Debian's prometheus package, from install-deps.sh
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto textfile = dir.path() / "rdnsctl.prom";
  const ProcessResult audit =
      run_rdnsctl(audit_args(db, {"-q", "--prometheus-textfile", textfile.string(), "192.0.2.10",
                                  "192.0.2.12", "192.0.2.16", "192.0.2.28"}));
  INFO(audit.err);
  CHECK(audit.exit_code == 1);
  const std::string text = read_file(textfile);
  INFO(text);
  const ProcessResult lint = promtool_check(textfile);
  INFO(lint.out << lint.err);
  CHECK(lint.exit_code == 0);
  CHECK(lint.out.empty());  // no lint complaints either
  CHECK(sample(text, R"(rdnsctl_ips{status="pass"})") == 1);
  CHECK(sample(text, R"(rdnsctl_ips{status="fail"})") == 2);
  CHECK(sample(text, R"(rdnsctl_ips{status="unknown"})") == 1);
  CHECK(sample(text, R"(rdnsctl_ips{status="warn"})") == 0);
  CHECK(sample(text, R"(rdnsctl_findings{code="NO_PTR",severity="error"})") == 1);
  CHECK(sample(text, R"(rdnsctl_findings{code="FORWARD_MISMATCH",severity="error"})") == 1);
  CHECK(sample(text, R"(rdnsctl_findings{code="TEMPFAIL",severity="warning"})") == 1);
  CHECK(sample(text, "rdnsctl_run_success") == 1);
  CHECK(sample(text, "rdnsctl_run_duration_seconds") >= 0);
  const double success = sample(text, "rdnsctl_last_success_timestamp_seconds");
  CHECK(success > 1.7e9);
  // Written through a temporary file and rename: no temporary is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    CHECK(entry.path().extension() != ".tmp");
  }

  // A run that fails keeps the last success time and says it failed.
  const ProcessResult failed =
      run_rdnsctl({"audit", "--db", db, "-q", "--resolver", "127.0.0.1:9", "--timeout", "0.2",
                   "--retries", "0", "--prometheus-textfile", textfile.string(), "192.0.2.10"});
  CHECK(failed.exit_code == 3);
  const std::string after = read_file(textfile);
  CHECK(sample(after, "rdnsctl_run_success") == 0);
  CHECK(sample(after, "rdnsctl_last_success_timestamp_seconds") == Approx(success).margin(0.001));
  CHECK(promtool_check(textfile).exit_code == 0);

  // `check` writes the same file.
  const auto check_file = dir.path() / "check.prom";
  run_rdnsctl({"check", "--db", db, "--resolver", rdns::lab::shared_lab().resolver_address(),
               "--prometheus-textfile", check_file.string(), "192.0.2.10"});
  CHECK(sample(read_file(check_file), R"(rdnsctl_ips{status="pass"})") == 1);
  CHECK(promtool_check(check_file).exit_code == 0);
}

TEST_CASE("a second run on a locked database exits 4 at once") {
  TempDir dir;
  const auto db = dir.path() / "runs.db";
  auto held = rdns::FileLock::try_acquire(db.string() + ".lock");
  REQUIRE(held);
  CHECK_FALSE(rdns::FileLock::try_acquire(db.string() + ".lock"));  // flock is per open file
  const ProcessResult second = run_rdnsctl(audit_args(db.string(), {"192.0.2.10"}));
  CHECK(second.exit_code == 4);
  CHECK_THAT(second.err, Catch::Contains("another rdnsctl run is using this database"));
  CHECK(second.out.empty());
  CHECK_FALSE(std::filesystem::exists(db));  // refused before opening anything

  // A check that stores its run (--store) needs the lock too.
  const ProcessResult plugin =
      run_rdnsctl({"check", "--store", "--db", db.string(), "--resolver",
                   rdns::lab::shared_lab().resolver_address(), "192.0.2.10"});
  CHECK(plugin.exit_code == 3);
  CHECK_THAT(plugin.out, Catch::StartsWith("RDNS UNKNOWN - ") &&
                             Catch::Contains("another rdnsctl run is using this database"));

  held.reset();
  CHECK(run_rdnsctl(audit_args(db.string(), {"192.0.2.10"})).exit_code == 0);
}

TEST_CASE("the sample systemd units pass systemd-analyze verify") {
  // scripts/install-deps.sh installs it (Debian's systemd package).
  REQUIRE(have_program("systemd-analyze"));
  TempDir dir;
  // verify insists that ExecStart's program exists: point it at this build.
  const std::filesystem::path samples =
      std::filesystem::path(rdns::test::source_dir()) / "samples/systemd";
  for (const char* name : {"rdnsctl-audit.service", "rdnsctl-audit.timer"}) {
    std::string unit = read_file(samples / name);
    REQUIRE(!unit.empty());
    unit = std::regex_replace(unit, std::regex("/usr/bin/rdnsctl"), rdns::test::rdnsctl_binary());
    std::ofstream(dir.path() / name) << unit;
  }
  const ProcessResult verify = run_command({"systemd-analyze", "verify", "--man=no",
                                            (dir.path() / "rdnsctl-audit.service").string(),
                                            (dir.path() / "rdnsctl-audit.timer").string()});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  CHECK(verify.err.find("rdnsctl-audit") == std::string::npos);  // no warning about our units
}
