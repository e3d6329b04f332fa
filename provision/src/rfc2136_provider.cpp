// PTR records by RFC 2136 dynamic update with TSIG. Every write is one
// UPDATE message whose prerequisite is the value last read, so a change made
// by someone else in between fails the whole message instead of being
// overwritten.

#include "rfc2136_provider.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <provision/api_error.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::provision {
namespace {

constexpr const char* kName = "rfc2136";
constexpr const char* kReverseSuffix = ".in-addr.arpa.";
/// CNAME hops followed from an address's name (RFC 2317 needs one).
constexpr int kMaxCnameHops = 8;
/// Addresses read one by one when a zone transfer is refused.
constexpr std::uint64_t kMaxAddressesWithoutTransfer = 4096;

std::optional<std::uint32_t> parse_ipv4(const std::string& text) {
  in_addr address{};
  if (::inet_pton(AF_INET, text.c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

std::string ipv4_text(std::uint32_t address) {
  return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff,
                     address & 0xff);
}

/// "d.c.b.a.in-addr.arpa." for a.b.c.d.
std::string owner_of(std::uint32_t address) {
  return fmt::format("{}.{}.{}.{}{}", address & 0xff, (address >> 8) & 0xff, (address >> 16) & 0xff,
                     address >> 24, kReverseSuffix);
}

/// The address a "d.c.b.a.in-addr.arpa." name stands for, if it is one.
std::optional<std::uint32_t> address_of_owner(const std::string& owner) {
  if (!owner.ends_with(kReverseSuffix)) return std::nullopt;
  std::istringstream labels(owner.substr(0, owner.size() - std::string(kReverseSuffix).size()));
  std::vector<std::string> octets;
  for (std::string label; std::getline(labels, label, '.');) octets.push_back(label);
  if (octets.size() != 4) return std::nullopt;
  std::reverse(octets.begin(), octets.end());
  return parse_ipv4(fmt::format("{}", fmt::join(octets, ".")));
}

/// The name of a network's whole-octet part: "2.0.192.in-addr.arpa." for
/// 192.0.2.0/24 (and for a /26 inside it), "0.10.in-addr.arpa." for a /16.
std::string octet_name(std::uint32_t network, int length) {
  std::string name = "in-addr.arpa.";
  for (int octet = 0; octet < length / 8; ++octet) {
    name = fmt::format("{}.{}", (network >> (24 - 8 * octet)) & 0xff, name);
  }
  return name;
}

/// The reverse names whose zones hold a prefix's PTRs: each /24 of a /16 to
/// /24 (reverse zones are usually cut per /24), the enclosing /24 of a
/// longer prefix, the whole-octet name of a shorter one.
std::vector<std::string> prefix_names(const Ipv4Prefix& prefix) {
  if (prefix.length < 16 || prefix.length >= 24) {
    return {octet_name(prefix.network, std::min(prefix.length, 24))};
  }
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < (std::uint32_t{1} << (24 - prefix.length)); ++i) {
    names.push_back(octet_name(prefix.network + (i << 8), 24));
  }
  return names;
}

std::string without_dot(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  return name;
}

/// What a message about name calls it: the address for an address's name.
std::string subject_of(const std::string& name) {
  const auto address = address_of_owner(name);
  return address ? ipv4_text(*address) : without_dot(name);
}

/// An RR for an UPDATE message; rdata_name empty leaves the RDATA empty.
ldns_rr* make_rr(const std::string& owner, ldns_rr_class rr_class, std::uint32_t ttl,
                 const std::string& rdata_name = {}) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, dns::make_name(owner).release());
  ldns_rr_set_type(rr, LDNS_RR_TYPE_PTR);
  ldns_rr_set_class(rr, rr_class);
  ldns_rr_set_ttl(rr, ttl);
  if (!rdata_name.empty()) ldns_rr_push_rdf(rr, dns::make_name(rdata_name).release());
  return rr;
}

/// The values a record ID names: the RRset's targets, space-separated.
std::vector<std::string> values_of_id(const std::string& record_id) {
  std::istringstream words(record_id);
  std::vector<std::string> values;
  for (std::string word; words >> word;) values.push_back(dns::absolute_lower(word));
  return values;
}

/// The record ID of an RRset: its values, sorted so that the ID does not
/// depend on the order the server answers in.
std::string id_of(const std::vector<PtrRecord>& records) {
  std::vector<std::string> values;
  for (const auto& record : records) values.push_back(record.value);
  std::sort(values.begin(), values.end());
  return fmt::format("{}", fmt::join(values, " "));
}

