#pragma once
/// Decoding of the cloud API's success bodies into the client's types. The
/// bodies are remote data: a field of the wrong type or out of range is a
/// cloud error naming the action's field, never a crash or a silent default
/// that would make a listing look complete when it is not.

#include <set>
#include <string>
#include <vector>

#include <provision/ptr_client.hpp>

#include "rpc.hpp"

namespace rdns::provision::detail {

/// One page of DescribePtrRecords.
struct PtrPage {
  std::vector<PtrRecord> records;
  bool has_billing = false;
  PtrBilling billing;
  long long total_count = 0;  ///< records in every page together
};

/// Throw rdns::Error(Errc::cloud) naming the field when it has the wrong type.
PtrPage decode_ptr_page(const Json& body);
VerificationTxt decode_verification_txt(const Json& body, const std::string& domain);
/// The RecordId of a create ("" when absent).
std::string decode_record_id(const Json& body);
/// The RequestId every answer carries ("" when absent or not a string).
std::string decode_request_id(const Json& body);
/// DescribeEipAddresses: the EIPs listed.
std::vector<Ownership> decode_eips(const Json& body);
/// DescribeInstances: the public IPs of the listed instances that are in
/// `wanted`; `instances` is set to how many instances the page held.
std::vector<Ownership> decode_instances(const Json& body, const std::set<std::string>& wanted,
                                        std::size_t& instances);

}  // namespace rdns::provision::detail
