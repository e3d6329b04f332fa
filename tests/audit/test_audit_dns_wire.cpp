// The audit's DNS wire parser on hand-made replies: compressed names are
// read, and hostile ones (pointer loops, forward pointers, names over 255
// bytes, counts the message cannot hold, data cut short) are refused.

#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "../../audit/src/dns_message.hpp"

using namespace rdns::audit;

namespace {

std::string u16(unsigned value) {
  return {static_cast<char>(value >> 8), static_cast<char>(value & 0xff)};
}

/// A response header: ID 0x1234, QR RD RA, NOERROR, and the section counts.
std::string header(unsigned questions, unsigned answers, unsigned authority = 0) {
  return u16(0x1234) + u16(0x8180) + u16(questions) + u16(answers) + u16(authority) + u16(0);
}

/// Uncompressed wire form of a dotted name.
std::string wire_name(const std::string& dotted) {
  std::string wire;
  std::size_t start = 0;
  while (start < dotted.size()) {
    const std::size_t dot = std::min(dotted.find('.', start), dotted.size());
    wire += static_cast<char>(dot - start);
    wire += dotted.substr(start, dot - start);
    start = dot + 1;
  }
  return wire + '\0';
}

std::string question() {
  // At offset 12, right after the header.
  return wire_name("10.2.0.192.in-addr.arpa") + u16(12) + u16(1);  // PTR IN
}

/// A record header after the owner: type, class IN, TTL 3600, RDLENGTH.
std::string fixed(unsigned type, unsigned length) {
  return u16(type) + u16(1) + u16(0) + u16(3600) + u16(length);
}

bool parse(const std::string& wire, dns::Message& message) {
  return dns::parse_message(reinterpret_cast<const unsigned char*>(wire.data()), wire.size(),
                            message);
}

}  // namespace

TEST_CASE("the wire parser reads a compressed PTR answer") {
  // Owner: a pointer to the question name (offset 12); target: "mail" then
  // a pointer into a name of its own record data.
  const std::string target = wire_name("mail.example.com");
  const auto example = static_cast<unsigned>(12 + question().size() + 12 + 5);
  const std::string wire = header(1, 2) + question() + u16(0xc00c) +
                           fixed(12, static_cast<unsigned>(target.size())) + target + u16(0xc00c) +
                           fixed(12, 6) + "\x03mx2" + u16(0xc000 | example);
  dns::Message message;
  REQUIRE(parse(wire, message));
  CHECK(message.response);
  CHECK(message.rcode == 0);
  REQUIRE(message.questions.size() == 1);
  CHECK(message.questions[0].name.presentation() == "10.2.0.192.in-addr.arpa");
  REQUIRE(message.answers.size() == 2);
  CHECK(message.answers[0].owner == message.questions[0].name);
  CHECK(message.answers[0].ttl == 3600);
  CHECK(message.answers[0].target.presentation() == "mail.example.com");
  CHECK(message.answers[1].target.presentation() == "mx2.example.com");
  CHECK_FALSE(dns::reply_problem(message, message.questions[0].name, dns::RrType::ptr));
}

TEST_CASE("the wire parser refuses hostile names and counts") {
  dns::Message message;
  SECTION("a pointer to itself") {
    CHECK_FALSE(parse(header(1, 0) + u16(0xc00c) + u16(12) + u16(1), message));
  }
  SECTION("a label followed by a pointer back to it") {
    // abc.abc.abc... : every round adds 4 bytes, so the 255-byte bound ends it.
    CHECK_FALSE(parse(header(1, 0) +
                          "\x03"
                          "abc" +
                          u16(0xc00c) + u16(12) + u16(1),
                      message));
  }
  SECTION("a pointer forward") {
    CHECK_FALSE(parse(header(1, 0) + u16(0xc00e) + '\0' + u16(12) + u16(1), message));
  }
  SECTION("a name longer than 255 bytes through pointers") {
    // Five names of one 63-byte label each, every one but the first ending
    // in a pointer to the one before, held in a record of a type the audit
    // skips; an A record's owner then points to the last of them.
    const std::size_t first = 12 + question().size() + 12;
    std::string chain;
    std::size_t previous = 0;
    for (int i = 0; i < 5; ++i) {
      const std::size_t here = first + chain.size();
      chain += '\x3f' + std::string(63, 'a');
      chain += i == 0 ? std::string(1, '\0') : u16(0xc000 | static_cast<unsigned>(previous));
      previous = here;
    }
    CHECK_FALSE(parse(header(1, 2) + question() + u16(0xc00c) +
                          fixed(99, static_cast<unsigned>(chain.size())) + chain +
                          u16(0xc000 | static_cast<unsigned>(previous)) + fixed(1, 4) + "abcd",
                      message));
  }
  SECTION("the obsolete extended label types") {
    CHECK_FALSE(parse(header(1, 0) + std::string("\x41x\0", 3) + u16(12) + u16(1), message));
  }
  SECTION("more records than the message can hold") {
    CHECK_FALSE(parse(header(1, 0xffff) + question(), message));
    CHECK(message.answers.empty());
  }
  SECTION("record data cut short") {
    CHECK_FALSE(parse(header(1, 1) + question() + u16(0xc00c) + fixed(1, 4) + "\x0a\x00", message));
  }
  SECTION("an A record of the wrong length") {
    CHECK_FALSE(parse(header(1, 1) + question() + u16(0xc00c) + fixed(1, 3) + std::string(3, 'x'),
                      message));
  }
  SECTION("a PTR name that does not fill its record data") {
    CHECK_FALSE(
        parse(header(1, 1) + question() + u16(0xc00c) + fixed(12, 3) + u16(0xc00c) + 'x', message));
  }
}

