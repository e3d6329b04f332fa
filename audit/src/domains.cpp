#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <audit/classify.hpp>
#include <audit/domains.hpp>
#include <audit/vocabulary.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "blocking_lookup.hpp"
#include "dns_message.hpp"
#include "resolver.hpp"

namespace rdns::audit {
namespace {

namespace asio = boost::asio;
using dns::RrType;

constexpr int kMaxDnsLookups = 10;  // RFC 7208 section 4.6.4
constexpr int kMaxVoidLookups = 2;  // RFC 7208 section 4.6.4
constexpr std::size_t kMaxMxHosts = 10;

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         lower(std::string(text.substr(0, prefix.size()))) == prefix;
}

using Lookup = BlockingLookup;

bool answered(const Reply& reply) {
  return reply.status == ReplyStatus::noerror || reply.status == ReplyStatus::nxdomain;
}

/// Expands one domain; collects ranges and findings.
class Expander {
 public:
  Expander(Lookup& lookup, std::string domain, DomainExpansion& out)
      : lookup_(lookup), domain_(std::move(domain)), out_(out) {}

  void run() {
    mx_hosts();
    spf();
  }

 private:
  /// A finding about the domain, with the severity the vocabulary gives it.
  void finding(std::string_view code, std::string detail) {
    const CodeEntry* entry = find_code(code);
    if (entry == nullptr || entry->scope != Scope::domain) {
      throw std::logic_error("domain finding code missing from the vocabulary: " +
                             std::string(code));
    }
    out_.findings.push_back({domain_, std::string(code), entry->severity, std::move(detail)});
  }

  void add(const IpAddress& address, int prefix, std::string via, std::string expected = {}) {
    const int width = address.family() == Family::ipv4 ? 32 : 128;
    const uint128 host_bits = prefix >= width ? 0 : ((uint128{1} << (width - prefix)) - 1);
    const uint128 first = address.value() & ~host_bits;
    const auto make = [&](uint128 v) {
      return address.family() == Family::ipv4 ? IpAddress::from_v4(static_cast<std::uint32_t>(v))
                                              : IpAddress::from_v6(v);
    };
    out_.ranges.push_back({IpRange{make(first), make(first | host_bits)},
                           {domain_, std::move(via), std::move(expected)}});
  }

  /// A and AAAA of `host`; returns false on a temporary failure.
  struct Addresses {
    std::vector<IpAddress> found;
    bool temporary = false;
    std::string failure_text;
    bool void_lookup = true;
  };
  Addresses addresses_of(const DnsName& host) {
    Addresses result;
    for (const RrType type : {RrType::a, RrType::aaaa}) {
      const Reply reply = lookup_.ask(host, type);
      if (!answered(reply)) {
        result.temporary = true;
        result.failure_text = describe_failure(reply);
        continue;
      }
      const dns::Chain chain = dns::follow_chain(reply.message, host, type);
      for (const dns::Record* record : chain.records) {
        if (record->address) {
          result.found.push_back(*record->address);
          result.void_lookup = false;
        }
      }
    }
    return result;
  }

  void mx_hosts() {
    const DnsName name = DnsName::from_dotted(domain_);
    const Reply reply = lookup_.ask(name, RrType::mx);
    if (!answered(reply)) {
      finding("MX_TEMPFAIL", fmt::format("MX lookup failed: {}; its MX hosts are not audited",
                                         describe_failure(reply)));
      return;
    }
    if (reply.status == ReplyStatus::nxdomain) {
      finding("DOMAIN_NXDOMAIN", "the domain does not exist");
      return;
    }
    const dns::Chain chain = dns::follow_chain(reply.message, name, RrType::mx);
    std::vector<const dns::Record*> records(chain.records.begin(), chain.records.end());
    if (records.size() == 1 && records[0]->target.is_root()) {
      finding("MX_NULL", "null MX (RFC 7505): the domain accepts no mail");
      return;
    }
    if (records.empty()) {
      // RFC 5321 section 5.1: without MX the domain's own address is the implicit MX.
      finding("MX_NONE", "no MX record; the domain's own address is its implicit MX");
      const Addresses own = addresses_of(name);
      for (const IpAddress& address : own.found) {
        add(address, address.family() == Family::ipv4 ? 32 : 128, "implicit MX", domain_);
      }
      return;
    }
    std::sort(records.begin(), records.end(), [](const dns::Record* a, const dns::Record* b) {
      return a->preference < b->preference;
    });
    for (std::size_t i = 0; i < records.size() && i < kMaxMxHosts; ++i) {
      const DnsName& host = records[i]->target;
      const std::string shown = host.presentation();
      if (host_name_problem(host)) {
        finding("MX_INVALID", fmt::format("MX host {} is not a valid host name", shown));
        continue;
      }
      const Addresses found = addresses_of(host);
      if (found.temporary && found.found.empty()) {
        finding("MX_TEMPFAIL",
                fmt::format("addresses of MX host {} failed: {}", shown, found.failure_text));
      } else if (found.found.empty()) {
        finding("MX_NO_ADDRESS", fmt::format("MX host {} has no address", shown));
      }
      for (const IpAddress& address : found.found) {
        add(address, address.family() == Family::ipv4 ? 32 : 128, "MX " + shown, shown);
      }
    }
  }

