#pragma once
/// Where audited addresses came from, when they came from a domain.

#include <string>
#include <utility>
#include <vector>

#include <audit/ip.hpp>

namespace rdns::audit {

/// Where an audited address came from.
struct TargetSource {
  std::string domain;         ///< the domain asked for
  std::string via;            ///< "MX mx1.example.com", "SPF include:_spf.example.com ip4:...", ...
  std::string expected_name;  ///< the host name the address serves (MX host, SPF a:), if known
};

/// The sources of the addresses of an audit, looked up per address.
class SourceIndex {
 public:
  void add(const IpRange& range, TargetSource source);
  /// Every source whose range holds `ip`, in the order they were added.
  std::vector<TargetSource> find(const IpAddress& ip) const;
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<IpRange, TargetSource>> entries_;
};

}  // namespace rdns::audit
