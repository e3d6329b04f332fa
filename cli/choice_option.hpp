#pragma once
/// Options that take one of a few names (--format table|json|...). Not
/// CLI::CheckedTransformer, whose message lists the enum's numbers
/// ("Check xml value in {csv->3,...} OR {3,...} FAILED").

#include <algorithm>
#include <cctype>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace rdns::cli {

/// The names, in the order given, as help and completion show them:
/// "table|json|jsonl|csv". A validator's description with '|' is such a list.
std::string choice_list(const std::vector<std::string>& names);

/// "table, json, jsonl or csv", for messages.
std::string choice_sentence(const std::vector<std::string>& names);

/// The names a choice validator's description lists; empty for any other.
std::vector<std::string> choices_in(const std::string& description);

/// "xml: expected table, json, jsonl or csv".
std::string choice_error(const std::string& value, const std::vector<std::string>& names);

/// Lower-case ASCII, for names compared ignoring case.
inline std::string lower_case(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// One of `names` exactly (case matters).
inline CLI::Validator one_of(std::vector<std::string> names) {
  const std::string description = choice_list(names);
  return CLI::Validator(
      [names](const std::string& value) -> std::string {
        if (std::find(names.begin(), names.end(), value) != names.end()) return {};
        return choice_error(value, names);
      },
      description);
}

/// One of the names of `choices`, ignoring case, turned into its enum value.
/// The enum's number is taken too: stored runs keep their arguments in that
/// form (CLI11 stores the transformed value), and --resume parses them again.
template <typename Enum>
CLI::Validator enum_choice(std::vector<std::pair<std::string, Enum>> choices) {
  static_assert(std::is_enum_v<Enum>);
  std::vector<std::string> names;
  for (const auto& choice : choices) names.push_back(choice.first);
  const std::string description = choice_list(names);
  return CLI::Validator(
      [choices, names](std::string& value) -> std::string {
        const std::string wanted = lower_case(value);
        for (const auto& [name, number] : choices) {
          const std::string stored = std::to_string(static_cast<long long>(number));
          if (wanted == name || value == stored) {
            value = stored;
            return {};
          }
        }
        return choice_error(value, names);
      },
      description);
}

}  // namespace rdns::cli
