#pragma once
/// PTR records written by RFC 2136 dynamic update, signed with TSIG
/// (RFC 8945), to whoever serves the reverse zone: BIND, Knot, PowerDNS with
/// its DNS update support. The settings and the key formats live here; the
/// provider itself is behind provision::PtrProvider.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <provision/client_config.hpp>
#include <provision/credentials.hpp>
#include <provision/provider.hpp>

namespace rdns::provision {

/// A TSIG key: its name, algorithm and base64 secret. Only hmac-sha256 is
/// accepted (the default of knsupdate, nsupdate and tsig-keygen).
struct TsigKey {
  std::string name;  ///< "rdnsctl-key." (absolute, lower case)
  std::string algorithm = "hmac-sha256";
  Secret secret;       ///< base64, as the key files hold it
  std::string origin;  ///< where it came from, for messages: "--tsig-key", "FILE:3"
};

/// Parses the `-y` form of nsupdate and knsupdate, `[hmac-sha256:]name:secret`.
/// origin names the source in errors (Errc::usage), which never quote the secret.
TsigKey parse_tsig_key(std::string_view text, const std::string& origin);

/// Reads a key file in either format: BIND's (nsupdate -k, tsig-keygen)
/// `key "name" { algorithm hmac-sha256; secret "base64"; };` or knsupdate's
/// one line `[alg:]name:secret`. Errc::input naming FILE:LINE for a bad line,
/// Errc::io when it cannot be read.
TsigKey read_tsig_key_file(const std::filesystem::path& path);

/// "192.0.2.0/24": an IPv4 network the credentials may change PTRs in.
struct Ipv4Prefix {
  std::uint32_t network = 0;  ///< host byte order, host bits zero
  int length = 0;
  bool contains(std::uint32_t address) const;
  std::string text() const;
  /// Errc::usage naming text unless an IPv4 CIDR (a bare address is a /32).
  static Ipv4Prefix parse(const std::string& text);
};

/// Everything the rfc2136 provider needs.
struct Rfc2136Config {
  /// "IP[:PORT]" of the primary to send updates and reads to; empty: the SOA
  /// MNAME of each reverse zone, resolved through resolvers, on primary_port.
  std::string server;
  std::uint16_t primary_port = 53;
  /// Recursive resolvers ("IP[:PORT]") for finding a zone's SOA and its
  /// MNAME's address when no server is given; empty means resolv.conf.
  std::vector<std::string> resolvers;
  TsigKey key;
  /// The networks whose PTRs may be changed; an address outside them is
  /// refused before anything is sent.
  std::vector<Ipv4Prefix> prefixes;
  /// Per exchange (connect, send, answer) with a server.
  std::chrono::milliseconds timeout{5000};
  /// loopback_only refuses any server outside 127.0.0.0/8 (tests, labs).
  NetworkScope scope = NetworkScope::any;
  /// One line per message sent and answer got; never given the secret.
  std::function<void(std::string_view)> log;
};

/// The journal scope of the provider's operations: "rfc2136@SERVER" when a
/// server is configured, else "rfc2136".
std::string rfc2136_scope(const Rfc2136Config& config);

/// The rfc2136 provider: ownership is "the reverse zone is served by the
/// primary and the address is inside a prefix"; a record's ID is its value
/// (the RRset's values joined by spaces when it holds several); writes are
/// one UPDATE each with a prerequisite on the value read; no disable and no
/// domain verification. Errc::usage when the key or the prefixes are missing.
std::unique_ptr<PtrProvider> make_rfc2136_provider(Rfc2136Config config);

}  // namespace rdns::provision