ApiError api_error(const dns::ExchangeError& error) {
  const ApiErrorKind kind = error.failure() == dns::ExchangeFailure::network ? ApiErrorKind::network
                            : error.failure() == dns::ExchangeFailure::tsig  ? ApiErrorKind::auth
                                                                            : ApiErrorKind::unknown;
  return ApiError(kind, error.code(), error.what(), std::string(), 0, 1);
}

/// The nameservers of /etc/resolv.conf, for SOA lookups without --resolver.
std::vector<std::string> system_resolvers() {
  std::ifstream in("/etc/resolv.conf");
  std::vector<std::string> servers;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string keyword;
    std::string address;
    if (words >> keyword >> address && keyword == "nameserver") servers.push_back(address);
  }
  return servers;
}

}  // namespace

bool Ipv4Prefix::contains(std::uint32_t address) const {
  const std::uint32_t mask = length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
  return (address & mask) == network;
}

std::string Ipv4Prefix::text() const {
  return fmt::format("{}/{}", ipv4_text(network), length);
}

Ipv4Prefix Ipv4Prefix::parse(const std::string& text) {
  const auto slash = text.find('/');
  const auto address = parse_ipv4(text.substr(0, slash));
  int length = 32;
  bool ok = address.has_value();
  if (ok && slash != std::string::npos) {
    const std::string digits = text.substr(slash + 1);
    ok = !digits.empty() && digits.size() <= 2 &&
         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (ok) length = std::stoi(digits);
    ok = ok && length >= 8 && length <= 32;
  }
  if (!ok) {
    throw Error(Errc::usage,
                fmt::format("\"{}\" is not an IPv4 prefix (ADDRESS/8 to /32)", escape_text(text)));
  }
  Ipv4Prefix prefix;
  prefix.length = length;
  prefix.network = *address & (length == 0 ? 0 : ~std::uint32_t{0} << (32 - length));
  if (prefix.network != *address) {
    throw Error(Errc::usage, fmt::format("\"{}\" has host bits set (the network is {})",
                                         escape_text(text), prefix.text()));
  }
  return prefix;
}

std::string rfc2136_scope(const Rfc2136Config& config) {
  return config.server.empty() ? std::string(kName) : std::string(kName) + "@" + config.server;
}

std::unique_ptr<PtrProvider> make_rfc2136_provider(Rfc2136Config config) {
  return std::make_unique<Rfc2136PtrProvider>(std::move(config));
}

Rfc2136PtrProvider::Rfc2136PtrProvider(Rfc2136Config config) : config_(std::move(config)) {
  if (config_.key.name.empty()) {
    throw Error(Errc::usage,
                "the rfc2136 provider needs a TSIG key: --tsig-key-file FILE, or --tsig-key / "
                "RDNSCTL_TSIG_KEY with [hmac-sha256:]NAME:SECRET");
  }
  if (config_.prefixes.empty()) {
    throw Error(Errc::usage,
                "the rfc2136 provider needs the networks it may change: --dns-prefix CIDR");
  }
  if (!config_.server.empty()) {
    server_ = dns::Endpoint::parse(config_.server, 53, config_.scope, "--dns-server");
  }
  for (const auto& resolver : config_.resolvers) {
    resolvers_.push_back(dns::Endpoint::parse(resolver, 53, NetworkScope::any, "--resolver"));
  }
  if (config_.resolvers.empty()) {
    for (const auto& resolver : system_resolvers()) {
      try {
        resolvers_.push_back(dns::Endpoint::parse(resolver, 53, NetworkScope::any, "resolv.conf"));
      } catch (const Error&) {
        // A scoped IPv6 address ("fe80::1%eth0") or a typo: the others may serve.
      }
    }
  }
}

const std::string& Rfc2136PtrProvider::name() const {
  static const std::string name = kName;
  return name;
}

ProviderCapabilities Rfc2136PtrProvider::capabilities() const {
  return ProviderCapabilities{};  // no disable, no domain verification, TTL 1-86400
}

std::string Rfc2136PtrProvider::prefix_list() const {
  std::vector<std::string> texts;
  for (const auto& prefix : config_.prefixes) texts.push_back(prefix.text());
  return fmt::format("{}", fmt::join(texts, ", "));
}

