#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <sys/stat.h>

#include <provision/aws_credentials.hpp>
#include <util/error.hpp>

namespace rdns::provision {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw Error(Errc::credentials, message);
}

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

/// One key of an INI section and the line it came from.
struct IniValue {
  std::string value;
  int line = 0;
};

/// One [section] of an INI file.
struct IniSection {
  int line = 0;
  std::map<std::string, IniValue> keys;
};

/// The sections of an AWS INI file (credentials or config), by header text.
using IniFile = std::map<std::string, IniSection>;

/// Reads an AWS INI file; nullopt when it does not exist. Parse errors name
/// the file and line but never quote it: the line may hold a secret.
std::optional<IniFile> read_ini(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return std::nullopt;
  refuse_shared_secrets_file(file, info.st_mode);
  std::ifstream in(file);
  if (!in) fail("cannot read " + file.string());
  IniFile sections;
  IniSection* current = nullptr;
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    const std::string line = trim(raw);
    if (line.empty() || line.starts_with('#') || line.starts_with(';')) continue;
    if (line.starts_with('[')) {
      if (!line.ends_with(']'))
        fail(fmt::format("{} line {}: a section header lacks ']'", file.string(), number));
      const std::string name = trim(line.substr(1, line.size() - 2));
      current = &sections[name];
      current->line = number;
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      // A continuation line (nested settings such as s3 = ...) belongs to the
      // key above; only a stray line outside any section is an error.
      if (current != nullptr && (raw.starts_with(' ') || raw.starts_with('\t'))) continue;
      fail(fmt::format("{} line {}: expected [section] or key = value", file.string(), number));
    }
    if (current == nullptr) {
      fail(fmt::format("{} line {}: a setting before any [section]", file.string(), number));
    }
    if (raw.starts_with(' ') || raw.starts_with('\t')) continue;  // nested sub-setting
    current->keys[trim(line.substr(0, eq))] = {trim(line.substr(eq + 1)), number};
  }
  return sections;
}

std::string value_of(const IniSection& section, const std::string& key) {
  const auto it = section.keys.find(key);
  return it == section.keys.end() ? std::string() : it->second.value;
}

/// The file a variable names, else $HOME/.aws/name; nullopt when neither is set.
std::optional<std::filesystem::path> aws_file(const EnvLookup& env, const char* variable,
                                              const char* name) {
  if (auto set = env(variable)) return std::filesystem::path(*set);
  if (auto home = env("HOME")) return std::filesystem::path(*home) / ".aws" / name;
  return std::nullopt;
}

/// The section of profile in the config file: "default" or "profile NAME".
const IniSection* config_section(const std::optional<IniFile>& config, const std::string& profile) {
  if (!config) return nullptr;
  // The config file names profiles "[profile NAME]"; only the default may
  // also go bare, as "[default]".
  auto it = config->find("profile " + profile);
  if (it == config->end() && profile == "default") it = config->find("default");
  return it == config->end() ? nullptr : &it->second;
}

void refuse_unsupported(const IniSection& section, const std::string& where) {
  for (const char* key : {"role_arn", "sso_session", "sso_start_url", "credential_process",
                          "web_identity_token_file"}) {
    if (section.keys.contains(key)) {
      fail(
          fmt::format("{} uses {}, which is not supported: give it aws_access_key_id and "
                      "aws_secret_access_key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                      where, key));
    }
  }
}

Credentials from_section(const IniSection& section, const std::string& where) {
  Credentials credentials;
  credentials.access_key_id = value_of(section, "aws_access_key_id");
  credentials.access_key_secret = Secret(value_of(section, "aws_secret_access_key"));
  credentials.security_token = Secret(value_of(section, "aws_session_token"));
  if (credentials.access_key_id.empty() || credentials.access_key_secret.empty()) {
    refuse_unsupported(section, where);
    fail(where + " lacks aws_access_key_id or aws_secret_access_key");
  }
  credentials.source = CredentialSource::profile_file;
  credentials.origin = where;
  return credentials;
}

std::optional<Credentials> from_environment(const EnvLookup& env) {
  const auto id = env("AWS_ACCESS_KEY_ID");
  const auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) return std::nullopt;
  // Half a key pair is a mistake; falling through to a profile would hide it.
  if (!id || !secret) {
    fail(id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
            : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  Credentials credentials;
  credentials.access_key_id = *id;
  credentials.access_key_secret = Secret(*secret);
  if (auto token = env("AWS_SESSION_TOKEN")) credentials.security_token = Secret(*token);
  credentials.source = CredentialSource::environment;
  credentials.origin = "environment (AWS_ACCESS_KEY_ID)";
  return credentials;
}

}  // namespace

Credentials resolve_aws_credentials(const AwsCredentialOptions& options) {
  const EnvLookup env = options.getenv ? options.getenv : EnvLookup(&process_env);
  std::optional<Credentials> found;
  if (options.profile.empty()) found = from_environment(env);

  const std::string profile =
      !options.profile.empty() ? options.profile : env("AWS_PROFILE").value_or("default");
  const std::filesystem::path config_path =
      !options.config_file.empty()
          ? options.config_file
          : aws_file(env, "AWS_CONFIG_FILE", "config").value_or(std::filesystem::path());
  const auto config = config_path.empty() ? std::nullopt : read_ini(config_path);
  const IniSection* settings = config_section(config, profile);

  if (!found) {
    std::filesystem::path path = options.credentials_file;
    if (path.empty()) {
      const auto located = aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
      if (!located) {
        fail(
            "no credentials: AWS_ACCESS_KEY_ID is not set, and neither "
            "AWS_SHARED_CREDENTIALS_FILE nor HOME is");
      }
      path = *located;
    }
    const auto shared = read_ini(path);
    const auto section = shared ? shared->find(profile) : IniFile::const_iterator();
    if (shared && section != shared->end()) {
      found = from_section(section->second, fmt::format("profile \"{}\" in {} (line {})", profile,
                                                        path.string(), section->second.line));
    } else if (settings != nullptr) {
      found = from_section(*settings, fmt::format("profile \"{}\" in {} (line {})", profile,
                                                  config_path.string(), settings->line));
    } else if (!shared && !config) {
      fail(fmt::format("no credentials: AWS_ACCESS_KEY_ID is not set and neither {} nor {} exists",
                       path.string(), config_path.string()));
    } else {
      fail(fmt::format("no profile \"{}\" in {}{}", profile, path.string(),
                       config ? " or " + config_path.string() : std::string()));
    }
  }
  found->region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or(""));
  if (found->region.empty() && settings != nullptr) found->region = value_of(*settings, "region");
  return *found;
}

}  // namespace rdns::provision
