// SPF terms (RFC 7208 sections 4.6 to 6): split, qualifier, mechanism and
// argument. Nothing here queries DNS.

#include <algorithm>

#include <audit/spf_record.hpp>
#include <util/ascii.hpp>

namespace rdns::audit::spf {
namespace {

/// A CIDR length of at most three digits, up to `max`.
bool parse_prefix(std::string_view text, int max, int& out) {
  if (text.empty() || text.size() > 3) return false;
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

Mechanism mechanism_of(const std::string& name, std::string_view term) {
  static constexpr std::pair<std::string_view, Mechanism> kNames[] = {
      {"all", Mechanism::all},       {"ip4", Mechanism::ip4}, {"ip6", Mechanism::ip6},
      {"a", Mechanism::a},           {"mx", Mechanism::mx},   {"include", Mechanism::include},
      {"exists", Mechanism::exists}, {"ptr", Mechanism::ptr}, {"redirect", Mechanism::redirect}};
  for (const auto& [text, mechanism] : kNames) {
    if (name == text) return mechanism;
  }
  // Unknown modifiers are ignored (RFC 7208 section 6); unknown mechanisms are errors.
  return term.find('=') != std::string_view::npos ? Mechanism::modifier : Mechanism::unknown;
}

/// "ip4:192.0.2.0/24": the address as written and the prefix length.
void parse_address(std::string_view argument, Family family, Term& term) {
  const int width = family == Family::ipv4 ? 32 : 128;
  term.prefix = width;
  if (argument.empty() || argument.front() != ':') {
    term.malformed = true;
    return;
  }
  argument.remove_prefix(1);
  const auto slash = argument.find('/');
  const auto address = IpAddress::parse(std::string(argument.substr(0, slash)));
  // Host bits set are common and harmless: receivers mask them.
  if (!address || address->family() != family ||
      (slash != std::string_view::npos &&
       !parse_prefix(argument.substr(slash + 1), width, term.prefix))) {
    term.malformed = true;
    return;
  }
  term.address = address;
}

/// "a:host/24//64", "mx", "a//64": the target and the two prefix lengths.
void parse_domain_spec(std::string_view argument, Term& term) {
  bool ok = true;
  const auto double_slash = argument.find("//");
  if (double_slash != std::string_view::npos) {
    ok = parse_prefix(argument.substr(double_slash + 2), 128, term.v6_prefix);
    argument = argument.substr(0, double_slash);
  }
  const auto slash = argument.find('/');
  if (slash != std::string_view::npos) {
    ok = ok && parse_prefix(argument.substr(slash + 1), 32, term.v4_prefix);
    argument = argument.substr(0, slash);
  }
  if (!argument.empty() && argument.front() == ':') argument.remove_prefix(1);
  term.target = ascii_lower(std::string(argument));
  term.malformed = !ok || (!term.target.empty() && !domain_name(term.target));
}

Term parse_term(std::string text) {
  Term term;
  if (text[0] == '+' || text[0] == '-' || text[0] == '~' || text[0] == '?') {
    term.qualifier = text[0];
    text.erase(0, 1);
  }
  term.text = text;
  const std::string name = ascii_lower(text.substr(0, text.find_first_of(":/=")));
  const std::string_view argument = std::string_view(text).substr(name.size());
  term.mechanism = mechanism_of(name, text);
  term.has_macro = text.find('%') != std::string::npos;
  if (term.has_macro) return term;  // its argument is a macro string, not a name
  switch (term.mechanism) {
    case Mechanism::ip4:
      parse_address(argument, Family::ipv4, term);
      break;
    case Mechanism::ip6:
      parse_address(argument, Family::ipv6, term);
      break;
    case Mechanism::a:
    case Mechanism::mx:
      parse_domain_spec(argument, term);
      break;
    case Mechanism::include:
    case Mechanism::redirect:
      term.target = ascii_lower(std::string(argument.size() > 1 ? argument.substr(1) : ""));
      term.malformed = term.target.empty();
      break;
    default:
      break;
  }
  return term;
}

}  // namespace

std::optional<DnsName> domain_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  std::vector<std::string> labels;
  std::size_t wire_length = 1;
  for (;;) {
    const auto dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63) return std::nullopt;
    wire_length += 1 + label.size();
    labels.emplace_back(label);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  if (wire_length > 255) return std::nullopt;
  return DnsName(std::move(labels));
}

bool is_spf_record(std::string_view text) {
  return text.size() >= 6 && ascii_lower(std::string(text.substr(0, 6))) == "v=spf1" &&
         (text.size() == 6 || text[6] == ' ');
}

std::vector<Term> parse_terms(std::string_view record) {
  std::vector<Term> terms;
  std::size_t start = std::min<std::size_t>(6, record.size());  // after "v=spf1"
  while (start < record.size()) {
    const auto end = std::min(record.find(' ', start), record.size());
    if (end > start) terms.push_back(parse_term(std::string(record.substr(start, end - start))));
    start = end + 1;
  }
  return terms;
}

}  // namespace rdns::audit::spf
