#include "dns_message.hpp"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

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

/// Reads a DNS message in place. Every read is bounds-checked: the data is
/// whatever arrived on the resolver's port.
class WireReader {
 public:
  WireReader(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}

  std::size_t position() const { return position_; }
  void seek(std::size_t position) { position_ = position; }

  bool u16(std::uint16_t& out) {
    if (size_ - position_ < 2) return false;
    out = static_cast<std::uint16_t>((data_[position_] << 8) | data_[position_ + 1]);
    position_ += 2;
    return true;
  }

  bool u32(std::uint32_t& out) {
    std::uint16_t high = 0;
    std::uint16_t low = 0;
    if (!u16(high) || !u16(low)) return false;
    out = (static_cast<std::uint32_t>(high) << 16) | low;
    return true;
  }

  bool skip(std::size_t count) {
    if (size_ - position_ < count) return false;
    position_ += count;
    return true;
  }

  const unsigned char* here() const { return data_ + position_; }

  /// A possibly compressed name (RFC 1035 §4.1.4). A pointer must point
  /// before itself and at most kMaxPointers are followed, so a hostile loop
  /// ends; the name may be at most 255 bytes uncompressed. Leaves the
  /// position after the name as it appears here (after its first pointer).
  /// On failure `out` holds part of the name.
  bool name(DnsName& out) {
    out.clear();  // its room is kept for the labels
    std::size_t at = position_;
    std::size_t resume = 0;  // where reading goes on after the first pointer
    std::size_t length = 1;
    int pointers = 0;
    for (;;) {
      if (at >= size_) return false;
      const unsigned char octet = data_[at];
      if ((octet & 0xc0) == 0xc0) {
        if (at + 1 >= size_ || ++pointers > kMaxPointers) return false;
        const std::size_t target = (static_cast<std::size_t>(octet & 0x3f) << 8) | data_[at + 1];
        if (target >= at) return false;
        if (resume == 0) resume = at + 2;
        at = target;
        continue;
      }
      if ((octet & 0xc0) != 0) return false;  // the obsolete 0x40 and 0x80 label types
      if (octet == 0) break;
      length += 1 + octet;
      if (length > kMaxNameLength || size_ - at - 1 < octet) return false;
      out.append_label({reinterpret_cast<const char*>(data_ + at + 1), octet});
      at += 1 + octet;
    }
    position_ = resume != 0 ? resume : at + 1;
    return true;
  }

 private:
  static constexpr int kMaxPointers = 126;
  static constexpr std::size_t kMaxNameLength = 255;
  const unsigned char* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

/// The fixed part of a resource record after its owner name.
struct RecordHeader {
  std::uint16_t type = 0;
  std::uint16_t rr_class = 0;
  std::uint32_t ttl = 0;
  std::uint16_t length = 0;  ///< RDLENGTH
};

bool read_header(WireReader& in, RecordHeader& out) {
  return in.u16(out.type) && in.u16(out.rr_class) && in.u32(out.ttl) && in.u16(out.length);
}

/// A name that fills the record data exactly.
bool read_rdata_name(WireReader& in, std::size_t end, DnsName& out) {
  return in.name(out) && in.position() == end;
}

/// The data of an answer record, for the types the audit reads; others are
/// skipped. `end` is where the record data ends.
bool read_rdata(WireReader& in, std::size_t end, Record& record) {
  const std::size_t length = end - in.position();
  switch (static_cast<RrType>(record.type)) {
    case RrType::cname:
    case RrType::ptr:
    case RrType::ns:
      return read_rdata_name(in, end, record.target);
    case RrType::mx:
      return in.u16(record.preference) && read_rdata_name(in, end, record.target);
    case RrType::txt:
      // RFC 7208 §3.3: the strings of one record are joined without spaces.
      while (in.position() < end) {
        const std::size_t part = *in.here();
        if (end - in.position() < 1 + part) return false;
        record.text.append(reinterpret_cast<const char*>(in.here()) + 1, part);
        in.skip(1 + part);
      }
      return true;
    case RrType::a:
      if (length != 4) return false;
      record.address = IpAddress::from_bytes(Family::ipv4, in.here());
      return in.skip(length);
    case RrType::aaaa:
      if (length != 16) return false;
      record.address = IpAddress::from_bytes(Family::ipv6, in.here());
      return in.skip(length);
    default:
      return in.skip(length);
  }
}

bool read_answer(WireReader& in, Record& record) {
  // The record may be one of a reused message: what its type does not set
  // must not stay from the last one.
  record.target.clear();
  record.preference = 0;
  record.text.clear();
  record.address.reset();
  RecordHeader header;
  if (!in.name(record.owner) || !read_header(in, header)) return false;
  const std::size_t end = in.position() + header.length;
  record.type = header.type;
  record.rr_class = header.rr_class;
  record.ttl = header.ttl;
  WireReader rdata = in;
  if (!in.skip(header.length)) return false;
  // Data of another class means nothing here; reply_problem() rejects the
  // message, so its rdata is not read.
  if (record.rr_class != kClassIn) return true;
  return read_rdata(rdata, end, record);
}

/// Authority and additional records: checked for their bounds only, and
/// whether an SOA of class IN is among them.
bool skip_record(WireReader& in, bool& soa) {
  DnsName owner;
  RecordHeader header;
  if (!in.name(owner) || !read_header(in, header) || !in.skip(header.length)) return false;
  soa = soa ||
        (header.type == static_cast<std::uint16_t>(RrType::soa) && header.rr_class == kClassIn);
  return true;
}

}  // namespace

