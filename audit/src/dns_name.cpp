#include <algorithm>

#include <audit/dns_name.hpp>
#include <util/escape.hpp>

namespace rdns::audit {
namespace {

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

DnsName DnsName::from_dotted(std::string_view text) {
  std::vector<std::string> labels;
  labels.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '.')) + 1);
  while (!text.empty()) {
    const auto dot = text.find('.');
    labels.emplace_back(text.substr(0, dot));
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return DnsName(std::move(labels));
}

bool DnsName::from_wire(const unsigned char* data, std::size_t size, DnsName& out) {
  std::vector<std::string> labels;
  labels.reserve(8);
  std::size_t offset = 0;
  while (offset < size) {
    const std::size_t length = data[offset++];
    if (length == 0) {
      out = DnsName(std::move(labels));
      return offset == size;
    }
    if (length > 63 || offset + length > size) return false;
    labels.emplace_back(reinterpret_cast<const char*>(data + offset), length);
    offset += length;
  }
  return false;
}

std::string DnsName::presentation() const {
  if (labels_.empty()) return ".";
  std::string text;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (i > 0) text += '.';
    text += escape_label(labels_[i]);
  }
  return text;
}

std::string DnsName::key() const {
  std::string text = presentation();
  for (char& c : text) c = ascii_lower(c);
  return text;
}

std::string DnsName::wire() const {
  std::string out;
  out.reserve(wire_length());
  for (const std::string& label : labels_) {
    out += static_cast<char>(label.size());
    out += label;
  }
  out += '\0';
  return out;
}

std::size_t DnsName::wire_length() const {
  std::size_t length = 1;
  for (const std::string& label : labels_) length += 1 + label.size();
  return length;
}

bool operator==(const DnsName& a, const DnsName& b) {
  if (a.labels_.size() != b.labels_.size()) return false;
  for (std::size_t i = 0; i < a.labels_.size(); ++i) {
    const std::string& x = a.labels_[i];
    const std::string& y = b.labels_[i];
    if (x.size() != y.size()) return false;
    for (std::size_t j = 0; j < x.size(); ++j) {
      if (ascii_lower(x[j]) != ascii_lower(y[j])) return false;
    }
  }
  return true;
}

}  // namespace rdns::audit
