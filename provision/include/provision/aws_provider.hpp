#pragma once
/// AWS EC2 as a PTR provider: the reverse DNS of Elastic IPs through the EC2
/// Query API (DescribeAddresses, DescribeAddressesAttribute,
/// ModifyAddressAttribute, ResetAddressAttribute), signed with SigV4.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <provision/client_config.hpp>
#include <provision/credentials.hpp>
#include <provision/provider.hpp>

namespace rdns::provision {

/// The TTL rdnsctl reports and journals for every AWS PTR record: AWS picks
/// the TTL it serves and neither accepts nor reports one.
inline constexpr int kAwsPtrTtl = 300;

/// "https://ec2.REGION.amazonaws.com", the regional EC2 endpoint.
std::string ec2_endpoint(const std::string& region);

/// How long a write waits for AWS to apply it.
struct AwsProviderOptions {
  /// A PtrRecordUpdate still PENDING after this fails the write (AWS may
  /// apply it later: `rdnsctl ptr show` tells).
  std::chrono::milliseconds update_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(2)};
};

/// Elastic IPs' reverse DNS. Ownership: the IP is an Elastic IP of the
/// account in the region (the record ID is its AllocationId). A write is
/// ModifyAddressAttribute, then DescribeAddressesAttribute polled until the
/// PtrRecordUpdate leaves PENDING; a delete is ResetAddressAttribute. No
/// disable, no domain verification; AWS requires the forward record first,
/// which the pre-write checks confirm. The TTL is AWS's (kAwsPtrTtl).
class AwsPtrProvider final : public PtrProvider {
 public:
  /// config.endpoint empty: ec2_endpoint(config.region).
  AwsPtrProvider(const ClientConfig& config, const Credentials& credentials,
                 AwsProviderOptions options = {});
  ~AwsPtrProvider() override;
  AwsPtrProvider(const AwsPtrProvider&) = delete;
  AwsPtrProvider& operator=(const AwsPtrProvider&) = delete;

  const std::string& name() const override;
  ProviderCapabilities capabilities() const override;
  std::vector<Ownership> ownership(const std::vector<std::string>& ips) override;
  PtrListing list() override;
  std::vector<PtrRecord> read(const std::string& ip) override;
  std::string write(const std::string& ip, const std::string& value, int ttl,
                    const std::string& current_record_id) override;
  void remove(const std::string& ip, const std::string& current_record_id) override;
  void set_status(const std::string& ip, const std::string& current_record_id,
                  PtrStatus status) override;
  std::optional<VerificationTxt> verification_txt(const std::string& value) override;
  const std::string& last_request_id() const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdns::provision
