// Shards of an audit: every address in exactly one shard, reverse zones
// kept whole, the same split in any input order, and balanced parts.

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <audit/shard.hpp>
#include <audit/targets.hpp>
#include <util/error.hpp>

using rdns::audit::IpAddress;
using rdns::audit::parse_shard;
using rdns::audit::Shard;
using rdns::audit::shard_from_completion_index;
using rdns::audit::shard_part;
using rdns::audit::shard_zone;
using rdns::audit::ShardSplit;
using rdns::audit::ShardZone;
using rdns::audit::TargetSet;
using rdns::audit::uint128;

namespace {

TargetSet targets_of(const std::vector<std::string>& lines) {
  TargetSet targets(~uint128{0});
  for (const std::string& line : lines) targets.add(line, "test");
  return targets;
}

std::vector<IpAddress> addresses(const TargetSet& targets) {
  std::vector<IpAddress> out;
  auto cursor = targets.cursor();
  IpAddress ip;
  while (cursor.next(ip)) out.push_back(ip);
  return out;
}

std::uint64_t size_of(const TargetSet& targets) {
  return static_cast<std::uint64_t>(targets.size());
}

/// Mixed families, single addresses, partial and whole zones, ranges
/// across zone boundaries, IPv4-mapped input.
const std::vector<std::string> kMixed = {
    "192.0.2.0/24",     "198.51.100.7",  "198.51.100.200",     "10.0.0.0/22",
    "10.0.3.250",       "10.0.4.0/30",   "203.0.113.128/25",   "::ffff:203.0.113.1",
    "2001:db8::/120",   "2001:db8:1::5", "2001:db8:0:1::/126", "2001:db8:0:1::ff",
    "2001:db8:2::/127", "172.16.5.5",    "172.16.6.5",         "172.16.7.5"};

/// Checks that the `count` parts of `targets`, split over `given`, cover it
/// exactly once, each address where shard_of says, each zone in one shard.
void check_partition(const TargetSet& given, const TargetSet& targets, std::uint32_t count) {
  const ShardSplit split(given, count);
  std::set<IpAddress> seen;
  std::map<ShardZone, std::uint32_t> zone_shard;
  std::uint64_t total = 0;
  for (std::uint32_t k = 1; k <= count; ++k) {
    const TargetSet part = split.select(targets, k);
    total += size_of(part);
    for (const IpAddress& address : addresses(part)) {
      INFO("shard " << k << " of " << count << ": " << address.to_string());
      CHECK(seen.insert(address).second);  // in no other shard
      CHECK(split.shard_of(address) == k);
      const auto [entry, fresh] = zone_shard.emplace(shard_zone(address), k);
      CHECK(entry->second == k);  // the zone's other addresses are here too
    }
  }
  const std::vector<IpAddress> all = addresses(targets);
  CHECK(total == all.size());
  CHECK(seen == std::set<IpAddress>(all.begin(), all.end()));
}

/// The ranges of each of the `count` parts, for comparing two splits.
std::vector<std::vector<rdns::audit::IpRange>> parts(const TargetSet& targets,
                                                     std::uint32_t count) {
  std::vector<std::vector<rdns::audit::IpRange>> out;
  for (std::uint32_t k = 1; k <= count; ++k) {
    out.push_back(shard_part(targets, Shard{k, count}).ranges());
  }
  return out;
}

bool same_ranges(const std::vector<std::vector<rdns::audit::IpRange>>& a,
                 const std::vector<std::vector<rdns::audit::IpRange>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (std::size_t j = 0; j < a[i].size(); ++j) {
      if (a[i][j].first != b[i][j].first || a[i][j].last != b[i][j].last) return false;
    }
  }
  return true;
}

