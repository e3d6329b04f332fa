#pragma once
/// DNS wire format: the queries the resolver sends and the parts of answers
/// the audit reads. The parser is our own (no allocation but for the names
/// and records kept) and checks every read: the data is attacker-controlled.
/// Names keep their raw label bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <audit/dns_name.hpp>
#include <audit/ip.hpp>

namespace rdns::audit::dns {

enum class RrType : std::uint16_t {
  a = 1,
  ns = 2,
  cname = 5,
  soa = 6,
  ptr = 12,
  mx = 15,
  txt = 16,
  aaaa = 28
};

/// One answer-section record, with the fields the audit needs.
struct Record {
  DnsName owner;
  std::uint16_t type = 0;
  std::uint16_t rr_class = 0;
  std::uint32_t ttl = 0;
  DnsName target;                    ///< CNAME, PTR, NS data and the MX exchange
  std::uint16_t preference = 0;      ///< MX preference
  std::string text;                  ///< TXT: the character-strings concatenated
  std::optional<IpAddress> address;  ///< A and AAAA data
};

/// A parsed response.
struct Message {
  bool response = false;   ///< the QR bit
  bool truncated = false;  ///< the TC bit
  int opcode = 0;
  int rcode = 0;
  /// The question section: one entry in any reply to our queries.
  struct Question {
    DnsName name;
    std::uint16_t type = 0;
    std::uint16_t rr_class = 0;
  };
  std::vector<Question> questions;
  std::vector<Record> answers;
  bool authority_soa = false;  ///< an SOA in the authority section (RFC 2308 negative answer)

  /// As a new Message, keeping the room of its lists for the next parse.
  void clear() {
    response = truncated = authority_soa = false;
    opcode = rcode = 0;
    questions.clear();
    answers.clear();
  }
};

/// A recursive query for (name, type, IN) with an EDNS0 OPT record, into
/// `query` (replacing its content, keeping its room: no allocation per
/// query); the ID is left zero for c-ares to fill in.
void build_query(const DnsName& name, RrType type, std::string& query);

/// Parses a response; false when it is not a well-formed DNS message.
/// `out` may hold an earlier message: every part of it is replaced.
bool parse_message(const unsigned char* data, std::size_t size, Message& out);

/// Why `message` is not an answer to (qname, type, IN), or nullopt when it
/// is one: the QR bit set, opcode QUERY, not truncated, the same single
/// question, every answer record of class IN on the CNAME chain from qname
/// and of the asked type (or CNAME), and an empty NOERROR answer (no record
/// of the type) proven by the zone's SOA. Anything else could be an
/// echo, a spoof or a broken middlebox, and proves nothing about the name.
std::optional<std::string> reply_problem(const Message& message, const DnsName& qname, RrType type);

/// The records of `type` at the end of the CNAME chain that starts at `qname`.
struct Chain {
  std::vector<DnsName> aliases;  ///< the CNAME targets traversed, in order
  /// qname, or the last CNAME target: points into the arguments of
  /// follow_chain(), so it lives as long as they do.
  const DnsName* final_name = nullptr;
  /// Room for a few records inline: most answers hold one.
  boost::container::small_vector<const Record*, 4> records;
  /// True when the chain ends at a CNAME target with no data in this answer,
  /// so the target must be asked for separately.
  bool dangling = false;
  bool loop = false;
};
Chain follow_chain(const Message& message, const DnsName& qname, RrType type);

}  // namespace rdns::audit::dns
