// SPF terms (RFC 7208 sections 4.6 to 7): split, qualifier, mechanism and
// argument, checked against the ABNF. Nothing here queries DNS.

#include <algorithm>

#include <audit/spf_record.hpp>
#include <util/ascii.hpp>

namespace rdns::audit::spf {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
/// RFC 7208 only allows visible ASCII inside a term (SP separates terms).
bool is_visible(char c) {
  return c >= 0x21 && c <= 0x7e;
}

/// A CIDR length as RFC 7208 writes it: "0" or digits without a leading
/// zero, up to `max` ("/032" is an error, not 32).
bool parse_prefix(std::string_view text, int max, int& out) {
  if (text.empty() || text.size() > 3) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  int value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return false;
    value = value * 10 + (c - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

/// RFC 7208 section 7.1: "%{" letter *DIGIT ["r"] *delimiter "}" (the
/// letters c, r and t belong to explanation text only), "%%", "%_" or "%-".
/// Returns the length of the macro at the start of `text`, 0 if it is bad.
std::size_t macro_length(std::string_view text) {
  if (text.size() < 2) return 0;
  if (text[1] == '%' || text[1] == '_' || text[1] == '-') return 2;
  if (text[1] != '{') return 0;
  const auto close = text.find('}');
  if (close == std::string_view::npos || close < 3) return 0;
  const std::string_view body = text.substr(2, close - 2);
  if (std::string_view("slodiphv").find(ascii_lower(std::string(1, body[0]))[0]) ==
      std::string_view::npos) {
    return 0;
  }
  std::size_t i = 1;
  while (i < body.size() && is_digit(body[i])) ++i;
  if (i > 1 && body.substr(1, i - 1).find_first_not_of('0') == std::string_view::npos) {
    return 0;  // "If a DIGIT is specified, the value MUST be nonzero" (section 7.3)
  }
  if (i < body.size() && (body[i] == 'r' || body[i] == 'R')) ++i;
  while (i < body.size() && std::string_view(".-+,/_=").find(body[i]) != std::string_view::npos) {
    ++i;
  }
  return i == body.size() ? close + 1 : 0;
}

/// A macro-string read: why it is bad ("" when fine), whether it holds a
/// macro, and where the literal text after its last macro starts.
struct MacroScan {
  std::string problem;
  bool has_macro = false;
  std::size_t literal_tail = 0;
};

MacroScan scan_macro_string(std::string_view text) {
  MacroScan scan;
  for (std::size_t i = 0; i < text.size();) {
    if (!is_visible(text[i])) {
      scan.problem = "holds a byte that is not visible ASCII";
      return scan;
    }
    if (text[i] != '%') {
      ++i;
      continue;
    }
    const std::size_t length = macro_length(text.substr(i));
    if (length == 0) {
      scan.problem = "has a malformed macro";
      return scan;
    }
    scan.has_macro = true;
    i += length;
    scan.literal_tail = i;
  }
  return scan;
}

/// toplabel = ( *alphanum ALPHA *alphanum ) /
///            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
  bool alpha = false;
  bool dash = false;
  for (const char c : label) {
    if (c == '-') {
      dash = true;
    } else if (!is_alnum(c)) {
      return false;
    } else {
      alpha = alpha || is_alpha(c);
    }
  }
  return alpha || dash;
}

/// domain-spec = macro-string domain-end; domain-end = ( "." toplabel
/// [ "." ] ) / macro-expand. Without a macro the name must also be one DNS
/// can be asked about (no empty or over-long label).
std::string domain_spec_problem(std::string_view spec, Term& term) {
  if (spec.empty()) return "has an empty domain";
  const MacroScan scan = scan_macro_string(spec);
  term.has_macro = scan.has_macro;
  if (!scan.problem.empty()) return scan.problem;
  if (scan.literal_tail == spec.size() && scan.has_macro) return {};  // ends in a macro
  std::string_view tail = spec.substr(scan.literal_tail);
  if (tail.ends_with('.')) tail.remove_suffix(1);
  const auto dot = tail.rfind('.');
  if (dot == std::string_view::npos || !is_toplabel(tail.substr(dot + 1))) {
    return "has a domain that does not end in a top-level label";
  }
  if (!term.has_macro && !domain_name(spec)) {
    return "names a domain DNS cannot be asked about (empty label, label over 63 or name over "
           "255 bytes)";
  }
  return {};
}

/// Removes a trailing "/N" and "//N" from `argument` into the term's prefix
/// lengths; false when such a suffix is there but not a valid length.
bool take_dual_cidr(std::string_view& argument, Term& term) {
  const auto take = [&](bool v6) {
    const auto slash = argument.rfind('/');
    if (slash == std::string_view::npos) return true;
    const std::string_view digits = argument.substr(slash + 1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return true;
    const bool double_slash = slash > 0 && argument[slash - 1] == '/';
    if (double_slash != v6) return true;
    if (!parse_prefix(digits, v6 ? 128 : 32, v6 ? term.v6_prefix : term.v4_prefix)) return false;
    argument.remove_suffix(argument.size() - slash + (v6 ? 1 : 0));
    return true;
  };
  return take(true) && take(false);
}

/// "ip4:192.0.2.0/24": the address as written and the prefix length.
std::string address_problem(std::string_view argument, Family family, Term& term) {
  const int width = family == Family::ipv4 ? 32 : 128;
  term.prefix = width;
  if (argument.empty() || argument.front() != ':') return "has no address";
  argument.remove_prefix(1);
  const auto slash = argument.find('/');
  const auto address = IpAddress::parse(std::string(argument.substr(0, slash)));
  // Host bits set are common and harmless: receivers mask them.
  if (!address || address->family() != family) return "has a malformed address";
  if (slash != std::string_view::npos &&
      !parse_prefix(argument.substr(slash + 1), width, term.prefix)) {
    return "has a malformed prefix length";
  }
  term.address = address;
  return {};
}

/// a, mx: [":" domain-spec] [dual-cidr]; ptr: [":" domain-spec];
/// include, exists: ":" domain-spec.
std::string host_problem(std::string_view argument, Term& term, bool cidr, bool required) {
  if (cidr && !take_dual_cidr(argument, term)) return "has a malformed prefix length";
  if (argument.empty() && !required) return {};
  if (argument.empty() || argument.front() != ':') return "has a malformed argument";
  argument.remove_prefix(1);
  term.target = ascii_lower(std::string(argument));
  return domain_spec_problem(argument, term);
}

Mechanism mechanism_named(const std::string& name) {
  static constexpr std::pair<std::string_view, Mechanism> kNames[] = {
      {"all", Mechanism::all},       {"ip4", Mechanism::ip4}, {"ip6", Mechanism::ip6},
      {"a", Mechanism::a},           {"mx", Mechanism::mx},   {"include", Mechanism::include},
      {"exists", Mechanism::exists}, {"ptr", Mechanism::ptr}};
  for (const auto& [text, mechanism] : kNames) {
    if (name == text) return mechanism;
  }
  return Mechanism::unknown;
}

std::string directive_problem(std::string_view text, Term& term) {
  const auto name_end = std::find_if_not(text.begin(), text.end(), is_alnum) - text.begin();
  term.mechanism = mechanism_named(ascii_lower(std::string(text.substr(0, name_end))));
  const std::string_view argument = text.substr(name_end);
  switch (term.mechanism) {
    case Mechanism::all:
      return argument.empty() ? "" : "takes no argument";
    case Mechanism::ip4:
      return address_problem(argument, Family::ipv4, term);
    case Mechanism::ip6:
      return address_problem(argument, Family::ipv6, term);
    case Mechanism::a:
    case Mechanism::mx:
      return host_problem(argument, term, true, false);
    case Mechanism::ptr:
      return host_problem(argument, term, false, false);
    case Mechanism::include:
    case Mechanism::exists:
      return host_problem(argument, term, false, true);
    default:
      return "is an unknown mechanism";
  }
}

/// name "=" value, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
std::string modifier_problem(std::string_view name, std::string_view value, Term& term) {
  const std::string lowered = ascii_lower(std::string(name));
  if (lowered == "redirect" || lowered == "exp") {
    term.mechanism = lowered == "redirect" ? Mechanism::redirect : Mechanism::exp;
    term.target = ascii_lower(std::string(value));
    return domain_spec_problem(value, term);
  }
  term.mechanism = Mechanism::modifier;
  if (name.empty() || !is_alpha(name.front())) return "has a malformed modifier name";
  return scan_macro_string(value).problem;
}

Term parse_term(std::string text) {
  Term term;
  const bool qualified = text[0] == '+' || text[0] == '-' || text[0] == '~' || text[0] == '?';
  if (qualified) {
    term.qualifier = text[0];
    text.erase(0, 1);
  }
  term.text = text;
  const auto name_end =
      std::find_if_not(text.begin(), text.end(),
                       [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; }) -
      text.begin();
  const std::string_view view(term.text);
  if (static_cast<std::size_t>(name_end) < text.size() && text[name_end] == '=') {
    term.problem = modifier_problem(view.substr(0, name_end), view.substr(name_end + 1), term);
    if (term.problem.empty() && qualified) term.problem = "is a modifier with a qualifier";
  } else {
    term.problem = directive_problem(view, term);
  }
  if (term.problem.empty() && !std::all_of(text.begin(), text.end(), is_visible)) {
    term.problem = "holds a byte that is not visible ASCII";
  }
  term.malformed = !term.problem.empty();
  return term;
}

}  // namespace

std::optional<DnsName> domain_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  DnsName name;
  for (;;) {
    const auto dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63) return std::nullopt;
    name.append_label(label);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  if (name.wire_length() > 255) return std::nullopt;
  return name;
}

bool is_spf_record(std::string_view text) {
  return text.size() >= 6 && ascii_lower(std::string(text.substr(0, 6))) == "v=spf1" &&
         (text.size() == 6 || text[6] == ' ');
}

std::vector<Term> parse_terms(std::string_view record) {
  std::vector<Term> terms;
  bool seen_redirect = false;
  bool seen_exp = false;
  std::size_t start = std::min<std::size_t>(6, record.size());  // after "v=spf1"
  while (start < record.size()) {
    const auto end = std::min(record.find(' ', start), record.size());
    if (end > start) {
      Term term = parse_term(std::string(record.substr(start, end - start)));
      // RFC 7208 section 6: redirect and exp may each appear once.
      bool& seen = term.mechanism == Mechanism::redirect ? seen_redirect : seen_exp;
      if (term.mechanism == Mechanism::redirect || term.mechanism == Mechanism::exp) {
        if (seen && !term.malformed) {
          term.malformed = true;
          term.problem = "repeats a modifier that may appear once";
        }
        seen = true;
      }
      terms.push_back(std::move(term));
    }
    start = end + 1;
  }
  return terms;
}

}  // namespace rdns::audit::spf