  void spf() {
    std::vector<std::string> stack;
    evaluate(domain_, "", stack);
  }

  /// The one SPF record of `domain`, or nullopt (with a finding) when there
  /// is none, several, or the lookup failed.
  std::optional<std::string> spf_record(const std::string& domain, const std::string& path) {
    const std::string where = path.empty() ? "" : fmt::format(" (via {})", path);
    const std::optional<DnsName> checked = name_in_record(domain);
    if (!checked) {
      finding("SPF_PERMERROR",
              fmt::format("{} is not a domain name{}", escape_text(domain), where));
      return std::nullopt;
    }
    const DnsName& name = *checked;
    const Reply reply = lookup_.ask(name, RrType::txt);
    if (!answered(reply)) {
      finding("SPF_TEMPFAIL",
              fmt::format("TXT lookup of {} failed: {}{}; addresses it authorises are not audited",
                          escape_text(domain), describe_failure(reply), where));
      return std::nullopt;
    }
    std::vector<std::string> records;
    for (const dns::Record* record : dns::follow_chain(reply.message, name, RrType::txt).records) {
      const std::string& text = record->text;
      if (starts_with_ci(text, "v=spf1") && (text.size() == 6 || text[6] == ' ')) {
        records.push_back(text);
      }
    }
    if (records.empty()) {
      if (path.empty()) {
        finding("SPF_NONE", "no SPF record");
      } else {
        finding("SPF_PERMERROR", fmt::format("{} has no SPF record{}", escape_text(domain), where));
      }
      return std::nullopt;
    }
    if (records.size() > 1) {
      finding("SPF_PERMERROR",
              fmt::format("{} has {} SPF records{}; receivers treat that as an error (RFC 7208 "
                          "section 4.5)",
                          escape_text(domain), records.size(), where));
      return std::nullopt;
    }
    return records.front();
  }

  /// Counts a DNS-querying term; false (with a finding) past the limit.
  bool count_lookup(const std::string& term) {
    if (++lookups_ <= kMaxDnsLookups) return true;
    if (!limit_reported_) {
      finding("SPF_PERMERROR",
              fmt::format("more than {} DNS-querying terms (at {}); receivers stop with "
                          "permerror (RFC 7208 section 4.6.4)",
                          kMaxDnsLookups, escape_text(term)));
      limit_reported_ = true;
    }
    return false;
  }

  bool count_void(const std::string& term) {
    if (++voids_ <= kMaxVoidLookups) return true;
    if (!void_reported_) {
      finding("SPF_PERMERROR",
              fmt::format("more than {} lookups returned nothing (at {}); receivers stop with "
                          "permerror (RFC 7208 section 4.6.4)",
                          kMaxVoidLookups, escape_text(term)));
      void_reported_ = true;
    }
    return false;
  }

  static bool parse_prefix(std::string_view text, int max, int& out) {
    if (text.empty() || text.size() > 3) return false;
    int value = 0;
    for (const char c : text) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > max) return false;
    out = value;
    return true;
  }

