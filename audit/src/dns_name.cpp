#include <charconv>

#include <audit/dns_name.hpp>
#include <audit/ip.hpp>
#include <util/ascii.hpp>
#include <util/escape.hpp>

namespace rdns::audit {
namespace {

/// Reads a label length at `at` and moves `at` past it.
std::size_t read_length(const char*& at) {
  std::size_t length = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*at++);
    length |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return length;
  }
}

void put_length(std::string& out, std::size_t length) {
  while (length >= 0x80) {
    out += static_cast<char>(0x80 | (length & 0x7f));
    length >>= 7;
  }
  out += static_cast<char>(length);
}

}  // namespace

std::string_view DnsName::Labels::iterator::operator*() const {
  const char* at = at_;
  const std::size_t length = read_length(at);
  return {at, length};
}

DnsName::Labels::iterator& DnsName::Labels::iterator::operator++() {
  const std::size_t length = read_length(at_);
  at_ += length;
  return *this;
}

DnsName::DnsName(const std::vector<std::string>& labels) {
  for (const std::string& label : labels) append_label(label);
}

void DnsName::append_label(std::string_view label) {
  put_length(data_, label.size());
  data_ += label;
  ++count_;
}

DnsName DnsName::from_dotted(std::string_view text) {
  DnsName name;
  name.data_.reserve(text.size() + 2);
  while (!text.empty()) {
    const auto dot = text.find('.');
    name.append_label(text.substr(0, dot));
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return name;
}

bool DnsName::from_wire(const unsigned char* data, std::size_t size, DnsName& out) {
  DnsName name;
  std::size_t offset = 0;
  while (offset < size) {
    const std::size_t length = data[offset++];
    if (length == 0) {
      out = std::move(name);
      return offset == size;
    }
    if (length > 63 || offset + length > size) return false;
    name.append_label({reinterpret_cast<const char*>(data + offset), length});
    offset += length;
  }
  return false;
}

void DnsName::assign_reverse(const IpAddress& ip, DnsName& out) {
  out.clear();
  const auto& bytes = ip.bytes();
  if (ip.family() == Family::ipv4) {
    for (std::size_t i = 4; i-- > 0;) {
      char digits[3];
      const char* end = std::to_chars(digits, digits + sizeof digits, bytes[i]).ptr;
      out.append_label({digits, static_cast<std::size_t>(end - digits)});
    }
    out.append_label("in-addr");
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 16; i-- > 0;) {
      out.append_label({&kHex[bytes[i] & 0x0f], 1});
      out.append_label({&kHex[bytes[i] >> 4], 1});
    }
    out.append_label("ip6");
  }
  out.append_label("arpa");
}

std::string_view DnsName::label(std::size_t index) const {
  auto at = labels().begin();
  for (std::size_t i = 0; i < index; ++i) ++at;
  return *at;
}

DnsName DnsName::parent(std::size_t drop) const {
  DnsName ancestor;
  if (drop >= count_) return ancestor;
  const char* at = data_.data();
  for (std::size_t i = 0; i < drop; ++i) {
    const std::size_t length = read_length(at);
    at += length;
  }
  ancestor.data_.assign(at, data_.data() + data_.size());
  ancestor.count_ = count_ - drop;
  return ancestor;
}

std::string DnsName::presentation() const {
  std::string text;
  append_presentation(text);
  return text;
}

void DnsName::append_presentation(std::string& out) const {
  if (count_ == 0) {
    out += '.';
    return;
  }
  out.reserve(out.size() + data_.size());
  bool first = true;
  for (const std::string_view label : labels()) {
    if (!first) out += '.';
    first = false;
    append_escaped_label(out, label);
  }
}

std::string DnsName::key() const {
  std::string text;
  key_into(text);
  return text;
}

void DnsName::key_into(std::string& out) const {
  out.clear();
  append_presentation(out);
  for (char& c : out) c = ascii_lower(c);
}

std::string DnsName::wire() const {
  std::string out;
  out.reserve(wire_length());
  append_wire(out);
  return out;
}

void DnsName::append_wire(std::string& out) const {
  for (const std::string_view label : labels()) {
    out += static_cast<char>(label.size());
    out += label;
  }
  out += '\0';
}

std::size_t DnsName::wire_length() const {
  std::size_t length = 1;
  for (const std::string_view label : labels()) length += 1 + label.size();
  return length;
}

bool operator==(const DnsName& a, const DnsName& b) {
  if (a.count_ != b.count_ || a.data_.size() != b.data_.size()) return false;
  // The same bytes are the same labels: the usual case (a name compared
  // with its own echo in a reply) needs no walk.
  if (a.data_ == b.data_) return true;
  auto x = a.labels().begin();
  auto y = b.labels().begin();
  for (std::size_t i = 0; i < a.count_; ++i, ++x, ++y) {
    const std::string_view p = *x;
    const std::string_view q = *y;
    if (p.size() != q.size()) return false;
    for (std::size_t j = 0; j < p.size(); ++j) {
      if (ascii_lower(p[j]) != ascii_lower(q[j])) return false;
    }
  }
  return true;
}

}  // namespace rdns::audit
