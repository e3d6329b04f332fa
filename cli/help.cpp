#include "help.hpp"

#include <cctype>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "choice_option.hpp"

namespace rdns::cli {
namespace {

/// CLI11's type name with the validators' descriptions: "UINT:1-10000".
std::vector<std::string> type_parts(const CLI::Option& option) {
  std::vector<std::string> parts;
  std::istringstream text(option.get_type_name());
  for (std::string part; std::getline(text, part, ':');) parts.push_back(part);
  return parts;
}

bool numeric_type(const std::string& type) {
  return type == "INT" || type == "UINT" || type == "FLOAT" || type == "NUMBER";
}

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// SECONDS for a duration (its range is given in seconds, or it is a TTL,
/// which DNS counts in seconds), PERCENT for a share, N for any other number.
std::string number_name(const CLI::Option& option, const std::vector<std::string>& parts) {
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (ends_with(parts[i], " seconds")) return "SECONDS";
    if (ends_with(parts[i], " percent")) return "PERCENT";
  }
  for (const std::string& name : option.get_lnames()) {
    if (ends_with(name, "ttl")) return "SECONDS";
  }
  return "N";
}

/// "(1-10000; default 100)": what the value may be and what it is unset.
std::string value_notes(const CLI::Option& option) {
  std::string notes;
  const std::vector<std::string> parts = type_parts(option);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (choices_in(parts[i]).empty()) notes += (notes.empty() ? "" : "; ") + parts[i];
  }
  if (!option.get_default_str().empty()) {
    notes += (notes.empty() ? "" : "; ") + std::string("default ") + option.get_default_str();
  }
  return notes.empty() ? notes : " (" + notes + ")";
}

class PlainHelp : public CLI::Formatter {
 public:
  PlainHelp() { column_width(34); }

  std::string make_option_opts(const CLI::Option* option) const override {
    if (!takes_value(*option) || option->get_positional()) return {};
    std::string text = " " + value_name(*option);
    if (option->get_expected_max() == CLI::detail::expected_max_vector_size) text += " ...";
    if (option->get_required()) text += " (required)";
    return text;
  }

  std::string make_option_desc(const CLI::Option* option) const override {
    return option_help(*option);
  }
};

constexpr const char* kEnvironmentNote =
    "Every long option can also be set in the environment as RDNSCTL_<NAME>\n"
    "(--fail-on: RDNSCTL_FAIL_ON) or in the configuration file (fail-on = \"warning\").";

struct Examples {
  const char* command;
  const char* text;
};

constexpr Examples kExamples[] = {
    {"audit",
     "Examples:\n"
     "  rdnsctl audit 192.0.2.0/24 2001:db8::/120\n"
     "  rdnsctl audit -i relays.txt --format json --fail-on warning\n"
     "  rdnsctl audit --domain example.com --smtp\n"
     "  rdnsctl audit --inventory relays          # [inventory.relays] of the config file"},
    {"check",
     "Examples:\n"
     "  rdnsctl check -w 0 -c 5 192.0.2.0/28     # WARNING from 1 failure, CRITICAL above 5\n"
     "  rdnsctl check --run latest --max-age 26h  # judge the nightly audit\n"
     "  rdnsctl check --inventory relays -c 10%"},
    {"report",
     "Examples:\n"
     "  rdnsctl report -o report.html            # the latest run as HTML\n"
     "  rdnsctl report --run 42 --format csv -o -\n"
     "  rdnsctl report diff                      # the newest run against the one before\n"
     "  rdnsctl report diff 41 42 --fail-on-new\n"
     "  rdnsctl report history --limit 10"},
    {"ptr",
     "Examples:\n"
     "  rdnsctl ptr list\n"
     "  rdnsctl ptr set 192.0.2.10 mail.example.com\n"
     "  rdnsctl ptr plan desired.csv -o plan.json && rdnsctl ptr apply plan.json\n"
     "  rdnsctl ptr risk --fail-on high"},
    {"fix",
     "Examples:\n"
     "  rdnsctl fix --run latest -o fixes.csv\n"
     "  rdnsctl fix --run 42 --ttl 3600"},
};

}  // namespace

bool takes_value(const CLI::Option& option) {
  return option.get_expected_min() != 0;  // a flag's is 0
}

std::vector<std::string> option_choices(const CLI::Option& option) {
  const std::vector<std::string> parts = type_parts(option);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::vector<std::string> choices = choices_in(parts[i]);
    if (!choices.empty()) return choices;
  }
  return {};
}

std::string value_name(const CLI::Option& option) {
  const std::vector<std::string> choices = option_choices(option);
  if (!choices.empty()) return choice_list(choices);
  const std::vector<std::string> parts = type_parts(option);
  const std::string type = parts.empty() ? std::string() : parts.front();
  if (numeric_type(type)) return number_name(option, parts);
  if (!type.empty() && type != "TEXT") return type;  // set with ->type_name()
  std::string name = option.get_lnames().empty() ? option.get_name() : option.get_lnames().front();
  for (char& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

std::string environment_note() {
  return kEnvironmentNote;
}

std::string option_help(const CLI::Option& option) {
  return option.get_description() + value_notes(option);
}

std::string examples_of(std::string_view command) {
  for (const Examples& examples : kExamples) {
    if (examples.command == command) return examples.text;
  }
  return {};
}

void use_plain_help(CLI::App& app) {
  app.formatter(std::make_shared<PlainHelp>());
}

void add_examples(CLI::App& app) {
  for (const Examples& examples : kExamples) {
    CLI::App* command = app.get_subcommand(examples.command);
    const bool configurable = command->get_option_no_throw("--config") != nullptr;
    command->footer(std::string(examples.text) +
                    (configurable ? std::string("\n\n") + kEnvironmentNote : std::string()));
  }
}

}  // namespace rdns::cli
