// Credential resolution in the SDKs' order, the refusal of readable profile
// files, and the planted-secret scan over every output the client produces.

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <provision/api_error.hpp>
#include <provision/credentials.hpp>
#include <provision/ptr_client.hpp>

#include "../emulator/emulator_process.hpp"
#include "scratch_dir.hpp"

namespace {

using namespace rdns::provision;

/// A temporary HOME with an ~/.aliyun/config.json.
class TempHome {
 public:
  TempHome() { std::filesystem::create_directories(home_ / ".aliyun"); }
  std::filesystem::path config() const { return home_ / ".aliyun" / "config.json"; }
  void write(const std::string& text, mode_t mode = 0600) const {
    std::ofstream(config()) << text;
    ::chmod(config().c_str(), mode);
  }
  const std::filesystem::path& path() const { return home_.path(); }

 private:
  rdns::test::ScratchDir home_{"rdns-home"};
};

constexpr const char* kProfiles = R"({
  "current": "work",
  "profiles": [
    {"name": "default", "mode": "AK", "access_key_id": "LTAIdefault",
     "access_key_secret": "default-secret", "region_id": "cn-beijing"},
    {"name": "work", "mode": "AK", "access_key_id": "LTAIwork",
     "access_key_secret": "work-secret", "region_id": "cn-hangzhou"},
    {"name": "temp", "mode": "StsToken", "access_key_id": "STS.temp",
     "access_key_secret": "temp-secret", "sts_token": "temp-token"},
    {"name": "role", "mode": "RamRoleArn", "access_key_id": "x", "access_key_secret": "y"}
  ]})";

CredentialOptions options(const TempHome& home, std::map<std::string, std::string> env,
                          std::string profile = "") {
  env["HOME"] = home.path().string();
  CredentialOptions result;
  result.profile = std::move(profile);
  result.getenv = [env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return result;
}

}  // namespace