void Rfc2136PtrProvider::require_in_prefixes(const std::string& ip) const {
  const auto address = parse_ipv4(ip);
  if (!address) {
    throw Error(Errc::input,
                fmt::format("{} is not an IPv4 address (rfc2136 writes in-addr.arpa PTRs only)",
                            escape_text(ip)));
  }
  const bool inside =
      std::any_of(config_.prefixes.begin(), config_.prefixes.end(),
                  [&](const Ipv4Prefix& prefix) { return prefix.contains(*address); });
  if (!inside) {
    throw Error(Errc::usage, fmt::format("{} is outside the networks this key may change ({})",
                                         escape_text(ip), prefix_list()));
  }
}

dns::Channel Rfc2136PtrProvider::primary_channel(const dns::Endpoint& primary) const {
  return dns::Channel(primary, &config_.key, config_.timeout, config_.log);
}

dns::Channel Rfc2136PtrProvider::probe_channel(const dns::Endpoint& primary) const {
  return dns::Channel(primary, nullptr, config_.timeout, config_.log);
}

dns::Channel Rfc2136PtrProvider::resolver_channel(std::size_t index) const {
  return dns::Channel(resolvers_.at(index), nullptr, config_.timeout, config_.log);
}

namespace {

/// What a TSIG error most likely means, for the message.
const char* tsig_hint(std::uint16_t error) {
  switch (error) {
    case 16:
      return ": the secret differs from the server's";
    case 17:
      return ": the server does not know this key, or its ACL does not allow it this";
    case 18:
      return ": the clocks differ by more than 300 s";
    default:
      return "";
  }
}

}  // namespace

void Rfc2136PtrProvider::refused(const PtrLocation& where, const std::string& ip,
                                 const std::string& what, const ldns_pkt* answer) const {
  const std::uint16_t tsig = dns::tsig_error(answer);
  const std::string rcode = dns::rcode_name(ldns_pkt_get_rcode(answer));
  if (tsig != 0) {
    const std::string name = dns::tsig_error_name(tsig);
    throw ApiError(ApiErrorKind::auth, name,
                   fmt::format("{}: {} refused by {}: {} {} for TSIG key {} (from {}){}",
                               escape_text(ip), what, where.primary.text(), rcode, name,
                               config_.key.name, escape_text(config_.key.origin), tsig_hint(tsig)),
                   std::string(), 0, 1);
  }
  throw ApiError(ApiErrorKind::auth, rcode,
                 fmt::format("{}: {} refused by {}: {} (zone {}, TSIG key {}: the zone's ACL "
                             "on the server must allow this key)",
                             escape_text(ip), what, where.primary.text(), rcode,
                             without_dot(where.zone), config_.key.name),
                 std::string(), 0, 1);
}

std::string Rfc2136PtrProvider::follow_cname(dns::Channel& source, const std::string& name,
                                             bool recursive) {
  std::string current = name;
  for (int hop = 0; hop < kMaxCnameHops; ++hop) {
    dns::Packet query(ldns_pkt_query_new(dns::make_name(current).release(), LDNS_RR_TYPE_CNAME,
                                         LDNS_RR_CLASS_IN, recursive ? LDNS_RD : 0));
    const dns::Reply reply = source.send(query.get());
    if (dns::tsig_error(reply.packet.get()) != 0) {
      refused(PtrLocation{name, "", source.server(), ""}, subject_of(name), "a query",
              reply.packet.get());
    }
    const ldns_rr_list* answer = ldns_pkt_answer(reply.packet.get());
    std::string next;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
          dns::name_of(ldns_rr_owner(rr)) == current && ldns_rr_rd_count(rr) > 0) {
        next = dns::name_of(ldns_rr_rdf(rr, 0));
      }
    }
    if (next.empty()) return current;
    current = next;
  }
  return current;
}

