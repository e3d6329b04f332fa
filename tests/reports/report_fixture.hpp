#pragma once
// Two stored runs in a real SQLite file, written through db::Database as the
// audit writes them, with hostile PTR names: presentation-escaped as the
// audit stores them, and raw '<', '&', quotes and control bytes as an older
// or foreign writer might have left them.

#include <filesystem>
#include <string>
#include <vector>

#include <db/database.hpp>

namespace rdns::test {

/// An <img> tag as the audit stores it (spaces and parentheses escaped).
inline const std::string kEscapedImgPtr = "<img\\032src=x\\032onerror=alert\\(1\\)>.example.com";
/// Raw markup that must never become markup.
inline const std::string kRawImgPtr = "<img src=x onerror=alert(1)>.example.com";
inline const std::string kScriptPtr = "</script><script>alert(2)</script>.example.net";
inline const std::string kQuotesPtr = "a\"b'c&amp;d<!--.example.org";
inline const std::string kFormulaPtr = "=HYPERLINK(\"http://127.0.0.1/x\",\"y\")";

inline db::ResultRecord record(std::string ip, Status status, std::vector<std::string> ptr,
                               std::vector<db::FindingRecord> findings = {},
                               std::vector<db::ForwardRecord> forward = {}) {
  db::ResultRecord r;
  r.family = ip.find(':') == std::string::npos ? "ipv4" : "ipv6";
  r.ip = std::move(ip);
  r.status = status;
  r.ptr = std::move(ptr);
  r.forward = std::move(forward);
  r.findings = std::move(findings);
  return r;
}

inline db::RunCounts counts_of(const std::vector<db::ResultRecord>& records) {
  db::RunCounts counts;
  for (const auto& r : records) counts.add(r.status);
  return counts;
}

inline std::int64_t store_run(db::Database& database, const std::vector<db::ResultRecord>& records,
                              db::RunState state = db::RunState::complete) {
  // One identity, as runs of one inventory have: the runs compare.
  const std::int64_t id =
      database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test", {"", "inventory:test", "dns"});
  database.add_results(id, records);
  if (state != db::RunState::running) database.finish_run(id, state, counts_of(records));
  return id;
}

inline std::vector<db::ResultRecord> older_run() {
  return {
      record("192.0.2.10", Status::pass, {"mail.example.com"}, {},
             {{"mail.example.com", {"192.0.2.10"}}}),
      record("192.0.2.12", Status::fail, {},
             {{"NO_PTR", Severity::error, "12.2.0.192.in-addr.arpa: NXDOMAIN"}}),
      record("192.0.2.16", Status::pass, {"relay16.example.com"}, {},
             {{"relay16.example.com", {"192.0.2.16"}}}),
      record("192.0.2.18", Status::warn, {"multi.example.com", "other.example.net"},
             {{"MULTIPLE_PTR", Severity::warning, "2 PTR values"}}),
      record("192.0.2.50", Status::pass, {"gone.example.com"}, {},
             {{"gone.example.com", {"192.0.2.50"}}}),
  };
}

inline std::vector<db::ResultRecord> newer_run() {
  return {
      record("192.0.2.10", Status::pass, {"mail.example.com"}, {},
             {{"mail.example.com", {"192.0.2.10"}}}),
      record("192.0.2.12", Status::pass, {"mail12.example.com"}, {},
             {{"mail12.example.com", {"192.0.2.12"}}}),
      record("192.0.2.16", Status::fail, {"relay16.example.com"},
             {{"FORWARD_MISMATCH", Severity::error, "relay16.example.com resolves to 192.0.2.99"}},
             {{"relay16.example.com", {"192.0.2.99"}}}),
      record("192.0.2.18", Status::pass, {"multi.example.com"}, {},
             {{"multi.example.com", {"192.0.2.18"}}}),
      record("192.0.2.23", Status::fail, {kEscapedImgPtr},
             {{"INVALID_PTR_NAME", Severity::error, kEscapedImgPtr + " is not a valid host name"}}),
      record("192.0.2.40", Status::fail, {kRawImgPtr, kScriptPtr},
             {{"INVALID_PTR_NAME", Severity::error, kScriptPtr + " is not a valid host name"},
              {"MULTIPLE_PTR", Severity::warning, "-2+3 @SUM(A1) \x1b[31mred\xc3\xa9"}},
             {{kQuotesPtr, {"192.0.2.40"}}}),
      record("192.0.2.41", Status::warn, {kFormulaPtr},
             {{"GENERIC_PTR", Severity::warning, "=cmd|' /C calc'!A0"}}),
      record("192.0.2.60", Status::unknown, {},
             {{"TEMPFAIL", Severity::warning, "SERVFAIL for the PTR"}}),
      record("2001:db8::25", Status::pass, {"mail6.example.com"}, {},
             {{"mail6.example.com", {"2001:db8::25"}}}),
  };
}

/// A database with the older run (id 1) and the newer run (id 2).
struct TwoRuns {
  std::filesystem::path path;
  std::int64_t older = 0;
  std::int64_t newer = 0;
};

inline TwoRuns make_two_runs(const std::filesystem::path& path) {
  db::Database database = db::Database::open(path);
  TwoRuns runs;
  runs.path = path;
  runs.older = store_run(database, older_run());
  runs.newer = store_run(database, newer_run());
  return runs;
}

}  // namespace rdns::test