TEST_CASE("resolve_credentials precedence", "[provision][credentials]") {
  TempHome home;
  home.write(kProfiles);
  const std::map<std::string, std::string> keys = {{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv"},
                                                   {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-s"}};

  SECTION("environment first") {
    const Credentials found = resolve_credentials(options(home, keys));
    CHECK(found.access_key_id == "LTAIenv");
    CHECK(found.source == CredentialSource::environment);
  }
  SECTION("older variable spellings") {
    const Credentials found = resolve_credentials(options(
        home, {{"ALICLOUD_ACCESS_KEY_ID", "LTAIold"}, {"ALICLOUD_ACCESS_KEY_SECRET", "old-s"}}));
    CHECK(found.access_key_id == "LTAIold");
  }
  SECTION("STS token from the environment") {
    auto env = keys;
    env["ALIBABA_CLOUD_SECURITY_TOKEN"] = "tok";
    env["ALIBABA_CLOUD_REGION_ID"] = "cn-shenzhen";
    const Credentials found = resolve_credentials(options(home, env));
    CHECK(found.security_token.reveal() == "tok");
    CHECK(found.region == "cn-shenzhen");
  }
  SECTION("half a key pair is an error naming the missing variable") {
    CHECK_THROWS_WITH(
        resolve_credentials(options(home, {{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv"}})),
        Catch::Contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"));
  }
  SECTION("then the profile file's current profile") {
    const Credentials found = resolve_credentials(options(home, {}));
    CHECK(found.access_key_id == "LTAIwork");
    CHECK(found.region == "cn-hangzhou");
    CHECK(found.source == CredentialSource::profile_file);
  }
  SECTION("ALIBABA_CLOUD_PROFILE picks the profile") {
    const Credentials found =
        resolve_credentials(options(home, {{"ALIBABA_CLOUD_PROFILE", "default"}}));
    CHECK(found.access_key_id == "LTAIdefault");
  }
  SECTION("--profile beats the environment") {
    auto env = keys;
    env["ALIBABA_CLOUD_PROFILE"] = "default";
    const Credentials found = resolve_credentials(options(home, env, "temp"));
    CHECK(found.access_key_id == "STS.temp");
    CHECK(found.security_token.reveal() == "temp-token");
  }
  SECTION("unsupported modes and missing profiles are named") {
    CHECK_THROWS_WITH(resolve_credentials(options(home, {}, "role")),
                      Catch::Contains("RamRoleArn"));
    CHECK_THROWS_WITH(resolve_credentials(options(home, {}, "nope")),
                      Catch::Contains("no profile \"nope\""));
  }
  SECTION("OIDC is reported as unsupported") {
    CHECK_THROWS_WITH(resolve_credentials(options(home, {{"ALIBABA_CLOUD_ROLE_ARN", "acs:x"}})),
                      Catch::Contains("OIDC"));
  }
}

TEST_CASE("resolve_credentials refuses a profile file others can read",
          "[provision][credentials]") {
  TempHome home;
  home.write(kProfiles, 0644);
  try {
    resolve_credentials(options(home, {}));
    FAIL("accepted a world-readable credentials file");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::credentials);
    CHECK(std::string(error.what()).find("0644") != std::string::npos);
  }
  home.write(kProfiles, 0640);
  CHECK_THROWS_AS(resolve_credentials(options(home, {})), rdns::Error);
}

TEST_CASE("Secret never prints itself", "[provision][credentials]") {
  std::ostringstream out;
  out << Secret(rdns::test::kPlantedSecret);
  CHECK(out.str() == "****");
}

TEST_CASE("a planted secret appears in no output", "[provision][secrets]") {
  const std::string secret = rdns::test::kPlantedSecret;
  std::string seen;  // every line, message and event the client and emulator produce
  {
    rdns::test::EmulatorProcess emulator;
    ClientConfig config = emulator.client_config();
    config.log = [&](std::string_view line) { seen += std::string(line) + "\n"; };
    config.on_attempt = [&](const AttemptEvent& event) {
      seen += event.action + " " + event.outcome + "\n";
    };
    auto record = [&](const std::function<void()>& call) {
      try {
        call();
      } catch (const std::exception& error) {
        seen += std::string(error.what()) + "\n";
      }
    };
    PtrClient client(config, rdns::test::test_credentials());
    record([&] { client.describe(); });
    record([&] { client.create("198.51.100.10", "mx.unverified.test"); });
    record([&] { client.create("198.51.100.30", "mx1.mailcorp.test"); });
    record([&] { client.remove("ptr-404"); });
    emulator.admin("POST", "faults",
                   R"({"faults": [{"kind": "error", "code": "Throttling", "count": 1},
                                  {"kind": "drop", "count": 1}]})");
    record([&] { client.describe(); });
    ClientConfig v2 = config;
    v2.actions.describe.signature = SignatureVersion::v2;
    record([&] { PtrClient(v2, rdns::test::test_credentials()).describe(); });
    record([&] {
      PtrClient(config, rdns::test::credentials(rdns::test::kKeyId, secret + "x")).describe();
    });
    record([&] {
      config.clock_offset = std::chrono::hours(1);
      PtrClient(config, rdns::test::test_credentials()).describe();
    });
    seen += emulator.output();

    // Credentials errors: a readable file and a broken file, both holding the secret.
    TempHome home;
    const std::string profile = R"({"profiles": [{"name": "default", "access_key_id": "LTAIx",
        "access_key_secret": ")" +
                                secret + R"(" "region_id": "cn-hangzhou"}]})";
    home.write(profile, 0644);
    record([&] { resolve_credentials(options(home, {})); });
    home.write(profile, 0600);  // broken JSON right after the secret
    record([&] { resolve_credentials(options(home, {})); });
    std::ostringstream printed;
    printed << rdns::test::test_credentials().access_key_secret;
    seen += printed.str();
  }
  INFO("scanned " << seen.size() << " bytes");
  CHECK(seen.size() > 1000);  // the scan saw real output
  CHECK(seen.find("SignatureDoesNotMatch") != std::string::npos);
  CHECK(seen.find("not valid JSON") != std::string::npos);
  CHECK(seen.find(secret) == std::string::npos);
}
