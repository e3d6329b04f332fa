#pragma once
/// A domain name as the raw labels that came off the wire. Labels may hold
/// any byte (DNS data is attacker-controlled); presentation() is the only
/// way a name is shown, and it escapes.

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace rdns::audit {

class IpAddress;

/// Raw-label domain name, compared case-insensitively (ASCII only, RFC 4343).
///
/// The labels live in one buffer, each after its length, as in the wire
/// format: a name costs one allocation (none when a name with room is
/// assigned to), not one per label. Lengths of 128 and more take more than
/// one byte, so names we split from text (which may hold any label) keep
/// every label whole.
class DnsName {
 public:
  /// The labels of a name, first (leftmost) to last, as views into it.
  class Labels {
   public:
    class iterator {
     public:
      using iterator_category = std::forward_iterator_tag;
      using value_type = std::string_view;
      using difference_type = std::ptrdiff_t;
      using pointer = void;
      using reference = std::string_view;

      iterator() = default;
      explicit iterator(const char* at) : at_(at) {}
      std::string_view operator*() const;
      iterator& operator++();
      iterator operator++(int) {
        iterator before = *this;
        ++*this;
        return before;
      }
      friend bool operator==(const iterator& a, const iterator& b) { return a.at_ == b.at_; }

     private:
      const char* at_ = nullptr;
    };

    Labels(const char* begin, const char* end) : begin_(begin), end_(end) {}
    iterator begin() const { return iterator(begin_); }
    iterator end() const { return iterator(end_); }

   private:
    const char* begin_;
    const char* end_;
  };

  DnsName() = default;
  explicit DnsName(const std::vector<std::string>& labels);

  /// Splits dotted text without escapes ("mail.example.com" or with a
  /// trailing dot). Intended for names we generate, not for DNS data.
  static DnsName from_dotted(std::string_view text);
  /// Parses uncompressed wire format; returns false on malformed input.
  static bool from_wire(const unsigned char* data, std::size_t size, DnsName& out);
  /// d.c.b.a.in-addr.arpa or the 32-nibble ip6.arpa name of `ip`, into
  /// `out`, reusing its room.
  static void assign_reverse(const IpAddress& ip, DnsName& out);

  std::size_t label_count() const { return count_; }
  /// Label `index` (0 is the leftmost); walks the labels before it.
  std::string_view label(std::size_t index) const;
  Labels labels() const { return Labels(data_.data(), data_.data() + data_.size()); }
  bool is_root() const { return count_ == 0; }
  /// The name without its first `drop` labels: an ancestor (the root when
  /// `drop` is the label count or more).
  DnsName parent(std::size_t drop = 1) const;

  /// Appends a label on the right (the next one towards the root).
  void append_label(std::string_view label);
  /// Makes this the root, keeping the room of its buffer.
  void clear() {
    data_.clear();
    count_ = 0;
  }

  /// RFC 1035 presentation form without the trailing dot ("." for the root).
  std::string presentation() const;
  /// presentation() appended to `out`.
  void append_presentation(std::string& out) const;
  /// Lower-cased presentation form, used as a case-insensitive key.
  std::string key() const;
  /// key() into `out`, replacing its content and keeping its room.
  void key_into(std::string& out) const;
  /// Uncompressed wire format, for building queries.
  std::string wire() const;
  /// Appends the uncompressed wire format to `out`.
  void append_wire(std::string& out) const;
  /// Wire length including length bytes and the root label.
  std::size_t wire_length() const;

  friend bool operator==(const DnsName& a, const DnsName& b);

 private:
  /// Each label as its length (7 bits per byte, low bits first, the high
  /// bit set on every byte but the last) and its bytes. A label shorter
  /// than 128 bytes, as every DNS label is, is stored as in the wire format.
  std::string data_;
  std::size_t count_ = 0;
};

}  // namespace rdns::audit