/// Every part's size within the documented bound: floor(T/N) - (w - 1) to
/// ceil(T/N) + (w - 1), w the most addresses one zone holds.
void check_balance(const TargetSet& targets, std::uint32_t count, std::uint64_t widest_zone) {
  const std::uint64_t total = size_of(targets);
  const std::uint64_t low = total / count;
  const std::uint64_t high = (total + count - 1) / count;
  std::uint64_t sum = 0;
  for (std::uint32_t k = 1; k <= count; ++k) {
    const std::uint64_t size = size_of(shard_part(targets, Shard{k, count}));
    INFO("shard " << k << " of " << count << " holds " << size << " of " << total);
    CHECK(size + (widest_zone - 1) >= low);
    CHECK(size <= high + (widest_zone - 1));
    sum += size;
  }
  CHECK(sum == total);
}

}  // namespace

TEST_CASE("parse_shard reads K/N and explains what else it refuses") {
  CHECK(parse_shard("1/1").shard == Shard{1, 1});
  CHECK(parse_shard("2/4").shard == Shard{2, 4});
  CHECK(parse_shard("10000/10000").shard == Shard{10000, 10000});
  for (const char* bad : {"0/3", "4/3", "1/0", "1/10001", "a/b", "1/", "/2", "2", "", " 1/2",
                          "1/2 ", "-1/2", "1/2/3", "+1/2", "1.0/2", "99999999999/3"}) {
    INFO(bad);
    const auto parsed = parse_shard(bad);
    CHECK_FALSE(parsed.shard);
    CHECK_THAT(parsed.error, Catch::Contains("expected K/N"));
    CHECK_THAT(parsed.error, Catch::Contains("N <= 10000"));
  }
  CHECK(parse_shard("0/3").error.rfind("0/3: ", 0) == 0);
  CHECK(parse_shard("\x1b[31m/3").error.find('\x1b') == std::string::npos);
  CHECK(rdns::audit::to_string(Shard{3, 7}) == "3/7");
}

TEST_CASE("shard_from_completion_index turns a 0-based index into shard K of N") {
  CHECK(shard_from_completion_index("0", 3).shard == Shard{1, 3});
  CHECK(shard_from_completion_index("2", 3).shard == Shard{3, 3});
  for (const char* bad : {"3", "", "-1", "1x", " 1", "one"}) {
    INFO(bad);
    const auto parsed = shard_from_completion_index(bad, 3);
    CHECK_FALSE(parsed.shard);
    CHECK_THAT(parsed.error, Catch::Contains("expected a whole number from 0 to 2"));
  }
}

TEST_CASE("shards cover mixed IPv4 and IPv6 targets exactly once, zones whole") {
  const TargetSet targets = targets_of(kMixed);
  for (const std::uint32_t count : {1u, 2u, 3u, 5u, 8u, 13u, 64u}) {
    INFO("N = " << count);
    check_partition(targets, targets, count);
  }
}

TEST_CASE("a /24 and a /64 never span two shards, whatever N") {
  // Single addresses at both ends of each zone and ranges across zone
  // boundaries: a cut inside a zone would show here.
  const TargetSet targets =
      targets_of({"192.0.2.0", "192.0.2.255", "192.0.4.0/23", "192.0.6.128/25", "192.0.7.0/25",
                  "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::/127"});
  for (std::uint32_t count = 1; count <= 12; ++count) {
    const ShardSplit split(targets, count);
    INFO("N = " << count);
    CHECK(split.shard_of(*IpAddress::parse("192.0.2.0")) ==
          split.shard_of(*IpAddress::parse("192.0.2.255")));
    CHECK(split.shard_of(*IpAddress::parse("192.0.4.0")) ==
          split.shard_of(*IpAddress::parse("192.0.4.255")));
    CHECK(split.shard_of(*IpAddress::parse("2001:db8::")) ==
          split.shard_of(*IpAddress::parse("2001:db8::ffff:ffff:ffff:ffff")));
    check_partition(targets, targets, count);
  }
}

