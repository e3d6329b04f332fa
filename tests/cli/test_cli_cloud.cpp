// rdnsctl cloud against the running emulator: the whole binary, exit codes
// per error category, and no trace of the secret in anything it prints.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "../emulator/emulator_process.hpp"
#include "run_rdnsctl.hpp"

namespace {

using rdns::test::EmulatorProcess;
using rdns::test::ProcessResult;

std::vector<std::string> key_env() {
  return {std::string("ALIBABA_CLOUD_ACCESS_KEY_ID=") + rdns::test::kKeyId,
          std::string("ALIBABA_CLOUD_ACCESS_KEY_SECRET=") + rdns::test::kPlantedSecret};
}

ProcessResult cloud(const EmulatorProcess& emulator, std::vector<std::string> args,
                    const std::vector<std::string>& env = key_env()) {
  std::vector<std::string> full = {"cloud",    "--endpoint",        emulator.endpoint(),
                                   "--region", rdns::test::kRegion, "--loopback-only",
                                   "--verbose"};
  full.insert(full.end(), args.begin(), args.end());
  return rdns::test::run_rdnsctl(full, {}, env);
}

}  // namespace

TEST_CASE("rdnsctl cloud provisions through the emulator", "[cli][cloud]") {
  EmulatorProcess emulator;
  std::string everything;
  auto run = [&](std::vector<std::string> args, const std::vector<std::string>& env = key_env()) {
    ProcessResult result = cloud(emulator, std::move(args), env);
    everything += result.out + result.err;
    return result;
  };

  const ProcessResult txt = run({"verify-txt", "mx1.mailcorp.test"});
  REQUIRE(txt.exit_code == 0);
  const auto tab = txt.out.find('\t');
  const auto last_tab = txt.out.rfind('\t');
  CHECK(txt.out.substr(0, tab) == "alidnsptrcheck.mailcorp.test");
  rdns::test::publish_txt("alidnsptrcheck.mailcorp.test",
                          txt.out.substr(last_tab + 1, txt.out.size() - last_tab - 2));

  const ProcessResult created = run({"ptr", "create", "198.51.100.10", "mx1.mailcorp.test"});
  CHECK(created.exit_code == 0);
  CHECK(created.out == "ptr-1\t198.51.100.10\tmx1.mailcorp.test\t600\tenabled\n");
  CHECK(rdns::test::authority_ptr("10.100.51.198.in-addr.arpa") ==
        std::vector<std::string>{"mx1.mailcorp.test."});

  CHECK(run({"ptr", "disable", "ptr-1"}).exit_code == 0);
  const ProcessResult listed = run({"ptr", "list"});
  CHECK(listed.out.find("ptr-1\t198.51.100.10\tmx1.mailcorp.test\t600\tdisabled") !=
        std::string::npos);
  CHECK(listed.out.find("# billable 1, 1.00 CNY/day") != std::string::npos);

  const ProcessResult owns = run({"owns", "198.51.100.10", "198.51.100.20", "198.51.100.30"});
  CHECK(owns.out ==
        "198.51.100.10\teip\teip-10\n198.51.100.20\tecs\ti-web\n198.51.100.30\tnot-owned\t\n");

  SECTION("a refused call exits 3 with the API's message") {
    const ProcessResult refused = run({"ptr", "create", "198.51.100.30", "mx1.mailcorp.test"});
    CHECK(refused.exit_code == 3);
    CHECK(refused.err.find("PTR IP information mismatch") != std::string::npos);
  }
  SECTION("a bad input exits 2 without a call") {
    const ProcessResult bad = run({"ptr", "create", "198.51.100.11", "*.mailcorp.test"});
    CHECK(bad.exit_code == 2);
  }
  SECTION("a wrong secret exits 3 and never shows either secret") {
    const ProcessResult denied =
        run({"ptr", "list"}, {std::string("ALIBABA_CLOUD_ACCESS_KEY_ID=") + rdns::test::kKeyId,
                              "ALIBABA_CLOUD_ACCESS_KEY_SECRET=wrong-PLANTED-too"});
    CHECK(denied.exit_code == 3);
    CHECK(denied.err.find("SignatureDoesNotMatch") != std::string::npos);
    CHECK(denied.err.find("wrong-PLANTED-too") == std::string::npos);
  }
  SECTION("no credentials exits 2") {
    CHECK(run({"ptr", "list"}, {}).exit_code == 2);
  }
  everything += emulator.output();
  CHECK(everything.find("cloud: POST") != std::string::npos);  // --verbose did log
  CHECK(everything.find(rdns::test::kPlantedSecret) == std::string::npos);
}
