#pragma once
/// Shards: one audit split into N parts that N processes (Kubernetes
/// Indexed Job pods, say) run side by side, each on its own resolver.
///
/// A reverse zone is never split: every address of one IPv4 /24 or one IPv6
/// /64 goes to the same shard, so the per-zone pacing, the lame-delegation
/// probes and the resolver's cache of each zone serve one process only.
///
/// The given targets (IPs, CIDRs, files, standard input) are cut in address
/// order (IPv4 before IPv6) into N runs of whole zones: a zone goes to shard
/// floor(s * N / T) + 1, where T is the number of given addresses and s the
/// number of them before the zone. Each shard then holds between
/// floor(T/N) - (w - 1) and ceil(T/N) + (w - 1) addresses, w being the most
/// addresses one zone holds (at most 256 for IPv4). The split depends on the
/// merged set only, so it is the same in any input order and on any machine.
///
/// Addresses outside every zone of the given targets (those a domain's MX or
/// SPF records name) go by a fixed hash of their zone (FNV-1a, then the
/// MurmurHash3 finaliser): the same shard in every process whatever each one
/// resolved, balanced on average rather than within a bound. So N processes
/// given the same targets cover every address exactly once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <audit/ip.hpp>
#include <audit/targets.hpp>

namespace rdns::audit {

/// The most shards one audit may be split into.
inline constexpr std::uint32_t kMaxShards = 10000;

/// Part `index` (1-based) of `count`.
struct Shard {
  std::uint32_t index = 1;
  std::uint32_t count = 1;

  friend bool operator==(const Shard&, const Shard&) = default;
};

/// A shard read from text, or why the text is not one.
struct ParsedShard {
  std::optional<Shard> shard;
  std::string error;  ///< starts with the (escaped) text
};

/// "K/N" with 1 <= K <= N <= kMaxShards.
ParsedShard parse_shard(std::string_view text);

/// A Kubernetes Indexed Job's JOB_COMPLETION_INDEX (0-based, below `count`)
/// as the 1-based shard of `count`.
ParsedShard shard_from_completion_index(std::string_view index, std::uint32_t count);

/// "K/N".
std::string to_string(const Shard& shard);

/// The zone an address is sharded with: its /24 (IPv4) or /64 (IPv6).
struct ShardZone {
  Family family = Family::ipv4;
  uint128 key = 0;  ///< the address shifted right by 8 (IPv4) or 64 (IPv6)

  friend auto operator<=>(const ShardZone&, const ShardZone&) = default;
  friend bool operator==(const ShardZone&, const ShardZone&) = default;
};

ShardZone shard_zone(const IpAddress& address);

/// The split of one audit into `count` shards, made from the given targets.
class ShardSplit {
 public:
  /// Cuts `given` as the header describes, without walking its addresses:
  /// the cost follows the number of merged ranges and `count`. Throws
  /// rdns::Error(Errc::usage) for a count outside 1..kMaxShards.
  ShardSplit(const TargetSet& given, std::uint32_t count);

  std::uint32_t count() const { return count_; }

  /// The shard (1-based) of an address, given or not.
  std::uint32_t shard_of(const IpAddress& address) const;

  /// The addresses of `targets` in shard `index` (1-based); `targets` may
  /// hold addresses beyond the given ones. Walks zones only outside the
  /// given ones (at most one per 256 addresses for IPv4).
  TargetSet select(const TargetSet& targets, std::uint32_t index) const;

 private:
  /// A run of zones of one family, first to last inclusive.
  struct ZoneSpan {
    ShardZone first;
    ShardZone last;
  };

  std::uint32_t shard_of(const ShardZone& zone) const;
  bool is_given(const ShardZone& zone) const;
  /// The last zone from `zone` on that stays in one shard and is given (or
  /// not) throughout, but not past `limit`.
  ShardZone stretch_end(const ShardZone& zone, const ShardZone& limit) const;

  std::uint32_t count_;
  /// cuts_[k - 1]: the first zone of shard k + 1; a shard whose cut equals
  /// the next one's is empty. A cut past every zone is kAfterAll.
  std::vector<ShardZone> cuts_;
  /// The zones the given targets touch, merged and ascending.
  std::vector<ZoneSpan> given_zones_;
};

/// The part of `targets` in `shard`, the split made over `targets` itself.
TargetSet shard_part(const TargetSet& targets, Shard shard);

}  // namespace rdns::audit
