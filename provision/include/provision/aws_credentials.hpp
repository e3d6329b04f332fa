#pragma once
/// AWS credentials, resolved the way the AWS CLI and SDKs do for static keys:
/// the environment, then a profile of the shared credentials file (and of the
/// config file). The result is the provider-neutral Credentials, so secrets
/// stay in Secret and never print.

#include <filesystem>
#include <string>

#include <provision/credentials.hpp>

namespace rdns::provision {

/// Inputs to resolve_aws_credentials(); every field has a usable default.
struct AwsCredentialOptions {
  /// --profile: use exactly this profile and skip the environment keys.
  std::string profile;
  /// Empty means $AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials.
  std::filesystem::path credentials_file;
  /// Empty means $AWS_CONFIG_FILE, else $HOME/.aws/config.
  std::filesystem::path config_file;
  /// Empty means the process environment.
  EnvLookup getenv;
};

/// Resolves credentials in the AWS CLI's order for static keys:
/// 1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), unless
///    a profile is named by --profile;
/// 2. the profile (--profile, else AWS_PROFILE, else "default") in the shared
///    credentials file ([name] sections: aws_access_key_id,
///    aws_secret_access_key, aws_session_token), else in the config file
///    ([profile name], or [default]).
/// The region is AWS_REGION, else AWS_DEFAULT_REGION, else the profile's
/// "region" in the config file; it may be empty. Role, SSO and
/// credential_process profiles are reported as unsupported. Throws
/// rdns::Error(Errc::credentials) naming variables, files, lines and
/// profiles, never a value; a file readable by group or others is refused.
Credentials resolve_aws_credentials(const AwsCredentialOptions& options = {});

}  // namespace rdns::provision