Rfc2136PtrProvider::ZoneAnswer Rfc2136PtrProvider::find_zone(dns::Channel& source,
                                                             const std::string& name,
                                                             bool recursive) {
  dns::Packet query(ldns_pkt_query_new(dns::make_name(name).release(), LDNS_RR_TYPE_SOA,
                                       LDNS_RR_CLASS_IN, recursive ? LDNS_RD : 0));
  const dns::Reply reply = source.send(query.get());
  const ldns_pkt* packet = reply.packet.get();
  if (dns::tsig_error(packet) != 0) {
    refused(PtrLocation{name, "", source.server(), ""}, subject_of(name), "a query", packet);
  }
  ZoneAnswer result;
  result.rcode = dns::rcode_name(ldns_pkt_get_rcode(packet));
  result.authoritative = ldns_pkt_aa(packet);
  for (const ldns_rr_list* section : {ldns_pkt_answer(packet), ldns_pkt_authority(packet)}) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(section); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(section, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) == 0) continue;
      const std::string owner = dns::name_of(ldns_rr_owner(rr));
      // The SOA of a zone that holds name: name itself or a parent of it.
      if (owner != name && !name.ends_with("." + owner) && owner != ".") continue;
      result.zone = owner;
      result.mname = dns::name_of(ldns_rr_rdf(rr, 0));
      return result;
    }
  }
  return result;
}

std::optional<dns::Endpoint> Rfc2136PtrProvider::resolve_primary(const std::string& mname) {
  for (std::size_t i = 0; i < resolvers_.size(); ++i) {
    dns::Channel resolver = resolver_channel(i);
    dns::Packet query(ldns_pkt_query_new(dns::make_name(mname).release(), LDNS_RR_TYPE_A,
                                         LDNS_RR_CLASS_IN, LDNS_RD));
    try {
      const dns::Reply reply = resolver.send(query.get());
      const ldns_rr_list* answer = ldns_pkt_answer(reply.packet.get());
      for (std::size_t j = 0; j < ldns_rr_list_rr_count(answer); ++j) {
        const ldns_rr* rr = ldns_rr_list_rr(answer, j);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || ldns_rr_rd_count(rr) == 0) continue;
        char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        const std::string address = text == nullptr ? std::string() : text;
        std::free(text);
        return dns::Endpoint::parse(address, config_.primary_port, config_.scope,
                                    "the SOA MNAME " + without_dot(mname));
      }
    } catch (const dns::ExchangeError&) {
      // The next resolver may answer.
    }
  }
  return std::nullopt;
}

PtrLocation Rfc2136PtrProvider::discover(const std::string& owner) {
  PtrLocation where;
  where.owner = owner;
  ZoneAnswer zone;
  if (server_) {
    where.primary = *server_;
    dns::Channel primary = probe_channel(*server_);
    where.owner = follow_cname(primary, owner, false);
    zone = find_zone(primary, where.owner, false);
  } else {
    bool asked = false;
    for (std::size_t i = 0; i < resolvers_.size() && !asked; ++i) {
      dns::Channel resolver = resolver_channel(i);
      try {
        where.owner = follow_cname(resolver, owner, true);
        zone = find_zone(resolver, where.owner, true);
        asked = true;
      } catch (const dns::ExchangeError&) {
        // The next resolver may answer.
      }
    }
    if (!asked) throw Error(Errc::resolver, "no resolver answered the SOA query for " + owner);
    const std::optional<dns::Endpoint> primary =
        zone.zone.empty() ? std::nullopt : resolve_primary(zone.mname);
    if (!primary) {
      where.not_served = fmt::format(
          "no primary found for {}: {}", without_dot(where.owner),
          zone.zone.empty() ? "the resolver gives no SOA"
                            : "the SOA MNAME " + without_dot(zone.mname) + " has no address");
      return where;
    }
    where.primary = *primary;
    dns::Channel channel = probe_channel(where.primary);
    zone = find_zone(channel, where.owner, false);
  }
  where.zone = zone.zone;
  if (!zone.authoritative || zone.zone.empty() || !zone.zone.ends_with(kReverseSuffix)) {
    where.not_served = fmt::format(
        "{} does not serve the reverse zone of {} (its answer: {}{})", where.primary.text(),
        without_dot(where.owner), zone.rcode,
        zone.zone.empty()
            ? ""
            : fmt::format(", zone {}", zone.zone == "." ? "." : without_dot(zone.zone)));
  }
  return where;
}

const PtrLocation& Rfc2136PtrProvider::locate(const std::string& ip) {
  require_in_prefixes(ip);
  const std::string owner = owner_of(*parse_ipv4(ip));
  auto found = locations_.find(owner);
  if (found == locations_.end()) found = locations_.emplace(owner, discover(owner)).first;
  return found->second;
}

