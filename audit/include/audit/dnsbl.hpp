#pragma once
/// DNS blocklists (RFC 5782): which name to ask for an address, and what an
/// answer means. Return codes are decoded per list; error answers (a
/// refusal, a rate limit, a rewriting resolver's address outside
/// 127.0.0.0/8) are never read as listings. The lists themselves are data:
/// [[dnsbl]] tables of the rules file (docs/rules.md).

#include <optional>
#include <string>
#include <vector>

#include <audit/dns_name.hpp>
#include <audit/ip.hpp>
#include <util/verdict.hpp>

namespace rdns::audit {

/// A return code that means a listing.
struct DnsblCode {
  IpAddress answer;     ///< e.g. 127.0.0.4
  std::string meaning;  ///< "XBL: exploited host (botnet, open proxy)"
  Severity severity = Severity::error;
};

/// A return code that means the query was not answered, and what to do.
struct DnsblErrorCode {
  IpAddress answer;    ///< e.g. 127.255.255.254
  std::string advice;  ///< "the query came through a public resolver: ..."
};

struct DnsblList {
  std::string zone;      ///< zen.spamhaus.org; also the list's name in findings
  std::string key_zone;  ///< with a key: REVERSED.KEY.key_zone (Spamhaus DQS)
  bool ipv4 = true;
  bool ipv6 = false;
  bool enabled = true;     ///< asked by --dnsbl
  bool needs_key = false;  ///< answers only under key_zone with a key: not asked without one
  double qps = 0;          ///< queries per second to this list at most; 0: no cap
  /// For a listing whose code is not among `codes`.
  Severity severity = Severity::error;
  std::vector<DnsblCode> codes;
  std::vector<DnsblErrorCode> errors;
};

/// Whether the list answers for addresses of `family`.
bool dnsbl_covers(const DnsblList& list, Family family);

/// The name to ask (A, then TXT for the reason) for `ip` on `list`: the
/// address's reverse labels under the list's zone (under KEY.key_zone when
/// a key is given and the list takes one). Nullopt when the list does not
/// cover the address's family.
std::optional<DnsName> dnsbl_query_name(const DnsblList& list, const IpAddress& ip,
                                        const std::string& key);

/// What a list's answer says about an address.
struct DnsblReading {
  enum class Kind { not_listed, listed, error } kind = Kind::not_listed;
  /// For listed: "127.0.0.4 XBL: ..." per code; for error: the answer and
  /// the advice.
  std::vector<std::string> meanings;
  Severity severity = Severity::info;  ///< for listed: the gravest code's

  /// The meanings as one text, "; " between them.
  std::string text() const;
};

/// Reads the A records a list returned (none: NXDOMAIN or NODATA).
DnsblReading read_dnsbl_answer(const DnsblList& list, const std::vector<IpAddress>& answers);

/// The RFC 5782 section 5 test addresses: 127.0.0.2 must be listed and
/// 127.0.0.1 must not (::ffff:127.0.0.2 and ::ffff:127.0.0.1 for IPv6).
IpAddress dnsbl_test_listed(Family family);
IpAddress dnsbl_test_unlisted(Family family);

}  // namespace rdns::audit
