#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include <audit/domain_auth_records.hpp>
#include <util/ascii.hpp>
#include <util/escape.hpp>

namespace rdns::audit::auth {
namespace {

constexpr std::size_t kShownBytes = 120;
/// Report destinations and policy patterns looked at; more are remote data
/// that must not decide how much work an audit does.
constexpr std::size_t kMaxUris = 20;
constexpr std::size_t kMaxProblems = 10;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// RFC 6376 tag-name: ALPHA *(ALPHA / DIGIT / "_").
bool valid_tag_name(std::string_view name) {
  if (name.empty() || !is_alpha(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

void add_problem(std::vector<std::string>& problems, std::string problem) {
  if (problems.size() < kMaxProblems) problems.push_back(std::move(problem));
}

/// A whole decimal number within [low, high], or nullopt.
std::optional<long> number_in(std::string_view text, long low, long high) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < low || value > high) return std::nullopt;
  return value;
}

/// A domain name as written in a policy: letters, digits, hyphens and
/// underscores in labels of 1-63 bytes, at most 253 bytes; a trailing dot
/// is allowed.
bool valid_domain(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    const bool characters_ok = std::all_of(label.begin(), label.end(), [](char c) {
      return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
    });
    if (!characters_ok || label.front() == '-' || label.back() == '-') return false;
    start = dot + 1;
  }
  return true;
}

std::string lowered_without_dot(std::string_view text) {
  std::string name = ascii_lower(std::string(text));
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

/// The comma-separated URIs of a rua/ruf value, each checked.
std::vector<std::string> split_uris(std::string_view value, std::string_view tag,
                                    std::vector<std::string>& problems) {
  std::vector<std::string> uris;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t comma = std::min(value.find(',', start), value.size());
    const std::string_view uri = trim(value.substr(start, comma - start));
    start = comma + 1;
    if (uris.size() == kMaxUris) {
      add_problem(problems, fmt::format("{} lists more than {} destinations", tag, kMaxUris));
      break;
    }
    if (uri.empty()) {
      add_problem(problems, fmt::format("{} has an empty destination", tag));
      continue;
    }
    uris.emplace_back(uri);
  }
  return uris;
}

/// Whether `uri` is an https URL with a host.
bool is_https_url(std::string_view uri) {
  constexpr std::string_view kScheme = "https://";
  if (uri.size() <= kScheme.size() ||
      ascii_lower(std::string(uri.substr(0, kScheme.size()))) != kScheme) {
    return false;
  }
  const std::string_view rest = uri.substr(kScheme.size());
  const std::string_view host = rest.substr(0, rest.find_first_of("/:?#"));
  return valid_domain(host);
}

/// Checks one DMARC tag and records what it means.
void dmarc_tag(const Tag& tag, DmarcRecord& record) {
  const std::string value = ascii_lower(tag.value);
  const auto policy_value = [&](std::string& out) {
    if (value == "none" || value == "quarantine" || value == "reject") {
      out = value;
    } else {
      add_problem(record.problems, fmt::format("{}={} is not none, quarantine or reject", tag.name,
                                               quoted(tag.value)));
    }
  };
  if (tag.name == "p") {
    policy_value(record.policy);
  } else if (tag.name == "sp") {
    policy_value(record.subdomain_policy);
  } else if (tag.name == "pct") {
    if (!number_in(tag.value, 0, 100)) {
      add_problem(record.problems,
                  fmt::format("pct={} is not a whole number from 0 to 100", quoted(tag.value)));
    }
  } else if (tag.name == "adkim" || tag.name == "aspf") {
    if (value != "r" && value != "s") {
      add_problem(record.problems, fmt::format("{}={} is not r or s", tag.name, quoted(tag.value)));
    }
  } else if (tag.name == "ri") {
    if (!number_in(tag.value, 0, 4294967295L)) {
      add_problem(record.problems,
                  fmt::format("ri={} is not a number of seconds", quoted(tag.value)));
    }
  } else if (tag.name == "fo") {
    for (std::size_t start = 0; start <= value.size();) {
      const std::size_t colon = std::min(value.find(':', start), value.size());
      const std::string option(trim(std::string_view(value).substr(start, colon - start)));
      if (option != "0" && option != "1" && option != "d" && option != "s") {
        add_problem(record.problems, fmt::format("fo={} holds an option other than 0, 1, d or s",
                                                 quoted(tag.value)));
        break;
      }
      start = colon + 1;
    }
  } else if (tag.name == "rua" || tag.name == "ruf") {
    auto& uris = tag.name == "rua" ? record.aggregate_uris : record.failure_uris;
    for (std::string& uri : split_uris(tag.value, tag.name, record.problems)) {
      const bool mailto = ascii_lower(uri.substr(0, 7)) == "mailto:";
      if (!mailto && !is_https_url(uri)) {
        add_problem(record.problems, fmt::format("{} destination {} is not a mailto: or https: URI",
                                                 tag.name, quoted(uri)));
        continue;
      }
      if (mailto && !mailto_domain(uri)) {
        add_problem(record.problems,
                    fmt::format("{} destination {} is not a mail address", tag.name, quoted(uri)));
        continue;
      }
      uris.push_back(std::move(uri));
    }
  }
  // rf and unknown tags: receivers ignore them (RFC 7489 section 6.3).
}

/// The tags of a record that must begin with v=VERSION (MTA-STS, TLS-RPT);
/// a problem when it does not.
TagList versioned_tags(std::string_view text, std::string_view version) {
  TagList list = parse_tag_list(text);
  if (list.tags.empty() || list.tags[0].name != "v" || list.tags[0].value != version) {
    add_problem(list.problems, fmt::format("it does not begin with v={}", version));
  }
  return list;
}

const Tag* find_tag(const TagList& list, std::string_view name) {
  const auto found = std::find_if(list.tags.begin(), list.tags.end(),
                                  [&](const Tag& tag) { return tag.name == name; });
  return found == list.tags.end() ? nullptr : &*found;
}

}  // namespace

std::string quoted(std::string_view text) {
  if (text.size() <= kShownBytes) return "'" + escape_text(text) + "'";
  return "'" + escape_text(text.substr(0, kShownBytes)) + "...'";
}

TagList parse_tag_list(std::string_view text) {
  TagList list;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t semicolon = std::min(text.find(';', start), text.size());
    const std::string_view element = trim(text.substr(start, semicolon - start));
    start = semicolon + 1;
    if (element.empty()) continue;
    const std::size_t equals = element.find('=');
    if (equals == std::string_view::npos) {
      add_problem(list.problems, fmt::format("{} is not name=value", quoted(element)));
      continue;
    }
    const std::string_view name = trim(element.substr(0, equals));
    if (!valid_tag_name(name)) {
      add_problem(list.problems, fmt::format("{} is not a tag name", quoted(name)));
      continue;
    }
    list.tags.push_back(
        {ascii_lower(std::string(name)), std::string(trim(element.substr(equals + 1)))});
  }
  return list;
}

