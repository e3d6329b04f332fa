// rdnsctl ptr risk: the engine's risk pass (every managed record re-checked
// for what makes the cloud reclaim it or receivers distrust it, each pass
// stored) printed, with an exit code a scheduler can alert on; and the
// stored passes.

#include <cstdio>

#include <util/escape.hpp>

#include "ptr_workflow.hpp"

namespace rdns::cli {
namespace {

/// The stored passes, newest first: what `ptr risk` found over time, from
/// the journal only (no cloud call, no lock).
void print_risk_history(const PtrOptions& options, std::size_t passes) {
  PtrSession session = open_session(options, SessionUse::read);
  db::PtrJournal journal = db::PtrJournal::open(existing_database_path(options.db));
  std::vector<db::PtrRiskRecord> rows = journal.risks(session.region, 1000000);
  std::size_t seen = 0;
  std::string pass;
  for (const auto& row : rows) {
    if (row.checked_at != pass) {
      if (++seen > passes) break;
      pass = row.checked_at;
      std::printf("# pass of %s\n", escape_text(pass).c_str());
    }
    std::printf("%s\t%s\t%s\t%s\t%s\n", escape_text(row.ip).c_str(), row.level.c_str(),
                row.code.c_str(), escape_text(row.reason).c_str(), escape_text(row.action).c_str());
  }
  if (seen == 0)
    std::printf("# no stored pass of ptr risk for %s\n", escape_text(session.region).c_str());
}

}  // namespace

void add_ptr_risk_command(CLI::App& ptr, const std::shared_ptr<PtrOptions>& options,
                          Context& context) {
  Context* ctx = &context;
  CLI::App* risk = ptr.add_subcommand(
      "risk", "Re-check every managed record: ownership, FCrDNS, verification TXT, billing");
  risk->add_option("--fail-on", options->fail_on, "Exit 1 when a risk reaches: low, medium, high")
      ->default_val("medium")
      ->check(one_of({"low", "medium", "high"}));
  auto history = std::make_shared<std::size_t>(0);
  risk->add_option("--history", *history,
                   "Show the findings of the last N stored passes instead of checking now")
      ->check(whole_number_range(1, 1000));
  risk->callback([options, ctx, history] {
    if (*history > 0) {
      print_risk_history(*options, *history);
      ctx->exit_code = kExitOk;
      return;
    }
    PtrSession session = open_session(*options, SessionUse::write);
    const provision::RiskReport report = session.engine->risk();
    for (const auto& row : report.findings) {
      std::printf("%s\t%s\t%s\t%s\t%s\n", escape_text(row.ip).c_str(), row.level.c_str(),
                  row.code.c_str(), escape_text(row.reason).c_str(),
                  escape_text(row.action).c_str());
    }
    std::printf("# %zu managed records checked; worst risk: %s\n", report.managed,
                report.worst.c_str());
    const bool alert = provision::risk_rank(report.worst) >= provision::risk_rank(options->fail_on);
    ctx->exit_code = alert ? kExitFindings : kExitOk;
  });
}

}  // namespace rdns::cli
