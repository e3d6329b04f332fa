#include <array>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>

#include <audit/targets.hpp>
#include <util/error.hpp>

using rdns::audit::InvalidInput;
using rdns::audit::IpAddress;
using rdns::audit::TargetSet;

namespace {

std::vector<std::string> addresses(const TargetSet& targets) {
  std::vector<std::string> out;
  auto cursor = targets.cursor();
  IpAddress ip;
  while (cursor.next(ip)) out.push_back(ip.to_string());
  return out;
}

void no_warning(const std::string& message) {
  FAIL("unexpected warning: " << message);
}

}  // namespace

TEST_CASE("IpAddress::to_string writes IPv4 as inet_ntop does") {
  // Every value of each byte, in every position, and the extremes.
  std::vector<std::uint32_t> values = {0, 0xFFFFFFFF, 0x0A000001, 0x7F000001};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    for (int shift = 0; shift < 32; shift += 8) values.push_back((byte << shift) | 0x01000000);
  }
  for (const std::uint32_t value : values) {
    const IpAddress ip = IpAddress::from_v4(value);
    const std::uint32_t network = htonl(value);
    std::array<char, INET_ADDRSTRLEN> expected{};
    inet_ntop(AF_INET, &network, expected.data(), expected.size());
    CHECK(ip.to_string() == expected.data());
  }
}

TEST_CASE("IpAddress::parse accepts canonical IPv4 and IPv6 only") {
  CHECK(IpAddress::parse("192.0.2.1")->to_string() == "192.0.2.1");
  CHECK(IpAddress::parse("2001:DB8::1")->to_string() == "2001:db8::1");
  CHECK_FALSE(IpAddress::parse("192.0.2.256"));
  CHECK_FALSE(IpAddress::parse("192.0.2"));
  CHECK_FALSE(IpAddress::parse("010.0.2.1"));
  CHECK_FALSE(IpAddress::parse("1.2.3.4 "));
  CHECK_FALSE(IpAddress::parse("2001:db8:::1"));
  CHECK_FALSE(IpAddress::parse(""));
}

TEST_CASE("IpAddress::reverse_name builds in-addr.arpa and ip6.arpa names") {
  CHECK(IpAddress::parse("192.0.2.10")->reverse_name() == "10.2.0.192.in-addr.arpa");
  CHECK(IpAddress::parse("2001:db8::25")->reverse_name() ==
        "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST_CASE("parse_range reads CIDR ranges and explains bad ones") {
  const auto range = rdns::audit::parse_range("192.0.2.0/30");
  REQUIRE(range.range);
  CHECK(range.range->first.to_string() == "192.0.2.0");
  CHECK(range.range->last.to_string() == "192.0.2.3");
  CHECK(range.range->size() == 4);
  CHECK(rdns::audit::parse_range("2001:db8::/126").range->size() == 4);
  CHECK(rdns::audit::parse_range("0.0.0.0/0").range->size() == (rdns::audit::uint128{1} << 32));
  CHECK(rdns::audit::parse_range("192.0.2.0/33").error == "prefix length must be 0-32");
  CHECK(rdns::audit::parse_range("192.0.2.0/").error == "prefix length must be 0-32");
  CHECK(rdns::audit::parse_range("192.0.2.0/2x").error == "prefix length must be 0-32");
  CHECK(rdns::audit::parse_range("192.0.2.1/24").error.find("host bits") != std::string::npos);
  CHECK(rdns::audit::parse_range("mail.example.com").error == "not an IP address");
}

TEST_CASE("TargetSet merges duplicates and overlapping ranges") {
  TargetSet targets(1000);
  targets.add("192.0.2.2", "argument");
  targets.add("192.0.2.0/30", "argument");
  targets.add("192.0.2.3", "argument");
  targets.add("192.0.2.4/31", "argument");
  targets.add("2001:db8::1", "argument");
  targets.add("2001:DB8::1", "argument");
  CHECK(targets.size() == 7);
  CHECK(addresses(targets) == std::vector<std::string>{"192.0.2.0", "192.0.2.1", "192.0.2.2",
                                                       "192.0.2.3", "192.0.2.4", "192.0.2.5",
                                                       "2001:db8::1"});
  REQUIRE(targets.ranges().size() == 2);
}

TEST_CASE("TargetSet refuses ranges beyond the address limit, naming the input") {
  TargetSet targets(256);
  targets.add("192.0.2.0/24", "argument");
  targets.add("192.0.2.7", "argument");  // a duplicate costs nothing
  CHECK(targets.size() == 256);
  try {
    targets.add("198.51.100.0/31", "ips.txt:4");
    FAIL("expected an error");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::input);
    CHECK_THAT(error.what(), Catch::Contains("ips.txt:4") && Catch::Contains("198.51.100.0/31") &&
                                 Catch::Contains("--max-ips"));
  }
  TargetSet from_file(256);
  std::istringstream lines("192.0.2.0/25\n# a comment\n192.0.2.128/25\n\n  198.51.100.0/30  \n");
  CHECK_THROWS_WITH(from_file.add_lines(lines, "ips.txt", InvalidInput::fail, {}),
                    Catch::StartsWith("ips.txt:5: '198.51.100.0/30' would bring the audit to more "
                                      "than 256 addresses"));
  TargetSet ranges(2);
  ranges.add_range(*rdns::audit::parse_range("192.0.2.0/31").range, "MX of example.com");
  CHECK_THROWS_WITH(
      ranges.add_range(*rdns::audit::parse_range("192.0.2.9").range, "SPF of example.com"),
      Catch::StartsWith("SPF of example.com: '192.0.2.9' would bring"));
  TargetSet huge(1u << 20);
  CHECK_THROWS_WITH(huge.add("2001:db8::/64", "argument"), Catch::Contains("more than 1048576"));
  CHECK_THROWS_WITH(huge.add("0.0.0.0/0", "argument"), Catch::Contains("0.0.0.0/0"));
}