std::vector<Ownership> Rfc2136PtrProvider::ownership(const std::vector<std::string>& ips) {
  std::vector<Ownership> result;
  for (const auto& ip : ips) {
    Ownership owned;
    owned.ip = ip;
    try {
      const PtrLocation& where = locate(ip);
      if (where.not_served.empty()) {
        owned.role = IpRole::reverse_zone;
        owned.resource_id = without_dot(where.zone);
        owned.status = where.primary.text();
      } else {
        owned.reason = where.not_served;
      }
    } catch (const dns::ExchangeError& error) {
      throw api_error(error);
    } catch (const ApiError&) {
      throw;
    } catch (const Error& error) {
      if (error.code() != Errc::usage && error.code() != Errc::input) throw;
      owned.reason = error.what();
    }
    result.push_back(std::move(owned));
  }
  return result;
}

std::vector<PtrRecord> Rfc2136PtrProvider::read_at(const PtrLocation& where,
                                                   const std::string& ip) {
  dns::Channel primary = primary_channel(where.primary);
  dns::Packet query(ldns_pkt_query_new(dns::make_name(where.owner).release(), LDNS_RR_TYPE_PTR,
                                       LDNS_RR_CLASS_IN, 0));
  const dns::Reply reply = primary.send(query.get());
  const auto rcode = ldns_pkt_get_rcode(reply.packet.get());
  if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
    refused(where, ip, "a read", reply.packet.get());
  }
  std::vector<PtrRecord> records;
  const ldns_rr_list* answer = ldns_pkt_answer(reply.packet.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR || ldns_rr_rd_count(rr) == 0 ||
        dns::name_of(ldns_rr_owner(rr)) != where.owner) {
      continue;
    }
    PtrRecord record;
    record.ip = ip;
    record.name = without_dot(where.owner);
    record.value = without_dot(dns::name_of(ldns_rr_rdf(rr, 0)));
    record.ttl = static_cast<int>(ldns_rr_ttl(rr));
    records.push_back(std::move(record));
  }
  std::sort(records.begin(), records.end(),
            [](const PtrRecord& a, const PtrRecord& b) { return a.value < b.value; });
  const std::string id = id_of(records);
  for (auto& record : records) record.record_id = id;
  return records;
}

std::vector<PtrRecord> Rfc2136PtrProvider::read(const std::string& ip) {
  try {
    return read_at(writable(ip), ip);
  } catch (const dns::ExchangeError& error) {
    throw api_error(error);
  }
}

ldns_pkt_rcode Rfc2136PtrProvider::send_update(const PtrLocation& where, const std::string& ip,
                                               ldns_rr_list* prerequisites, ldns_rr_list* updates) {
  dns::Packet update(ldns_update_pkt_new(dns::make_name(where.zone).release(), LDNS_RR_CLASS_IN,
                                         prerequisites, updates, nullptr));
  if (!update) throw Error(Errc::internal, "cannot build a DNS UPDATE message");
  dns::Channel primary = primary_channel(where.primary);
  const dns::Reply reply = primary.send(update.get());
  last_request_id_ = fmt::format("{} id {}", where.primary.text(), ldns_pkt_id(update.get()));
  const auto rcode = ldns_pkt_get_rcode(reply.packet.get());
  if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_YXRRSET && rcode != LDNS_RCODE_NXRRSET) {
    refused(where, ip, "the update", reply.packet.get());
  }
  return rcode;
}

namespace {

/// Whether records are exactly value with ttl (empty value: no record).
bool shows(const std::vector<PtrRecord>& records, const std::string& value, int ttl) {
  if (value.empty()) return records.empty();
  return records.size() == 1 &&
         dns::absolute_lower(records.front().value) == dns::absolute_lower(value) &&
         records.front().ttl == ttl;
}

ApiError changed_concurrently(const std::string& ip, const std::string& expected,
                              const std::vector<PtrRecord>& now, const std::string& rcode) {
  return ApiError(
      ApiErrorKind::conflict, rcode,
      fmt::format("{}: the PTR changed concurrently ({}): expected {}, the server now has {}; "
                  "nothing was written: read it again (rdnsctl ptr show {}) and retry",
                  escape_text(ip), rcode, expected.empty() ? "no record" : escape_text(expected),
                  now.empty() ? "no record" : escape_text(id_of(now)), escape_text(ip)),
      std::string(), 0, 1);
}

}  // namespace

const PtrLocation& Rfc2136PtrProvider::writable(const std::string& ip) {
  const PtrLocation& where = locate(ip);
  if (!where.not_served.empty()) {
    throw ApiError(ApiErrorKind::ip_not_owned, "NotServed",
                   fmt::format("{}: {}", escape_text(ip), where.not_served), std::string(), 0, 1);
  }
  return where;
}

