// TSIG keys in the formats nsupdate and knsupdate take: the `-y` string
// and the two key files. Messages name the source and line, never the secret.

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <provision/rfc2136.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::provision {
namespace {

constexpr std::string_view kAlgorithm = "hmac-sha256";

bool is_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return false;
  const std::size_t padding = text.find('=');
  if (padding != std::string_view::npos &&
      (text.size() - padding > 2 ||
       text.substr(padding).find_first_not_of('=') != std::string_view::npos)) {
    return false;
  }
  const std::string_view data = text.substr(0, padding);
  for (const char c : data) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '/') return false;
  }
  return true;
}

bool is_key_name(std::string_view name) {
  if (name.empty() || name.size() > 254 || name.starts_with('.') ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  for (const char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

/// Builds the key after checking each part; where says where the parts came
/// from ("--tsig-key", "keys/ptr.key:3") and starts every message.
TsigKey make_key(std::string_view algorithm, std::string_view name, std::string_view secret,
                 const std::string& where) {
  if (ascii_lower(std::string(algorithm)) != kAlgorithm &&
      ascii_lower(std::string(algorithm)) != std::string(kAlgorithm) + ".") {
    // Named only when it looks like one: a misplaced secret must not be echoed.
    const bool named = ascii_lower(std::string(algorithm)).starts_with("hmac-");
    throw Error(
        Errc::usage,
        fmt::format("{}: TSIG algorithm {}is not supported (only {})", where,
                    named ? "\"" + escape_text(algorithm) + "\" " : std::string(), kAlgorithm));
  }
  if (!is_key_name(name)) {
    // Not quoted: with the fields in the wrong order it would be the secret.
    throw Error(Errc::usage, fmt::format("{}: the key name is not a domain name (expected "
                                         "[hmac-sha256:]NAME:SECRET)",
                                         where));
  }
  if (!is_base64(secret)) {
    throw Error(Errc::usage,
                fmt::format("{}: the secret of key {} is not base64", where, escape_text(name)));
  }
  TsigKey key;
  key.name = ascii_lower(std::string(name));
  if (!key.name.ends_with('.')) key.name += '.';
  key.secret = Secret(std::string(secret));
  key.origin = where;
  return key;
}

/// `[alg:]name:secret`, as knsupdate -y and its key files take it.
TsigKey parse_colon_form(std::string_view text, const std::string& where) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() == 2) return make_key(kAlgorithm, parts[0], parts[1], where);
  if (parts.size() == 3) return make_key(parts[0], parts[1], parts[2], where);
  throw Error(Errc::usage,
              fmt::format("{}: expected [hmac-sha256:]NAME:SECRET (base64 secret)", where));
}

/// One token of a BIND key file and the line it starts on.
struct Token {
  std::string text;
  int line = 0;
  bool quoted = false;
};

/// Splits BIND's configuration syntax into words, quoted strings and the
/// punctuation `{ } ;`, dropping `#`, `//` and `/* */` comments.
std::vector<Token> tokenize(const std::string& text, const std::string& file) {
  std::vector<Token> tokens;
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '#' || text.compare(i, 2, "//") == 0) {
      i = text.find('\n', i);
      if (i == std::string::npos) i = text.size();
    } else if (text.compare(i, 2, "/*") == 0) {
      const std::size_t end = text.find("*/", i + 2);
      if (end == std::string::npos) {
        throw Error(Errc::input, fmt::format("{}:{}: unterminated comment", file, line));
      }
      for (std::size_t j = i; j < end; ++j) line += text[j] == '\n' ? 1 : 0;
      i = end + 2;
    } else if (c == '"') {
      const std::size_t end = text.find('"', i + 1);
      if (end == std::string::npos || text.find('\n', i) < end) {
        throw Error(Errc::input, fmt::format("{}:{}: unterminated string", file, line));
      }
      tokens.push_back({text.substr(i + 1, end - i - 1), line, true});
      i = end + 1;
    } else if (c == '{' || c == '}' || c == ';') {
      tokens.push_back({std::string(1, c), line, false});
      ++i;
    } else {
      std::size_t end = i;
      while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end])) == 0 &&
             std::string_view("{};\"").find(text[end]) == std::string_view::npos) {
        ++end;
      }
      tokens.push_back({text.substr(i, end - i), line, false});
      i = end;
    }
  }
  return tokens;
}