TEST_CASE("TargetSet::add_lines skips comments and names file and line of bad input") {
  std::istringstream good("# mail servers\n\n192.0.2.10  # primary\n  198.51.100.0/31\r\n");
  TargetSet targets(100);
  targets.add_lines(good, "ips.txt", InvalidInput::fail, no_warning);
  CHECK(addresses(targets) ==
        std::vector<std::string>{"192.0.2.10", "198.51.100.0", "198.51.100.1"});

  std::istringstream bad("192.0.2.1\n192.0.2.300\n");
  TargetSet strict(100);
  try {
    strict.add_lines(bad, "ips.txt", InvalidInput::fail, no_warning);
    FAIL("expected an error");
  } catch (const rdns::Error& error) {
    CHECK(std::string(error.what()) ==
          "ips.txt:2: '192.0.2.300' is not an IP address or CIDR range: not an IP address");
  }

  std::istringstream mixed("192.0.2.1\nmx1.example.com\n10.0.0.0/33\n192.0.2.2\n");
  TargetSet lenient(100);
  std::vector<std::string> warnings;
  lenient.add_lines(mixed, "stdin", InvalidInput::skip_with_warning,
                    [&](const std::string& message) { warnings.push_back(message); });
  CHECK(lenient.size() == 2);
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[0], Catch::StartsWith("stdin:2: 'mx1.example.com'"));
  CHECK_THAT(warnings[1], Catch::StartsWith("stdin:3: '10.0.0.0/33'"));
}

TEST_CASE("TargetSet escapes control bytes of bad input in messages") {
  std::istringstream hostile("\x1b[2J\n");
  TargetSet targets(100);
  CHECK_THROWS_WITH(targets.add_lines(hostile, "f", InvalidInput::fail, no_warning),
                    Catch::Contains("'\\027[2J'"));
}

TEST_CASE("TargetSet::add_file names an unreadable file") {
  TargetSet targets(100);
  CHECK_THROWS_WITH(targets.add_file("/nonexistent/ips.txt", InvalidInput::fail, no_warning),
                    Catch::StartsWith("/nonexistent/ips.txt: cannot open input file"));
}

TEST_CASE("TargetSet::remove takes out addresses a resumed run has done") {
  TargetSet targets(1000);
  targets.add("192.0.2.0/29", "argument");
  targets.add("2001:db8::/126", "argument");
  targets.remove({*IpAddress::parse("192.0.2.7"), *IpAddress::parse("192.0.2.0"),
                  *IpAddress::parse("192.0.2.3"), *IpAddress::parse("2001:db8::1"),
                  *IpAddress::parse("198.51.100.1")});
  CHECK(addresses(targets) == std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.4",
                                                       "192.0.2.5", "192.0.2.6",
                                                       "2001:db8::", "2001:db8::2", "2001:db8::3"});
  CHECK(targets.size() == 8);
  targets.add_range({*IpAddress::parse("192.0.2.3"), *IpAddress::parse("192.0.2.3")}, "stored");
  CHECK(targets.size() == 9);
}

TEST_CASE("TargetSet keeps the ends of both address spaces") {
  using rdns::audit::uint128;
  TargetSet targets(~uint128{0});
  targets.add("255.255.255.254/31", "argument");
  targets.add("255.255.255.252/31", "argument");  // adjacent: one interval
  targets.add("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", "argument");
  targets.add("0.0.0.0/32", "argument");
  CHECK(targets.size() == 7);
  CHECK(targets.ranges().size() == 3);
  CHECK(targets.contains(*IpAddress::parse("255.255.255.255")));
  CHECK_FALSE(targets.contains(*IpAddress::parse("255.255.255.251")));
  CHECK_FALSE(targets.contains(*IpAddress::parse("0.0.0.1")));
  CHECK(targets.contains(*IpAddress::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));

  targets.remove({*IpAddress::parse("255.255.255.255"), *IpAddress::parse("255.255.255.253"),
                  *IpAddress::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")});
  CHECK(addresses(targets) == std::vector<std::string>{"0.0.0.0", "255.255.255.252",
                                                       "255.255.255.254",
                                                       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"});
  CHECK_FALSE(targets.contains(*IpAddress::parse("255.255.255.255")));

  // The whole IPv4 space is one interval whose count needs more than 32 bits.
  TargetSet everything(~uint128{0});
  everything.add("0.0.0.0/0", "argument");
  everything.add("10.0.0.0/8", "argument");
  CHECK(everything.size() == uint128{1} << 32);
  CHECK(everything.ranges().size() == 1);
}