  /// A domain named by DNS data (an SPF term) as a query name, keeping its
  /// raw bytes, or nullopt when it cannot be one: an empty label, a label
  /// over 63 bytes, or over 255 bytes in all (RFC 1035 section 2.3.4).
  static std::optional<DnsName> name_in_record(std::string_view text) {
    if (!text.empty() && text.back() == '.') text.remove_suffix(1);
    if (text.empty()) return std::nullopt;
    std::vector<std::string> labels;
    std::size_t wire_length = 1;
    for (;;) {
      const auto dot = text.find('.');
      const std::string_view label = text.substr(0, dot);
      if (label.empty() || label.size() > 63) return std::nullopt;
      wire_length += 1 + label.size();
      labels.emplace_back(label);
      if (dot == std::string_view::npos) break;
      text.remove_prefix(dot + 1);
    }
    if (wire_length > 255) return std::nullopt;
    return DnsName(std::move(labels));
  }

  /// Splits "a:host/24//64" into the domain and the two prefix lengths.
  struct Spec {
    std::string domain;
    int v4_prefix = 32;
    int v6_prefix = 128;
    bool ok = true;
  };
  static Spec spec_of(std::string_view argument, const std::string& current) {
    Spec spec;
    const auto double_slash = argument.find("//");
    if (double_slash != std::string_view::npos) {
      spec.ok = parse_prefix(argument.substr(double_slash + 2), 128, spec.v6_prefix);
      argument = argument.substr(0, double_slash);
    }
    const auto slash = argument.find('/');
    if (slash != std::string_view::npos) {
      spec.ok = spec.ok && parse_prefix(argument.substr(slash + 1), 32, spec.v4_prefix);
      argument = argument.substr(0, slash);
    }
    if (!argument.empty() && argument.front() == ':') argument.remove_prefix(1);
    spec.domain = argument.empty() ? current : lower(std::string(argument));
    return spec;
  }

