#include "choice_option.hpp"

#include <sstream>

#include <util/escape.hpp>

namespace rdns::cli {

std::string choice_list(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : "|") + name;
  return list;
}

std::string choice_sentence(const std::vector<std::string>& names) {
  std::string sentence;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) sentence += i + 1 == names.size() ? " or " : ", ";
    sentence += names[i];
  }
  return sentence;
}

std::vector<std::string> choices_in(const std::string& description) {
  if (description.find('|') == std::string::npos) return {};
  std::vector<std::string> names;
  std::istringstream list(description);
  for (std::string name; std::getline(list, name, '|');) names.push_back(name);
  return names;
}

std::string choice_error(const std::string& value, const std::vector<std::string>& names) {
  return escape_text(value) + ": expected " + choice_sentence(names);
}

}  // namespace rdns::cli