TEST_CASE("the wire parser finds the SOA of a negative answer") {
  const std::string soa_data = u16(0xc00c) + u16(0xc00c) + std::string(20, '\0');
  dns::Message message;
  REQUIRE(parse(header(1, 0, 1) + question() + u16(0xc00c) +
                    fixed(6, static_cast<unsigned>(soa_data.size())) + soa_data,
                message));
  CHECK(message.authority_soa);
  CHECK_FALSE(dns::reply_problem(message, message.questions[0].name, dns::RrType::ptr));
}

TEST_CASE("a message parsed over an earlier one keeps nothing of it") {
  // The resolver parses every reply into a message it reuses: the fields
  // one record type sets must not stay for a record of another type.
  const std::string txt = "\x05hello";
  const std::string mail = wire_name("mail.example.com");
  dns::Message message;
  REQUIRE(parse(header(1, 3) + question() + u16(0xc00c) + fixed(1, 4) +
                    std::string("\xc0\x00\x02\x01", 4) + u16(0xc00c) +
                    fixed(16, static_cast<unsigned>(txt.size())) + txt + u16(0xc00c) +
                    fixed(15, static_cast<unsigned>(2 + mail.size())) + u16(10) + mail,
                message));
  REQUIRE(message.answers.size() == 3);
  CHECK(message.answers[0].address);
  CHECK(message.answers[1].text == "hello");
  CHECK(message.answers[2].preference == 10);

  const std::string target = wire_name("relay.example.org");
  REQUIRE(parse(header(1, 3) + question() + u16(0xc00c) +
                    fixed(12, static_cast<unsigned>(target.size())) + target + u16(0xc00c) +
                    fixed(99, 2) + "xy" + u16(0xc00c) + fixed(5, 2) + u16(0xc00c),
                message));
  REQUIRE(message.answers.size() == 3);
  CHECK(message.answers[0].type == 12);
  CHECK_FALSE(message.answers[0].address);
  CHECK(message.answers[0].target.presentation() == "relay.example.org");
  CHECK(message.answers[1].text.empty());
  CHECK(message.answers[1].target.is_root());
  CHECK(message.answers[2].preference == 0);
  CHECK(message.answers[2].target == message.questions[0].name);
  CHECK_FALSE(message.authority_soa);

  REQUIRE(parse(header(1, 0) + question(), message));
  CHECK(message.answers.empty());
}

TEST_CASE("a cleared message is as a new one") {
  const std::string soa_data = u16(0xc00c) + u16(0xc00c) + std::string(20, '\0');
  dns::Message message;
  REQUIRE(parse(header(1, 1, 1) + question() + u16(0xc00c) + fixed(1, 4) +
                    std::string("\xc0\x00\x02\x01", 4) + u16(0xc00c) +
                    fixed(6, static_cast<unsigned>(soa_data.size())) + soa_data,
                message));
  REQUIRE(message.response);
  REQUIRE(message.authority_soa);
  REQUIRE(message.answers.size() == 1);
  message.clear();
  const dns::Message fresh;
  CHECK(message.response == fresh.response);
  CHECK(message.truncated == fresh.truncated);
  CHECK(message.opcode == fresh.opcode);
  CHECK(message.rcode == fresh.rcode);
  CHECK(message.questions.empty());
  CHECK(message.answers.empty());
  CHECK(message.authority_soa == fresh.authority_soa);
}

TEST_CASE("a query asks recursively for one question with an EDNS0 OPT record") {
  std::string query = "left over from an earlier, longer query of the same buffer";
  dns::build_query(DnsName::from_dotted("10.2.0.192.in-addr.arpa"), dns::RrType::ptr, query);
  const std::string opt = std::string(1, '\0') + u16(41) + u16(1232) + u16(0) + u16(0) + u16(0);
  CHECK(query == u16(0) + u16(0x0100) + u16(1) + u16(0) + u16(0) + u16(1) + question() + opt);
  dns::build_query(DnsName(), dns::RrType::ns, query);
  CHECK(query == u16(0) + u16(0x0100) + u16(1) + u16(0) + u16(0) + u16(1) + std::string(1, '\0') +
                     u16(2) + u16(1) + opt);
}
