#include <algorithm>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <audit/ip.hpp>
#include <audit/lookup.hpp>
#include <util/error.hpp>

#include "blocking_lookup.hpp"
#include "dns_message.hpp"
#include "resolver.hpp"

namespace rdns::audit {

/// The private channel of a LookupClient.
class LookupClient::Impl : public BlockingLookup {
  using BlockingLookup::BlockingLookup;
};

LookupClient::LookupClient(const AuditOptions& options) : impl_(std::make_unique<Impl>(options)) {}

LookupClient::~LookupClient() = default;

LookupAnswer LookupClient::ask(const std::string& name, LookupType type) {
  DnsName qname;
  dns::RrType rr = dns::RrType::a;
  if (type == LookupType::ptr) {
    const auto address = IpAddress::parse(name);
    if (!address) throw Error(Errc::input, "not an IP address: " + name);
    DnsName::assign_reverse(*address, qname);
    rr = dns::RrType::ptr;
  } else {
    qname = DnsName::from_dotted(name);
    rr = type == LookupType::a    ? dns::RrType::a
         : type == LookupType::ns ? dns::RrType::ns
                                  : dns::RrType::txt;
  }
  const Reply reply = impl_->ask(qname, rr);
  LookupAnswer answer;
  switch (reply.status) {
    case ReplyStatus::noerror:
      break;
    case ReplyStatus::nxdomain:
      answer.outcome = LookupAnswer::Outcome::nxdomain;
      return answer;
    case ReplyStatus::servfail:
      answer.failure = "SERVFAIL";
      return answer;
    case ReplyStatus::refused:
      answer.failure = "REFUSED";
      return answer;
    case ReplyStatus::timeout:
      answer.failure = "timeout";
      return answer;
    case ReplyStatus::unreachable:
      answer.failure = "resolver unreachable";
      return answer;
    case ReplyStatus::malformed:
      answer.failure = "malformed response";
      return answer;
    case ReplyStatus::other_rcode:
      answer.failure = fmt::format("RCODE {}", reply.message.rcode);
      return answer;
  }
  const dns::Chain chain = dns::follow_chain(reply.message, qname, rr);
  bool first = true;
  for (const dns::Record* record : chain.records) {
    if (rr == dns::RrType::a && record->address) {
      answer.values.push_back(record->address->to_string());
    } else if (rr == dns::RrType::txt) {
      answer.values.push_back(record->text);
    } else if (rr == dns::RrType::ptr || rr == dns::RrType::ns) {
      answer.values.push_back(record->target.presentation());
    } else {
      continue;
    }
    answer.ttl = first ? record->ttl : std::min(answer.ttl, record->ttl);
    first = false;
  }
  answer.outcome =
      answer.values.empty() ? LookupAnswer::Outcome::nodata : LookupAnswer::Outcome::answered;
  return answer;
}

}  // namespace rdns::audit
