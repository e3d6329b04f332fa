#pragma once
// The emulator's EC2 side as the AWS tests set it up: two accounts' Elastic
// IPs in the emulator lab's reverse zone, and the keys that may call.

#include <string>

#include <provision/client_config.hpp>
#include <provision/credentials.hpp>

#include "emulator_process.hpp"

namespace rdns::test {

inline constexpr const char* kAwsKeyId = "AKIAEMULATOR0001";
inline constexpr const char* kAwsTempKeyId = "ASIAEMULATOR0002";
inline constexpr const char* kAwsTempSecret = "temp-secret-0002";
inline constexpr const char* kAwsSessionToken = "session-token-0002";
inline constexpr const char* kAwsRegion = "us-east-1";
/// Account 111122223333's Elastic IPs in us-east-1 (a third in eu-west-1:
/// 198.51.100.52); 198.51.100.53 is account 444455556666's.
inline constexpr const char* kAwsIp = "198.51.100.50";
inline constexpr const char* kAwsSecondIp = "198.51.100.51";
inline constexpr const char* kAwsOtherRegionIp = "198.51.100.52";
inline constexpr const char* kAwsOtherAccountIp = "198.51.100.53";

/// The state: the Alibaba side empty, the EC2 side as above, updates
/// PENDING for pending_ms, PTRs published with TTL 1 s (so the lab's
/// resolver shows a change at once). The secret of kAwsKeyId is kPlantedSecret.
inline std::string ec2_state(int pending_ms = 1500) {
  return std::string(R"({
  "dns": {"zones": ["100.51.198.in-addr.arpa"]},
  "ec2": {
    "pending_ms": )") +
         std::to_string(pending_ms) + R"(,
    "ptr_ttl": 1,
    "regions": ["us-west-2"],
    "accounts": [
      {"id": "111122223333",
       "access_keys": [{"id": ")" +
         kAwsKeyId + R"(", "secret": ")" + kPlantedSecret + R"("},
                       {"id": ")" +
         kAwsTempKeyId + R"(", "secret": ")" + kAwsTempSecret + R"(", "session_token": ")" +
         kAwsSessionToken + R"("}],
       "regions": {
         "us-east-1": {"addresses": [
           {"ip": "198.51.100.50", "allocation_id": "eipalloc-0050", "instance_id": "i-0mail"},
           {"ip": "198.51.100.51", "allocation_id": "eipalloc-0051"}]},
         "eu-west-1": {"addresses": [{"ip": "198.51.100.52", "allocation_id": "eipalloc-0052"}]}}},
      {"id": "444455556666",
       "access_keys": [{"id": "AKIAOTHERACCOUNT", "secret": "other-account-secret"}],
       "regions": {"us-east-1": {"addresses": [
         {"ip": "198.51.100.53", "allocation_id": "eipalloc-0053"}]}}}
    ]
  }
})";
}

/// A loopback-only client config for the emulator's EC2 side in us-east-1.
inline provision::ClientConfig ec2_config(const EmulatorProcess& emulator) {
  provision::ClientConfig config = emulator.client_config();
  config.region = kAwsRegion;
  return config;
}

}  // namespace rdns::test
