// Target input as people really write it: IPv4-mapped IPv6 addresses, a
// byte-order mark from a Windows editor, an absurdly long line.

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <audit/targets.hpp>
#include <util/error.hpp>

using namespace rdns::audit;

namespace {

std::vector<std::string> addresses(const TargetSet& set) {
  std::vector<std::string> out;
  TargetSet::Cursor cursor = set.cursor();
  IpAddress ip;
  while (cursor.next(ip)) out.push_back(ip.to_string());
  return out;
}

}  // namespace

TEST_CASE("an IPv4-mapped IPv6 address is audited as the IPv4 address") {
  TargetSet set(1024);
  set.add("::ffff:192.0.2.10", "argument");
  set.add("::FFFF:198.51.100.0/120", "argument");
  const auto got = addresses(set);
  REQUIRE(got.size() == 257);
  CHECK(got.front() == "192.0.2.10");
  CHECK(got[1] == "198.51.100.0");
  CHECK(got.back() == "198.51.100.255");
  const ParsedRange short_prefix = parse_range("::ffff:0.0.0.0/95");
  CHECK_FALSE(short_prefix.range);
  CHECK_THAT(short_prefix.error, Catch::Contains("IPv4-mapped"));
}

TEST_CASE("TargetSet::add_lines skips a UTF-8 byte-order mark on line 1 only") {
  TargetSet set(16);
  std::istringstream in(
      "\xEF\xBB\xBF"
      "192.0.2.10\n192.0.2.11\n");
  set.add_lines(in, "ips.txt", InvalidInput::fail, {});
  CHECK(addresses(set) == std::vector<std::string>{"192.0.2.10", "192.0.2.11"});

  TargetSet later(16);
  std::istringstream second(
      "192.0.2.10\n\xEF\xBB\xBF"
      "192.0.2.11\n");
  CHECK_THROWS_WITH(later.add_lines(second, "ips.txt", InvalidInput::fail, {}),
                    Catch::Contains("ips.txt:2:"));
}

TEST_CASE("TargetSet::add_lines shortens a huge bad line in its message, keeping file:line") {
  TargetSet set(16);
  std::istringstream in("192.0.2.10\n" + std::string(4 << 20, 'x') + "\n");
  try {
    set.add_lines(in, "ips.txt", InvalidInput::fail, {});
    FAIL("no error");
  } catch (const rdns::Error& error) {
    const std::string message = error.what();
    CHECK(message.rfind("ips.txt:2: ", 0) == 0);
    CHECK(message.size() < 400);
    CHECK_THAT(message, Catch::Contains("4194304 bytes"));
  }
}