void build_query(const DnsName& name, RrType type, std::string& query) {
  // ID (set by c-ares), flags RD, QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1
  // (the OPT record): appended whole, not byte by byte.
  static constexpr std::string_view kHeader("\0\0\1\0\0\1\0\0\0\0\0\1", 12);
  // After the type: class IN, then the OPT record: root owner, type OPT
  // (41), payload size kEdnsPayload (1232), extended RCODE and version 0,
  // no flags, no data.
  static constexpr std::string_view kTail(
      "\0\1"
      "\0"
      "\0\x29"
      "\x04\xd0"
      "\0\0"
      "\0\0"
      "\0\0",
      13);
  static_assert(kTypeOpt == 0x29 && kEdnsPayload == 0x04d0 && kClassIn == 1);
  query.assign(kHeader);
  name.append_wire(query);
  put16(query, static_cast<std::uint16_t>(type));
  query.append(kTail);
}

bool parse_message(const unsigned char* data, std::size_t size, Message& out) {
  WireReader in(data, size);
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t counts[4] = {};
  if (!in.u16(id) || !in.u16(flags)) return false;
  for (std::uint16_t& count : counts) {
    if (!in.u16(count)) return false;
  }
  out.response = (flags & 0x8000) != 0;
  out.opcode = (flags >> 11) & 0xf;
  out.truncated = (flags & 0x0200) != 0;
  out.rcode = flags & 0xf;
  // A question takes at least 5 bytes and a record at least 11: a count
  // beyond what the message can hold is rejected before anything is
  // allocated for it. Entries already there are overwritten, so a reused
  // message keeps the room of its names.
  if (counts[0] > (size - in.position()) / 5) return false;
  out.questions.resize(counts[0]);
  for (Message::Question& question : out.questions) {
    if (!in.name(question.name) || !in.u16(question.type) || !in.u16(question.rr_class)) {
      return false;
    }
  }
  if (counts[1] > (size - in.position()) / 11) return false;
  out.answers.resize(counts[1]);
  for (Record& record : out.answers) {
    if (!read_answer(in, record)) return false;
  }
  out.authority_soa = false;
  for (std::uint16_t i = 0; i < counts[2]; ++i) {
    if (!skip_record(in, out.authority_soa)) return false;
  }
  bool additional_soa = false;
  for (std::uint16_t i = 0; i < counts[3]; ++i) {
    if (!skip_record(in, additional_soa)) return false;
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
  const auto on_chain = [&](const DnsName& owner) {
    return owner == qname ||
           std::find(chain.aliases.begin(), chain.aliases.end(), owner) != chain.aliases.end();
  };
  const auto cname = static_cast<std::uint16_t>(RrType::cname);
  for (const Record& record : message.answers) {
    // A DNAME is followed by the resolver, which adds the CNAME it implies.
    if (record.type == kTypeDname || record.type == kTypeRrsig) continue;
    if (record.rr_class != kClassIn) return fmt::format("answer of class {}", record.rr_class);
    if (record.type != wanted && record.type != cname) {
      return fmt::format("answer of type {} to a {} question", record.type, wanted);
    }
    if (!on_chain(record.owner))
      return "answer for another name (" + record.owner.presentation() + ")";
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
  chain.final_name = &qname;
  const auto wanted = static_cast<std::uint16_t>(type);
  const auto cname = static_cast<std::uint16_t>(RrType::cname);
  for (;;) {
    const Record* alias = nullptr;
    for (const Record& record : message.answers) {
      if (!(record.owner == *chain.final_name)) continue;
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
    chain.final_name = &alias->target;
    chain.dangling = true;
  }
  if (!chain.records.empty()) chain.dangling = false;
  return chain;
}

}  // namespace rdns::audit::dns
