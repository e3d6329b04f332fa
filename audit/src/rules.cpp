#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <span>
#include <sstream>

#include <boost/container/small_vector.hpp>
#include <fmt/format.h>
#include <fnmatch.h>
#include <toml++/toml.h>

#include <audit/rules.hpp>
#include <audit/spf_record.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "default_rules.hpp"

namespace rdns::audit {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// A name's tokens, as views into its labels: a name has a few, which are
/// held without allocating.
using Tokens = boost::container::small_vector<std::string_view, 8>;

/// Splits a name into tokens at every character that is not a letter or
/// digit, and between letters and digits ("host20" -> host, 20).
Tokens tokens_of(const DnsName& name) {
  Tokens tokens;
  for (const std::string_view label : name.labels()) {
    std::size_t start = 0;  // where the current token began
    for (std::size_t i = 0; i < label.size(); ++i) {
      const char c = label[i];
      if (!is_digit(c) && !is_alpha(c)) {
        if (i > start) tokens.push_back(label.substr(start, i - start));
        start = i + 1;
      } else if (i > start && is_digit(label[i - 1]) != is_digit(c)) {
        tokens.push_back(label.substr(start, i - start));
        start = i;
      }
    }
    if (label.size() > start) tokens.push_back(label.substr(start));
  }
  return tokens;
}

/// Whether `text` equals `folded` (lower case), ignoring the case of `text`.
bool equals_folded(std::string_view text, std::string_view folded) {
  if (text.size() != folded.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (ascii_lower(text[i]) != folded[i]) return false;
  }
  return true;
}

/// The rule token (lower case, as the rules keep them) that `token` is,
/// ignoring its case; null when none.
const std::string* find_token(const std::vector<std::string>& rule_tokens, std::string_view token) {
  for (const std::string& rule_token : rule_tokens) {
    if (equals_folded(token, rule_token)) return &rule_token;
  }
  return nullptr;
}

/// Whether `text` holds `needle` (lower case), ignoring the case of `text`.
bool contains_folded(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return false;
  for (std::size_t at = 0; at + needle.size() <= text.size(); ++at) {
    if (equals_folded(text.substr(at, needle.size()), needle)) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(std::string source, Rules& rules) : source_(std::move(source)), rules_(rules) {}

  void parse(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, source_);
    } catch (const toml::parse_error& error) {
      throw Error(Errc::input, fmt::format("{}:{}: {}", source_, error.source().begin.line,
                                           error.description()));
    }
    for (auto& [key, node] : root) {
      if (key == "generic") {
        generic(table_of(node, key.str()));
      } else if (key == "ttl") {
        ttl(table_of(node, key.str()));
      } else if (key == "provider_default") {
        providers(node, key.str());
      } else if (key == "dnsbl") {
        dnsbls(node, key.str());
      } else {
        unknown(node, key.str());
      }
    }
  }

 private:
  [[noreturn]] void fail(const toml::node& node, std::string_view key, std::string_view what) {
    throw Error(Errc::input,
                fmt::format("{}:{}: key '{}': {}", source_, node.source().begin.line, key, what));
  }
  [[noreturn]] void unknown(const toml::node& node, std::string_view key) {
    fail(node, key, "unknown key");
  }

  const toml::table& table_of(const toml::node& node, std::string_view key) {
    const toml::table* table = node.as_table();
    if (table == nullptr) fail(node, key, "expected a table");
    return *table;
  }

  std::vector<std::string> strings(const toml::node& node, std::string_view key) {
    const toml::array* array = node.as_array();
    if (array == nullptr) fail(node, key, "expected an array of strings");
    std::vector<std::string> values;
    for (const toml::node& item : *array) {
      const auto value = item.value<std::string>();
      if (!value || value->empty()) fail(item, key, "expected a non-empty string");
      values.push_back(*value);
    }
    return values;
  }

  std::int64_t integer(const toml::node& node, std::string_view key, std::int64_t min,
                       std::int64_t max) {
    const auto value = node.value<std::int64_t>();
    if (!value || !node.is_integer() || *value < min || *value > max) {
      fail(node, key, fmt::format("expected an integer from {} to {}", min, max));
    }
    return *value;
  }

