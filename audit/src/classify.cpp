#include <algorithm>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <audit/classify.hpp>
#include <util/escape.hpp>

namespace rdns::audit {
namespace {

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

std::string join_names(std::span<const DnsName> names) {
  std::string text;
  for (const DnsName& name : names) {
    if (!text.empty()) text += ", ";
    name.append_presentation(text);
  }
  return text;
}

/// At most `shown` names, then how many more: a finding stays readable when
/// an address has hundreds of PTR values.
std::string join_some_names(std::span<const DnsName> names, std::size_t shown = 10) {
  if (names.size() <= shown) return join_names(names);
  return fmt::format("{} and {} more", join_names(names.first(shown)), names.size() - shown);
}

/// A list as a span: boost's small_vector is contiguous, but its iterators
/// do not say so to std::span.
template <typename List>
std::span<const typename List::value_type> all(const List& list) {
  return {list.data(), list.size()};
}

std::string join_addresses(std::span<const IpAddress> addresses) {
  std::string text;
  for (const IpAddress& address : addresses) {
    if (!text.empty()) text += ", ";
    text += address.to_string();
  }
  return text;
}

bool confirms(const ForwardObservation& forward, const IpAddress& ip) {
  return std::find(forward.addresses.begin(), forward.addresses.end(), ip) !=
         forward.addresses.end();
}

std::string_view record_type(const IpAddress& ip) {
  return ip.family() == Family::ipv4 ? "A" : "AAAA";
}
std::string_view other_type(const IpAddress& ip) {
  return ip.family() == Family::ipv4 ? "AAAA" : "A";
}

class Classifier {
 public:
  Classifier(const IpObservation& observation, const Rules& rules)
      : observation_(observation), rules_(rules), ip_(observation.ip) {}

  Verdict run() {
    const PtrObservation& ptr = observation_.ptr;
    if (!ptr.aliases.empty()) {
      add(Code::classless_delegation,
          fmt::format("reverse name is an alias: {} (RFC 2317)", join_names(ptr.aliases)));
    }
    switch (ptr.outcome) {
      case Outcome::tempfail:
      case Outcome::skipped:
        reverse_failed(ptr);
        return finish();
      case Outcome::nxdomain:
        add(Code::no_ptr, fmt::format("{} does not exist (NXDOMAIN)", reverse_target()));
        return finish();
      case Outcome::nodata:
        add(Code::no_ptr, fmt::format("{} has no PTR record", reverse_target()));
        return finish();
      case Outcome::found:
        break;
    }
    names();
    forward();
    ttl();
    if (observation_.forward_skipped) {
      add(Code::forward_not_checked,
          "PTR present; its A/AAAA records were not looked up (--ptr-only), so FCrDNS is unknown");
    }
    smtp();
    return finish();
  }

 private:
  void add(Code code, std::string detail) {
    // Where the audit knows which host this address serves (its MX name),
    // a finding that needs a new PTR says which name to set.
    if (!observation_.expected_names.empty() && needs_new_ptr(code)) {
      detail += "; expected ";
      for (std::size_t i = 0; i < observation_.expected_names.size(); ++i) {
        if (i > 0) detail += " or ";
        detail += observation_.expected_names[i];
      }
    }
    findings_.push_back(Finding{code, code_severity(code), std::move(detail)});
  }

  static bool needs_new_ptr(Code code) {
    switch (code) {
      case Code::no_ptr:
      case Code::ptr_no_forward:
      case Code::forward_mismatch:
      case Code::family_mismatch:
      case Code::invalid_ptr_name:
      case Code::generic_ptr:
      case Code::provider_default_ptr:
        return true;
      default:
        return false;
    }
  }

  Verdict finish() {
    blocklists();
    Verdict verdict;
    verdict.status = status_of(findings_);
    verdict.findings = std::move(findings_);
    return verdict;
  }

  std::string reverse_target() const {
    const PtrObservation& ptr = observation_.ptr;
    return ptr.aliases.empty() ? ip_.reverse_name() : ptr.aliases.back().presentation();
  }

