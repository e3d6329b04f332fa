#pragma once
/// What each finding code means to a reader of a report, and how to fix it.
/// The codes themselves are the contract of docs/jsonl.md.

#include <span>
#include <string_view>

namespace rdns::reports {

/// One finding code explained for people who do not read DNS answers.
struct CodeInfo {
  std::string_view code;         ///< e.g. "NO_PTR"
  std::string_view severity;     ///< error|warning|info, as the audit assigns it
  std::string_view title;        ///< a few words
  std::string_view explanation;  ///< what receivers see and why it matters
  std::string_view fix;          ///< what to change, and where
};

/// Every code the audit can report, in the order of docs/jsonl.md.
std::span<const CodeInfo> known_codes();

/// The entry for code, or nullptr for a code this version does not know (a
/// newer writer's); reports then show the code without an explanation.
const CodeInfo* find_code(std::string_view code);

}  // namespace rdns::reports
