// The configuration file, read with toml++ and fed through CLI11's own
// option parsing, so a value in the file is checked exactly as the same
// value given as a flag would be.

#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <db/database.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/paths.hpp>

#include "messages.hpp"

namespace rdns::cli {
namespace {

constexpr const char* kTables[] = {"audit", "check"};
constexpr const char* kInventoryTable = "inventory";
/// Keys naming a file, host or URL: only a TOML string is taken for them.
constexpr std::string_view kTextKeys[] = {
    "db",     "input",     "rules",          "domains-file",
    "domain", "smtp-helo", "notify-webhook", "prometheus-textfile",
    "ca-file"};
/// Keys that say what is audited: an inventory's replace all of them.
constexpr std::string_view kTargetKeys[] = {"targets", "input", "domain", "domains-file"};
/// Keys only an inventory has: how long its runs are kept.
constexpr std::string_view kRetentionKeys[] = {"keep-runs", "keep-days"};
/// Keys an inventory may not set: every inventory lives in the one database
/// and is stored, or it could be neither retained nor compared.
constexpr std::string_view kNotInInventory[] = {"db", "no-db"};

std::string canonical(std::string key) {
  for (char& c : key) {
    if (c == '_') c = '-';
  }
  return key;
}

template <std::size_t N>
bool listed(const std::string_view (&keys)[N], const std::string& key) {
  return std::find(std::begin(keys), std::end(keys), canonical(key)) != std::end(keys);
}

/// The option a key names: "db" is --db, "fail_on" and "fail-on" are --fail-on.
CLI::Option* option_for(CLI::App& command, std::string key) {
  key = canonical(std::move(key));
  // --resume names one run, --inventory one inventory: in a file or the
  // environment they would apply to every invocation.
  if (key == "config" || key == "help" || key == "resume" || key == "inventory" || key.empty()) {
    return nullptr;
  }
  if (key == "targets") return command.get_option_no_throw("targets");
  return command.get_option_no_throw("--" + key);
}

/// One configuration file being applied to one command.
class ConfigReader {
 public:
  ConfigReader(std::string source, CLI::App& command, const ConfigScope& scope)
      : source_(std::move(source)), command_(command), scope_(scope) {}

  Retention apply(const toml::table& root) {
    // Names the top level may use: any audit option, so one file serves
    // both commands even though check takes fewer.
    CLI::App& audit = *command_.get_parent()->get_subcommand("audit");
    std::map<std::string, std::pair<const toml::node*, std::string>> values;
    std::map<std::string, std::string> top_level;
    for (const auto& [key, node] : root) {
      const std::string name(key.str());
      if (std::find(std::begin(kTables), std::end(kTables), name) != std::end(kTables)) continue;
      if (name == kInventoryTable) continue;
      if (node.is_table())
        fail(node, name, "unknown table (expected [audit], [check] or [inventory.NAME])");
      if (option_for(audit, name) == nullptr) fail(node, name, "unknown key");
      refuse_twice(top_level, node, name);
      if (option_for(command_, name) != nullptr) values[canonical(name)] = {&node, name};
    }
    for (const char* table_name : kTables) {
      const toml::node* node = root.get(table_name);
      if (node == nullptr) continue;
      const toml::table* table = node->as_table();
      if (table == nullptr) fail(*node, table_name, "expected a table");
      CLI::App& owner = *command_.get_parent()->get_subcommand(table_name);
      std::map<std::string, std::string> in_table;
      for (const auto& [key, value] : *table) {
        const std::string name(key.str());
        refuse_twice(in_table, value, name);
        if (option_for(owner, name) == nullptr) {
          fail(value, name, fmt::format("unknown key in [{}]", table_name));
        }
        if (&owner == &command_) values[canonical(name)] = {&value, name};
      }
    }
    Retention retention;
    const toml::table* inventory = check_inventories(root);
    if (!scope_.inventory.empty()) {
      refuse_target_flags();
      // The inventory says what is audited: nothing else's targets join in.
      for (const std::string_view key : kTargetKeys) values.erase(std::string(key));
      for (const auto& [key, value] : *inventory) {
        const std::string name(key.str());
        if (listed(kRetentionKeys, name)) continue;
        if (option_for(command_, name) != nullptr) values[canonical(name)] = {&value, name};
      }
      retention = retention_of(*inventory);
    }
    for (const auto& [canonical_name, entry] : values) {
      if (std::find(scope_.skipped.begin(), scope_.skipped.end(), canonical_name) ==
          scope_.skipped.end()) {
        set(*entry.first, entry.second);
      }
    }
    return retention;
  }