TEST_CASE("the split is the same every time and in any input order") {
  std::vector<std::string> reordered(kMixed.rbegin(), kMixed.rend());
  // The same addresses written differently: a /22 as two /23s, a range as
  // its single addresses, duplicates.
  std::replace(reordered.begin(), reordered.end(), std::string("10.0.0.0/22"),
               std::string("10.0.2.0/23"));
  reordered.push_back("10.0.0.0/23");
  reordered.push_back("192.0.2.17");
  reordered.push_back("10.0.4.3");
  reordered.push_back("10.0.4.0");
  reordered.push_back("10.0.4.1");
  reordered.push_back("10.0.4.2");
  const TargetSet original = targets_of(kMixed);
  const TargetSet shuffled = targets_of(reordered);
  for (const std::uint32_t count : {2u, 3u, 7u}) {
    INFO("N = " << count);
    const auto first = parts(original, count);
    CHECK(same_ranges(first, parts(original, count)));
    CHECK(same_ranges(first, parts(shuffled, count)));
  }
  // Pinned: a change here moves addresses between shards, and processes of
  // two versions sharing one audit would audit some twice and some never.
  const ShardSplit split(original, 3);
  CHECK(split.shard_of(*IpAddress::parse("10.0.0.1")) == 1);
  CHECK(split.shard_of(*IpAddress::parse("192.0.2.1")) == 2);
  CHECK(split.shard_of(*IpAddress::parse("2001:db8::1")) == 3);
  CHECK(split.shard_of(*IpAddress::parse("233.252.0.1")) == 3);  // outside: by hash
  CHECK(split.shard_of(*IpAddress::parse("3fff::1")) == 2);
}

TEST_CASE("shards of 65,536 addresses in 256 /24s differ by at most one zone") {
  const TargetSet targets = targets_of({"10.20.0.0/16"});
  for (std::uint32_t k = 1; k <= 4; ++k) {
    CHECK(size_of(shard_part(targets, Shard{k, 4})) == 16384);
  }
  check_balance(targets, 7, 256);
  // 256 zones in 7 shards: 36 or 37 whole zones each.
  for (std::uint32_t k = 1; k <= 7; ++k) {
    const std::uint64_t size = size_of(shard_part(targets, Shard{k, 7}));
    CHECK((size == 36 * 256 || size == 37 * 256));
  }
}

TEST_CASE("uneven zones stay within the bound of the widest zone") {
  // 1,000 zones holding 1 to 256 addresses each, from a fixed sequence.
  std::vector<std::string> lines;
  std::uint64_t state = 12345;
  std::uint64_t widest = 0;
  for (int zone = 0; zone < 1000; ++zone) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::uint64_t held = 1 + (state >> 33) % 256;
    widest = std::max(widest, held);
    lines.push_back("10." + std::to_string(zone / 256) + "." + std::to_string(zone % 256) +
                    ".0-10." + std::to_string(zone / 256) + "." + std::to_string(zone % 256) + "." +
                    std::to_string(held - 1));
  }
  TargetSet targets(~uint128{0});
  for (const std::string& line : lines) {
    const auto dash = line.find('-');
    targets.add_range(
        {*IpAddress::parse(line.substr(0, dash)), *IpAddress::parse(line.substr(dash + 1))},
        "test");
  }
  for (const std::uint32_t count : {2u, 3u, 7u, 10u, 50u}) {
    INFO("N = " << count);
    check_balance(targets, count, widest);
  }
}

