// What a user sees for a mistyped command, flag or value: one plain line
// naming the flag, the value and what is accepted, whether the value came
// from the command line, the environment or the configuration file; and
// --help pages that say the same in words.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "run_rdnsctl.hpp"

using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;
using rdns::test::write_file;

namespace {

/// The whole of stderr is the one expected line.
void check_usage_error(const ProcessResult& result, const std::string& line) {
  INFO(result.err);
  CHECK(result.exit_code == 2);
  CHECK(result.err == "rdnsctl: " + line + "\n");
}

}  // namespace

TEST_CASE("a bad value names the flag, the value and what is accepted") {
  check_usage_error(run_rdnsctl({"audit", "--no-db", "--format", "xml", "192.0.2.1"}),
                    "--format xml: expected table, json, jsonl or csv");
  check_usage_error(run_rdnsctl({"audit", "--no-db", "--concurrency", "0", "192.0.2.1"}),
                    "--concurrency 0: expected a whole number from 1 to 10000");
  check_usage_error(run_rdnsctl({"audit", "--no-db", "--retries", "2.5", "192.0.2.1"}),
                    "--retries 2.5: expected a whole number from 0 to 10");
  check_usage_error(run_rdnsctl({"audit", "--no-db", "--timeout", "0", "192.0.2.1"}),
                    "--timeout 0: expected a number of seconds from 0.01 to 60");
  check_usage_error(run_rdnsctl({"runs", "list", "--format", "yaml"}),
                    "--format yaml: expected table or json");
  check_usage_error(run_rdnsctl({"report", "diff", "--format", "csv"}),
                    "--format csv: expected table or json");
  check_usage_error(run_rdnsctl({"ptr", "risk", "--fail-on", "severe"}),
                    "--fail-on severe: expected low, medium or high");
}

TEST_CASE("names of choices are taken in any case") {
  const ProcessResult result =
      run_rdnsctl({"runs", "list", "--format", "JSON", "--db", "/nonexistent/x.db"});
  // Past the option parsing: the missing database is what stops it.
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, !Catch::Contains("--format"));
}

TEST_CASE("a value that is not a number, or a flag without its value") {
  check_usage_error(run_rdnsctl({"audit", "--no-db", "--smtp-port", "smtp", "192.0.2.1"}),
                    "--smtp-port smtp: expected a whole number from 1 to 65535");
  check_usage_error(run_rdnsctl({"ptr", "set", "192.0.2.1", "mail.example.com", "--ttl", "1h"}),
                    "--ttl 1h: expected a whole number");
  check_usage_error(run_rdnsctl({"audit", "--no-db", "192.0.2.1"}, {}, {"RDNSCTL_SMTP=maybe"}),
                    "--smtp maybe: expected true or false (it is a flag) (value from the "
                    "environment variable RDNSCTL_SMTP)");
  check_usage_error(run_rdnsctl({"audit", "--no-db", "192.0.2.1", "--format"}),
                    "--format: needs a value");
  check_usage_error(run_rdnsctl({"audit", "--no-such-flag", "192.0.2.1"}),
                    "unexpected option '--no-such-flag'; see rdnsctl audit --help");
}

TEST_CASE("a mistyped or missing command names the choices") {
  check_usage_error(run_rdnsctl({"audti", "192.0.2.1"}),
                    "unknown command 'audti' (did you mean 'audit'?); see rdnsctl --help");
  check_usage_error(run_rdnsctl({"frobnicate"}),
                    "unknown command 'frobnicate'; see rdnsctl --help");
  check_usage_error(run_rdnsctl({"runs", "lsit"}),
                    "unknown command 'lsit' (did you mean 'list'?); see rdnsctl runs --help");
  check_usage_error(run_rdnsctl({}),
                    "which command? audit, runs, cloud, report, history, check, ptr, "
                    "fix, completion or manual; see rdnsctl --help");
}

TEST_CASE("report diff takes no run or two") {
  const ProcessResult one = run_rdnsctl({"report", "diff", "9", "--db", "/nonexistent/x.db"});
  INFO(one.err);
  CHECK(one.exit_code == 2);
  CHECK_THAT(one.err, Catch::StartsWith("rdnsctl: ") && Catch::Contains("two runs"));
  CHECK_THAT(one.err, !Catch::Contains("is required"));
}

TEST_CASE("a bad value from the environment says which variable set it") {
  check_usage_error(
      run_rdnsctl({"audit", "--no-db", "192.0.2.1"}, {}, {"RDNSCTL_FORMAT=xml"}),
      "--format xml: expected table, json, jsonl or csv (value from the environment variable "
      "RDNSCTL_FORMAT)");
  check_usage_error(
      run_rdnsctl({"audit", "--no-db", "192.0.2.1"}, {}, {"RDNSCTL_CONCURRENCY=0"}),
      "--concurrency 0: expected a whole number from 1 to 10000 (value from the environment "
      "variable RDNSCTL_CONCURRENCY)");
}

