#pragma once
/// Alibaba Cloud credentials, resolved the way the official SDKs and CLI do,
/// and a string type for secrets that refuses to print itself.

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace rdns::provision {

/// A secret value (AccessKey secret, STS token). It has no conversion to
/// string and prints as "****", so it cannot slip into a log line or an error
/// message by accident; reveal() is for the signer only.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << "****"; }

 private:
  std::string value_;
};

/// Where a set of credentials was found.
enum class CredentialSource { environment, profile_file };

/// An AccessKey pair, with an STS token when the key is temporary.
struct Credentials {
  std::string access_key_id;
  Secret access_key_secret;
  Secret security_token;  ///< empty unless STS
  std::string region;     ///< from ALIBABA_CLOUD_REGION_ID or the profile; may be empty
  CredentialSource source = CredentialSource::environment;
  std::string origin;  ///< human-readable: variable names, or file and profile name
};

/// Reads an environment variable; replaceable so tests need not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// Inputs to resolve_credentials(); every field has a usable default.
struct CredentialOptions {
  /// --profile: use exactly this profile from the file and skip the environment keys.
  std::string profile;
  /// The CLI profile file; empty means $HOME/.aliyun/config.json.
  std::filesystem::path config_file;
  /// Empty means the process environment.
  EnvLookup getenv;
};

/// Throws rdns::Error(Errc::credentials) when file, which holds secrets, is
/// accessible by group or others (one that others can read is already a
/// leak, and using it would hide that from its owner); mode is its st_mode.
void refuse_shared_secrets_file(const std::filesystem::path& file, unsigned int mode);

/// Resolves credentials in the SDKs' order:
/// 1. ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (+ _SECURITY_TOKEN), then the
///    older ALIBABACLOUD_* and ALICLOUD_* spellings;
/// 2. the CLI profile file, profile chosen by CredentialOptions::profile, then
///    ALIBABA_CLOUD_PROFILE, then the file's "current", then "default"; modes
///    "AK" and "StsToken".
/// An explicit profile skips step 1. OIDC and ECS RAM roles are not
/// supported and are reported as such. Throws rdns::Error(Errc::credentials)
/// when nothing usable is found or the profile file is readable by group or
/// others; messages name variables, files and profiles, never a value.
Credentials resolve_credentials(const CredentialOptions& options = {});

}  // namespace rdns::provision
