#pragma once
// The emulator's real DNS traffic: the TXT ownership check through a
// resolver, and RFC 2136 dynamic updates that publish PTR records into Knot.

#include <optional>
#include <string>
#include <vector>

namespace rdns::emulator {

/// "127.0.0.1:5353" split for ldns; only 127.0.0.0/8 is accepted.
struct ServerAddress {
  std::string host;
  unsigned short port = 53;
  static ServerAddress parse(const std::string& text);  ///< throws std::runtime_error
};

/// The TXT strings at name (each record's strings joined), or nullopt when the
/// resolver did not answer or answered with an error other than NXDOMAIN.
std::optional<std::vector<std::string>> query_txt(const ServerAddress& resolver,
                                                  const std::string& name);

/// The IPv4 addresses of name's A records, or nullopt when the resolver did
/// not answer or answered with an error other than NXDOMAIN (which is none).
std::optional<std::vector<std::string>> query_a(const ServerAddress& resolver,
                                                const std::string& name);

/// The longest of zones (trailing dots and case ignored) that holds name;
/// empty when none does.
std::string zone_for(const std::vector<std::string>& zones, const std::string& name);

/// Replaces the PTR RRset at name in zone with value (or deletes it when value
/// is empty) by a dynamic update; returns an error text, empty on success.
std::string update_ptr(const ServerAddress& server, const std::string& zone,
                       const std::string& name, const std::string& value, int ttl);

}  // namespace rdns::emulator
