#include <algorithm>

#include <fmt/format.h>

#include <audit/dnsbl.hpp>

namespace rdns::audit {
namespace {

constexpr std::uint32_t kLoopbackNet = 0x7f000000;  // 127.0.0.0/8
constexpr std::uint32_t kRefusal = 0x7f000001;      // 127.0.0.1

/// The reverse name without its in-addr.arpa / ip6.arpa suffix.
std::string reversed_labels(const IpAddress& ip) {
  const std::string name = ip.reverse_name();
  const std::string_view suffix = ip.family() == Family::ipv4 ? ".in-addr.arpa" : ".ip6.arpa";
  return name.substr(0, name.size() - suffix.size());
}

bool in_loopback_net(const IpAddress& answer) {
  return answer.family() == Family::ipv4 &&
         (static_cast<std::uint32_t>(answer.value()) & 0xff000000) == kLoopbackNet;
}

}  // namespace

bool dnsbl_covers(const DnsblList& list, Family family) {
  return family == Family::ipv4 ? list.ipv4 : list.ipv6;
}

std::optional<DnsName> dnsbl_query_name(const DnsblList& list, const IpAddress& ip,
                                        const std::string& key) {
  if (!dnsbl_covers(list, ip.family())) return std::nullopt;
  const std::string under =
      key.empty() || list.key_zone.empty() ? list.zone : key + "." + list.key_zone;
  return DnsName::from_dotted(reversed_labels(ip) + "." + under);
}

DnsblReading read_dnsbl_answer(const DnsblList& list, const std::vector<IpAddress>& answers) {
  DnsblReading reading;
  if (answers.empty()) return reading;
  std::vector<std::string> errors;
  for (const IpAddress& answer : answers) {
    const std::string text = answer.to_string();
    const auto error = std::find_if(list.errors.begin(), list.errors.end(),
                                    [&](const DnsblErrorCode& e) { return e.answer == answer; });
    if (error != list.errors.end()) {
      errors.push_back(fmt::format("{}: {}", text, error->advice));
    } else if (!in_loopback_net(answer)) {
      errors.push_back(fmt::format(
          "{}: an answer outside 127.0.0.0/8 is no listing; the resolver rewrites answers "
          "(NXDOMAIN redirection): use a resolver that does not",
          text));
    } else if (static_cast<std::uint32_t>(answer.value()) == kRefusal) {
      errors.push_back(fmt::format(
          "{}: the list refuses the query (too many queries, or from a public resolver)", text));
    } else {
      const auto code = std::find_if(list.codes.begin(), list.codes.end(),
                                     [&](const DnsblCode& c) { return c.answer == answer; });
      const bool known = code != list.codes.end();
      const Severity severity = known ? code->severity : list.severity;
      reading.meanings.push_back(known ? text + " " + code->meaning
                                       : text + " (a return code the rules do not describe)");
      if (reading.kind != DnsblReading::Kind::listed || severity > reading.severity) {
        reading.severity = severity;
      }
      reading.kind = DnsblReading::Kind::listed;
    }
  }
  // An error answer means the list did not look at the address: whatever
  // else came with it proves nothing either.
  if (!errors.empty()) {
    reading.kind = DnsblReading::Kind::error;
    reading.meanings = std::move(errors);
    reading.severity = Severity::warning;
  }
  return reading;
}

std::string DnsblReading::text() const {
  std::string joined;
  for (const std::string& meaning : meanings) joined += (joined.empty() ? "" : "; ") + meaning;
  return joined;
}

IpAddress dnsbl_test_listed(Family family) {
  return family == Family::ipv4 ? IpAddress::from_v4(0x7f000002)
                                : IpAddress::from_v6((uint128{0xffff} << 32) | 0x7f000002);
}

IpAddress dnsbl_test_unlisted(Family family) {
  return family == Family::ipv4 ? IpAddress::from_v4(kRefusal)
                                : IpAddress::from_v6((uint128{0xffff} << 32) | kRefusal);
}

}  // namespace rdns::audit