 private:
  /// Checks every [inventory.NAME], so a mistake in one is found whichever
  /// runs; returns the one the scope names (null when none is named).
  const toml::table* check_inventories(const toml::table& root) {
    const toml::node* node = root.get(kInventoryTable);
    const toml::table* inventories = node == nullptr ? nullptr : node->as_table();
    if (node != nullptr && inventories == nullptr) {
      fail(*node, kInventoryTable, "expected [inventory.NAME] tables");
    }
    CLI::App& audit = *command_.get_parent()->get_subcommand("audit");
    CLI::App& check = *command_.get_parent()->get_subcommand("check");
    const toml::table* chosen = nullptr;
    std::string defined;
    const toml::table none;
    for (const auto& [key, value] : inventories == nullptr ? none : *inventories) {
      const std::string name(key.str());
      const toml::table* table = value.as_table();
      if (table == nullptr) fail(value, name, "expected a table: [inventory." + name + "]");
      if (!valid_inventory_name(name)) {
        fail(value, name,
             "not an inventory name (letters, digits, '.', '_' and '-', at most 64 characters)");
      }
      defined += (defined.empty() ? "" : ", ") + name;
      const std::string where = fmt::format("in [inventory.{}]", name);
      std::map<std::string, std::string> in_table;
      bool has_targets = false;
      for (const auto& [entry_key, entry] : *table) {
        const std::string entry_name(entry_key.str());
        refuse_twice(in_table, entry, entry_name);
        if (listed(kNotInInventory, entry_name)) {
          fail(entry, entry_name,
               fmt::format("not allowed {}: every inventory is stored in the one database "
                           "(set db at the top level)",
                           where));
        }
        if (listed(kRetentionKeys, entry_name)) {
          whole_number(entry, entry_name);
          continue;
        }
        if (option_for(audit, entry_name) == nullptr && option_for(check, entry_name) == nullptr) {
          fail(entry, entry_name, "unknown key " + where);
        }
        has_targets = has_targets || listed(kTargetKeys, entry_name);
      }
      if (!has_targets) {
        fail(value, name,
             "the inventory lists nothing to audit: give targets, input, domain or domains-file");
      }
      if (name == scope_.inventory) chosen = table;
    }
    if (!scope_.inventory.empty() && chosen == nullptr) {
      throw Error(
          Errc::usage,
          fmt::format("--inventory {}: no [inventory.{}] in {}{}", escape_text(scope_.inventory),
                      escape_text(scope_.inventory), escape_text(source_),
                      defined.empty() ? std::string(" (it defines no inventories)")
                                      : " (it defines: " + escape_text(defined) + ")"));
    }
    return chosen;
  }

  /// An inventory audits what it lists: a target given as a flag or in the
  /// environment as well would make its runs incomparable.
  void refuse_target_flags() {
    for (const std::string_view key : kTargetKeys) {
      const CLI::Option* option = option_for(command_, std::string(key));
      if (option == nullptr || option->count() == 0) continue;
      const std::string flag = key == "targets" ? std::string("targets") : "--" + std::string(key);
      throw Error(Errc::usage,
                  fmt::format("--inventory {} audits the targets the inventory lists; drop {}{}",
                              escape_text(scope_.inventory), flag,
                              option->get_envname().empty() ||
                                      std::getenv(option->get_envname().c_str()) == nullptr
                                  ? std::string()
                                  : " (set by " + option->get_envname() + ")"));
    }
  }

  std::int64_t whole_number(const toml::node& node, const std::string& key) {
    const auto* number = node.as_integer();
    if (number == nullptr || number->get() < 1)
      fail(node, key, "expected a whole number, 1 or more");
    return number->get();
  }

  Retention retention_of(const toml::table& inventory) {
    Retention retention;
    for (const auto& [key, value] : inventory) {
      const std::string name = canonical(std::string(key.str()));
      if (name == "keep-runs") retention.keep_runs = whole_number(value, name);
      if (name == "keep-days") retention.keep_days = whole_number(value, name);
    }
    return retention;
  }

