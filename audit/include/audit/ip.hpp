#pragma once
/// IP addresses and CIDR ranges as the audit sees them: parsed with the C
/// library, ordered, and turned into their reverse-DNS names.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rdns::audit {

enum class Family : std::uint8_t { ipv4 = 4, ipv6 = 6 };

std::string_view to_string(Family family);

__extension__ using uint128 = unsigned __int128;

/// An IPv4 or IPv6 address. IPv4 uses the first four bytes.
class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress from_v4(std::uint32_t host_order);
  static IpAddress from_v6(uint128 value);
  static IpAddress from_bytes(Family family, const unsigned char* bytes);

  /// Strict dotted-quad IPv4 or RFC 4291 IPv6 text; nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  const std::array<unsigned char, 16>& bytes() const { return bytes_; }
  std::size_t byte_count() const { return family_ == Family::ipv4 ? 4 : 16; }
  /// The address as an integer (IPv4 in the low 32 bits).
  uint128 value() const;

  /// Canonical text (RFC 5952 for IPv6).
  std::string to_string() const;
  /// d.c.b.a.in-addr.arpa or the 32-nibble ip6.arpa name, without a trailing dot.
  std::string reverse_name() const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::ipv4;
  std::array<unsigned char, 16> bytes_{};
};

/// An inclusive range of addresses of one family.
struct IpRange {
  IpAddress first;
  IpAddress last;
  /// Number of addresses, saturating at the largest uint128.
  uint128 size() const;
};

/// "ADDRESS/PREFIX" with host bits zero, or a bare address; nullopt when malformed.
/// The error text explains what is wrong with the input.
struct ParsedRange {
  std::optional<IpRange> range;
  std::string error;
};
ParsedRange parse_range(std::string_view text);

}  // namespace rdns::audit
