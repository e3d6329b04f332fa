#include <set>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include <util/verdict.hpp>

using rdns::Severity;
using rdns::Status;

TEST_CASE("status names are the documented ones and parse back") {
  std::set<std::string_view> names;
  for (const Status status : rdns::kStatuses) {
    names.insert(rdns::status_name(status));
    CHECK(rdns::parse_status(rdns::status_name(status)) == status);
  }
  CHECK(names == std::set<std::string_view>{"pass", "warn", "fail", "unknown"});
  CHECK(rdns::status_name(Status::fail) == "fail");
}

TEST_CASE("severity names are the documented ones and parse back") {
  std::set<std::string_view> names;
  for (const Severity severity : rdns::kSeverities) {
    names.insert(rdns::severity_name(severity));
    CHECK(rdns::parse_severity(rdns::severity_name(severity)) == severity);
  }
  CHECK(names == std::set<std::string_view>{"info", "warning", "error"});
  CHECK(rdns::severity_name(Severity::warning) == "warning");
}

TEST_CASE("text outside the vocabulary parses to nothing") {
  for (const std::string_view text : {"", "PASS", "Fail", " pass", "pass ", "passed", "error"}) {
    INFO(text);
    CHECK_FALSE(rdns::parse_status(text).has_value());
  }
  for (const std::string_view text : {"", "ERROR", "Warning", "warn", "fatal", "info\n", "pass"}) {
    INFO(text);
    CHECK_FALSE(rdns::parse_severity(text).has_value());
  }
}