  /// fail_on and fail-on name one option: both in one table is a mistake
  /// whichever would win.
  void refuse_twice(std::map<std::string, std::string>& seen, const toml::node& node,
                    const std::string& name) {
    const auto [previous, inserted] = seen.emplace(canonical(name), name);
    if (!inserted) {
      fail(node, name, fmt::format("given twice (also as '{}')", escape_text(previous->second)));
    }
  }

  [[noreturn]] void fail(const toml::node& node, std::string_view key, std::string_view what) {
    throw Error(Errc::input,
                fmt::format("{}:{}: key '{}': {}", escape_text(source_), node.source().begin.line,
                            escape_text(std::string(key)), what));
  }

  std::string scalar(const toml::node& node, std::string_view key) {
    if (const auto* text = node.as_string()) return text->get();
    if (const auto* number = node.as_integer()) return std::to_string(number->get());
    if (const auto* number = node.as_floating_point()) return fmt::format("{}", number->get());
    if (const auto* flag = node.as_boolean()) return flag->get() ? "true" : "false";
    fail(node, key, "expected a string, number or boolean");
  }

  void set(const toml::node& node, const std::string& key) {
    CLI::Option* option = option_for(command_, key);
    // A flag or the environment set it: those win over the file.
    if (option->count() > 0) return;
    std::vector<std::string> results;
    // A number where a path or name belongs (db = 5) is a mistake, not "5".
    const bool text = listed(kTextKeys, key);
    const auto value = [&](const toml::node& item) {
      if (text && !item.is_string()) fail(item, key, "expected a string");
      return scalar(item, key);
    };
    if (const toml::array* array = node.as_array()) {
      if (option->get_items_expected_max() <= 1) fail(node, key, "expected one value, not a list");
      for (const toml::node& item : *array) results.push_back(value(item));
    } else {
      results.push_back(value(node));
    }
    // A flag set to false in the file stays at its default.
    if (option->get_expected_min() == 0 && results.size() == 1 && results[0] == "false") return;
    try {
      option->add_result(results);
      option->run_callback();
    } catch (const CLI::Error& error) {
      fail(node, key, plain_message(error, command_));
    }
  }

  std::string source_;
  CLI::App& command_;
  const ConfigScope& scope_;
};

}  // namespace

void add_config_support(CLI::App& command, std::string& path) {
  for (CLI::Option* option : command.get_options()) {
    if (option->get_lnames().empty()) continue;  // --help has one; positionals none
    std::string name = "RDNSCTL_" + option->get_lnames().front();
    for (char& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
    if (name != "RDNSCTL_HELP" && name != "RDNSCTL_RESUME") option->envname(name);
  }
  command
      .add_option("--config", path,
                  "TOML file with the same keys as the flags (default: "
                  "$XDG_CONFIG_HOME/rdnsctl/config.toml when it exists)")
      ->type_name("FILE")
      ->envname("RDNSCTL_CONFIG");
}

namespace {

/// Whether the optional default file is there to read. One that exists but
/// cannot be read (another user's home, as for a monitoring user) is skipped
/// with a note, once per process: it is optional, so it must not stop a run.
bool readable_default(const std::filesystem::path& file) {
  std::error_code error;
  const bool exists = std::filesystem::exists(file, error);
  if (!error && !exists) return false;
  if (!error) {
    if (std::FILE* handle = std::fopen(file.c_str(), "r")) {
      std::fclose(handle);
      return true;
    }
    error = std::error_code(errno, std::generic_category());
  }
  static bool noted = false;
  if (!noted) {
    noted = true;
    std::fprintf(stderr, "rdnsctl: note: skipping the default configuration file %s: %s\n",
                 escape_text(file.string()).c_str(), error.message().c_str());
  }
  return false;
}

/// The file to read: `path`, else the default one when it exists and can be
/// read; empty when there is none.
std::filesystem::path config_file(const std::string& path) {
  if (!path.empty()) {
    if (!std::filesystem::exists(path)) {
      throw Error(Errc::usage, fmt::format("{}: configuration file not found", escape_text(path)));
    }
    if (std::filesystem::is_directory(path)) {
      throw Error(Errc::usage,
                  fmt::format("{}: is a directory, not a configuration file", escape_text(path)));
    }
    return path;
  }
  std::filesystem::path fallback;
  try {
    fallback = xdg_config_home() / "rdnsctl" / "config.toml";
  } catch (const Error&) {
    return {};  // no HOME: no default file either
  }
  return readable_default(fallback) ? fallback : std::filesystem::path();
}

std::string default_config_hint() {
  try {
    return escape_text((xdg_config_home() / "rdnsctl" / "config.toml").string());
  } catch (const Error&) {
    return "$XDG_CONFIG_HOME/rdnsctl/config.toml";
  }
}

toml::table parse(const std::filesystem::path& file) {
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    throw Error(Errc::input, fmt::format("{}:{}: {}", escape_text(file.string()),
                                         error.source().begin.line, error.description()));
  }
}

}  // namespace

std::vector<std::string> effective_arguments(const CLI::App& command) {
  std::vector<std::string> arguments = {command.get_name()};
  std::vector<std::string> positionals;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() == 0) continue;
    if (option->get_lnames().empty()) {  // the targets
      const auto& results = option->results();
      positionals.insert(positionals.end(), results.begin(), results.end());
      continue;
    }
    const std::string name = "--" + option->get_lnames().front();
    if (name == "--help" || name == "--config") continue;  // the file's values are in the rest
    if (name == "--dnsbl-key") continue;                   // a secret: never stored
    if (option->get_expected_min() == 0) {
      if (option->as<bool>()) arguments.push_back(name);
      continue;
    }
    for (const std::string& result : option->results()) {
      arguments.push_back(name);
      // A PostgreSQL URL may carry a password, which is never stored.
      arguments.push_back(name == "--db" ? db::displayed_location(result) : result);
    }
  }
  if (!positionals.empty()) arguments.push_back("--");
  arguments.insert(arguments.end(), positionals.begin(), positionals.end());
  return arguments;
}