TEST_CASE("a bad value from the configuration file has the same words after file:line: key") {
  TempDir dir;
  const std::string file =
      write_file(dir.path() / "config.toml", "# relays\nformat = \"xml\"\nconcurrency = 0\n")
          .string();
  const ProcessResult result = run_rdnsctl({"audit", "--no-db", "--config", file, "192.0.2.1"});
  INFO(result.err);
  CHECK(result.exit_code == 2);
  // Keys are applied in name order: concurrency (line 3) before format.
  CHECK(result.err == "rdnsctl: " + file +
                          ":3: key 'concurrency': --concurrency 0: expected a whole number from "
                          "1 to 10000\n");
  write_file(dir.path() / "config.toml", "[audit]\nformat = \"xml\"\n");
  const ProcessResult format = run_rdnsctl({"audit", "--no-db", "--config", file, "192.0.2.1"});
  CHECK(format.err == "rdnsctl: " + file +
                          ":2: key 'format': --format xml: expected table, json, jsonl or csv\n");
}

TEST_CASE("check reports its own misuse as UNKNOWN with the same words") {
  const ProcessResult result = run_rdnsctl({"check", "--concurrency", "0", "192.0.2.1"});
  CHECK(result.exit_code == 3);
  CHECK(result.out == "RDNS UNKNOWN - --concurrency 0: expected a whole number from 1 to 10000\n");
}

TEST_CASE("--help lists values in words, with the range and the default") {
  const ProcessResult audit = run_rdnsctl({"audit", "--help"});
  CHECK(audit.exit_code == 0);
  INFO(audit.out);
  CHECK_THAT(audit.out, Catch::Contains("--concurrency N") &&
                            Catch::Contains("(1-10000; default 100)") &&
                            Catch::Contains("--format table|json|jsonl|csv") &&
                            Catch::Contains("(default table)"));
  CHECK_THAT(audit.out, !Catch::Contains("UINT") && !Catch::Contains("INT in") &&
                            !Catch::Contains("Env:") && !Catch::Contains("=100"));
  CHECK_THAT(audit.out, Catch::Contains("Examples:\n  rdnsctl audit 192.0.2.0/24"));
  for (const char* command : {"check", "report", "ptr", "fix"}) {
    INFO(command);
    CHECK_THAT(run_rdnsctl({command, "--help"}).out,
               Catch::Contains(std::string("Examples:\n  rdnsctl ") + command + " "));
  }
}

TEST_CASE("--version names the build and the libraries it runs with") {
  const ProcessResult version = run_rdnsctl({"--version"});
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("rdnsctl 0.") && Catch::Contains(" (commit ") &&
                              Catch::Contains("built with ") && Catch::Contains("c-ares 1.") &&
                              Catch::Contains("SQLite 3.") && Catch::Contains("libcurl ") &&
                              Catch::Contains("Boost 1.") && Catch::Contains("database schema "));
}

TEST_CASE("ptr change takes a TTL of 1 to 86400 seconds, and runs list only its two formats") {
  const ProcessResult ttl =
      run_rdnsctl({"ptr", "change", "192.0.2.10", "mail.example.com", "--ttl", "0"});
  CHECK(ttl.exit_code == 2);
  CHECK_THAT(ttl.err, Catch::Contains("--ttl 0: expected a whole number from 1 to 86400"));
  const ProcessResult csv = run_rdnsctl({"runs", "list", "--format", "csv"});
  CHECK(csv.exit_code == 2);
  CHECK_THAT(csv.err, Catch::Contains("--format csv: expected table or json"));
  const ProcessResult help = run_rdnsctl({"report", "--help"});
  CHECK_THAT(help.out, Catch::Contains("-o,--output FILE"));
}

TEST_CASE("a mistyped option names the one meant") {
  const ProcessResult format = run_rdnsctl({"audit", "--fromat", "json", "192.0.2.10"});
  CHECK(format.exit_code == 2);
  CHECK(format.err ==
        "rdnsctl: unexpected option '--fromat' (did you mean '--format'?); see rdnsctl audit "
        "--help\n");
  const ProcessResult limit = run_rdnsctl({"runs", "list", "--limt", "3"});
  CHECK(limit.err ==
        "rdnsctl: unexpected option '--limt' (did you mean '--limit'?); see rdnsctl runs list "
        "--help\n");
  const ProcessResult unknown = run_rdnsctl({"audit", "--nope"});
  CHECK(unknown.err == "rdnsctl: unexpected option '--nope'; see rdnsctl audit --help\n");
}
