#pragma once
/// Single DNS questions asked one at a time through the configured resolver,
/// for commands that check a handful of names (provisioning pre-checks,
/// waiting for a PTR to become visible) rather than audit ranges.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <audit/auditor.hpp>

namespace rdns::audit {

/// The record types a LookupClient asks for.
enum class LookupType { a, txt, ptr, ns };

/// What one question got. values are presentation text: A addresses, TXT
/// strings (character-strings concatenated, unescaped bytes), PTR and NS
/// targets (escaped, no trailing dot).
struct LookupAnswer {
  enum class Outcome { answered, nodata, nxdomain, failed };
  Outcome outcome = Outcome::failed;
  std::vector<std::string> values;
  std::uint32_t ttl = 0;  ///< smallest TTL of the records (as the resolver's cache counts it)
  std::string failure;    ///< "SERVFAIL", "timeout", ... when failed
};

/// A resolver channel on a private event loop; each ask() blocks until its
/// answer or timeout. Follows CNAME chains within the answer.
class LookupClient {
 public:
  /// Uses options.resolvers, timeout and retries; throws rdns::Error(Errc::usage)
  /// for a malformed resolver.
  explicit LookupClient(const AuditOptions& options);
  ~LookupClient();
  LookupClient(const LookupClient&) = delete;
  LookupClient& operator=(const LookupClient&) = delete;

  /// name is a dotted host name, or for ptr an IPv4/IPv6 address.
  LookupAnswer ask(const std::string& name, LookupType type);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdns::audit