void Rfc2136PtrProvider::apply_update(const PtrLocation& where, const std::string& ip,
                                      const std::string& current_record_id, bool create,
                                      ldns_rr_list* updates, const std::string& value, int ttl) {
  dns::RrList prerequisites(ldns_rr_list_new());
  const auto previous = values_of_id(current_record_id);
  if (previous.empty() && create) {
    // RFC 2136 2.4.3, "RRset does not exist": class NONE, no RDATA.
    ldns_rr_list_push_rr(prerequisites.get(), make_rr(where.owner, LDNS_RR_CLASS_NONE, 0));
  }
  for (const auto& before : previous) {
    // 2.4.2, "RRset exists (value dependent)": the whole RRset as read, TTL 0.
    ldns_rr_list_push_rr(prerequisites.get(), make_rr(where.owner, LDNS_RR_CLASS_IN, 0, before));
  }
  ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR;
  try {
    rcode = send_update(where, ip, prerequisites.get(), updates);
  } catch (const dns::ExchangeError& error) {
    // No answer: the update may have been carried out. Look before
    // reporting, so a lost answer to a done write is not a failure.
    if (error.failure() != dns::ExchangeFailure::network ||
        !shows(read_at(where, ip), value, ttl)) {
      throw;
    }
    return;
  }
  if (rcode == LDNS_RCODE_NOERROR) return;
  // The prerequisite failed. Already as wanted (an earlier attempt whose
  // answer was lost, or a record deleted already) is done.
  const auto now = read_at(where, ip);
  if (!shows(now, value, ttl)) {
    throw changed_concurrently(ip, current_record_id, now, dns::rcode_name(rcode));
  }
}

std::string Rfc2136PtrProvider::write(const std::string& ip, const std::string& value, int ttl,
                                      const std::string& current_record_id) {
  if (!is_valid_ptr_value(value)) {
    throw Error(Errc::input,
                fmt::format("\"{}\" is not a host name a PTR may point to", escape_text(value)));
  }
  const std::string target = dns::absolute_lower(value);
  try {
    const PtrLocation& where = writable(ip);
    dns::RrList updates(ldns_rr_list_new());
    // 2.5.2 "Delete an RRset" (class ANY), then 2.5.1 "Add to an RRset".
    ldns_rr_list_push_rr(updates.get(), make_rr(where.owner, LDNS_RR_CLASS_ANY, 0));
    ldns_rr_list_push_rr(updates.get(), make_rr(where.owner, LDNS_RR_CLASS_IN,
                                                static_cast<std::uint32_t>(ttl), target));
    apply_update(where, ip, current_record_id, true, updates.get(), target, ttl);
    return without_dot(target);
  } catch (const dns::ExchangeError& error) {
    throw api_error(error);
  }
}

void Rfc2136PtrProvider::remove(const std::string& ip, const std::string& current_record_id) {
  try {
    const PtrLocation& where = writable(ip);
    dns::RrList updates(ldns_rr_list_new());
    ldns_rr_list_push_rr(updates.get(), make_rr(where.owner, LDNS_RR_CLASS_ANY, 0));
    apply_update(where, ip, current_record_id, false, updates.get(), std::string(), 0);
  } catch (const dns::ExchangeError& error) {
    throw api_error(error);
  }
}

void Rfc2136PtrProvider::set_status(const std::string& /*ip*/,
                                    const std::string& /*current_record_id*/,
                                    PtrStatus /*status*/) {
  throw Error(Errc::usage,
              "the rfc2136 provider cannot disable or enable a record (DNS has no switched-off "
              "records): delete it, or set it again");
}

std::optional<VerificationTxt> Rfc2136PtrProvider::verification_txt(const std::string& /*value*/) {
  return std::nullopt;
}

const std::string& Rfc2136PtrProvider::last_request_id() const {
  return last_request_id_;
}

