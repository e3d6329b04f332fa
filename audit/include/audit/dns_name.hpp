#pragma once
/// A domain name as the raw labels that came off the wire. Labels may hold
/// any byte (DNS data is attacker-controlled); presentation() is the only
/// way a name is shown, and it escapes.

#include <string>
#include <string_view>
#include <vector>

namespace rdns::audit {

/// Raw-label domain name, compared case-insensitively (ASCII only, RFC 4343).
class DnsName {
 public:
  DnsName() = default;
  explicit DnsName(std::vector<std::string> labels) : labels_(std::move(labels)) {}

  /// Splits dotted text without escapes ("mail.example.com" or with a
  /// trailing dot). Intended for names we generate, not for DNS data.
  static DnsName from_dotted(std::string_view text);
  /// Parses uncompressed wire format; returns false on malformed input.
  static bool from_wire(const unsigned char* data, std::size_t size, DnsName& out);

  const std::vector<std::string>& labels() const { return labels_; }
  bool is_root() const { return labels_.empty(); }

  /// RFC 1035 presentation form without the trailing dot ("." for the root).
  std::string presentation() const;
  /// Lower-cased presentation form, used as a case-insensitive key.
  std::string key() const;
  /// Uncompressed wire format, for building queries.
  std::string wire() const;
  /// Wire length including length bytes and the root label.
  std::size_t wire_length() const;

  friend bool operator==(const DnsName& a, const DnsName& b);

 private:
  std::vector<std::string> labels_;
};

}  // namespace rdns::audit
