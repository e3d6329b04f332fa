#pragma once
// Test fixture: the real rdns-cloud-emulator program on a free 127.0.0.1
// port, wired to the emulator lab (Knot + Unbound), plus the DNS helpers the
// tests use to play the user's DNS provider and to look at what Knot serves.

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

#include <provision/client_config.hpp>
#include <provision/credentials.hpp>

namespace rdns::test {

/// A secret that must never appear in any output; the leak test scans for it.
inline constexpr const char* kPlantedSecret = "PLANTED-s3cr3t-9f1c2e7a";
inline constexpr const char* kKeyId = "LTAItestkey0001";
inline constexpr const char* kOtherKeyId = "LTAItestkey2002";
inline constexpr const char* kOtherSecret = "other-account-secret";
inline constexpr const char* kStsKeyId = "STS.testkey0003";
inline constexpr const char* kStsSecret = "sts-secret-0003";
inline constexpr const char* kStsToken = "sts-token-0003";
inline constexpr const char* kRegion = "cn-hangzhou";

/// The standard state: account 1001 owns EIPs 198.51.100.10-11 and ECS
/// instance i-web (198.51.100.20-21) in cn-hangzhou and EIP 198.51.100.40 in
/// cn-shanghai; account 2002 owns EIP 198.51.100.30.
std::string standard_state();

/// A running rdns-cloud-emulator; SIGTERM and reaped on destruction.
class EmulatorProcess {
 public:
  explicit EmulatorProcess(const std::string& state_json = standard_state());
  ~EmulatorProcess();
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  /// "http://127.0.0.1:PORT"
  std::string endpoint() const;
  /// Calls /_emulator/<path>; returns the JSON body.
  std::string admin(const std::string& method, const std::string& path,
                    const std::string& body = "") const;
  /// Everything the emulator wrote to stdout and stderr so far.
  std::string output() const;
  /// A loopback-only client config for this emulator with fast retries.
  provision::ClientConfig client_config() const;

 private:
  std::filesystem::path work_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

/// Account 1001's key with the planted secret.
provision::Credentials test_credentials();
provision::Credentials credentials(const std::string& id, const std::string& secret,
                                   const std::string& token = "");

/// Publishes (replaces) a TXT RRset in the emulator lab, as a DNS provider would.
void publish_txt(const std::string& fqdn, const std::string& value);
/// Publishes (replaces) fqdn's A records with TTL 1 s; none removes them.
void publish_a(const std::string& fqdn, const std::vector<std::string>& addresses);
/// The PTR targets Knot itself serves for name (no cache in between).
std::vector<std::string> authority_ptr(const std::string& name);

}  // namespace rdns::test
