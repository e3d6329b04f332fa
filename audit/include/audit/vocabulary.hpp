#pragma once
/// The findings vocabulary: every code the audit reports, with its severity,
/// whether fixing it means publishing a different PTR, and what it means to
/// a reader. The one table the classifier, the reports, `rdnsctl fix` and the
/// docs test read; the codes are the contract of docs/jsonl.md.

#include <span>
#include <string_view>

#include <audit/findings.hpp>

namespace rdns::audit {

/// What a finding is about.
enum class Scope { address, domain };

struct CodeEntry {
  std::string_view code;  ///< e.g. "NO_PTR"
  Severity severity;
  Scope scope;
  /// Fixing it means publishing a different PTR (what `rdnsctl fix`
  /// proposes); false where the PTR is not the problem (a lame delegation,
  /// a temporary failure, the MTA's own name).
  bool needs_new_ptr;
  std::string_view title;        ///< a few words
  std::string_view explanation;  ///< what receivers see and why it matters
  std::string_view fix;          ///< what to change, and where
};

/// Every code: the address codes in the order of the Code enum, then the
/// domain codes.
std::span<const CodeEntry> finding_codes();

/// The entry for `code`, or nullptr for a code this version does not know
/// (a newer writer's).
const CodeEntry* find_code(std::string_view code);

/// The entry of an address code.
const CodeEntry& code_entry(Code code);

}  // namespace rdns::audit