  void reverse_failed(const PtrObservation& ptr) {
    add(Code::tempfail, fmt::format("PTR lookup of {} failed: {}; status unknown, retry later",
                                    reverse_target(), ptr.failure));
    if (ptr.lame_below) {
      add(Code::lame_reverse,
          fmt::format("the reverse zone below {} is delegated to servers that do not answer",
                      ptr.lame_below->presentation()));
    }
  }

  void names() {
    const auto& names = observation_.ptr.names;
    for (const DnsName& name : names) {
      if (const auto problem = host_name_problem(name)) {
        add(Code::invalid_ptr_name, fmt::format("{}: {}", name.presentation(), *problem));
        continue;
      }
      if (const auto provider = rules_.provider_default(name, ip_)) {
        add(Code::provider_default_ptr,
            fmt::format("{} is {}'s default name; set a name of your own domain",
                        name.presentation(), *provider));
      } else if (const auto reason = rules_.generic_reason(name, ip_)) {
        add(Code::generic_ptr, fmt::format("{} {}: receivers treat it as a dynamic address",
                                           name.presentation(), *reason));
      }
    }
  }

  void forward() {
    const auto& forwards = observation_.forward;
    const auto& names = observation_.ptr.names;
    for (const ForwardObservation& f : forwards) {
      if (!f.aliases.empty()) {
        add(Code::ptr_target_cname,
            fmt::format("{} is an alias ({}); a PTR should name the canonical host (RFC 1912)",
                        f.name.presentation(), join_names(f.aliases)));
      }
    }
    const auto confirmed =
        std::find_if(forwards.begin(), forwards.end(),
                     [&](const ForwardObservation& f) { return confirms(f, ip_); });
    const std::size_t total = std::max(names.size(), observation_.ptr.names_total);
    if (total > 1) {
      std::string detail = fmt::format("{} PTR values ({}); receivers pick one at random", total,
                                       join_some_names(all(names)));
      if (total > names.size()) {
        detail += fmt::format(" (the list was cut at the audit's bound: only the first {} checked)",
                              names.size());
      }
      if (confirmed != forwards.end()) {
        std::vector<DnsName> failing;
        for (const ForwardObservation& f : forwards) {
          if (!confirms(f, ip_)) failing.push_back(f.name);
        }
        if (!failing.empty()) {
          detail += fmt::format(", and {} {} not resolve back to {}", join_some_names(failing),
                                failing.size() == 1 ? "does" : "do", ip_.to_string());
        }
      }
      add(Code::multiple_ptr, std::move(detail));
    }
    if (confirmed != forwards.end()) return;

    // Nothing forward-confirms. A forward step that failed temporarily means
    // the answer is unknown, so no forward error may be claimed.
    bool temporary = false;
    for (const ForwardObservation& f : forwards) {
      if (f.outcome == Outcome::tempfail) {
        temporary = true;
        add(Code::tempfail, fmt::format("{} lookup of {} failed: {}; status unknown, retry later",
                                        record_type(ip_), f.name.presentation(), f.failure));
      }
    }
    if (temporary) return;
    for (const ForwardObservation& f : forwards) {
      if (f.outcome == Outcome::skipped) continue;
      if (!f.addresses.empty()) {
        add(Code::forward_mismatch, fmt::format("{} resolves to {}, not {}", f.name.presentation(),
                                                join_addresses(all(f.addresses)), ip_.to_string()));
      } else if (f.other_family == Outcome::found) {
        add(Code::family_mismatch,
            fmt::format("{} has {} but no {} record for {}", f.name.presentation(), other_type(ip_),
                        record_type(ip_), ip_.to_string()));
      } else {
        add(Code::ptr_no_forward,
            fmt::format("{} has no {} record{}", f.name.presentation(), record_type(ip_),
                        f.outcome == Outcome::nxdomain ? " (NXDOMAIN)" : ""));
      }
    }
  }

