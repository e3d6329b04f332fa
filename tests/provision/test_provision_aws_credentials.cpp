// The AWS credential chain: the environment, then a profile of the shared
// credentials file or of the config file; the region's sources; errors that
// name the file and line but never the secret.

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <provision/aws_credentials.hpp>
#include <util/error.hpp>

#include "scratch_dir.hpp"

namespace {

using namespace rdns::provision;

constexpr const char* kSecret = "PLANTED-aws-s3cr3t-77d1";

/// A temporary HOME with ~/.aws/credentials and ~/.aws/config.
class AwsHome {
 public:
  AwsHome() { std::filesystem::create_directories(home_ / ".aws"); }
  std::filesystem::path file(const char* name) const { return home_ / ".aws" / name; }
  void write(const char* name, const std::string& text, mode_t mode = 0600) const {
    std::ofstream(file(name)) << text;
    ::chmod(file(name).c_str(), mode);
  }
  /// An environment holding HOME and extra.
  EnvLookup env(std::map<std::string, std::string> extra = {}) const {
    extra["HOME"] = home_.path().string();
    return [extra](const std::string& name) -> std::optional<std::string> {
      const auto it = extra.find(name);
      if (it == extra.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  rdns::test::ScratchDir home_{"rdns-aws"};
};

Credentials resolve(const AwsHome& home, std::map<std::string, std::string> env = {},
                    const std::string& profile = {}) {
  AwsCredentialOptions options;
  options.getenv = home.env(std::move(env));
  options.profile = profile;
  return resolve_aws_credentials(options);
}

/// The message of the credentials error resolve() throws.
std::string refusal(const AwsHome& home, std::map<std::string, std::string> env = {},
                    const std::string& profile = {}) {
  try {
    resolve(home, std::move(env), profile);
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::credentials);
    const std::string message = error.what();
    CHECK(message.find(kSecret) == std::string::npos);
    return message;
  }
  FAIL("no error");
  return {};
}

const std::string kFiles = std::string(R"(# shared credentials
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = )") +
                           kSecret + R"(

[work]
aws_access_key_id=AKIDWORK
aws_secret_access_key=work-secret
aws_session_token=work-token
)";

}  // namespace

TEST_CASE("the environment comes first, with its session token", "[provision][aws]") {
  AwsHome home;
  home.write("credentials", kFiles);
  const Credentials found = resolve(home, {{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                           {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                           {"AWS_SESSION_TOKEN", "env-token"},
                                           {"AWS_REGION", "eu-west-1"}});
  CHECK(found.access_key_id == "AKIDENV");
  CHECK(found.access_key_secret.reveal() == "env-secret");
  CHECK(found.security_token.reveal() == "env-token");
  CHECK(found.region == "eu-west-1");
  CHECK(found.source == CredentialSource::environment);

  // --profile skips the environment's keys.
  CHECK(resolve(home, {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "x"}}, "work")
            .access_key_id == "AKIDWORK");
  // Half a key pair is an error, not a silent fall-through to a profile.
  CHECK(refusal(home, {{"AWS_ACCESS_KEY_ID", "AKIDENV"}}) ==
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
}

TEST_CASE("profiles: --profile, AWS_PROFILE, default; the config file", "[provision][aws]") {
  AwsHome home;
  home.write("credentials", kFiles);
  home.write("config", R"([default]
region = us-east-1
[profile work]
region = eu-central-1
s3 =
    max_concurrent_requests = 20
[profile cfgonly]
aws_access_key_id = AKIDCONFIG
aws_secret_access_key = config-secret
region = ap-south-1
[profile role]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = default
)");
  const Credentials standard = resolve(home);
  CHECK(standard.access_key_id == "AKIDDEFAULT");
  CHECK(standard.region == "us-east-1");
  CHECK(standard.origin.find("profile \"default\"") != std::string::npos);
  CHECK(standard.origin.find("line 2") != std::string::npos);

  const Credentials work = resolve(home, {{"AWS_PROFILE", "work"}});
  CHECK(work.access_key_id == "AKIDWORK");
  CHECK(work.security_token.reveal() == "work-token");
  CHECK(work.region == "eu-central-1");
  // AWS_REGION, then AWS_DEFAULT_REGION, beat the profile's region.
  CHECK(resolve(home, {{"AWS_DEFAULT_REGION", "sa-east-1"}}, "work").region == "sa-east-1");
  CHECK(resolve(home, {{"AWS_DEFAULT_REGION", "sa-east-1"}, {"AWS_REGION", "ca-central-1"}}, "work")
            .region == "ca-central-1");

  const Credentials config_only = resolve(home, {}, "cfgonly");
  CHECK(config_only.access_key_id == "AKIDCONFIG");
  CHECK(config_only.region == "ap-south-1");

  CHECK(refusal(home, {}, "role").find("role_arn, which is not supported") != std::string::npos);
  const std::string missing = refusal(home, {}, "nobody");
  CHECK(missing.find("no profile \"nobody\" in ") != std::string::npos);
  CHECK(missing.find(home.file("credentials").string()) != std::string::npos);
}

TEST_CASE("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files", "[provision][aws]") {
  AwsHome home;
  home.write("elsewhere", "[default]\naws_access_key_id = AKIDMOVED\naws_secret_access_key = s\n");
  home.write("cfg", "[default]\nregion = us-west-2\n");
  const Credentials moved =
      resolve(home, {{"AWS_SHARED_CREDENTIALS_FILE", home.file("elsewhere").string()},
                     {"AWS_CONFIG_FILE", home.file("cfg").string()}});
  CHECK(moved.access_key_id == "AKIDMOVED");
  CHECK(moved.region == "us-west-2");
}

TEST_CASE("bad files: the file and line are named, the secret never", "[provision][aws]") {
  AwsHome home;
  home.write("credentials", std::string("[default]\naws_access_key_id = AKID\n") + kSecret + "\n");
  const std::string garbled = refusal(home);
  CHECK(garbled ==
        home.file("credentials").string() + " line 3: expected [section] or key = value");

  home.write("credentials", std::string("aws_secret_access_key = ") + kSecret + "\n[default]\n");
  CHECK(refusal(home) ==
        home.file("credentials").string() + " line 1: a setting before any [section]");

  home.write("credentials", "[default]\naws_access_key_id = AKID\n");
  CHECK(refusal(home).find("lacks aws_access_key_id or aws_secret_access_key") !=
        std::string::npos);

  home.write("credentials", kFiles, 0644);
  CHECK(refusal(home).find("accessible by group or others (mode 0644)") != std::string::npos);

  std::filesystem::remove(home.file("credentials"));
  CHECK(refusal(home).starts_with("no credentials: AWS_ACCESS_KEY_ID is not set and neither "));
}
