// The configuration file and the environment: the sample loads, flags beat
// the environment beat the file, and mistakes name file, line and key.

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <db/database.hpp>
#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

using rdns::test::write_file;

std::string sample_config() {
  return std::string(rdns::test::source_dir()) + "/samples/rdnsctl.toml";
}

}  // namespace

TEST_CASE("the sample configuration loads for audit and check") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const std::string resolver = rdns::lab::shared_lab().resolver_address();
  const ProcessResult audit = run_rdnsctl({"audit", "--config", sample_config(), "--db", db,
                                           "--resolver", resolver, "192.0.2.10", "192.0.2.12"});
  INFO(audit.err);
  CHECK(audit.exit_code == 1);  // [audit] fail-on = "error"; NO_PTR is an error
  CHECK_THAT(audit.out, Catch::Contains("NO_PTR"));
  // [check] critical = "5%", warning = "0": 1 of 2 failing is CRITICAL.
  const ProcessResult check = run_rdnsctl({"check", "--config", sample_config(), "--db", db,
                                           "--resolver", resolver, "192.0.2.10", "192.0.2.12"});
  INFO(check.out);
  CHECK(check.exit_code == 2);
  CHECK_THAT(check.out, Catch::Contains("fail=1;0;0;0;2"));
}

TEST_CASE("flags beat the environment, which beats the configuration file") {
  TempDir dir;
  const std::string resolver = rdns::lab::shared_lab().resolver_address();
  const auto ips = write_file(dir.path() / "ips.txt", "192.0.2.10\n192.0.2.19\n");
  const auto config =
      write_file(dir.path() / "xdg/rdnsctl/config.toml",
                 "resolver = [\"" + resolver + "\"]\n" + "input = [\"" + ips.string() + "\"]\n" +
                     "db = \"" + (dir.path() / "runs.db").string() + "\"\n" +
                     "[audit]\nformat = \"jsonl\"\nfail-on = \"warning\"\n");
  const std::string xdg = "XDG_CONFIG_HOME=" + (dir.path() / "xdg").string();

  // The default file under $XDG_CONFIG_HOME: 192.0.2.19 has a warning.
  const ProcessResult from_file = run_rdnsctl({"audit", "-q"}, {}, {xdg});
  INFO(from_file.err);
  CHECK(from_file.exit_code == 1);
  CHECK(from_file.out.find("{\"") == 0);  // jsonl
  CHECK(std::filesystem::exists(dir.path() / "runs.db"));

  const ProcessResult from_env =
      run_rdnsctl({"audit", "-q"}, {}, {xdg, "RDNSCTL_FAIL_ON=never", "RDNSCTL_FORMAT=csv"});
  CHECK(from_env.exit_code == 0);
  CHECK(from_env.out.find("{\"") == std::string::npos);

  const ProcessResult from_flag =
      run_rdnsctl({"audit", "-q", "--fail-on", "warning"}, {}, {xdg, "RDNSCTL_FAIL_ON=never"});
  CHECK(from_flag.exit_code == 1);
  // A list from a flag replaces the file's list rather than adding to it.
  const ProcessResult one =
      run_rdnsctl({"audit", "-q", "--no-db", "192.0.2.10"}, {}, {xdg, "RDNSCTL_INPUT=/dev/null"});
  CHECK(one.exit_code == 0);
}