  void ttl() {
    const std::uint32_t ptr_ttl = observation_.ptr.ttl;
    std::vector<std::string> notes;
    if (ptr_ttl < rules_.ttl_min) {
      notes.push_back(fmt::format("PTR TTL {} s is below {} s", ptr_ttl, rules_.ttl_min));
    } else if (ptr_ttl > rules_.ttl_max) {
      notes.push_back(fmt::format("PTR TTL {} s is above {} s", ptr_ttl, rules_.ttl_max));
    }
    for (const ForwardObservation& f : observation_.forward) {
      if (!confirms(f, ip_) || f.ttl == 0 || ptr_ttl == 0) continue;
      const double ratio = static_cast<double>(std::max(ptr_ttl, f.ttl)) /
                           static_cast<double>(std::min(ptr_ttl, f.ttl));
      if (ratio > rules_.ttl_max_ratio) {
        notes.push_back(fmt::format("PTR TTL {} s differs from the {} TTL {} s of {}", ptr_ttl,
                                    record_type(ip_), f.ttl, f.name.presentation()));
      }
    }
    if (notes.empty()) return;
    std::string detail;
    for (const std::string& note : notes) {
      if (!detail.empty()) detail += "; ";
      detail += note;
    }
    add(Code::ttl_note, std::move(detail));
  }

  /// RFC 5321 lets a server check EHLO against the client's address but not
  /// refuse on it, so these are warnings: the greeting and EHLO names should
  /// be the forward-confirmed PTR name.
  void smtp() {
    if (!observation_.smtp) return;
    const SmtpObservation& smtp = *observation_.smtp;
    if (!smtp.greeted) {
      add(Code::smtp_unavailable, fmt::format("no SMTP greeting: {}", escape_text(smtp.failure)));
      return;
    }
    check_helo_name("greeting", smtp.banner_name);
    if (!smtp.ehlo_name.empty() && smtp.ehlo_name != smtp.banner_name) {
      check_helo_name("EHLO reply", smtp.ehlo_name);
    }
    tls(smtp);
  }

  void tls(const SmtpObservation& smtp) {
    if (smtp.ehlo_code != 250) return;  // no extensions to judge
    if (!smtp.starttls_offered) {
      add(Code::smtp_no_starttls, "the EHLO reply does not offer STARTTLS");
      return;
    }
    if (!smtp.tls) return;
    const TlsObservation& tls = *smtp.tls;
    if (!tls.failure.empty()) {
      add(Code::smtp_tls_failed,
          escape_text(tls.failure) + " (TLS 1.2 or later with a valid certificate is expected)");
      return;
    }
    if (!tls.untrusted.empty()) {
      add(Code::smtp_tls_untrusted,
          fmt::format("the certificate does not verify: {}", escape_text(tls.untrusted)));
    }
    if (!tls.name_matches) {
      std::vector<std::string> names;
      for (const std::string& name : tls.names) names.push_back(escape_text(name));
      add(Code::smtp_tls_name_mismatch,
          fmt::format(
              "the certificate names {} but not {}",
              names.empty() ? std::string("no host") : fmt::format("{}", fmt::join(names, ", ")),
              observation_.expected_names.empty()
                  ? join_names(all(observation_.ptr.names))
                  : fmt::format("{}", fmt::join(observation_.expected_names, " or "))));
    }
    if (tls.days_left && *tls.days_left < 0) {
      add(Code::smtp_tls_expired, fmt::format("the certificate expired {} days ago ({})",
                                              -*tls.days_left, escape_text(tls.protocol)));
    } else if (tls.days_left && *tls.days_left < 14) {
      add(Code::smtp_tls_expiring,
          fmt::format("the certificate expires in {} days", *tls.days_left));
    }
  }

