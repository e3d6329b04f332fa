// The audit's own DNS wire parser against ldns, the parser it replaced: any
// reply both accept must read the same (header bits, question, and the
// answer records' owner, type, class, TTL and the data the audit uses). The
// audit's parser may refuse more (a compression pointer forward, a name that
// does not fill its record data) but never read a reply differently.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "dns_message.hpp"

// Last: ldns's headers may define `bool` for C, which breaks the C++
// headers included after them.
#include <ldns/ldns.h>

namespace {

using rdns::audit::DnsName;
namespace dns = rdns::audit::dns;

void same(bool equal) {
  if (!equal) __builtin_trap();
}

/// Label bytes exactly (not case-folded): the parser must not change them.
void same_name(const ldns_rdf* rdf, const DnsName& name) {
  same(rdf != nullptr && ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME);
  DnsName expected;
  same(DnsName::from_wire(ldns_rdf_data(rdf), ldns_rdf_size(rdf), expected));
  const auto expected_labels = expected.labels();
  const auto labels = name.labels();
  same(std::equal(expected_labels.begin(), expected_labels.end(), labels.begin(), labels.end()));
}

bool read_by_audit(const dns::Record& record) {
  if (record.rr_class != LDNS_RR_CLASS_IN) return false;
  switch (static_cast<dns::RrType>(record.type)) {
    case dns::RrType::a:
    case dns::RrType::aaaa:
    case dns::RrType::ptr:
    case dns::RrType::cname:
    case dns::RrType::ns:
    case dns::RrType::mx:
    case dns::RrType::txt:
      return true;
    default:
      return false;
  }
}

void same_record(const ldns_rr* rr, const dns::Record& record) {
  same_name(ldns_rr_owner(rr), record.owner);
  same(static_cast<std::uint16_t>(ldns_rr_get_type(rr)) == record.type);
  same(static_cast<std::uint16_t>(ldns_rr_get_class(rr)) == record.rr_class);
  if (record.rr_class != LDNS_RR_CLASS_IN) return;
  same(ldns_rr_ttl(rr) == record.ttl);
  const ldns_rdf* first = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) : nullptr;
  switch (static_cast<dns::RrType>(record.type)) {
    case dns::RrType::ptr:
    case dns::RrType::cname:
    case dns::RrType::ns:
      same_name(first, record.target);
      break;
    case dns::RrType::a:
    case dns::RrType::aaaa:
      same(first != nullptr && record.address &&
           ldns_rdf_size(first) == record.address->byte_count() &&
           std::memcmp(ldns_rdf_data(first), record.address->bytes().data(),
                       ldns_rdf_size(first)) == 0);
      break;
    default:
      break;
  }
}

}  // namespace

// ldns_wire2pkt (Debian's ldns 1.8) leaks the record it was reading when a
// later part of the packet fails, and returns no packet to free: a leak of
// the reference library, not of the parser under test, whose code never
// calls into libldns.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libldns.so\n";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dns::Message message;
  const bool ours = dns::parse_message(data, size, message);
  ldns_pkt* raw = nullptr;
  const bool theirs = ldns_wire2pkt(&raw, data, size) == LDNS_STATUS_OK && raw != nullptr;
  const std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)> packet(raw, &ldns_pkt_free);
  if (!ours || !theirs) return 0;
  same(message.response == static_cast<bool>(ldns_pkt_qr(packet.get())));
  same(message.truncated == static_cast<bool>(ldns_pkt_tc(packet.get())));
  same(message.opcode == static_cast<int>(ldns_pkt_get_opcode(packet.get())));
  same(message.rcode == static_cast<int>(ldns_pkt_get_rcode(packet.get())));
  const ldns_rr_list* questions = ldns_pkt_question(packet.get());
  same(message.questions.size() == (questions == nullptr ? 0 : ldns_rr_list_rr_count(questions)));
  for (std::size_t i = 0; i < message.questions.size(); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(questions, i);
    same_name(ldns_rr_owner(rr), message.questions[i].name);
    same(static_cast<std::uint16_t>(ldns_rr_get_type(rr)) == message.questions[i].type);
  }
  const ldns_rr_list* answers = ldns_pkt_answer(packet.get());
  same(message.answers.size() == (answers == nullptr ? 0 : ldns_rr_list_rr_count(answers)));
  for (std::size_t i = 0; i < message.answers.size(); ++i) {
    same_record(ldns_rr_list_rr(answers, i), message.answers[i]);
    // ldns reads the data of the types it knows by their fields, not by
    // RDLENGTH alone; after a record of a type the audit does not read (or
    // of another class) the two may go on from different places.
    if (!read_by_audit(message.answers[i])) break;
  }
  return 0;
}
