#include "dns_message.hpp"

#include <memory>

#include <ldns/ldns.h>

namespace rdns::audit::dns {
namespace {

void put16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value & 0xff);
}

constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kTypeOpt = 41;
constexpr std::uint16_t kEdnsPayload = 1232;  // the DNS Flag Day 2020 size: no fragmentation
constexpr std::size_t kMaxChain = 16;

bool read_name(const ldns_rdf* rdf, DnsName& out) {
  if (rdf == nullptr || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME) return false;
  return DnsName::from_wire(ldns_rdf_data(rdf), ldns_rdf_size(rdf), out);
}

}  // namespace

std::string build_query(const DnsName& name, RrType type) {
  std::string query;
  query.reserve(12 + name.wire_length() + 4 + 11);
  put16(query, 0);       // ID, set by c-ares
  put16(query, 0x0100);  // RD
  put16(query, 1);       // QDCOUNT
  put16(query, 0);       // ANCOUNT
  put16(query, 0);       // NSCOUNT
  put16(query, 1);       // ARCOUNT: the OPT record
  query += name.wire();
  put16(query, static_cast<std::uint16_t>(type));
  put16(query, kClassIn);
  query += '\0';  // OPT owner: root
  put16(query, kTypeOpt);
  put16(query, kEdnsPayload);
  put16(query, 0);  // extended RCODE and version
  put16(query, 0);  // flags
  put16(query, 0);  // RDLENGTH
  return query;
}

bool parse_message(const unsigned char* data, std::size_t size, Message& out) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK || raw == nullptr) return false;
  const std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)> packet(raw, &ldns_pkt_free);

  out.rcode = static_cast<int>(ldns_pkt_get_rcode(packet.get()));
  out.answers.clear();
  const ldns_rr_list* answers = ldns_pkt_answer(packet.get());
  const std::size_t count = answers == nullptr ? 0 : ldns_rr_list_rr_count(answers);
  out.answers.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answers, i);
    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) continue;
    Record record;
    if (!read_name(ldns_rr_owner(rr), record.owner)) return false;
    record.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
    record.ttl = ldns_rr_ttl(rr);
    const ldns_rdf* rdata = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) : nullptr;
    switch (static_cast<RrType>(record.type)) {
      case RrType::cname:
      case RrType::ptr:
      case RrType::ns:
        if (!read_name(rdata, record.target)) return false;
        break;
      case RrType::mx: {
        const ldns_rdf* exchange = ldns_rr_rd_count(rr) > 1 ? ldns_rr_rdf(rr, 1) : nullptr;
        if (rdata == nullptr || ldns_rdf_size(rdata) != 2 || !read_name(exchange, record.target)) {
          return false;
        }
        record.preference = ldns_read_uint16(ldns_rdf_data(rdata));
        break;
      }
      case RrType::txt:
        // RFC 7208 §3.3: the strings of one record are joined without spaces.
        for (std::size_t part = 0; part < ldns_rr_rd_count(rr); ++part) {
          const ldns_rdf* string = ldns_rr_rdf(rr, part);
          if (ldns_rdf_size(string) < 1) return false;
          record.text.append(reinterpret_cast<const char*>(ldns_rdf_data(string)) + 1,
                             ldns_rdf_size(string) - 1);
        }
        break;
      case RrType::a:
        if (rdata == nullptr || ldns_rdf_size(rdata) != 4) return false;
        record.address = IpAddress::from_bytes(Family::ipv4, ldns_rdf_data(rdata));
        break;
      case RrType::aaaa:
        if (rdata == nullptr || ldns_rdf_size(rdata) != 16) return false;
        record.address = IpAddress::from_bytes(Family::ipv6, ldns_rdf_data(rdata));
        break;
      default:
        break;
    }
    out.answers.push_back(std::move(record));
  }
  return true;
}

Chain follow_chain(const Message& message, const DnsName& qname, RrType type) {
  Chain chain;
  chain.final_name = qname;
  const auto wanted = static_cast<std::uint16_t>(type);
  const auto cname = static_cast<std::uint16_t>(RrType::cname);
  for (;;) {
    const Record* alias = nullptr;
    for (const Record& record : message.answers) {
      if (!(record.owner == chain.final_name)) continue;
      if (record.type == wanted) {
        chain.records.push_back(&record);
      } else if (record.type == cname && alias == nullptr) {
        alias = &record;
      }
    }
    if (!chain.records.empty() || alias == nullptr) break;
    if (chain.aliases.size() >= kMaxChain) {
      chain.loop = true;
      break;
    }
    for (const DnsName& seen : chain.aliases) {
      if (seen == alias->target) chain.loop = true;
    }
    if (chain.loop || alias->target == qname) {
      chain.loop = true;
      break;
    }
    chain.aliases.push_back(alias->target);
    chain.final_name = alias->target;
    chain.dangling = true;
  }
  if (!chain.records.empty()) chain.dangling = false;
  return chain;
}

}  // namespace rdns::audit::dns
