#include "messages.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include <util/escape.hpp>

#include "choice_option.hpp"

namespace rdns::cli {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

/// The option called `name` ("--smtp-port") in `app` or its subcommands.
const CLI::Option* find_option(const CLI::App& app, const std::string& name) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->check_name(name)) return option;
  }
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (const CLI::Option* option = find_option(*command, name)) return option;
  }
  return nullptr;
}

/// What a value of `option`'s type looks like, from CLI11's type name.
std::string expected_value(const CLI::Option* option) {
  if (option != nullptr && option->get_expected_min() == 0) return "true or false (it is a flag)";
  const std::string type = option == nullptr ? std::string() : option->get_type_name();
  if (starts_with(type, "INT") || starts_with(type, "UINT")) return "a whole number";
  if (starts_with(type, "FLOAT")) return "a number";
  return "another value";
}

/// CLI11: "--format: xml: expected ..." (a validator's message after the
/// option's name). Every validator here starts its message with the value.
std::string validation_message(const std::string& text) {
  const std::size_t colon = text.find(": ");
  if (colon == std::string::npos) return text;
  return text.substr(0, colon) + " " + text.substr(colon + 2);
}

/// CLI11: "Could not convert: --smtp-port = abc" or "--smtp: Should be
/// true/false or a number".
std::string conversion_message(const std::string& text, const CLI::App& app) {
  const std::string prefix = "Could not convert: ";
  const std::size_t equals = text.find(" = ");
  if (starts_with(text, prefix) && equals != std::string::npos) {
    const std::string name = text.substr(prefix.size(), equals - prefix.size());
    return fmt::format("{} {}: expected {}", name, escape_text(text.substr(equals + 3)),
                       expected_value(find_option(app, name)));
  }
  const std::size_t flag_end = text.find(": Should be true/false");
  if (flag_end != std::string::npos) {
    return text.substr(0, flag_end) + ": expected true or false (it is a flag)";
  }
  return text;
}

/// CLI11: "--format: 1 required TEXT missing" (the flag ended the line).
std::string mismatch_message(const std::string& text) {
  const std::size_t colon = text.find(": ");
  if (colon != std::string::npos && text.find(" required ") != std::string::npos &&
      text.size() > 8 && text.compare(text.size() - 8, 8, " missing") == 0) {
    return text.substr(0, colon) + ": needs a value";
  }
  return text;
}

/// CLI11: "The following argument(s) was/were not expected: a b".
std::string extras_message(const std::string& text) {
  const std::size_t colon = text.find(": ");
  if (colon == std::string::npos) return text;
  const std::string arguments = text.substr(colon + 2);
  // CLI11 lists what nothing took ("3 --limt"): name the option if there is one.
  std::istringstream words(arguments);
  for (std::string word; words >> word;) {
    if (starts_with(word, "-")) return fmt::format("unexpected option '{}'", escape_text(word));
  }
  return fmt::format("unexpected argument '{}'", escape_text(arguments));
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(command->get_name());
  }
  return names;
}

/// The closest command name to a mistyped `word`, if one is close enough to
/// be the likely meaning (a transposition or two typos); empty otherwise.
std::string closest(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 3;
  for (const std::string& name : names) {
    const std::size_t distance = edit_distance(lower_case(word), name);
    if (distance < best_distance || (starts_with(name, word) && !word.empty())) {
      best = name;
      best_distance = starts_with(name, word) ? 0 : distance;
    }
  }
  return best;
}

/// " (did you mean '--format'?)" for the first mistyped long option among
/// `unused`, naming the closest option `command` has; empty when none is close.
std::string option_hint(const CLI::App& command, const std::vector<std::string>& unused) {
  const auto flag = std::find_if(unused.begin(), unused.end(),
                                 [](const std::string& text) { return starts_with(text, "--"); });
  if (flag == unused.end()) return {};
  std::vector<std::string> options;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) options.push_back("--" + name);
  }
  const std::string suggestion = closest(flag->substr(0, flag->find('=')), options);
  return suggestion.empty() ? std::string() : " (did you mean '" + suggestion + "'?)";
}

/// "rdnsctl runs": the command a help hint names. The root is "rdnsctl"
/// whatever path it was started by.
std::string command_path(const CLI::App& command) {
  if (command.get_parent() == nullptr) return "rdnsctl";
  return command_path(*command.get_parent()) + " " + command.get_name();
}

}  // namespace

std::string plain_message(const CLI::Error& error, const CLI::App& app) {
  const std::string text = error.what();
  if (dynamic_cast<const CLI::ValidationError*>(&error) != nullptr) {
    return validation_message(text);
  }
  if (dynamic_cast<const CLI::ConversionError*>(&error) != nullptr) {
    return conversion_message(text, app);
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr) return mismatch_message(text);
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) return extras_message(text);
  return text;
}

std::string command_message(const CLI::Error& error, const CLI::App& app) {
  if (dynamic_cast<const CLI::RequiredError*>(&error) == nullptr &&
      dynamic_cast<const CLI::ExtrasError*>(&error) == nullptr) {
    return {};
  }
  // The deepest command the parse reached, and the words nothing took.
  const CLI::App* reached = &app;
  std::vector<std::string> unused = app.remaining();
  while (!reached->get_subcommands().empty()) {
    reached = reached->get_subcommands().front();
    const std::vector<std::string> more = reached->remaining();
    unused.insert(unused.begin(), more.begin(), more.end());
  }
  const std::string path = command_path(*reached);
  const std::vector<std::string> names = command_names(*reached);
  if (names.empty()) {
    if (dynamic_cast<const CLI::ExtrasError*>(&error) == nullptr) return {};
    return extras_message(error.what()) + option_hint(*reached, unused) + "; see " + path +
           " --help";
  }
  const auto word = std::find_if(unused.begin(), unused.end(),
                                 [](const std::string& text) { return !starts_with(text, "-"); });
  if (word != unused.end()) {
    const std::string suggestion = closest(*word, names);
    return fmt::format("unknown command '{}'{}; see {} --help", escape_text(*word),
                       suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)", path);
  }
  if (dynamic_cast<const CLI::RequiredError*>(&error) == nullptr) {
    return extras_message(error.what()) + option_hint(*reached, unused) + "; see " + path +
           " --help";
  }
  return fmt::format("{}which command? {}; see {} --help",
                     reached == &app ? std::string() : reached->get_name() + ": ",
                     choice_sentence(names), path);
}

}  // namespace rdns::cli
