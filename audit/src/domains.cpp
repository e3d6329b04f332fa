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
#include <audit/spf_record.hpp>
#include <audit/vocabulary.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "blocking_lookup.hpp"
#include "dns_message.hpp"
#include "domain_auth.hpp"
#include "resolver.hpp"

namespace rdns::audit {
namespace {

namespace asio = boost::asio;
using dns::RrType;

constexpr int kMaxDnsLookups = 10;  // RFC 7208 section 4.6.4
constexpr int kMaxVoidLookups = 2;  // RFC 7208 section 4.6.4
constexpr std::size_t kMaxMxHosts = 10;
/// RFC 7208 section 3.4: keep the record within a 512-byte UDP answer.
constexpr std::size_t kMaxSpfRecordBytes = 450;
/// Addresses one SPF term may add to the audit: an IPv4 /16 or an IPv6
/// /112. Providers authorise far larger blocks (IPv6 /36, IPv4 /14), whose
/// reverse DNS is theirs to keep, and a record is remote data that must
/// not decide how big the audit grows.
constexpr int kMaxAuditedSpfHostBits = 16;
/// Prefixes shorter than these authorise a share of the whole address
/// space: anyone may send as the domain.
constexpr int kBroadIpv4Prefix = 8;
constexpr int kBroadIpv6Prefix = 16;

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
  void finding(std::string_view code, std::string detail) {
    out_.findings.push_back(domain_finding(domain_, code, std::move(detail)));
  }

  /// An SPF-authorised range, audited when it is small enough to be the
  /// domain's own senders.
  void add_authorised(const IpAddress& address, int prefix, const std::string& via,
                      std::string expected = {}) {
    const bool v4 = address.family() == Family::ipv4;
    const int width = v4 ? 32 : 128;
    if (prefix < (v4 ? kBroadIpv4Prefix : kBroadIpv6Prefix)) {
      finding("SPF_TOO_BROAD",
              fmt::format("{} authorises 2^{} addresses: almost anyone may send as the domain",
                          escape_text(via), width - prefix));
    }
    if (width - prefix > kMaxAuditedSpfHostBits) {
      finding("SENDERS_NOT_AUDITED",
              fmt::format("{}: 2^{} addresses, more than the {} one SPF term may add; audit the "
                          "ones in use directly",
                          escape_text(via), width - prefix,
                          std::uint64_t{1} << kMaxAuditedSpfHostBits));
      out_.not_audited.push_back({range_of(address, prefix), {domain_, via, std::move(expected)}});
      return;
    }
    add(address, prefix, via, std::move(expected));
  }

  void add(const IpAddress& address, int prefix, std::string via, std::string expected = {}) {
    out_.ranges.push_back(
        {range_of(address, prefix), {domain_, std::move(via), std::move(expected)}});
  }

