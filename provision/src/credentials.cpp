#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <provision/credentials.hpp>
#include <util/error.hpp>

namespace rdns::provision {
namespace {

using Json = nlohmann::json;

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

[[noreturn]] void fail(const std::string& message) {
  throw Error(Errc::credentials, message);
}

// The prefixes the SDKs have used over time, newest first.
constexpr const char* kEnvPrefixes[] = {"ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_"};

std::optional<Credentials> from_environment(const EnvLookup& env) {
  for (const char* prefix : kEnvPrefixes) {
    const std::string id_name = std::string(prefix) + "ACCESS_KEY_ID";
    const std::string secret_name = std::string(prefix) + "ACCESS_KEY_SECRET";
    auto id = env(id_name);
    auto secret = env(secret_name);
    if (!id && !secret) continue;
    // Half a key pair is a mistake worth reporting rather than silently
    // falling through to a profile with other permissions.
    if (!id || !secret) {
      fail(fmt::format("{} is set but {} is not", id ? id_name : secret_name,
                       id ? secret_name : id_name));
    }
    Credentials credentials;
    credentials.access_key_id = *id;
    credentials.access_key_secret = Secret(*secret);
    if (auto token = env(std::string(prefix) + "SECURITY_TOKEN")) {
      credentials.security_token = Secret(*token);
    }
    credentials.region = env("ALIBABA_CLOUD_REGION_ID").value_or("");
    credentials.source = CredentialSource::environment;
    credentials.origin = "environment (" + id_name + ")";
    return credentials;
  }
  return std::nullopt;
}

std::string string_field(const Json& profile, const char* key) {
  const auto it = profile.find(key);
  if (it == profile.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Credentials from_profile_file(const std::filesystem::path& file, const std::string& wanted) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    fail("no credentials: no ALIBABA_CLOUD_ACCESS_KEY_ID in the environment and no profile file " +
         file.string());
  }
  refuse_shared_secrets_file(file, info.st_mode);
  std::ifstream in(file);
  if (!in) fail("cannot read the profile file " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  // nlohmann's parse errors quote the bytes around the fault, which may be a
  // secret: report only the position.
  Json document;
  try {
    document = Json::parse(text.str());
  } catch (const Json::parse_error& error) {
    fail(fmt::format("{} is not valid JSON (at byte {})", file.string(), error.byte));
  }
  const auto profiles = document.find("profiles");
  if (!document.is_object() || profiles == document.end() || !profiles->is_array()) {
    fail(file.string() + " has no \"profiles\" array");
  }
  std::string name = wanted;
  if (name.empty()) name = string_field(document, "current");
  if (name.empty()) name = "default";
  for (const auto& profile : *profiles) {
    if (!profile.is_object() || string_field(profile, "name") != name) continue;
    const std::string where = fmt::format("profile \"{}\" in {}", name, file.string());
    std::string mode = string_field(profile, "mode");
    if (mode.empty()) mode = "AK";
    if (mode != "AK" && mode != "StsToken") {
      fail(where + ": mode \"" + mode + "\" is not supported (only AK and StsToken)");
    }
    Credentials credentials;
    credentials.access_key_id = string_field(profile, "access_key_id");
    credentials.access_key_secret = Secret(string_field(profile, "access_key_secret"));
    if (credentials.access_key_id.empty() || credentials.access_key_secret.empty()) {
      fail(where + " lacks access_key_id or access_key_secret");
    }
    if (mode == "StsToken") {
      credentials.security_token = Secret(string_field(profile, "sts_token"));
      if (credentials.security_token.empty())
        fail(where + " is mode StsToken but has no sts_token");
    }
    credentials.region = string_field(profile, "region_id");
    credentials.source = CredentialSource::profile_file;
    credentials.origin = where;
    return credentials;
  }
  fail(fmt::format("no profile \"{}\" in {}", name, file.string()));
}

}  // namespace

void refuse_shared_secrets_file(const std::filesystem::path& file, unsigned int mode) {
  if ((mode & 0077) != 0) {
    fail(
        fmt::format("refusing {}: it is accessible by group or others (mode {:04o}); run chmod "
                    "600 on it",
                    file.string(), mode & 07777));
  }
}

Credentials resolve_credentials(const CredentialOptions& options) {
  const EnvLookup env = options.getenv ? options.getenv : EnvLookup(&process_env);
  if (options.profile.empty()) {
    if (auto credentials = from_environment(env)) return *credentials;
    if (env("ALIBABA_CLOUD_ROLE_ARN") || env("ALIBABA_CLOUD_OIDC_TOKEN_FILE")) {
      fail(
          "OIDC role credentials (ALIBABA_CLOUD_ROLE_ARN) are not supported; set "
          "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET or use a profile");
    }
  }
  std::filesystem::path file = options.config_file;
  if (file.empty()) {
    const auto home = env("HOME");
    if (!home) fail("no credentials in the environment and HOME is not set");
    file = std::filesystem::path(*home) / ".aliyun" / "config.json";
  }
  std::string profile = options.profile;
  if (profile.empty()) profile = env("ALIBABA_CLOUD_PROFILE").value_or("");
  return from_profile_file(file, profile);
}

}  // namespace rdns::provision
