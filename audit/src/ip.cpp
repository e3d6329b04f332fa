#include <charconv>
#include <limits>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <audit/dns_name.hpp>
#include <audit/ip.hpp>
#include <util/ipv4_text.hpp>

namespace rdns::audit {

std::string_view to_string(Family family) {
  return family == Family::ipv4 ? "ipv4" : "ipv6";
}

IpAddress IpAddress::from_v4(std::uint32_t host_order) {
  IpAddress address;
  address.family_ = Family::ipv4;
  for (int i = 0; i < 4; ++i) {
    address.bytes_[static_cast<std::size_t>(i)] =
        static_cast<unsigned char>(host_order >> (24 - 8 * i));
  }
  return address;
}

IpAddress IpAddress::from_v6(uint128 value) {
  IpAddress address;
  address.family_ = Family::ipv6;
  for (int i = 0; i < 16; ++i) {
    address.bytes_[static_cast<std::size_t>(i)] =
        static_cast<unsigned char>(value >> (120 - 8 * i));
  }
  return address;
}

IpAddress IpAddress::from_bytes(Family family, const unsigned char* bytes) {
  IpAddress address;
  address.family_ = family;
  for (std::size_t i = 0; i < address.byte_count(); ++i) address.bytes_[i] = bytes[i];
  return address;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string terminated(text);
  unsigned char buffer[16];
  if (inet_pton(AF_INET, terminated.c_str(), buffer) == 1) {
    return from_bytes(Family::ipv4, buffer);
  }
  if (inet_pton(AF_INET6, terminated.c_str(), buffer) == 1) {
    return from_bytes(Family::ipv6, buffer);
  }
  return std::nullopt;
}

uint128 IpAddress::value() const {
  uint128 result = 0;
  for (std::size_t i = 0; i < byte_count(); ++i) result = (result << 8) | bytes_[i];
  return result;
}

std::string IpAddress::to_string() const {
  if (family_ == Family::ipv4) return ipv4_text(bytes_.data());
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes_.data(), buffer, sizeof buffer);
  return buffer;
}

std::string IpAddress::reverse_name() const {
  DnsName name;
  DnsName::assign_reverse(*this, name);
  return name.presentation();
}

uint128 IpRange::size() const {
  const uint128 span = last.value() - first.value();
  return span == std::numeric_limits<uint128>::max() ? span : span + 1;
}

ParsedRange parse_range(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) {
    return {std::nullopt,
            slash == std::string_view::npos ? "not an IP address" : "not an IP address before '/'"};
  }
  // ::ffff:192.0.2.10 is how dual-stack software writes an IPv4 peer; its
  // PTR lives under in-addr.arpa, so it is audited as the IPv4 address.
  const bool mapped =
      address->family() == Family::ipv6 && (address->value() >> 32) == uint128{0xffff};
  if (slash == std::string_view::npos) {
    if (mapped) {
      const auto v4 = IpAddress::from_v4(static_cast<std::uint32_t>(address->value()));
      return {IpRange{v4, v4}, {}};
    }
    return {IpRange{*address, *address}, {}};
  }

  const std::string_view prefix_text = text.substr(slash + 1);
  const int width = address->family() == Family::ipv4 ? 32 : 128;
  int prefix = -1;
  const auto [end, ec] =
      std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  if (prefix_text.empty() || ec != std::errc() || end != prefix_text.data() + prefix_text.size() ||
      prefix < 0 || prefix > width) {
    return {std::nullopt, fmt::format("prefix length must be 0-{}", width)};
  }
  if (mapped) {
    if (prefix < 96) {
      return {std::nullopt,
              "an IPv4-mapped range needs a prefix of at least /96; give the IPv4 range"};
    }
    return parse_range(fmt::format(
        "{}/{}", IpAddress::from_v4(static_cast<std::uint32_t>(address->value())).to_string(),
        prefix - 96));
  }
  const int host_bits = width - prefix;
  const uint128 all_ones = ~uint128{0};
  const uint128 host_mask =
      host_bits == 0 ? 0 : (host_bits == 128 ? all_ones : ((uint128{1} << host_bits) - 1));
  const uint128 base = address->value();
  if ((base & host_mask) != 0) {
    return {std::nullopt, "host bits are set (did you mean the network address?)"};
  }
  const auto make = [&](uint128 v) {
    return address->family() == Family::ipv4 ? IpAddress::from_v4(static_cast<std::uint32_t>(v))
                                             : IpAddress::from_v6(v);
  };
  return {IpRange{make(base), make(base | host_mask)}, {}};
}

}  // namespace rdns::audit
