#pragma once
/// Data-driven naming rules: which PTR names look generic (dynamic pools,
/// embedded addresses) and which are a cloud provider's default. The
/// built-in set is audit/rules/default-rules.toml; docs/rules.md documents
/// the format, and --rules adds a user's file on top.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <audit/dns_name.hpp>
#include <audit/dnsbl.hpp>
#include <audit/ip.hpp>

namespace rdns::audit {

/// A provider whose default reverse names follow known patterns.
struct ProviderPattern {
  std::string provider;
  std::vector<std::string> patterns;  ///< fnmatch(3) globs with {a}..{d} for the IPv4 octets
  /// Per pattern, the literal text after its last placeholder or wildcard:
  /// a name that does not end with it cannot match, so fnmatch is skipped.
  std::vector<std::string> literal_suffixes;
};

/// The rules a classification uses.
class Rules {
 public:
  /// The rules compiled into the binary.
  static Rules defaults();
  /// Parses TOML text on top of `base`: lists extend the base's, scalars
  /// replace them. Throws rdns::Error(Errc::input) naming `source`, the
  /// line and the key for unknown keys and bad values.
  static Rules parse(std::string_view toml_text, const std::string& source, Rules base);
  static Rules parse(std::string_view toml_text, const std::string& source);
  /// defaults() with the file at `path` parsed on top (when not empty).
  static Rules load(const std::string& path);

  /// Why the name looks generic ("embeds the address", "token 'dsl'"), or
  /// nullopt when it does not.
  std::optional<std::string> generic_reason(const DnsName& name, const IpAddress& ip) const;
  /// The provider whose default name this is, or nullopt.
  std::optional<std::string> provider_default(const DnsName& name, const IpAddress& ip) const;

  std::vector<std::string> generic_tokens;
  std::vector<std::string> exempt_tokens;
  int embedded_ip_min_octets = 3;
  bool embedded_hex_ip = true;
  std::uint32_t ttl_min = 300;
  std::uint32_t ttl_max = 86400;
  double ttl_max_ratio = 10;
  std::vector<ProviderPattern> providers;
  /// Blocklists for --dnsbl; a later table with the same zone replaces an
  /// earlier one.
  std::vector<DnsblList> dnsbls;
};

}  // namespace rdns::audit
