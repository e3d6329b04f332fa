#include "xml.hpp"

#include <fmt/format.h>

#include <util/error.hpp>

namespace rdns::provision::xml {
namespace {

/// Nesting deeper than this is refused: EC2 answers are a few levels deep,
/// and recursion must not be driven by the peer.
constexpr int kMaxDepth = 32;

class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Element document() {
    skip_prolog();
    if (!at('<')) fail("no root element");
    Element root = element(0);
    skip_misc();
    if (pos_ != text_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(Errc::input, fmt::format("{}: malformed XML at byte {}: {}", source_, pos_, why));
  }

  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool starts(std::string_view prefix) const { return text_.substr(pos_).starts_with(prefix); }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
  }

  void skip_past(std::string_view end, const char* what) {
    const auto found = text_.find(end, pos_);
    if (found == std::string_view::npos) fail(std::string("unterminated ") + what);
    pos_ = found + end.size();
  }

  // Whitespace and comments between top-level constructs.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (!starts("<!--")) return;
      skip_past("-->", "comment");
    }
  }

  void skip_prolog() {
    if (starts("\xEF\xBB\xBF")) pos_ += 3;  // a UTF-8 byte order mark
    if (starts("<?xml")) skip_past("?>", "XML declaration");
    skip_misc();
    if (starts("<!")) fail("DTDs are not accepted");
  }

  static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
  }

  std::string name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && name_char(text_[pos_])) ++pos_;
    if (pos_ == start) fail("expected a name");
    return std::string(text_.substr(start, pos_ - start));
  }

  static std::string local(const std::string& qualified) {
    const auto colon = qualified.rfind(':');
    return colon == std::string::npos ? qualified : qualified.substr(colon + 1);
  }

  void append_utf8(std::string& out, unsigned long code) {
    if (code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      fail("character reference out of range");
    }
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  // At '&': one entity or character reference, appended decoded.
  void reference(std::string& out) {
    const auto end = text_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 10) fail("unterminated reference");
    const std::string_view body = text_.substr(pos_ + 1, end - pos_ - 1);
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    bool known = false;
    for (const auto& [entity, c] : kEntities) {
      if (body == entity) {
        out.push_back(c);
        known = true;
      }
    }
    if (!known) {
      const bool hex = body.starts_with("#x");
      if (!body.starts_with('#') || body.size() < (hex ? 3u : 2u)) fail("unknown entity");
      unsigned long code = 0;
      for (const char c : body.substr(hex ? 2 : 1)) {
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        if (hex && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        if (hex && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (digit < 0) fail("bad character reference");
        code = code * (hex ? 16 : 10) + static_cast<unsigned long>(digit);
      }
      append_utf8(out, code);
    }
    pos_ = end + 1;
  }

  void attributes() {
    for (;;) {
      skip_space();
      if (at('>') || at('/')) return;
      name();
      skip_space();
      if (!at('=')) fail("expected '=' after an attribute name");
      ++pos_;
      skip_space();
      if (!at('"') && !at('\'')) fail("expected a quoted attribute value");
      const char quote = text_[pos_++];
      const auto end = text_.find(quote, pos_);
      if (end == std::string_view::npos) fail("unterminated attribute value");
      if (text_.substr(pos_, end - pos_).find('<') != std::string_view::npos) {
        fail("'<' in an attribute value");
      }
      pos_ = end + 1;
    }
  }

  // At '<' of a start tag.
  Element element(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    ++pos_;
    Element out;
    const std::string qualified = name();
    out.name = local(qualified);
    attributes();
    if (starts("/>")) {
      pos_ += 2;
      return out;
    }
    ++pos_;  // '>'
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated element " + out.name);
      if (starts("</")) {
        pos_ += 2;
        if (name() != qualified) fail("mismatched end tag in " + out.name);
        skip_space();
        if (!at('>')) fail("expected '>'");
        ++pos_;
        return out;
      }
      if (starts("<!--")) {
        skip_past("-->", "comment");
      } else if (starts("<!") || starts("<?")) {
        fail("CDATA, DTDs and processing instructions are not accepted");
      } else if (at('<')) {
        out.children.push_back(element(depth + 1));
      } else if (at('&')) {
        reference(out.text);
      } else {
        out.text.push_back(text_[pos_++]);
      }
    }
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

}  // namespace

const Element* Element::child(std::string_view wanted) const {
  for (const auto& item : children) {
    if (item.name == wanted) return &item;
  }
  return nullptr;
}

std::string Element::child_text(std::string_view wanted) const {
  const Element* found = child(wanted);
  return found == nullptr ? std::string() : found->text;
}

std::vector<const Element*> Element::all(std::string_view wanted) const {
  std::vector<const Element*> out;
  for (const auto& item : children) {
    if (item.name == wanted) out.push_back(&item);
  }
  return out;
}

Element parse(std::string_view document, const std::string& source) {
  return Parser(document, source).document();
}

}  // namespace rdns::provision::xml