  /// The range `address`/`prefix` covers, host bits cleared.
  static IpRange range_of(const IpAddress& address, int prefix) {
    const int width = address.family() == Family::ipv4 ? 32 : 128;
    // A shift by the whole width (an IPv6 /0) would be undefined: shift the ones right instead.
    const uint128 host_bits = prefix >= width ? 0 : ~uint128{0} >> (128 - (width - prefix));
    const uint128 first = address.value() & ~host_bits;
    const auto make = [&](uint128 v) {
      return address.family() == Family::ipv4 ? IpAddress::from_v4(static_cast<std::uint32_t>(v))
                                              : IpAddress::from_v6(v);
    };
    return IpRange{make(first), make(first | host_bits)};
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
    const std::optional<DnsName> checked = spf::domain_name(domain);
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
      if (spf::is_spf_record(text)) records.push_back(text);
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

  /// An a or mx term: the addresses of the host it names (a) or of its MX
  /// hosts (mx), with the term's prefix lengths; a void lookup counts
  /// towards RFC 7208's limit (the caller stops once it is passed).
  void collect_hosts(const spf::Term& term, const std::string& domain, const std::string& prefix,
                     bool collect) {
    const std::optional<DnsName> target =
        spf::domain_name(term.target.empty() ? domain : term.target);
    if (!target) {
      finding("SPF_PERMERROR", fmt::format("{}malformed term {}", prefix, escape_text(term.text)));
      return;
    }
    const bool mx = term.mechanism == spf::Mechanism::mx;
    std::vector<DnsName> hosts;
    if (!mx) {
      hosts.push_back(*target);
    } else {
      const Reply reply = lookup_.ask(*target, RrType::mx);
      if (!answered(reply)) {
        finding("SPF_TEMPFAIL", fmt::format("{}{}: MX lookup failed: {}", prefix,
                                            escape_text(term.text), describe_failure(reply)));
        return;
      }
      for (const dns::Record* record :
           dns::follow_chain(reply.message, *target, RrType::mx).records) {
        if (!record->target.is_root()) hosts.push_back(record->target);
      }
      if (hosts.empty() && !count_void(term.text)) return;
      if (hosts.size() > kMaxMxHosts) {
        finding("SPF_PERMERROR", fmt::format("{}{}: more than {} MX hosts (RFC 7208 section 4.6.4)",
                                             prefix, escape_text(term.text), kMaxMxHosts));
        hosts.resize(kMaxMxHosts);
      }
    }
    for (const DnsName& host : hosts) {
      const Addresses found = addresses_of(host);
      if (found.temporary && found.found.empty()) {
        finding("SPF_TEMPFAIL",
                fmt::format("{}{}: addresses of {} failed: {}", prefix, escape_text(term.text),
                            host.presentation(), found.failure_text));
        continue;
      }
      if (found.void_lookup && !mx && !count_void(term.text)) return;
      if (!collect) continue;
      for (const IpAddress& address : found.found) {
        const int length = address.family() == Family::ipv4 ? term.v4_prefix : term.v6_prefix;
        const bool single = length == (address.family() == Family::ipv4 ? 32 : 128);
        add_authorised(address, length, prefix + term.text,
                       single ? host.presentation() : std::string());
      }
    }
  }

  /// True when the term queries DNS (RFC 7208 section 4.6.4 counts it).
  static bool queries_dns(spf::Mechanism mechanism) {
    return mechanism == spf::Mechanism::a || mechanism == spf::Mechanism::mx ||
           mechanism == spf::Mechanism::include || mechanism == spf::Mechanism::exists ||
           mechanism == spf::Mechanism::ptr;
  }

  /// One well-formed term of the record of `domain`; false once a limit
  /// stops the evaluation.
  bool follow_term(const spf::Term& parsed, const std::string& domain, const std::string& path,
                   const std::string& prefix, std::vector<std::string>& stack,
                   std::optional<std::string>& redirect, bool& has_all) {
    const std::string& term = parsed.text;
    const spf::Mechanism mechanism = parsed.mechanism;
    if (mechanism == spf::Mechanism::exp || mechanism == spf::Mechanism::modifier) return true;
    if (parsed.has_macro) {
      finding("SPF_UNSUPPORTED",
              fmt::format("{}: macros are not expanded; addresses behind it are not audited",
                          escape_text(term)));
      return !queries_dns(mechanism) || count_lookup(term);
    }
    if (queries_dns(mechanism) && !count_lookup(term)) return false;
    // Only terms that pass mail authorise sending addresses.
    const bool collect = parsed.qualifier == '+';
    switch (mechanism) {
      case spf::Mechanism::all:
        has_all = true;
        if (parsed.qualifier == '+') {
          finding("SPF_TOO_BROAD",
                  fmt::format("{}+all: every server on the Internet passes SPF for the domain",
                              prefix));
        } else if (parsed.qualifier == '?') {
          finding("SPF_NEUTRAL_ALL",
                  fmt::format("{}{}: mail from any other server is neither passed nor failed, so "
                              "receivers ignore SPF for it",
                              prefix, escape_text(term)));
        }
        break;
      case spf::Mechanism::ip4:
      case spf::Mechanism::ip6:
        if (collect) add_authorised(*parsed.address, parsed.prefix, prefix + term);
        break;
      case spf::Mechanism::a:
      case spf::Mechanism::mx:
        collect_hosts(parsed, domain, prefix, collect);
        break;
      case spf::Mechanism::include:
        if (collect) {
          evaluate(parsed.target,
                   path.empty() ? "include:" + parsed.target : path + " include:" + parsed.target,
                   stack);
        }
        break;
      case spf::Mechanism::exists:
        check_exists(parsed, prefix);
        break;
      case spf::Mechanism::redirect:
        redirect = parsed.target;
        break;
      case spf::Mechanism::ptr:
        // It depends on the sender's own PTR: nothing to look up here.
        finding("SPF_PTR_MECHANISM",
                fmt::format("{}{}: RFC 7208 section 5.5 says not to use ptr (slow, unreliable, "
                            "and many receivers skip it)",
                            prefix, escape_text(term)));
        break;
      default:
        break;
    }
    return !limit_reported_ && !void_reported_;
  }

  /// exists: one A lookup (RFC 7208 section 5.7). Its answer authorises no
  /// address, but a failure or a void answer counts as for any term.
  void check_exists(const spf::Term& term, const std::string& prefix) {
    const std::optional<DnsName> target = spf::domain_name(term.target);
    if (!target) return;  // the parser marks such a term malformed
    const Reply reply = lookup_.ask(*target, RrType::a);
    if (!answered(reply)) {
      finding("SPF_TEMPFAIL", fmt::format("{}{}: A lookup failed: {}", prefix,
                                          escape_text(term.text), describe_failure(reply)));
      return;
    }
    if (dns::follow_chain(reply.message, *target, RrType::a).records.empty()) {
      count_void(term.text);
    }
  }

  void evaluate(const std::string& domain, const std::string& path,
                std::vector<std::string>& stack) {
    if (std::find(stack.begin(), stack.end(), domain) != stack.end()) {
      std::string loop;
      for (const auto& step : stack) loop += escape_text(step) + " -> ";
      finding("SPF_PERMERROR",
              fmt::format("SPF loop through include or redirect: {}{}", loop, escape_text(domain)));
      return;
    }
    const auto record = spf_record(domain, path);
    if (!record) return;
    if (record->size() > kMaxSpfRecordBytes) {
      finding("SPF_RECORD_LONG",
              fmt::format("{}the record of {} is {} bytes: more than {} makes answers "
                          "that need TCP or EDNS, which some receivers do not try",
                          path.empty() ? "SPF: " : "SPF " + path + ": ", escape_text(domain),
                          record->size(), kMaxSpfRecordBytes));
    }
    stack.push_back(domain);
    const std::string prefix = path.empty() ? "SPF " : "SPF " + path + " ";

    const std::vector<spf::Term> terms = spf::parse_terms(*record);
    // RFC 7208 section 4.6: a syntax error anywhere makes the record a
    // permerror, even past the lookup limit; the valid terms are still
    // followed, as the addresses the owner meant to authorise.
    for (const spf::Term& parsed : terms) {
      if (parsed.malformed) {
        finding("SPF_PERMERROR", fmt::format("{}malformed term {}: it {}", prefix,
                                             escape_text(parsed.text), parsed.problem));
      }
    }
    std::optional<std::string> redirect;
    bool has_all = false;
    for (const spf::Term& parsed : terms) {
      if (parsed.malformed) continue;
      if (!follow_term(parsed, domain, path, prefix, stack, redirect, has_all)) break;
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

DomainFinding domain_finding(std::string domain, std::string_view code, std::string detail) {
  const CodeEntry* entry = find_code(code);
  if (entry == nullptr || entry->scope != Scope::domain) {
    throw std::logic_error("domain finding code missing from the vocabulary: " + std::string(code));
  }
  return {std::move(domain), std::string(code), entry->severity, std::move(detail)};
}

DomainExpansion expand_domains(const std::vector<std::string>& domains, const AuditOptions& options,
                               DomainChecks checks) {
  std::vector<std::string> names;
  for (const std::string& domain : domains) {
    std::string name = ascii_lower(domain);
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
  for (const std::string& name : names) {
    Expander(lookup, name, expansion).run();
    if (checks == DomainChecks::all) check_domain_authentication(lookup, options, name, expansion);
  }
  return expansion;
}

}  // namespace rdns::audit