void Rfc2136PtrProvider::collect_zone(const std::string& zone, const dns::Endpoint& primary,
                                      std::map<std::string, PtrRecord>& records,
                                      std::vector<std::pair<std::string, std::string>>& aliases) {
  dns::Channel channel = primary_channel(primary);
  for (const auto& reply : channel.transfer(zone)) {
    const ldns_pkt* packet = reply.packet.get();
    if (ldns_pkt_get_rcode(packet) != LDNS_RCODE_NOERROR) {
      refused(PtrLocation{zone, zone, primary, ""}, without_dot(zone), "the zone transfer", packet);
    }
    const ldns_rr_list* answer = ldns_pkt_answer(packet);
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_rd_count(rr) == 0) continue;
      const std::string owner = dns::name_of(ldns_rr_owner(rr));
      const std::string target = dns::name_of(ldns_rr_rdf(rr, 0));
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME) aliases.emplace_back(owner, target);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR) continue;
      PtrRecord& record = records[owner];
      record.name = without_dot(owner);
      record.value =
          record.value.empty() ? without_dot(target) : record.value + " " + without_dot(target);
      record.ttl = static_cast<int>(ldns_rr_ttl(rr));
    }
  }
}

PtrListing Rfc2136PtrProvider::list() {
  PtrListing listing;
  auto inside = [&](std::uint32_t address) {
    return std::any_of(config_.prefixes.begin(), config_.prefixes.end(),
                       [&](const Ipv4Prefix& prefix) { return prefix.contains(address); });
  };
  try {
    // owner -> the PTR found there (value holds every target, space-separated).
    std::map<std::string, PtrRecord> by_owner;
    std::vector<std::pair<std::string, std::string>> aliases;
    std::set<std::string> transferred;
    auto transfer = [&](const std::string& name) {
      const PtrLocation where = discover(name);
      if (!where.not_served.empty() || transferred.contains(where.zone)) return;
      transferred.insert(where.zone);
      collect_zone(where.zone, where.primary, by_owner, aliases);
    };
    for (const auto& prefix : config_.prefixes) {
      for (const auto& name : prefix_names(prefix)) transfer(name);
    }
    // RFC 2317: the addresses' names are CNAMEs into child zones; fetch those too.
    for (std::size_t i = 0; i < aliases.size(); ++i) {
      const auto address = address_of_owner(aliases[i].first);
      if (address && inside(*address)) transfer(aliases[i].second);
    }
    std::map<std::uint32_t, std::string> owners;  // address -> where its PTR is
    for (const auto& [owner, record] : by_owner) {
      if (const auto address = address_of_owner(owner)) owners.emplace(*address, owner);
    }
    for (const auto& [alias, target] : aliases) {
      if (const auto address = address_of_owner(alias)) owners[*address] = target;
    }
    for (const auto& [address, owner] : owners) {
      const auto found = by_owner.find(owner);
      if (!inside(address) || found == by_owner.end()) continue;
      PtrRecord record = found->second;
      record.ip = ipv4_text(address);
      std::vector<PtrRecord> each(values_of_id(record.value).size());
      for (std::size_t i = 0; i < each.size(); ++i) {
        each[i].value = without_dot(values_of_id(record.value)[i]);
      }
      record.record_id = id_of(each);
      // One line per value, as read() gives them.
      for (const auto& value : values_of_id(record.record_id)) {
        PtrRecord one = record;
        one.value = without_dot(value);
        listing.records.push_back(std::move(one));
      }
    }
  } catch (const ApiError& error) {
    // The server allows no transfer to this key (Knot says BADKEY for a key
    // its ACL does not allow): read the addresses one by one, which fails
    // with the same error at the first read if the key is not known at all.
    if (error.api_code() != "REFUSED" && error.api_code() != "NOTAUTH" &&
        error.api_code() != "BADKEY") {
      throw;
    }
    listing.records.clear();
    std::uint64_t addresses = 0;
    for (const auto& prefix : config_.prefixes)
      addresses += std::uint64_t{1} << (32 - prefix.length);
    if (addresses > kMaxAddressesWithoutTransfer) {
      throw Error(Errc::usage,
                  fmt::format("{}; the prefixes hold {} addresses, too many to read one by one "
                              "(at most {})",
                              error.what(), addresses, kMaxAddressesWithoutTransfer));
    }
    for (const auto& prefix : config_.prefixes) {
      for (std::uint64_t i = 0; i < (std::uint64_t{1} << (32 - prefix.length)); ++i) {
        const std::string ip = ipv4_text(prefix.network + static_cast<std::uint32_t>(i));
        if (!locate(ip).not_served.empty()) continue;
        for (auto& record : read(ip)) listing.records.push_back(std::move(record));
      }
    }
  } catch (const dns::ExchangeError& error) {
    throw api_error(error);
  }
  return listing;
}

}  // namespace rdns::provision
