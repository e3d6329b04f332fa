// Shards of an audit: the cut of the given targets into runs of whole
// reverse zones, and the hash for the zones beyond them.

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include <audit/shard.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::audit {
namespace {

/// Past every zone: the cut of a shard that holds none.
constexpr ShardZone kAfterAll{Family::ipv6, uint128{1} << 64};

int zone_bits(Family family) {
  return family == Family::ipv4 ? 8 : 64;
}

uint128 zone_first_value(const ShardZone& zone) {
  return zone.key << zone_bits(zone.family);
}

uint128 zone_last_value(const ShardZone& zone) {
  const int bits = zone_bits(zone.family);
  return (zone.key << bits) | ((uint128{1} << bits) - 1);
}

IpAddress address_of(Family family, uint128 value) {
  return family == Family::ipv4 ? IpAddress::from_v4(static_cast<std::uint32_t>(value))
                                : IpAddress::from_v6(value);
}

ShardZone next_zone(const ShardZone& zone) {
  return {zone.family, zone.key + 1};
}

/// FNV-1a over the zone's family and prefix bytes, then MurmurHash3's
/// 64-bit finaliser: FNV-1a alone leaves the low bits, which `% count`
/// keeps for a power of two, depending on the low bits of each byte only.
std::uint64_t zone_hash(const ShardZone& zone) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  const auto mix = [&](unsigned char byte) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  };
  mix(static_cast<unsigned char>(zone.family));
  const int bytes = zone.family == Family::ipv4 ? 3 : 8;
  for (int i = bytes - 1; i >= 0; --i) mix(static_cast<unsigned char>(zone.key >> (8 * i)));
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  hash *= 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33;
  return hash;
}

/// A whole number in [min, max] written with digits only; nullopt otherwise.
std::optional<std::uint32_t> whole_number(std::string_view text, std::uint32_t min,
                                          std::uint32_t max) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return std::nullopt;
  }
  return value;
}

/// ceil(k * total / count) without overflowing: the number of given
/// addresses that come before shard k + 1 at the least.
uint128 threshold(std::uint32_t k, uint128 total, std::uint32_t count) {
  const uint128 whole = total / count;
  const uint128 rest = total % count;
  return whole * k + (rest * k + count - 1) / count;
}

}  // namespace

ParsedShard parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  const auto fail = [&] {
    return ParsedShard{std::nullopt,
                       fmt::format("{}: expected K/N, shard K of N, with 1 <= K <= N <= {}",
                                   escape_text(text), kMaxShards)};
  };
  if (slash == std::string_view::npos) return fail();
  const auto count = whole_number(text.substr(slash + 1), 1, kMaxShards);
  if (!count) return fail();
  const auto index = whole_number(text.substr(0, slash), 1, *count);
  if (!index) return fail();
  return {Shard{*index, *count}, {}};
}

ParsedShard shard_from_completion_index(std::string_view index, std::uint32_t count) {
  const auto value = count == 0 ? std::nullopt : whole_number(index, 0, count - 1);
  if (!value) {
    return {std::nullopt, fmt::format("'{}': expected a whole number from 0 to {}",
                                      escape_text(index), count == 0 ? 0 : count - 1)};
  }
  return {Shard{*value + 1, count}, {}};
}

std::string to_string(const Shard& shard) {
  return fmt::format("{}/{}", shard.index, shard.count);
}

ShardZone shard_zone(const IpAddress& address) {
  return {address.family(), address.value() >> zone_bits(address.family())};
}