bool is_dmarc_record(std::string_view text) {
  const std::string_view first = text.substr(0, text.find(';'));
  const std::size_t equals = first.find('=');
  if (equals == std::string_view::npos) return false;
  return trim(first.substr(0, equals)) == "v" && trim(first.substr(equals + 1)) == "DMARC1";
}

DmarcRecord parse_dmarc(std::string_view text) {
  DmarcRecord record;
  const TagList list = parse_tag_list(text);
  record.problems = list.problems;
  std::set<std::string> seen;
  bool has_policy = false;
  for (std::size_t i = 0; i < list.tags.size(); ++i) {
    const Tag& tag = list.tags[i];
    if (!seen.insert(tag.name).second) {
      add_problem(record.problems, fmt::format("tag {} appears twice", quoted(tag.name)));
      continue;
    }
    if (tag.name == "v") {
      if (i != 0) add_problem(record.problems, "v=DMARC1 is not the first tag");
      continue;
    }
    has_policy = has_policy || tag.name == "p";
    dmarc_tag(tag, record);
  }
  if (!has_policy) add_problem(record.problems, "the required p= tag is missing");
  return record;
}

std::optional<std::string> mailto_domain(std::string_view uri) {
  if (uri.size() < 7 || ascii_lower(std::string(uri.substr(0, 7))) != "mailto:") {
    return std::nullopt;
  }
  std::string_view address = uri.substr(7);
  address = address.substr(0, address.find('!'));  // "!10m": a size limit
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const std::string_view domain = address.substr(at + 1);
  if (!valid_domain(domain)) return std::nullopt;
  return lowered_without_dot(domain);
}

bool is_sts_record(std::string_view text) {
  return trim(text).starts_with("v=STSv1");
}