  /// Listings, and what kept a list from answering. Return codes were
  /// decoded with the list's own table, so an error answer is never a
  /// listing.
  void blocklists() {
    std::vector<std::string> untrusted;
    for (const DnsblObservation& list : observation_.dnsbl) {
      const std::string zone = escape_text(list.zone);
      if (!list.untrusted.empty()) {
        untrusted.push_back(zone);
        continue;
      }
      if (list.outcome == Outcome::tempfail || list.outcome == Outcome::skipped) {
        add(Code::dnsbl_error, fmt::format("{}: no answer ({})", zone, escape_text(list.failure)));
        continue;
      }
      if (list.outcome != Outcome::found) continue;
      const DnsblList* definition = find_list(list.zone);
      const DnsblReading reading =
          definition != nullptr ? read_dnsbl_answer(*definition, list.answers) : DnsblReading{};
      if (reading.kind == DnsblReading::Kind::error) {
        add(Code::dnsbl_error, fmt::format("{}: {}", zone, reading.text()));
      } else if (reading.kind == DnsblReading::Kind::listed) {
        std::string detail = fmt::format("{}: {}", zone, reading.text());
        if (!list.reason.empty()) detail += fmt::format(" (\"{}\")", escape_text(list.reason));
        findings_.push_back(Finding{Code::dnsbl_listed, reading.severity, std::move(detail)});
      }
    }
    // Why each failed is said once for the run, not on every address.
    if (!untrusted.empty()) {
      add(Code::dnsbl_untrusted,
          fmt::format("not asked in this run: {} (a failed self-test or a missing key; the "
                      "run's warnings say which)",
                      fmt::join(untrusted, ", ")));
    }
  }

  const DnsblList* find_list(const std::string& zone) const {
    for (const DnsblList& list : rules_.dnsbls) {
      if (list.zone == zone) return &list;
    }
    return nullptr;
  }

  void check_helo_name(std::string_view where, std::string name) {
    const std::string shown = escape_text(name);
    if (!name.empty() && name.back() == '.') name.pop_back();
    const DnsName parsed = DnsName::from_dotted(name);
    if (name.empty() || name.front() == '[' || IpAddress::parse(name) || parsed.label_count() < 2 ||
        parsed.key() == "localhost.localdomain") {
      add(Code::helo_invalid,
          fmt::format("SMTP {} name '{}' is a bare address, localhost or a single label", where,
                      shown));
      return;
    }
    const auto& forwards = observation_.forward;
    const auto named = std::find_if(forwards.begin(), forwards.end(),
                                    [&](const ForwardObservation& f) { return f.name == parsed; });
    if (named == forwards.end()) {
      const std::string ptr = observation_.ptr.names.empty()
                                  ? std::string("(none)")
                                  : join_names(all(observation_.ptr.names));
      add(Code::helo_mismatch,
          fmt::format("SMTP {} name '{}' differs from the PTR name {}", where, shown, ptr));
    } else if (!confirms(*named, ip_)) {
      add(Code::helo_mismatch,
          fmt::format("SMTP {} name '{}' does not resolve to {}", where, shown, ip_.to_string()));
    }
  }

  const IpObservation& observation_;
  const Rules& rules_;
  const IpAddress& ip_;
  std::vector<Finding> findings_;
};

/// Whether the labels joined by dots could be IP address text: only then is
/// the joined text built and parsed.
bool may_be_address(const DnsName& name) {
  for (const std::string_view label : name.labels()) {
    for (const char c : label) {
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':') return false;
    }
  }
  return true;
}

bool is_address_text(const DnsName& name) {
  // Hex digits and colons need no escaping: the presentation form is the
  // labels joined by dots.
  return may_be_address(name) && IpAddress::parse(name.presentation()).has_value();
}

}  // namespace

std::optional<std::string> host_name_problem(const DnsName& name) {
  const std::size_t count = name.label_count();
  if (count == 0) return std::string("the root name is not a host name");
  if (count == 1) return std::string("a single label is not a fully qualified host name");
  if (is_address_text(name)) return std::string("an IP address is not a host name");
  if (name.wire_length() - 2 > 253) return std::string("longer than 253 characters");
  std::string_view last;
  for (const std::string_view label : name.labels()) {
    if (label.empty()) return std::string("has an empty label");
    if (label.size() > 63) return std::string("has a label longer than 63 characters");
    for (const char c : label) {
      if (!is_ldh(c)) {
        DnsName one;
        one.append_label(std::string_view(&c, 1));
        return fmt::format("'{}' is not allowed in a host name (letters, digits, hyphens)",
                           one.presentation());
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return std::string("a label starts or ends with a hyphen");
    }
    last = label;
  }
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::string("the top-level label is all digits");
  }
  return std::nullopt;
}

Verdict classify(const IpObservation& observation, const Rules& rules) {
  return Classifier(observation, rules).run();
}

}  // namespace rdns::audit