ShardSplit::ShardSplit(const TargetSet& given, std::uint32_t count) : count_(count) {
  if (count < 1 || count > kMaxShards) {
    throw Error(Errc::usage,
                fmt::format("a split into {} shards: expected 1 to {}", count, kMaxShards));
  }
  const uint128 total = given.size();
  if (total == ~uint128{0}) {
    throw Error(Errc::usage, "the targets are too many addresses to split into shards");
  }
  // Zones in address order; each new zone starts at `offset` given
  // addresses. Cut k falls on the first zone that starts at or after
  // threshold(k): whole zones, and no address walked.
  cuts_.assign(count - 1, kAfterAll);
  std::uint32_t k = 1;
  uint128 offset = 0;
  for (const IpRange& range : given.ranges()) {
    const Family family = range.first.family();
    const int bits = zone_bits(family);
    const uint128 first = range.first.value();
    const uint128 last = range.last.value();
    const ShardZone first_zone = shard_zone(range.first);
    const ShardZone last_zone = shard_zone(range.last);
    const bool continues = !given_zones_.empty() && given_zones_.back().last == first_zone;
    if (!continues) {
      while (k < count && offset >= threshold(k, total, count)) cuts_[k++ - 1] = first_zone;
    }
    // The range's later zones start at offset + (zone start - first).
    while (k < count && last_zone.key > first_zone.key) {
      const uint128 last_start = (last_zone.key << bits) - first;
      const uint128 wanted = threshold(k, total, count);
      const uint128 into = wanted > offset ? wanted - offset : 0;
      if (into > last_start) break;
      const uint128 key =
          std::max(first_zone.key + 1, (first + into + (uint128{1} << bits) - 1) >> bits);
      cuts_[k++ - 1] = {family, key};
    }
    offset += last - first + 1;
    const bool adjacent = !given_zones_.empty() && given_zones_.back().last.family == family &&
                          given_zones_.back().last.key + 1 >= first_zone.key;
    if (adjacent) {
      given_zones_.back().last = last_zone;
    } else {
      given_zones_.push_back({first_zone, last_zone});
    }
  }
}

bool ShardSplit::is_given(const ShardZone& zone) const {
  const auto after =
      std::upper_bound(given_zones_.begin(), given_zones_.end(), zone,
                       [](const ShardZone& z, const ZoneSpan& span) { return z < span.first; });
  return after != given_zones_.begin() && zone <= std::prev(after)->last;
}

std::uint32_t ShardSplit::shard_of(const ShardZone& zone) const {
  if (!is_given(zone)) return static_cast<std::uint32_t>(zone_hash(zone) % count_) + 1;
  const auto after = std::upper_bound(cuts_.begin(), cuts_.end(), zone);
  return static_cast<std::uint32_t>(after - cuts_.begin()) + 1;
}

std::uint32_t ShardSplit::shard_of(const IpAddress& address) const {
  return shard_of(shard_zone(address));
}

ShardZone ShardSplit::stretch_end(const ShardZone& zone, const ShardZone& limit) const {
  const auto after =
      std::upper_bound(given_zones_.begin(), given_zones_.end(), zone,
                       [](const ShardZone& z, const ZoneSpan& span) { return z < span.first; });
  if (after == given_zones_.begin() || zone > std::prev(after)->last) {
    // Outside the given zones each zone has a shard of its own choosing.
    return zone;
  }
  ShardZone end = std::min(std::prev(after)->last, limit);
  const std::uint32_t shard = shard_of(zone);
  if (shard < count_ && cuts_[shard - 1] <= end) end = {zone.family, cuts_[shard - 1].key - 1};
  return end;
}

TargetSet ShardSplit::select(const TargetSet& targets, std::uint32_t index) const {
  if (index < 1 || index > count_) {
    throw Error(Errc::usage,
                fmt::format("shard {} of {}: expected 1 to {}", index, count_, count_));
  }
  TargetSet part(~uint128{0});
  for (const IpRange& range : targets.ranges()) {
    const Family family = range.first.family();
    const ShardZone last_zone = shard_zone(range.last);
    for (ShardZone zone = shard_zone(range.first);; zone = next_zone(zone)) {
      const ShardZone end = stretch_end(zone, last_zone);
      if (shard_of(zone) == index) {
        const uint128 first = std::max(range.first.value(), zone_first_value(zone));
        const uint128 last = std::min(range.last.value(), zone_last_value(end));
        part.add_range({address_of(family, first), address_of(family, last)}, "shard");
      }
      if (end == last_zone) break;
      zone = end;
    }
  }
  return part;
}

TargetSet shard_part(const TargetSet& targets, Shard shard) {
  return ShardSplit(targets, shard.count).select(targets, shard.index);
}

}  // namespace rdns::audit