  void generic(const toml::table& table) {
    for (auto& [key, node] : table) {
      if (key == "tokens") {
        for (auto& token : strings(node, key.str()))
          rules_.generic_tokens.push_back(ascii_lower(token));
      } else if (key == "exempt_tokens") {
        for (auto& token : strings(node, key.str()))
          rules_.exempt_tokens.push_back(ascii_lower(token));
      } else if (key == "embedded_ip_min_octets") {
        rules_.embedded_ip_min_octets = static_cast<int>(integer(node, key.str(), 2, 4));
      } else if (key == "embedded_hex_ip") {
        const auto value = node.value<bool>();
        if (!value || !node.is_boolean()) fail(node, key.str(), "expected true or false");
        rules_.embedded_hex_ip = *value;
      } else {
        unknown(node, key.str());
      }
    }
  }

  void ttl(const toml::table& table) {
    for (auto& [key, node] : table) {
      if (key == "min_seconds") {
        rules_.ttl_min = static_cast<std::uint32_t>(integer(node, key.str(), 0, 2147483647));
      } else if (key == "max_seconds") {
        rules_.ttl_max = static_cast<std::uint32_t>(integer(node, key.str(), 0, 2147483647));
      } else if (key == "max_ratio") {
        const auto value = node.value<double>();
        if (!value || *value < 1) fail(node, key.str(), "expected a number of at least 1");
        rules_.ttl_max_ratio = *value;
      } else {
        unknown(node, key.str());
      }
    }
  }