TEST_CASE("a CIDR far larger than a /24 is split without walking its addresses") {
  // 16,777,216 addresses into 10,000 shards: walking them would take
  // seconds per shard; the split works on ranges and zones.
  const TargetSet targets = targets_of({"10.0.0.0/8"});
  const ShardSplit split(targets, 10000);
  std::uint64_t total = 0;
  for (const std::uint32_t k : {1u, 2u, 5000u, 9999u, 10000u}) {
    const TargetSet part = split.select(targets, k);
    CHECK(part.ranges().size() == 1);  // a run of whole zones
    const std::uint64_t size = size_of(part);
    CHECK(size % 256 == 0);
    CHECK(size + 255 >= 16777216 / 10000);
    CHECK(size <= 16777216 / 10000 + 1 + 255);
    total += size;
  }
  CHECK(total > 0);
  // A whole /64 and more is one zone: one shard holds it all.
  const TargetSet wide = targets_of({"2001:db8::/64", "2001:db8:0:1::/96"});
  std::uint32_t holding = 0;
  for (std::uint32_t k = 1; k <= 3; ++k) {
    const uint128 size = shard_part(wide, Shard{k, 3}).size();
    if (size == 0) continue;
    ++holding;
    CHECK((size == (uint128{1} << 64) || size == (uint128{1} << 32)));
  }
  CHECK(holding == 2);
}

TEST_CASE("addresses beyond the given targets follow their zone's hash") {
  // What --domain adds in each process: not part of the cut, so a shard
  // whose resolver saw other MX or SPF records still agrees on the rest.
  const TargetSet given = targets_of({"192.0.2.0/24", "198.51.100.0/24", "2001:db8::/120"});
  TargetSet merged = targets_of({"192.0.2.0/24", "198.51.100.0/24", "2001:db8::/120"});
  for (const char* extra : {"192.0.2.77", "203.0.113.0/26", "203.0.113.200", "233.252.0.0/22",
                            "2001:db8::1:0/126", "2001:db8:5::1", "3fff::/120"}) {
    merged.add(extra, "domain");
  }
  for (const std::uint32_t count : {1u, 2u, 3u, 4u, 9u}) {
    INFO("N = " << count);
    check_partition(given, merged, count);
    const ShardSplit split(given, count);
    const ShardSplit other_given(targets_of({"192.0.2.0/24"}), count);
    // A given zone keeps its shard for its other addresses; a zone beyond
    // the given ones has one shard whatever was given.
    CHECK(split.shard_of(*IpAddress::parse("2001:db8::1:1")) ==
          split.shard_of(*IpAddress::parse("2001:db8::5")));
    for (const char* outside : {"203.0.113.1", "233.252.3.9", "3fff::7", "2001:db8:5::1"}) {
      CHECK(split.shard_of(*IpAddress::parse(outside)) ==
            other_given.shard_of(*IpAddress::parse(outside)));
    }
  }
}

TEST_CASE("zones beyond the given targets spread evenly on average") {
  // A domains-only audit: nothing given, 4,096 zones by hash.
  const TargetSet nothing(1);
  const TargetSet found = targets_of({"10.0.0.0/12"});
  for (const std::uint32_t count : {4u, 7u}) {
    const ShardSplit split(nothing, count);
    const double even = 4096.0 / count;
    for (std::uint32_t k = 1; k <= count; ++k) {
      const double zones = static_cast<double>(size_of(split.select(found, k))) / 256;
      INFO("shard " << k << " of " << count << ": " << zones << " zones");
      CHECK(zones > even * 0.85);
      CHECK(zones < even * 1.15);
    }
  }
}

TEST_CASE("a split refuses a count or shard out of range") {
  const TargetSet targets = targets_of({"192.0.2.1"});
  CHECK_THROWS_AS(ShardSplit(targets, 0), rdns::Error);
  CHECK_THROWS_AS(ShardSplit(targets, 10001), rdns::Error);
  const ShardSplit split(targets, 3);
  CHECK_THROWS_AS(split.select(targets, 0), rdns::Error);
  CHECK_THROWS_AS(split.select(targets, 4), rdns::Error);
  CHECK(split.select(TargetSet(1), 2).empty());
  // One address in three shards: one holds it, two are empty.
  std::uint64_t held = 0;
  for (std::uint32_t k = 1; k <= 3; ++k) held += size_of(split.select(targets, k));
  CHECK(held == 1);
}