TEST_CASE("configuration mistakes name the file, line and key") {
  TempDir dir;
  const auto run = [&](const std::string& text) {
    const auto config = write_file(dir.path() / "bad.toml", text);
    return run_rdnsctl({"audit", "--config", config.string(), "--no-db", "192.0.2.10"});
  };
  const std::string file = (dir.path() / "bad.toml").string();

  const ProcessResult unknown = run("timeout = 1\n\nresolvers = [\"127.0.0.1\"]\n");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains(file + ":3: key 'resolvers': unknown key"));

  const ProcessResult resume = run("resume = 1\n");
  CHECK(resume.exit_code == 2);
  CHECK_THAT(resume.err, Catch::Contains(file + ":1: key 'resume': unknown key"));

  const ProcessResult bad_value = run("[audit]\n# comment\nfail-on = \"sometimes\"\n");
  CHECK(bad_value.exit_code == 2);
  CHECK_THAT(bad_value.err, Catch::Contains(file + ":3: key 'fail-on'"));

  const ProcessResult out_of_range = run("retries = 99\n");
  CHECK(out_of_range.exit_code == 2);
  CHECK_THAT(out_of_range.err, Catch::Contains(file + ":1: key 'retries'"));

  const ProcessResult check_key = run("[check]\nwarn = \"5\"\n");
  CHECK(check_key.exit_code == 2);
  CHECK_THAT(check_key.err, Catch::Contains(file + ":2: key 'warn': unknown key in [check]"));

  const ProcessResult not_a_list = run("db = [\"a\", \"b\"]\n");
  CHECK(not_a_list.exit_code == 2);
  CHECK_THAT(not_a_list.err, Catch::Contains(file + ":1: key 'db': expected one value"));

  const ProcessResult syntax = run("timeout = \n");
  CHECK(syntax.exit_code == 2);
  CHECK_THAT(syntax.err, Catch::Contains(file + ":1:"));

  const ProcessResult missing =
      run_rdnsctl({"audit", "--config", (dir.path() / "none.toml").string(), "192.0.2.10"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("none.toml: configuration file not found"));
}

TEST_CASE("runs and report find the database the configuration names") {
  TempDir dir;
  const std::string db = (dir.path() / "state" / "runs.db").string();
  const auto config = write_file(
      dir.path() / "etc/config.toml",
      "db = \"" + db + "\"\nresolver = [\"" + rdns::lab::shared_lab().resolver_address() + "\"]\n");
  const std::string use = "RDNSCTL_CONFIG=" + config.string();
  CHECK(run_rdnsctl({"audit", "-q", "192.0.2.10"}, {}, {use}).exit_code == 0);
  CHECK(std::filesystem::exists(db));
  const ProcessResult runs = run_rdnsctl({"runs", "list", "--format", "json"}, {}, {use});
  INFO(runs.err);
  CHECK(runs.exit_code == 0);
  CHECK(nlohmann::json::parse(runs.out).size() == 1);
  CHECK(run_rdnsctl({"report", "history"}, {}, {"RDNSCTL_DB=" + db}).exit_code == 0);
  // Without either, the default database (absent here) is used.
  CHECK(run_rdnsctl({"runs", "list"}).exit_code == 2);
  // An explicit --config without `db` never borrows another file's.
  CHECK(run_rdnsctl({"audit", "-q", "--config", sample_config(), "--resolver",
                     rdns::lab::shared_lab().resolver_address(), "192.0.2.10"},
                    {}, {use})
            .exit_code == 0);
  CHECK(nlohmann::json::parse(run_rdnsctl({"runs", "list", "--format", "json"}, {}, {use}).out)
            .size() == 1);
}

TEST_CASE("a run stores the settings its configuration gave, for --resume") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  // Nothing answers on port 9: the run fails and can be resumed.
  const auto config = write_file(dir.path() / "config.toml",
                                 "resolver = [\"127.0.0.1:9\"]\ntimeout = 0.2\nretries = 0\n");
  const ProcessResult failed =
      run_rdnsctl({"audit", "-q", "--config", config.string(), "--db", db, "192.0.2.10"}, {},
                  {"RDNSCTL_SMTP_PORT=2525"});
  CHECK(failed.exit_code == 3);
  const auto run = rdns::db::Database::open(db).find_run(1);
  REQUIRE(run);
  const auto arguments = nlohmann::json::parse(run->arguments_json);
  INFO(arguments.dump());
  const auto has = [&](const std::string& flag, const std::string& value) {
    for (std::size_t i = 0; i + 1 < arguments.size(); ++i) {
      if (arguments[i] == flag && arguments[i + 1] == value) return true;
    }
    return false;
  };
  CHECK(has("--resolver", "127.0.0.1:9"));  // from the file
  CHECK(has("--timeout", "0.2"));
  CHECK(has("--smtp-port", "2525"));  // from the environment
  CHECK(arguments.back() == "192.0.2.10");
  for (const auto& argument : arguments) CHECK(argument != "--config");
  // The file is gone; --resume still parses the stored settings (every
  // address already has a result, so it completes without a query).
  std::filesystem::remove(config);
  const ProcessResult resumed = run_rdnsctl({"audit", "-q", "--resume", "1", "--db", db});
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
}