std::vector<std::string> sts_record_problems(std::string_view text) {
  const TagList list = versioned_tags(text, "STSv1");
  std::vector<std::string> problems = list.problems;
  const Tag* id = find_tag(list, "id");
  if (id == nullptr) {
    add_problem(problems, "the required id= tag is missing");
  } else if (id->value.empty() || id->value.size() > 32 ||
             !std::all_of(id->value.begin(), id->value.end(),
                          [](char c) { return is_alpha(c) || is_digit(c); })) {
    add_problem(problems,
                fmt::format("id={} is not 1 to 32 letters and digits", quoted(id->value)));
  }
  return problems;
}

StsPolicy parse_sts_policy(std::string_view body) {
  StsPolicy policy;
  bool version_seen = false;
  std::set<std::string> seen;
  std::size_t number = 0;
  for (std::size_t start = 0; start < body.size();) {
    const std::size_t newline = std::min(body.find('\n', start), body.size());
    std::string_view line = body.substr(start, newline - start);
    start = newline + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      add_problem(policy.problems,
                  fmt::format("line {} {} is not key: value", number, quoted(line)));
      continue;
    }
    const std::string key(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (key != "mx" && !seen.insert(key).second) {
      add_problem(policy.problems, fmt::format("{} appears twice", quoted(key)));
      continue;
    }
    if (key == "version") {
      version_seen = true;
      if (value != "STSv1") {
        add_problem(policy.problems, fmt::format("version {} is not STSv1", quoted(value)));
      }
    } else if (key == "mode") {
      if (value == "enforce")
        policy.mode = StsMode::enforce;
      else if (value == "testing")
        policy.mode = StsMode::testing;
      else if (value == "none")
        policy.mode = StsMode::none;
      else
        add_problem(policy.problems,
                    fmt::format("mode {} is not enforce, testing or none", quoted(value)));
    } else if (key == "max_age") {
      policy.max_age = number_in(value, 0, kMaxStsMaxAge);
      if (!policy.max_age) {
        add_problem(policy.problems, fmt::format("max_age {} is not a whole number from 0 to {}",
                                                 quoted(value), kMaxStsMaxAge));
      }
    } else if (key == "mx") {
      const std::string_view domain = value.starts_with("*.") ? value.substr(2) : value;
      if (!valid_domain(domain)) {
        add_problem(policy.problems,
                    fmt::format("mx {} is not a host name or *.domain", quoted(value)));
      } else if (policy.mx.size() < kMaxUris * 5) {
        policy.mx.push_back(lowered_without_dot(value));
      }
    }
    // Unknown keys: ignored (RFC 8461 section 3.2).
  }
  if (!version_seen) add_problem(policy.problems, "version: STSv1 is missing");
  if (!policy.mode && seen.count("mode") == 0) add_problem(policy.problems, "mode is missing");
  if (!policy.max_age && seen.count("max_age") == 0) {
    add_problem(policy.problems, "max_age is missing");
  }
  if (policy.mode && *policy.mode != StsMode::none && policy.mx.empty()) {
    add_problem(policy.problems, "no mx line, which any mode but none needs");
  }
  return policy;
}

bool mx_pattern_matches(std::string_view pattern, std::string_view host) {
  const std::string wanted = lowered_without_dot(pattern);
  const std::string name = lowered_without_dot(host);
  if (!wanted.starts_with("*.")) return wanted == name;
  // The wildcard stands for exactly one label, never for none or several.
  const std::size_t dot = name.find('.');
  return dot != std::string::npos && dot > 0 && name.substr(dot + 1) == wanted.substr(2);
}

bool is_tlsrpt_record(std::string_view text) {
  return trim(text).starts_with("v=TLSRPTv1");
}

std::vector<std::string> tlsrpt_problems(std::string_view text) {
  const TagList list = versioned_tags(text, "TLSRPTv1");
  std::vector<std::string> problems = list.problems;
  const Tag* rua = find_tag(list, "rua");
  if (rua == nullptr) {
    add_problem(problems, "the required rua= tag is missing");
    return problems;
  }
  for (const std::string& uri : split_uris(rua->value, "rua", problems)) {
    if (!mailto_domain(uri) && !is_https_url(uri)) {
      add_problem(problems, fmt::format("rua destination {} is not a mailto: address or an "
                                        "https: URL",
                                        quoted(uri)));
    }
  }
  return problems;
}

}  // namespace rdns::audit::auth
