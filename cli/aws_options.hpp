#pragma once
// `rdnsctl ptr --provider aws`: the AWS credential chain and region, and the
// flag that bounds the wait for EC2 to apply a reverse DNS update.

#include <CLI/CLI.hpp>

namespace rdns::cli {

struct PtrOptions;
struct PtrSession;

/// The flags only --provider aws reads.
struct AwsPtrOptions {
  double update_timeout = 300;  ///< --aws-update-timeout, seconds
};

/// Adds --aws-update-timeout to the ptr command.
void add_aws_options(CLI::App& ptr, AwsPtrOptions& options);

/// The provider and journal scope ("aws:" + region) of --provider aws:
/// credentials from the AWS chain (--profile names an AWS profile), the
/// region from --region, AWS_REGION, AWS_DEFAULT_REGION or the profile's
/// config, --endpoint for the emulator. Leaves the DNS view to the caller.
PtrSession open_aws_client(const PtrOptions& options);

}  // namespace rdns::cli