std::string configured_database() {
  if (const char* env = std::getenv("RDNSCTL_DB"); env != nullptr && *env != '\0') return env;
  const char* env_config = std::getenv("RDNSCTL_CONFIG");
  const std::filesystem::path file = config_file(env_config == nullptr ? "" : env_config);
  if (file.empty()) return {};
  const toml::table root = parse(file);
  const toml::node* db = root.get("db");
  if (db == nullptr) return {};
  if (!db->is_string()) {
    throw Error(Errc::input, fmt::format("{}:{}: key 'db': expected a string",
                                         escape_text(file.string()), db->source().begin.line));
  }
  return db->as_string()->get();
}

std::string environment_source(const CLI::App& app, const std::vector<std::string>& arguments,
                               const std::string& message) {
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    for (const CLI::Option* option : command->get_options()) {
      const std::string variable = option->get_envname();
      if (variable.empty() || option->get_lnames().empty() ||
          std::getenv(variable.c_str()) == nullptr) {
        continue;
      }
      const std::string flag = "--" + option->get_lnames().front();
      if (message.find(flag) == std::string::npos) continue;
      const bool on_command_line =
          std::any_of(arguments.begin(), arguments.end(), [&](const std::string& argument) {
            return argument == flag || argument.rfind(flag + "=", 0) == 0;
          });
      if (!on_command_line) return variable;
    }
  }
  return {};
}

bool valid_inventory_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || std::isalnum(static_cast<unsigned char>(name[0])) == 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

CLI::Validator inventory_name() {
  return CLI::Validator(
      [](const std::string& name) {
        return valid_inventory_name(name)
                   ? std::string()
                   : fmt::format(
                         "{}: expected an inventory name (letters, digits, '.', '_' and "
                         "'-', at most 64 characters)",
                         escape_text(name));
      },
      "");
}

Retention apply_config(CLI::App& command, const std::string& path, const ConfigScope& scope) {
  const std::filesystem::path file = config_file(path);
  if (file.empty()) {
    if (scope.inventory.empty()) return {};
    throw Error(Errc::usage,
                fmt::format("--inventory {}: no configuration file to define it (give --config "
                            "FILE, set RDNSCTL_CONFIG, or create {})",
                            escape_text(scope.inventory), default_config_hint()));
  }
  const toml::table root = parse(file);
  return ConfigReader(file.string(), command, scope).apply(root);
}

}  // namespace rdns::cli
