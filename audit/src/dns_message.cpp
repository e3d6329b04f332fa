#include "dns_message.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <ldns/ldns.h>

namespace rdns::audit::dns {
namespace {

void put16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value & 0xff);
}

constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kTypeOpt = 41;
constexpr std::uint16_t kTypeDname = 39;
constexpr std::uint16_t kTypeRrsig = 46;
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

  out.response = ldns_pkt_qr(packet.get());
  out.truncated = ldns_pkt_tc(packet.get());
  out.opcode = static_cast<int>(ldns_pkt_get_opcode(packet.get()));
  out.rcode = static_cast<int>(ldns_pkt_get_rcode(packet.get()));
  out.questions.clear();
  const ldns_rr_list* questions = ldns_pkt_question(packet.get());
  const std::size_t question_count = questions == nullptr ? 0 : ldns_rr_list_rr_count(questions);
  for (std::size_t i = 0; i < question_count; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(questions, i);
    Message::Question question;
    if (!read_name(ldns_rr_owner(rr), question.name)) return false;
    question.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
    question.rr_class = static_cast<std::uint16_t>(ldns_rr_get_class(rr));
    out.questions.push_back(std::move(question));
  }
  out.authority_soa = false;
  const ldns_rr_list* authority = ldns_pkt_authority(packet.get());
  const std::size_t authority_count = authority == nullptr ? 0 : ldns_rr_list_rr_count(authority);
  for (std::size_t i = 0; i < authority_count; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(authority, i);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN) {
      out.authority_soa = true;
    }
  }
  out.answers.clear();
  const ldns_rr_list* answers = ldns_pkt_answer(packet.get());
  const std::size_t count = answers == nullptr ? 0 : ldns_rr_list_rr_count(answers);
  out.answers.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answers, i);
    Record record;
    if (!read_name(ldns_rr_owner(rr), record.owner)) return false;
    record.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
    record.rr_class = static_cast<std::uint16_t>(ldns_rr_get_class(rr));
    // Data of another class means nothing here; reply_problem() rejects the
    // message, so its rdata is not read.
    if (record.rr_class != kClassIn) {
      out.answers.push_back(std::move(record));
      continue;
    }
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

std::optional<std::string> reply_problem(const Message& message, const DnsName& qname,
                                         RrType type) {
  if (!message.response) return "not a response (QR bit clear)";
  if (message.opcode != 0) return fmt::format("opcode {} in the response", message.opcode);
  if (message.truncated) return "truncated response";
  const auto wanted = static_cast<std::uint16_t>(type);
  if (message.questions.size() != 1 || !(message.questions.front().name == qname) ||
      message.questions.front().type != wanted || message.questions.front().rr_class != kClassIn) {
    return "response to another question";
  }
  // Only NOERROR and NXDOMAIN carry data about the name; other RCODEs are
  // judged by the caller as failures.
  if (message.rcode != 0 && message.rcode != 3) return std::nullopt;

  const Chain chain = follow_chain(message, qname, type);
  std::vector<const DnsName*> on_chain{&qname};
  for (const DnsName& alias : chain.aliases) on_chain.push_back(&alias);
  const auto cname = static_cast<std::uint16_t>(RrType::cname);
  for (const Record& record : message.answers) {
    // A DNAME is followed by the resolver, which adds the CNAME it implies.
    if (record.type == kTypeDname || record.type == kTypeRrsig) continue;
    if (record.rr_class != kClassIn) return fmt::format("answer of class {}", record.rr_class);
    if (record.type != wanted && record.type != cname) {
      return fmt::format("answer of type {} to a {} question", record.type, wanted);
    }
    const bool owned = std::any_of(on_chain.begin(), on_chain.end(),
                                   [&](const DnsName* name) { return *name == record.owner; });
    if (!owned) return "answer for another name (" + record.owner.presentation() + ")";
  }
  // NXDOMAIN states by its RCODE that the name does not exist; some
  // forwarders synthesise it without the SOA (dnsmasq for private ranges).
  // An empty NOERROR proves nothing without the zone's SOA: it is what a
  // broken middlebox or an emptied TCP retry looks like.
  const bool nodata = message.rcode == 0 && chain.records.empty() && !chain.dangling;
  if (nodata && !chain.loop && !message.authority_soa) return "empty answer without an SOA";
  return std::nullopt;
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
