#pragma once
/// A real PowerDNS Authoritative server (pdns_server, SQLite backend) on free
/// 127.0.0.1 ports, with its HTTP API on, for the powerdns provider's tests.
/// It reads no system configuration and leaves any system pdns service alone.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace rdns::lab {

class PdnsServer {
 public:
  /// Creates the SQLite database (the package's schema) with each zone
  /// ("2.0.192.in-addr.arpa.") as a Native zone, starts pdns_server and
  /// returns once its DNS port answers the zones and its API port accepts
  /// connections; throws std::runtime_error with the log's tail otherwise.
  explicit PdnsServer(const std::vector<std::string>& zones, std::string api_key = "lab-pdns-key");
  /// Stops the server (SIGTERM, then SIGKILL) and removes the work dir.
  ~PdnsServer();

  PdnsServer(const PdnsServer&) = delete;
  PdnsServer& operator=(const PdnsServer&) = delete;

  /// "http://127.0.0.1:PORT", the API's base URL.
  std::string api_url() const;
  const std::string& api_key() const { return api_key_; }
  std::uint16_t dns_port() const { return dns_port_; }
  /// "127.0.0.1:PORT" of its DNS service.
  std::string dns_address() const;
  /// The PTR targets the server answers over DNS for name (no trailing dot
  /// on input; targets as ldns prints them, with the dot).
  std::vector<std::string> ptr(const std::string& name) const;
  /// Holds pdns.conf, the database and pdns.log.
  const std::filesystem::path& work_dir() const { return work_dir_; }

 private:
  std::string start_once(const std::vector<std::string>& zones);
  void stop() noexcept;

  std::string api_key_;
  std::filesystem::path work_dir_;
  std::uint16_t dns_port_ = 0;
  std::uint16_t api_port_ = 0;
  pid_t pid_ = -1;
  pid_t owner_pid_ = -1;
};

}  // namespace rdns::lab
