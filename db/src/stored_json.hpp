#pragma once
/// A reader of the JSON the results table's columns hold, for the decoder
/// (codec.cpp) only: stored results are decoded straight from their text.

#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace rdns::db::detail {

/// Malformed JSON in a stored result column; Decoder::result names the
/// database, the run and the address.
class StoredJsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A reader of the few JSON shapes the results table stores (arrays of
/// strings, arrays of flat objects, one flat object), without building a
/// document first: decoding a run of a million results is most of what
/// reading it back costs. Any JSON is accepted where the shape allows it
/// (whitespace, escapes, keys in any order, unknown keys skipped), as
/// PostgreSQL's json functions write it in a migrated database.
class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}

  /// Calls each() once per element of the array that follows.
  template <typename Each>
  void array(const Each& each) {
    expect('[');
    if (consume(']')) return;
    do {
      each();
    } while (consume(','));
    expect(']');
  }

  /// Calls field(key) once per member of the object that follows; field
  /// reads the value, or returns false to have it skipped.
  template <typename Field>
  void object(const Field& field) {
    expect('{');
    if (consume('}')) return;
    do {
      key_ = string();
      expect(':');
      if (!field(std::string_view(key_))) skip_value();
    } while (consume(','));
    expect('}');
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      const char* plain = at_;
      while (at_ < end_ && *at_ != '"' && *at_ != '\\' && static_cast<unsigned char>(*at_) >= 0x20)
        ++at_;
      out.append(plain, at_);
      if (at_ == end_) fail("unterminated string");
      const char c = *at_++;
      if (c == '"') return out;
      if (c != '\\') fail("control character in a string");
      escape(out);
    }
  }

  std::vector<std::string> strings() {
    std::vector<std::string> out;
    array([&] { out.push_back(string()); });
    return out;
  }

  bool boolean() {
    space();
    if (literal("true")) return true;
    if (literal("false")) return false;
    fail("expected true or false");
  }

  /// Throws unless only whitespace is left.
  void finish() {
    space();
    if (at_ != end_) fail("unexpected text after the value");
  }

  [[noreturn]] static void fail(std::string_view what) {
    throw StoredJsonError(fmt::format("malformed JSON: {}", what));
  }

 private:
  void space() {
    while (at_ < end_ && (*at_ == ' ' || *at_ == '\t' || *at_ == '\n' || *at_ == '\r')) ++at_;
  }
  bool consume(char c) {
    space();
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }
  void expect(char c) {
    if (!consume(c)) fail(fmt::format("expected '{}'", c));
  }
  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - at_) < word.size() ||
        std::string_view(at_, word.size()) != word)
      return false;
    at_ += word.size();
    return true;
  }

  unsigned hex4() {
    if (end_ - at_ < 4) fail("short \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *at_++;
      value <<= 4;
      if (c >= '0' && c <= '9')
        value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        value |= static_cast<unsigned>(c - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return value;
  }

  void escape(std::string& out) {
    if (at_ == end_) fail("unterminated escape");
    switch (const char c = *at_++) {
      case '"':
      case '\\':
      case '/':
        out += c;
        return;
      case 'b':
        out += '\b';
        return;
      case 'f':
        out += '\f';
        return;
      case 'n':
        out += '\n';
        return;
      case 'r':
        out += '\r';
        return;
      case 't':
        out += '\t';
        return;
      case 'u':
        append_utf8(out, code_point());
        return;
      default:
        fail("unknown escape");
    }
  }

  /// The code point of a \u escape, joining a surrogate pair.
  unsigned code_point() {
    const unsigned first = hex4();
    if (first < 0xD800 || first > 0xDFFF) return first;
    if (first > 0xDBFF || !literal("\\u")) fail("lone surrogate");
    const unsigned second = hex4();
    if (second < 0xDC00 || second > 0xDFFF) fail("lone surrogate");
    return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
  }

  static void append_utf8(std::string& out, unsigned point) {
    const auto byte = [&](unsigned value) { out += static_cast<char>(value); };
    if (point < 0x80) {
      byte(point);
    } else if (point < 0x800) {
      byte(0xC0 | (point >> 6));
      byte(0x80 | (point & 0x3F));
    } else if (point < 0x10000) {
      byte(0xE0 | (point >> 12));
      byte(0x80 | ((point >> 6) & 0x3F));
      byte(0x80 | (point & 0x3F));
    } else {
      byte(0xF0 | (point >> 18));
      byte(0x80 | ((point >> 12) & 0x3F));
      byte(0x80 | ((point >> 6) & 0x3F));
      byte(0x80 | (point & 0x3F));
    }
  }

  /// Skips a value of a member no reader asked for.
  void skip_value() {
    space();
    if (at_ == end_) fail("missing value");
    if (*at_ == '"') {
      string();
    } else if (*at_ == '[') {
      array([&] { skip_value(); });
    } else if (*at_ == '{') {
      object([](std::string_view) { return false; });
    } else {
      while (at_ < end_ && std::string_view("{}[],: \t\r\n\"").find(*at_) == std::string_view::npos)
        ++at_;
    }
  }

  const char* at_;
  const char* end_;
  std::string key_;
};

/// The array of flat objects in `text`, one Element each: `member(key,
/// reader, element)` reads a member's value into element and returns the
/// key's index in `keys`, or returns -1 for an unknown key (skipped). Every
/// key in `keys` is required, as nlohmann's at() required it.
template <typename Element, typename Member>
std::vector<Element> read_objects(std::string_view text, std::span<const std::string_view> keys,
                                  const Member& member) {
  std::vector<Element> elements;
  JsonReader reader(text);
  reader.array([&] {
    Element& element = elements.emplace_back();
    unsigned seen = 0;
    reader.object([&](std::string_view key) {
      const int index = member(key, reader, element);
      if (index >= 0) seen |= 1u << index;
      return index >= 0;
    });
    if (seen != (1u << keys.size()) - 1) {
      JsonReader::fail(fmt::format("an element lacks one of {}", fmt::join(keys, ", ")));
    }
  });
  reader.finish();
  return elements;
}

/// The index of key in keys, -1 when absent.
inline int key_index(std::string_view key, std::span<const std::string_view> keys) {
  int index = 0;
  for (const std::string_view known : keys) {
    if (key == known) return index;
    ++index;
  }
  return -1;
}

}  // namespace rdns::db::detail
