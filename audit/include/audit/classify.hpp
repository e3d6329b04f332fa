#pragma once
/// The classifier: a pure function from what DNS said to findings.

#include <optional>
#include <string>
#include <vector>

#include <audit/dns_name.hpp>
#include <audit/findings.hpp>
#include <audit/observation.hpp>
#include <audit/rules.hpp>

namespace rdns::audit {

struct Verdict {
  Status status = Status::unknown;
  std::vector<Finding> findings;
};

/// Judges one IP. Never reports NO_PTR or a forward error on a step that
/// failed temporarily.
Verdict classify(const IpObservation& observation, const Rules& rules);

/// Why the name is not a valid host name (RFC 952/1123 letters, digits,
/// hyphens; label and name lengths; at least two labels; a TLD that is
/// not all digits), or nullopt when it is one.
std::optional<std::string> host_name_problem(const DnsName& name);

}  // namespace rdns::audit
