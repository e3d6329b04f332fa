#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <type_traits>

#include <fmt/format.h>

#include <audit/targets.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::audit {
namespace {

std::string uint128_to_string(uint128 value) {
  if (value == 0) return "0";
  std::string digits;
  while (value != 0) {
    digits += static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

uint128 saturating_add(uint128 a, uint128 b) {
  return b > ~uint128{0} - a ? ~uint128{0} : a + b;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

/// Bad input quoted in a message: escaped, and cut short so that a huge line
/// (a binary file given as input) yields a readable message.
std::string quoted_input(std::string_view text) {
  constexpr std::size_t kShown = 80;
  if (text.size() <= kShown) return escape_text(text);
  return fmt::format("{}... ({} bytes)", escape_text(text.substr(0, kShown)), text.size());
}

/// Sorts and merges adjacent or overlapping intervals; returns how many
/// addresses they hold (saturating).
template <typename Intervals>
uint128 merge_intervals(Intervals& list) {
  using Value = std::remove_cvref_t<decltype(list.front().first)>;
  std::sort(list.begin(), list.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  Intervals merged;
  for (const auto& interval : list) {
    if (!merged.empty() && (merged.back().last == static_cast<Value>(~Value{0}) ||
                            interval.first <= merged.back().last + 1)) {
      merged.back().last = std::max(merged.back().last, interval.last);
    } else {
      merged.push_back(interval);
    }
  }
  uint128 total = 0;
  for (const auto& interval : merged) {
    total = saturating_add(total, uint128{interval.last} - uint128{interval.first});
    total = saturating_add(total, 1);
  }
  list = std::move(merged);
  return total;
}

/// Takes the sorted addresses of one family, from `next` on, out of sorted
/// disjoint intervals; leaves `next` at the first address of another family.
template <typename Intervals, typename Iterator>
void remove_addresses(Intervals& list, Family family, Iterator& next, Iterator end) {
  using Value = std::remove_cvref_t<decltype(list.front().first)>;
  Intervals kept;
  // Each removal splits at most one interval in two: reserving for that
  // spares the copies (and the transient doubling) of a growing vector.
  kept.reserve(list.size() + static_cast<std::size_t>(std::distance(next, end)));
  for (const auto& interval : list) {
    auto rest = interval;
    bool empty = false;
    while (next != end && next->family() == family && next->value() <= rest.last) {
      const auto value = static_cast<Value>(next->value());
      ++next;
      if (value < rest.first) continue;
      if (value > rest.first) kept.push_back({rest.first, static_cast<Value>(value - 1)});
      if (value == rest.last) {
        empty = true;
        break;
      }
      rest.first = static_cast<Value>(value + 1);
    }
    if (!empty) kept.push_back(rest);
  }
  list = std::move(kept);
  while (next != end && next->family() == family) ++next;
}

template <typename Intervals>
bool intervals_contain(const Intervals& list, uint128 value) {
  // The first interval starting after the value; the one before may hold it.
  const auto after = std::upper_bound(list.begin(), list.end(), value,
                                      [](uint128 v, const auto& i) { return v < i.first; });
  return after != list.begin() && std::prev(after)->last >= value;
}

}  // namespace

TargetSet::TargetSet(uint128 max_addresses) : max_addresses_(max_addresses) {}

void TargetSet::add(std::string_view text, std::string_view origin) {
  const std::string_view trimmed = trim(text);
  const ParsedRange parsed = parse_range(trimmed);
  if (!parsed.range) {
    throw Error(Errc::input, fmt::format("{}: '{}' is not an IP address or CIDR range: {}", origin,
                                         quoted_input(trimmed), parsed.error));
  }
  if (!insert(*parsed.range)) throw_too_many(origin, trimmed);
}

bool TargetSet::insert(const IpRange& range) {
  if (range.first.family() == Family::ipv4) {
    v4_.push_back({static_cast<std::uint32_t>(range.first.value()),
                   static_cast<std::uint32_t>(range.last.value())});
  } else {
    v6_.push_back({range.first.value(), range.last.value()});
  }
  const uint128 span = range.size();
  // Duplicates are cheap to keep until the raw total passes the limit; only
  // then is the list merged to learn the real count.
  raw_size_ = saturating_add(raw_size_, span);
  dirty_ = true;
  // Merging as the list grows keeps memory proportional to the distinct
  // ranges, not to the input lines (a sorted file of 1M IPs is one range).
  if (v4_.size() + v6_.size() > 2 * entries_after_compaction_ + 65536) compact();
  if (raw_size_ <= max_addresses_) return true;
  compact();
  return size_ <= max_addresses_;
}

void TargetSet::throw_too_many(std::string_view origin, std::string_view text) const {
  throw Error(Errc::input,
              fmt::format("{}: '{}' would bring the audit to more than {} addresses "
                          "(raise --max-ips to allow it)",
                          origin, quoted_input(text), uint128_to_string(max_addresses_)));
}

void TargetSet::compact() const {
  size_ = saturating_add(merge_intervals(v4_), merge_intervals(v6_));
  raw_size_ = size_;
  dirty_ = false;
  entries_after_compaction_ = v4_.size() + v6_.size();
}

void TargetSet::add_range(const IpRange& range, std::string_view origin) {
  if (insert(range)) return;
  const std::string text = range.first == range.last
                               ? range.first.to_string()
                               : range.first.to_string() + "-" + range.last.to_string();
  throw_too_many(origin, text);
}

bool TargetSet::add_range_within_limit(const IpRange& range, std::string_view origin) {
  if (saturating_add(size(), range.size()) > max_addresses_) return false;
  add_range(range, origin);
  return true;
}

void TargetSet::remove(std::vector<IpAddress> addresses) {
  std::sort(addresses.begin(), addresses.end());
  size();  // merge first: the walk below needs sorted, disjoint intervals
  auto next = addresses.begin();
  remove_addresses(v4_, Family::ipv4, next, addresses.end());
  remove_addresses(v6_, Family::ipv6, next, addresses.end());
  dirty_ = true;
}

void TargetSet::add_lines(std::istream& in, std::string_view source_name, InvalidInput on_invalid,
                          const std::function<void(const std::string&)>& warn) {
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view content = line;
    // Editors on Windows start UTF-8 files with a byte-order mark.
    if (number == 1 && content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
    if (const auto hash = content.find('#'); hash != std::string_view::npos) {
      content = content.substr(0, hash);
    }
    content = trim(content);
    if (content.empty()) continue;
    const ParsedRange parsed = parse_range(content);
    if (!parsed.range) {
      const std::string message =
          fmt::format("{}:{}: '{}' is not an IP address or CIDR range: {}", source_name, number,
                      quoted_input(content), parsed.error);
      if (on_invalid == InvalidInput::fail) throw Error(Errc::input, message);
      warn(message + " (skipped)");
      continue;
    }
    if (!insert(*parsed.range)) throw_too_many(fmt::format("{}:{}", source_name, number), content);
  }
  if (in.bad()) {
    throw Error(Errc::input, fmt::format("{}: read error after line {}: {}", source_name, number,
                                         std::strerror(errno)));
  }
}

void TargetSet::add_file(const std::string& path, InvalidInput on_invalid,
                         const std::function<void(const std::string&)>& warn) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw Error(Errc::input,
                fmt::format("{}: is a directory, not a file of targets", escape_text(path)));
  }
  std::ifstream file(path);
  if (!file) {
    throw Error(Errc::input, fmt::format("{}: cannot open input file: {}", escape_text(path),
                                         std::strerror(errno)));
  }
  add_lines(file, path, on_invalid, warn);
}

uint128 TargetSet::size() const {
  if (dirty_) compact();
  return size_;
}

bool TargetSet::contains(const IpAddress& address) const {
  size();  // merge first: the search needs sorted, disjoint intervals
  return address.family() == Family::ipv4 ? intervals_contain(v4_, address.value())
                                          : intervals_contain(v6_, address.value());
}

TargetSet::Cursor::Cursor(const TargetSet& set) : set_(&set) {
  set.size();
}

bool TargetSet::Cursor::next(IpAddress& out) {
  for (;;) {
    const std::size_t count = list_ == 0 ? set_->v4_.size() : set_->v6_.size();
    if (index_ >= count) {
      if (list_ == 1) return false;
      list_ = 1;
      index_ = 0;
      started_interval_ = false;
      continue;
    }
    const uint128 first = list_ == 0 ? uint128{set_->v4_[index_].first} : set_->v6_[index_].first;
    const uint128 last = list_ == 0 ? uint128{set_->v4_[index_].last} : set_->v6_[index_].last;
    if (!started_interval_) {
      next_value_ = first;
      started_interval_ = true;
    }
    const uint128 value = next_value_;
    if (value == last) {
      ++index_;
      started_interval_ = false;
    } else {
      ++next_value_;
    }
    out = list_ == 0 ? IpAddress::from_v4(static_cast<std::uint32_t>(value))
                     : IpAddress::from_v6(value);
    return true;
  }
}

std::vector<IpRange> TargetSet::ranges() const {
  size();
  std::vector<IpRange> out;
  for (const auto& i : v4_)
    out.push_back({IpAddress::from_v4(i.first), IpAddress::from_v4(i.last)});
  for (const auto& i : v6_)
    out.push_back({IpAddress::from_v6(i.first), IpAddress::from_v6(i.last)});
  return out;
}

}  // namespace rdns::audit
