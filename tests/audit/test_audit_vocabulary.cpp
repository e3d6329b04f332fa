// The findings vocabulary against the audit's codes and docs/jsonl.md: one
// table, and the documentation agrees with it code by code.

#include <filesystem>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include <audit/findings.hpp>
#include <audit/vocabulary.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::audit::Code;
using rdns::audit::Scope;

namespace {

/// "CODE" -> "severity" from the rows of the table under `heading`.
std::map<std::string, std::string> documented_codes(const std::string& doc,
                                                    const std::string& header) {
  std::map<std::string, std::string> codes;
  const auto start = doc.find(header);
  REQUIRE(start != std::string::npos);
  std::istringstream lines(doc.substr(start));
  std::string line;
  std::getline(lines, line);  // the header row
  std::getline(lines, line);  // |---|
  while (std::getline(lines, line) && line.rfind("| ", 0) == 0) {
    const auto code_end = line.find(" | ", 2);
    const auto severity_end = line.find(" | ", code_end + 3);
    codes[line.substr(2, code_end - 2)] = line.substr(code_end + 3, severity_end - code_end - 3);
  }
  return codes;
}

}  // namespace

TEST_CASE("every code of the vocabulary is documented with its severity, and no other") {
  const std::string doc =
      rdns::test::read_file(std::filesystem::path(rdns::test::source_dir()) / "docs" / "jsonl.md");
  const auto address_codes = documented_codes(doc, "| code | severity | meaning |");
  const auto domain_codes = documented_codes(doc, "| domain code | severity | meaning |");
  std::size_t address_entries = 0;
  for (const rdns::audit::CodeEntry& entry : rdns::audit::finding_codes()) {
    const std::string code(entry.code);
    INFO(code);
    CHECK_FALSE(entry.title.empty());
    CHECK_FALSE(entry.explanation.empty());
    CHECK_FALSE(entry.fix.empty());
    const std::string severity(rdns::severity_name(entry.severity));
    if (entry.scope == Scope::domain) {
      REQUIRE(domain_codes.count(code) == 1);
      CHECK(domain_codes.at(code) == severity);
      continue;
    }
    ++address_entries;
    REQUIRE(address_codes.count(code) == 1);
    CHECK(address_codes.at(code) == severity);
  }
  CHECK(address_entries == address_codes.size());
  CHECK(rdns::audit::finding_codes().size() == address_entries + domain_codes.size());
  CHECK(rdns::audit::find_code("HELO_FUTURE") == nullptr);
}

TEST_CASE("the vocabulary's address codes are the classifier's, in the enum's order") {
  CHECK(rdns::audit::code_name(Code::no_ptr) == "NO_PTR");
  CHECK(rdns::audit::code_name(Code::lame_reverse) == "LAME_REVERSE");
  CHECK(rdns::audit::code_name(Code::smtp_unavailable) == "SMTP_UNAVAILABLE");
  CHECK(rdns::audit::code_severity(Code::tempfail) == rdns::Severity::warning);
  for (const rdns::audit::CodeEntry& entry : rdns::audit::finding_codes()) {
    INFO(entry.code);
    CHECK(rdns::audit::find_code(entry.code) == &entry);
    // A new PTR fixes only what is wrong with the PTR itself.
    if (entry.code == "LAME_REVERSE" || entry.code == "TEMPFAIL" ||
        entry.code.starts_with("HELO_") || entry.scope == Scope::domain) {
      CHECK_FALSE(entry.needs_new_ptr);
    }
    // A listing is about the sender's conduct, not its name.
    if (entry.scope == Scope::address && entry.severity == rdns::Severity::error &&
        entry.code != "LAME_REVERSE" && !entry.code.starts_with("DNSBL_") &&
        !entry.code.starts_with("SMTP_TLS_")) {
      CHECK(entry.needs_new_ptr);
    }
  }
}
