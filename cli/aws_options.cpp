#include "aws_options.hpp"

#include <chrono>

#include <provision/aws_credentials.hpp>
#include <provision/aws_provider.hpp>
#include <util/error.hpp>

#include "number_option.hpp"
#include "ptr_workflow.hpp"

namespace rdns::cli {

void add_aws_options(CLI::App& ptr, AwsPtrOptions& options) {
  ptr.add_option("--aws-update-timeout", options.update_timeout,
                 "With --provider aws: seconds to wait for EC2 to apply a reverse DNS update "
                 "(its PtrRecordUpdate leaving PENDING) before the write counts as failed")
      ->type_name("SECONDS")
      ->default_val(300)
      ->check(finite_range(1, 86400, "seconds"));
}

PtrSession open_aws_client(const PtrOptions& options) {
  provision::AwsCredentialOptions lookup;
  lookup.profile = options.connection.profile;
  const provision::Credentials credentials = provision::resolve_aws_credentials(lookup);
  CloudConnection connection = options.connection;
  if (connection.region.empty()) connection.region = credentials.region;
  if (connection.region.empty()) {
    throw Error(Errc::usage,
                "no region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or give the "
                "profile a region in ~/.aws/config");
  }
  const provision::ClientConfig config = cloud_config(connection, credentials);
  provision::AwsProviderOptions waiting;
  waiting.update_timeout =
      std::chrono::milliseconds(static_cast<long long>(options.aws.update_timeout * 1000));
  PtrSession session;
  // AWS and Alibaba regions share names ("us-east-1" exists at both), so the
  // journal keeps the provider in its scope.
  session.region = "aws:" + config.region;
  // A write is carried out until its update leaves PENDING, not only while
  // its call is in flight.
  session.in_flight = config.connect_timeout + config.request_timeout + waiting.update_timeout;
  session.provider = std::make_unique<provision::AwsPtrProvider>(config, credentials, waiting);
  return session;
}

}  // namespace rdns::cli