/// Reads `key "name" { algorithm A; secret "S"; };` (one key) from tokens.
class BindKeyParser {
 public:
  BindKeyParser(std::vector<Token> tokens, std::string file)
      : tokens_(std::move(tokens)), file_(std::move(file)) {}

  TsigKey parse() {
    expect_word("key");
    const Token name = next("the key name");
    expect("{");
    std::string algorithm;
    std::string secret;
    int secret_line = name.line;
    while (peek() != "}") {
      const Token clause = next("algorithm, secret or }");
      const Token value = next("a value after " + clause.text);
      if (clause.text == "algorithm") {
        algorithm = value.text;
      } else if (clause.text == "secret") {
        secret = value.text;
        secret_line = value.line;
      } else {
        fail(clause, "unknown clause \"" + escape_text(clause.text) + "\" in a key statement");
      }
      expect(";");
    }
    expect("}");
    expect(";");
    if (at_ < tokens_.size()) fail(tokens_[at_], "only one key statement is supported");
    if (algorithm.empty()) fail(name, "key " + escape_text(name.text) + " has no algorithm");
    if (secret.empty()) fail(name, "key " + escape_text(name.text) + " has no secret");
    return make_key(algorithm, name.text, secret, fmt::format("{}:{}", file_, secret_line));
  }

 private:
  [[noreturn]] void fail(const Token& at, const std::string& why) const {
    throw Error(Errc::input, fmt::format("{}:{}: {}", file_, at.line, why));
  }
  std::string peek() const { return at_ < tokens_.size() ? tokens_[at_].text : std::string(); }
  Token next(const std::string& wanted) {
    if (at_ >= tokens_.size()) {
      const int line = tokens_.empty() ? 1 : tokens_.back().line;
      throw Error(Errc::input,
                  fmt::format("{}:{}: the file ends where {} was expected", file_, line, wanted));
    }
    return tokens_[at_++];
  }
  void expect(const std::string& punctuation) {
    const Token token = next("\"" + punctuation + "\"");
    if (token.quoted || token.text != punctuation) {
      fail(token, "expected \"" + punctuation + "\"");
    }
  }
  void expect_word(const std::string& word) {
    const Token token = next(word);
    if (token.quoted || token.text != word) fail(token, "expected \"" + word + "\"");
  }

  std::vector<Token> tokens_;
  std::string file_;
  std::size_t at_ = 0;
};

/// The one non-blank, non-comment line of a knsupdate key file.
TsigKey parse_line_file(const std::string& text, const std::string& file) {
  std::istringstream lines(text);
  int number = 0;
  std::optional<TsigKey> key;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    const std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    const std::size_t end = line.find_last_not_of(" \t\r");
    const std::string where = fmt::format("{}:{}", file, number);
    if (key) throw Error(Errc::input, where + ": only one key line is supported");
    try {
      key = parse_colon_form(std::string_view(line).substr(start, end - start + 1), where);
    } catch (const Error& error) {
      throw Error(Errc::input, error.what());
    }
  }
  if (!key) throw Error(Errc::input, file + ": no key in the file");
  return *key;
}

/// Whether the first line that is not blank or a `#` comment starts a BIND
/// key statement; a knsupdate file's line is [alg:]name:secret instead. (A
/// base64 secret may hold "//" or "/*", so the line form is not tokenized.)
bool is_bind_format(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#' || line.compare(start, 2, "//") == 0) {
      continue;
    }
    return line.compare(start, 3, "key") == 0 &&
           (line.size() == start + 3 || line[start + 3] == ' ' || line[start + 3] == '\t' ||
            line[start + 3] == '"');
  }
  return false;
}

}  // namespace

TsigKey parse_tsig_key(std::string_view text, const std::string& origin) {
  const std::size_t end = text.find_last_not_of(" \t\r\n");
  return parse_colon_form(text.substr(0, end == std::string_view::npos ? 0 : end + 1), origin);
}

TsigKey read_tsig_key_file(const std::filesystem::path& path) {
  const std::string file = escape_text(path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::io, "cannot read TSIG key file " + file);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (is_bind_format(text)) {
    try {
      return BindKeyParser(tokenize(text, file), file).parse();
    } catch (const Error& error) {
      throw Error(Errc::input, error.what());
    }
  }
  return parse_line_file(text, file);
}

}  // namespace rdns::provision
