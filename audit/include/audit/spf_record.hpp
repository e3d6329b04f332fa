#pragma once
/// The terms of one SPF record (RFC 7208), parsed without any DNS lookup:
/// what each mechanism names, so the domain expansion only has to follow it.
/// Pure and total: any bytes give a list of terms, malformed ones marked
/// with the reason, checked against the grammar of RFC 7208 sections 4.6.1,
/// 5, 6 and 7.1 (domain-specs, CIDR lengths, macro syntax, modifier names).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <audit/dns_name.hpp>
#include <audit/ip.hpp>

namespace rdns::audit::spf {

/// The mechanisms, then the modifiers redirect and exp, then any other
/// modifier (ignored, RFC 7208 section 6) and any other mechanism (an error).
enum class Mechanism {
  all,
  ip4,
  ip6,
  a,
  mx,
  include,
  exists,
  ptr,
  redirect,
  exp,
  modifier,
  unknown
};

struct Term {
  std::string text;      ///< as written, without its qualifier
  char qualifier = '+';  ///< '+', '-', '~' or '?'
  Mechanism mechanism = Mechanism::unknown;
  bool has_macro = false;  ///< its domain-spec holds a macro: depends on each message, not expanded
  bool malformed = false;  ///< does not follow the grammar (a permerror for receivers)
  std::string problem;     ///< why it is malformed, for the finding
  /// ip4/ip6: the address (host bits as written) and prefix length.
  std::optional<IpAddress> address;
  int prefix = 0;
  /// a/mx/ptr/exists: the domain queried, lower-cased (empty: the record's
  /// own domain); include/redirect: the domain whose record is evaluated
  /// next; exp: the domain of the explanation.
  std::string target;
  /// a/mx: the prefix lengths applied to the addresses the target has.
  int v4_prefix = 32;
  int v6_prefix = 128;
};

/// A domain named by DNS data as a query name, keeping its raw bytes; nullopt
/// when it cannot be one: empty, an empty label, a label over 63 bytes, or
/// over 255 bytes in all (RFC 1035 section 2.3.4). A trailing dot is allowed.
std::optional<DnsName> domain_name(std::string_view text);

/// Whether `text` is an SPF record: "v=spf1" alone or followed by a space,
/// the version compared case-insensitively.
bool is_spf_record(std::string_view text);

/// The terms after "v=spf1", in order; empty terms (repeated spaces) skipped.
/// A second redirect or exp modifier is marked malformed (RFC 7208 section 6).
std::vector<Term> parse_terms(std::string_view record);

}  // namespace rdns::audit::spf
