#pragma once
/// The set of addresses to audit, built from command-line arguments, files
/// and standard input. Ranges are kept as merged intervals, so duplicates
/// and overlaps are audited once and a /16 costs no memory per address.

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <audit/ip.hpp>

namespace rdns::audit {

/// What to do with a line that is neither an address nor a CIDR range.
enum class InvalidInput { fail, skip_with_warning };

/// Ordered, de-duplicated IP ranges with a guard against huge expansions.
class TargetSet {
 public:
  /// max_addresses: adding ranges beyond this total is an input error.
  explicit TargetSet(uint128 max_addresses);

  /// Adds one IP or CIDR; `origin` names where it came from ("argument",
  /// "ips.txt:12") for error messages. Throws rdns::Error(Errc::input).
  void add(std::string_view text, std::string_view origin);

  /// Adds a parsed range; `origin` names it in a --max-ips error.
  void add_range(const IpRange& range, std::string_view origin);

  /// Adds the range when the total stays within the limit even if none of
  /// it overlaps what is there; false (and nothing added) otherwise.
  bool add_range_within_limit(const IpRange& range, std::string_view origin);

  /// Removes addresses (in any order), e.g. those a resumed run has done.
  void remove(std::vector<IpAddress> addresses);

  /// Adds every line of a stream: '#' starts a comment, blank lines are
  /// ignored. `source_name` is the file name (or "stdin") used in errors.
  /// Warnings for skipped lines go to `warn`.
  void add_lines(std::istream& in, std::string_view source_name, InvalidInput on_invalid,
                 const std::function<void(const std::string&)>& warn);

  /// Adds a file by path; an unreadable file is an input error naming it.
  void add_file(const std::string& path, InvalidInput on_invalid,
                const std::function<void(const std::string&)>& warn);

  /// Whether `address` is one of the set's.
  bool contains(const IpAddress& address) const;

  /// Distinct addresses after merging.
  uint128 size() const;
  bool empty() const { return size() == 0; }

  /// Walks the distinct addresses in ascending order (IPv4 first) without
  /// materialising them. Valid while the set is not modified.
  class Cursor {
   public:
    explicit Cursor(const TargetSet& set);
    /// The next address, or false at the end.
    bool next(IpAddress& out);

   private:
    const TargetSet* set_;
    std::size_t list_ = 0;
    std::size_t index_ = 0;
    uint128 next_value_ = 0;
    bool started_interval_ = false;
  };
  Cursor cursor() const { return Cursor(*this); }

  /// The merged ranges, for inspection and tests.
  std::vector<IpRange> ranges() const;

 private:
  /// Adds the range; false when the audit would then pass max_addresses.
  /// Callers name the input only then: formatting "file:line" for every
  /// line of a million-line file cost an allocation each.
  bool insert(const IpRange& range);
  [[noreturn]] void throw_too_many(std::string_view origin, std::string_view text) const;
  /// Sorts and merges the interval lists and recomputes the size.
  void compact() const;

  template <typename Value>
  struct Interval {
    Value first;
    Value last;
  };
  // Mutable: ranges are appended unsorted and merged lazily on first read.
  // IPv4 intervals take 8 bytes instead of 32: a resumed run of a million
  // addresses with every other one done holds half a million of them.
  mutable std::vector<Interval<std::uint32_t>> v4_;
  mutable std::vector<Interval<uint128>> v6_;
  uint128 max_addresses_;
  mutable uint128 size_ = 0;
  mutable uint128 raw_size_ = 0;
  mutable bool dirty_ = false;
  mutable std::size_t entries_after_compaction_ = 0;
};

}  // namespace rdns::audit
