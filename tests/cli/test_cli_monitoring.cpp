// The scheduled-audit set-up the samples describe, run as two users: the
// auditor writes the database, a monitoring user who may read it but not
// write its directory reads it with check, runs, report, history and the
// history of one address.

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::ProcessResult;
using rdns::test::run_command;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace fs = std::filesystem;

namespace {

/// rdnsctl as the unprivileged user `nobody`, with root's home (which nobody
/// cannot read) as HOME, so the default configuration path is unreadable.
ProcessResult as_nobody(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"setpriv",
                                   "--reuid=nobody",
                                   "--regid=nogroup",
                                   "--clear-groups",
                                   "env",
                                   "-i",
                                   "HOME=/root",
                                   "XDG_CONFIG_HOME=/root/.config",
                                   rdns::test::rdnsctl_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

bool can_switch_user() {
  return geteuid() == 0 && run_command({"setpriv", "--version"}).exit_code == 0;
}

}  // namespace

TEST_CASE("a monitoring user reads what the auditor stored without write access",
          "[cli][monitor]") {
  if (!can_switch_user()) {
    WARN("needs root and setpriv to run a command as nobody; skipped");
    return;
  }
  TempDir dir;
  // The auditor's state directory: others may enter and read, not write.
  const fs::path state = dir.path() / "state";
  fs::create_directories(state);
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(state, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  const std::string db = (state / "rdnsctl.db").string();
  const std::string resolver = rdns::lab::shared_lab().resolver_address();
  for (int i = 0; i < 2; ++i) {
    const ProcessResult audit =
        run_rdnsctl({"audit", "--quiet", "--db", db, "--resolver", resolver, "--timeout", "0.4",
                     "--retries", "1", "192.0.2.10", "192.0.2.12"});
    REQUIRE(audit.exit_code == 1);
  }
  // Then a run of an inventory whose definition the monitor cannot read.
  const fs::path config = rdns::test::write_file(
      dir.path() / "private" / "rdnsctl.toml", "[inventory.relays]\ntargets = [\"192.0.2.10\"]\n");
  fs::permissions(dir.path() / "private", fs::perms::owner_all);
  REQUIRE(run_rdnsctl({"audit", "--quiet", "--db", db, "--config", config.string(), "--inventory",
                       "relays", "--resolver", resolver, "--timeout", "0.4", "--retries", "1"})
              .exit_code == 0);
  // What the writer leaves behind: the database with its -wal and -shm
  // (kept for readers), the WAL checkpointed empty, all as readable as the
  // database itself.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path file = db + suffix;
    INFO(file);
    REQUIRE(fs::exists(file));
    CHECK((fs::status(file).permissions() & fs::perms::others_read) != fs::perms::none);
  }
  CHECK(fs::file_size(db + "-wal") == 0);
  const auto before = fs::last_write_time(db);

  const ProcessResult check = as_nobody({"check", "--db", db, "--run", "2", "-c", "1"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::StartsWith("RDNS OK - 1 of 2 addresses fail"));
  CHECK_THAT(check.err, Catch::Contains("note: skipping the default configuration file "
                                        "/root/.config/rdnsctl/config.toml"));
  const ProcessResult list = as_nobody({"runs", "list", "--db", db});
  INFO(list.out << list.err);
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("complete"));
  const ProcessResult show = as_nobody({"runs", "show", "2", "--db", db, "--format", "csv"});
  CHECK(show.exit_code == 0);
  CHECK_THAT(show.out, Catch::Contains("192.0.2.12"));
  const ProcessResult report = as_nobody({"report", "--run", "latest", "--db", db, "-o", "-"});
  INFO(report.err);
  CHECK(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains("<html"));
  const ProcessResult history = as_nobody({"report", "history", "--db", db});
  CHECK(history.exit_code == 0);
  const ProcessResult diff = as_nobody({"report", "diff", "1", "2", "--db", db});
  CHECK(diff.exit_code == 0);
  const ProcessResult address = as_nobody({"history", "192.0.2.12", "--db", db});
  INFO(address.out << address.err);
  CHECK(address.exit_code == 0);
  CHECK_THAT(address.out, Catch::Contains("  unchanged\n") && Catch::EndsWith("  first\n"));
  // The inventory picks the runs; its definition is not needed to read them.
  const ProcessResult relays =
      as_nobody({"check", "--db", db, "--run", "latest", "--inventory", "relays"});
  INFO(relays.out << relays.err);
  CHECK(relays.exit_code == 0);
  CHECK_THAT(relays.out,
             Catch::StartsWith("RDNS OK - 0 of 1 addresses fail") && Catch::Contains("(run 3,"));
  CHECK(as_nobody({"runs", "list", "--db", db, "--inventory", "relays"}).exit_code == 0);
  CHECK(as_nobody({"report", "history", "--db", db, "--inventory", "relays"}).exit_code == 0);
  // Nothing was written: no new file in the directory, the database unchanged.
  CHECK(fs::last_write_time(db) == before);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(state)) ++files;
  CHECK(files == 4);  // rdnsctl.db, -wal, -shm, .lock

  SECTION("a database an older rdnsctl left without its WAL files") {
    fs::remove(db + "-wal");
    fs::remove(db + "-shm");
    const ProcessResult immutable = as_nobody({"runs", "list", "--db", db});
    INFO(immutable.out << immutable.err);
    CHECK(immutable.exit_code == 0);
    CHECK_THAT(immutable.out, Catch::Contains("complete"));
  }
  SECTION("an audit while the monitor reads: the writer is not blocked") {
    const ProcessResult audit = run_rdnsctl({"audit", "--quiet", "--db", db, "--resolver", resolver,
                                             "--timeout", "0.4", "--retries", "1", "192.0.2.10"});
    CHECK(audit.exit_code == 0);
    const ProcessResult latest = as_nobody({"check", "--db", db, "--run", "latest"});
    INFO(latest.out << latest.err);
    CHECK(latest.exit_code == 0);
    CHECK_THAT(latest.out, Catch::Contains("0 of 1 addresses fail"));
  }
}