  void providers(const toml::node& node, std::string_view key) {
    const toml::array* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      fail(node, key, "expected [[provider_default]] tables");
    }
    for (const toml::node& item : *array) {
      ProviderPattern provider;
      for (auto& [field, value] : *item.as_table()) {
        if (field == "provider") {
          const auto name = value.value<std::string>();
          if (!name || name->empty()) fail(value, field.str(), "expected a non-empty string");
          provider.provider = *name;
        } else if (field == "patterns") {
          for (auto& pattern : strings(value, field.str())) {
            std::string glob = ascii_lower(pattern);
            const auto special = glob.find_last_of("}*?]");
            provider.literal_suffixes.push_back(
                special == std::string::npos ? glob : glob.substr(special + 1));
            provider.patterns.push_back(std::move(glob));
          }
        } else {
          unknown(value, field.str());
        }
      }
      if (provider.provider.empty() || provider.patterns.empty()) {
        fail(item, key, "each [[provider_default]] needs 'provider' and 'patterns'");
      }
      rules_.providers.push_back(std::move(provider));
    }
  }

  std::string text(const toml::node& node, std::string_view key) {
    const auto value = node.value<std::string>();
    if (!value || value->empty() || !node.is_string())
      fail(node, key, "expected a non-empty string");
    return *value;
  }

  bool boolean(const toml::node& node, std::string_view key) {
    const auto value = node.value<bool>();
    if (!value || !node.is_boolean()) fail(node, key, "expected true or false");
    return *value;
  }

  Severity severity(const toml::node& node, std::string_view key) {
    const std::optional<Severity> parsed = parse_severity(text(node, key));
    if (!parsed) fail(node, key, "expected error, warning or info");
    return *parsed;
  }

  /// A return code: an address in 127.0.0.0/8 (or anything, for errors).
  IpAddress answer(const toml::node& node, std::string_view key) {
    const std::optional<IpAddress> parsed = IpAddress::parse(text(node, key));
    if (!parsed || parsed->family() != Family::ipv4) fail(node, key, "expected an IPv4 address");
    return *parsed;
  }

  const toml::table& entry_table(const toml::node& node, std::string_view key) {
    const toml::table* table = node.as_table();
    if (table == nullptr)
      fail(node, key, "expected a table such as { answer = \"127.0.0.2\", ... }");
    return *table;
  }

  std::vector<DnsblCode> dnsbl_codes(const toml::node& node, std::string_view key) {
    const toml::array* array = node.as_array();
    if (array == nullptr) fail(node, key, "expected an array of tables");
    std::vector<DnsblCode> codes;
    for (const toml::node& item : *array) {
      DnsblCode code;
      for (auto& [field, value] : entry_table(item, key)) {
        if (field == "answer") {
          code.answer = answer(value, field.str());
        } else if (field == "meaning") {
          code.meaning = text(value, field.str());
        } else if (field == "severity") {
          code.severity = severity(value, field.str());
        } else {
          unknown(value, field.str());
        }
      }
      if (code.meaning.empty()) fail(item, key, "each code needs 'answer' and 'meaning'");
      codes.push_back(std::move(code));
    }
    return codes;
  }

  std::vector<DnsblErrorCode> dnsbl_errors(const toml::node& node, std::string_view key) {
    const toml::array* array = node.as_array();
    if (array == nullptr) fail(node, key, "expected an array of tables");
    std::vector<DnsblErrorCode> errors;
    for (const toml::node& item : *array) {
      DnsblErrorCode error;
      for (auto& [field, value] : entry_table(item, key)) {
        if (field == "answer") {
          error.answer = answer(value, field.str());
        } else if (field == "advice") {
          error.advice = text(value, field.str());
        } else {
          unknown(value, field.str());
        }
      }
      if (error.advice.empty()) fail(item, key, "each error needs 'answer' and 'advice'");
      errors.push_back(std::move(error));
    }
    return errors;
  }

  void dnsbls(const toml::node& node, std::string_view key) {
    const toml::array* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables())
      fail(node, key, "expected [[dnsbl]] tables");
    for (const toml::node& item : *array) {
      DnsblList list;
      for (auto& [field, value] : *item.as_table()) {
        if (field == "zone") {
          list.zone = ascii_lower(text(value, field.str()));
          if (!spf::domain_name(list.zone)) fail(value, field.str(), "expected a domain name");
        } else if (field == "key_zone") {
          list.key_zone = ascii_lower(text(value, field.str()));
          if (!spf::domain_name(list.key_zone)) fail(value, field.str(), "expected a domain name");
        } else if (field == "ipv4") {
          list.ipv4 = boolean(value, field.str());
        } else if (field == "ipv6") {
          list.ipv6 = boolean(value, field.str());
        } else if (field == "enabled") {
          list.enabled = boolean(value, field.str());
        } else if (field == "needs_key") {
          list.needs_key = boolean(value, field.str());
        } else if (field == "qps") {
          list.qps = static_cast<double>(integer(value, field.str(), 0, 100000));
        } else if (field == "severity") {
          list.severity = severity(value, field.str());
        } else if (field == "codes") {
          list.codes = dnsbl_codes(value, field.str());
        } else if (field == "errors") {
          list.errors = dnsbl_errors(value, field.str());
        } else {
          unknown(value, field.str());
        }
      }
      if (list.zone.empty()) fail(item, key, "each [[dnsbl]] needs 'zone'");
      if (list.needs_key && list.key_zone.empty()) fail(item, key, "needs_key needs 'key_zone'");
      std::erase_if(rules_.dnsbls, [&](const DnsblList& other) { return other.zone == list.zone; });
      rules_.dnsbls.push_back(std::move(list));
    }
  }

  std::string source_;
  Rules& rules_;
};

/// Whether `numbers` holds `min_run` consecutive entries equal to a run of
/// `octets` in the same order.
bool has_octet_run(std::span<const int> numbers, std::span<const int> octets, int min_run) {
  const auto n = static_cast<int>(numbers.size());
  const auto m = static_cast<int>(octets.size());
  for (int start = 0; start + min_run <= n; ++start) {
    for (int offset = 0; offset + min_run <= m; ++offset) {
      int length = 0;
      while (start + length < n && offset + length < m &&
             numbers[static_cast<std::size_t>(start + length)] ==
                 octets[static_cast<std::size_t>(offset + length)]) {
        ++length;
      }
      if (length >= min_run) return true;
    }
  }
  return false;
}

}  // namespace