  void evaluate(const std::string& domain, const std::string& path,
                std::vector<std::string>& stack) {
    if (std::find(stack.begin(), stack.end(), domain) != stack.end()) {
      std::string loop;
      for (const auto& step : stack) loop += escape_text(step) + " -> ";
      finding("SPF_PERMERROR", fmt::format("SPF include loop: {}{}", loop, escape_text(domain)));
      return;
    }
    const auto record = spf_record(domain, path);
    if (!record) return;
    stack.push_back(domain);
    const std::string prefix = path.empty() ? "SPF " : "SPF " + path + " ";

    std::optional<std::string> redirect;
    bool has_all = false;
    std::size_t start = 6;  // after "v=spf1"
    while (start < record->size()) {
      const auto end = std::min(record->find(' ', start), record->size());
      std::string term = record->substr(start, end - start);
      start = end + 1;
      if (term.empty()) continue;
      char qualifier = '+';
      if (term[0] == '+' || term[0] == '-' || term[0] == '~' || term[0] == '?') {
        qualifier = term[0];
        term.erase(0, 1);
      }
      const std::string name = lower(term.substr(0, term.find_first_of(":/=")));
      const std::string argument = term.substr(name.size());
      if (term.find('%') != std::string::npos) {
        finding("SPF_UNSUPPORTED",
                fmt::format("{}: macros are not expanded; addresses behind it are not audited",
                            escape_text(term)));
        if (name != "ip4" && name != "ip6" && name != "all" && !count_lookup(term)) break;
        continue;
      }
      // Only terms that pass mail authorise sending addresses.
      const bool collect = qualifier == '+';
      if (name == "all") {
        has_all = true;
      } else if (name == "ip4" || name == "ip6") {
        const ParsedRange range = parse_range(argument.size() > 1 ? argument.substr(1) : "");
        const Family expected = name == "ip4" ? Family::ipv4 : Family::ipv6;
        if (!range.range || range.range->first.family() != expected) {
          // Host bits set are common and harmless: receivers mask them.
          const auto slash = argument.find('/');
          const auto address = IpAddress::parse(
              argument.substr(1, slash == std::string::npos ? std::string::npos : slash - 1));
          int length = expected == Family::ipv4 ? 32 : 128;
          if (!address || address->family() != expected ||
              (slash != std::string::npos &&
               !parse_prefix(std::string_view(argument).substr(slash + 1), length, length))) {
            finding("SPF_PERMERROR", fmt::format("{}malformed term {}", prefix, escape_text(term)));
            continue;
          }
          if (collect) add(*address, length, prefix + term);
          continue;
        }
        if (collect) {
          out_.ranges.push_back({*range.range, {domain_, prefix + term, {}}});
        }
      } else if (name == "a" || name == "mx") {
        if (!count_lookup(term)) break;
        const Spec spec = spec_of(argument, domain);
        const std::optional<DnsName> target = name_in_record(spec.domain);
        if (!spec.ok || !target) {
          finding("SPF_PERMERROR", fmt::format("{}malformed term {}", prefix, escape_text(term)));
          continue;
        }
        std::vector<DnsName> hosts;
        if (name == "a") {
          hosts.push_back(*target);
        } else {
          const Reply reply = lookup_.ask(*target, RrType::mx);
          if (!answered(reply)) {
            finding("SPF_TEMPFAIL", fmt::format("{}{}: MX lookup failed: {}", prefix,
                                                escape_text(term), describe_failure(reply)));
            continue;
          }
          for (const dns::Record* mx :
               dns::follow_chain(reply.message, *target, RrType::mx).records) {
            if (!mx->target.is_root()) hosts.push_back(mx->target);
          }
          if (hosts.empty() && !count_void(term)) break;
          if (hosts.size() > kMaxMxHosts) {
            finding("SPF_PERMERROR",
                    fmt::format("{}{}: more than {} MX hosts (RFC 7208 section 4.6.4)", prefix,
                                escape_text(term), kMaxMxHosts));
            hosts.resize(kMaxMxHosts);
          }
        }
        for (const DnsName& host : hosts) {
          const Addresses found = addresses_of(host);
          if (found.temporary && found.found.empty()) {
            finding("SPF_TEMPFAIL",
                    fmt::format("{}{}: addresses of {} failed: {}", prefix, escape_text(term),
                                host.presentation(), found.failure_text));
            continue;
          }
          if (found.void_lookup && name == "a" && !count_void(term)) break;
          if (!collect) continue;
          for (const IpAddress& address : found.found) {
            const int length = address.family() == Family::ipv4 ? spec.v4_prefix : spec.v6_prefix;
            const bool single = length == (address.family() == Family::ipv4 ? 32 : 128);
            add(address, length, prefix + term, single ? host.presentation() : std::string());
          }
        }
      } else if (name == "include") {
        if (!count_lookup(term)) break;
        const std::string target = lower(argument.size() > 1 ? argument.substr(1) : "");
        if (target.empty()) {
          finding("SPF_PERMERROR", fmt::format("{}malformed term {}", prefix, escape_text(term)));
          continue;
        }
        if (!collect) continue;
        const std::string inner = path.empty() ? "include:" + target : path + " include:" + target;
        evaluate(target, inner, stack);
      } else if (name == "redirect") {
        redirect = lower(argument.size() > 1 ? argument.substr(1) : "");
      } else if (name == "exists" || name == "ptr") {
        if (!count_lookup(term)) break;  // they query DNS but name no address
      } else if (term.find('=') != std::string::npos) {
        // Unknown modifiers are ignored (RFC 7208 section 6).
      } else {
        finding("SPF_PERMERROR", fmt::format("{}unknown mechanism {}", prefix, escape_text(term)));
      }
      if (limit_reported_ || void_reported_) break;
    }
    // RFC 7208 section 6.1: redirect applies only when no "all" matched.
    if (redirect && !has_all && !limit_reported_ && !void_reported_ &&
        count_lookup("redirect=" + *redirect)) {
      const std::string inner =
          path.empty() ? "redirect=" + *redirect : path + " redirect=" + *redirect;
      evaluate(*redirect, inner, stack);
    }
    stack.pop_back();
  }

  Lookup& lookup_;
  std::string domain_;
  DomainExpansion& out_;
  int lookups_ = 0;
  int voids_ = 0;
  bool limit_reported_ = false;
  bool void_reported_ = false;
};

}  // namespace

DomainExpansion expand_domains(const std::vector<std::string>& domains,
                               const AuditOptions& options) {
  std::vector<std::string> names;
  for (const std::string& domain : domains) {
    std::string name = lower(domain);
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (name.empty() || host_name_problem(DnsName::from_dotted(name))) {
      throw Error(Errc::input,
                  fmt::format("domain '{}' is not a valid domain name", escape_text(domain)));
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  DomainExpansion expansion;
  if (names.empty()) return expansion;
  Lookup lookup(options);
  for (const std::string& name : names) Expander(lookup, name, expansion).run();
  return expansion;
}

}  // namespace rdns::audit