Rules Rules::parse(std::string_view toml_text, const std::string& source, Rules base) {
  Parser(source, base).parse(toml_text);
  return base;
}

Rules Rules::parse(std::string_view toml_text, const std::string& source) {
  return parse(toml_text, source, Rules{});
}

Rules Rules::defaults() {
  static const Rules built_in = parse(kDefaultRulesToml, "built-in rules");
  return built_in;
}

Rules Rules::load(const std::string& path) {
  if (path.empty()) return defaults();
  std::ifstream file(path);
  if (!file) {
    throw Error(Errc::input, fmt::format("{}: cannot open rules file: {}", escape_text(path),
                                         std::strerror(errno)));
  }
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str(), path, defaults());
}

std::optional<std::string> Rules::generic_reason(const DnsName& name, const IpAddress& ip) const {
  const Tokens tokens = tokens_of(name);
  for (const std::string_view token : tokens) {
    if (find_token(exempt_tokens, token) != nullptr) return std::nullopt;
  }
  if (ip.family() == Family::ipv4) {
    boost::container::small_vector<int, 8> numbers;
    for (const std::string_view token : tokens) {
      // A token is all digits or all letters.
      if (token.size() > 3 || !is_digit(token.front())) continue;
      int number = 0;
      std::from_chars(token.data(), token.data() + token.size(), number);
      numbers.push_back(number);
    }
    const auto& bytes = ip.bytes();
    const std::array<int, 4> octets{bytes[0], bytes[1], bytes[2], bytes[3]};
    const std::array<int, 4> reversed{bytes[3], bytes[2], bytes[1], bytes[0]};
    const std::span<const int> found(numbers.data(), numbers.size());
    if (has_octet_run(found, octets, embedded_ip_min_octets) ||
        has_octet_run(found, reversed, embedded_ip_min_octets)) {
      return std::string("embeds the address");
    }
    if (embedded_hex_ip) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::array<char, 8> hex{};
      for (std::size_t i = 0; i < 4; ++i) {
        hex[2 * i] = kHex[bytes[i] >> 4];
        hex[2 * i + 1] = kHex[bytes[i] & 0x0f];
      }
      for (const std::string_view label : name.labels()) {
        if (contains_folded(label, {hex.data(), hex.size()})) {
          return std::string("embeds the address in hex");
        }
      }
    }
  }
  for (const std::string_view token : tokens) {
    if (const std::string* generic = find_token(generic_tokens, token)) {
      return fmt::format("has the dynamic-pool token '{}'", *generic);
    }
  }
  return std::nullopt;
}

std::optional<std::string> Rules::provider_default(const DnsName& name, const IpAddress& ip) const {
  // Asked for every PTR name: the key is written into this thread's
  // buffer, which keeps its room, instead of a new string each time.
  thread_local std::string candidate;
  name.key_into(candidate);
  for (const ProviderPattern& provider : providers) {
    for (std::size_t i = 0; i < provider.patterns.size(); ++i) {
      const std::string& suffix = provider.literal_suffixes[i];
      if (candidate.size() < suffix.size() ||
          candidate.compare(candidate.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      std::string glob = provider.patterns[i];
      if (glob.find('{') != std::string::npos) {
        if (ip.family() != Family::ipv4) continue;
        static constexpr std::string_view kPlaceholders[] = {"{a}", "{b}", "{c}", "{d}"};
        for (std::size_t octet_index = 0; octet_index < 4; ++octet_index) {
          const std::string octet = std::to_string(ip.bytes()[octet_index]);
          const std::string_view placeholder = kPlaceholders[octet_index];
          for (auto at = glob.find(placeholder); at != std::string::npos;
               at = glob.find(placeholder, at + octet.size())) {
            glob.replace(at, placeholder.size(), octet);
          }
        }
      }
      if (fnmatch(glob.c_str(), candidate.c_str(), 0) == 0) return provider.provider;
    }
  }
  return std::nullopt;
}

}  // namespace rdns::audit
