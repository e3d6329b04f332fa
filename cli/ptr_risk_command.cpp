// rdnsctl ptr risk: re-checks every record rdnsctl manages for what makes the
// cloud reclaim it or receivers distrust it, stores each pass, and exits so a
// scheduler can alert on it.

#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include <provision/api_error.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "ptr_workflow.hpp"

namespace rdns::cli {
namespace {

int rank(const std::string& level) {
  if (level == "high") return 3;
  if (level == "medium") return 2;
  if (level == "low") return 1;
  return 0;
}

/// The risk findings of one managed IP.
std::vector<db::PtrRiskRecord> assess(PtrSession& session, const std::string& ip,
                                      const provision::RecordState& record, bool owned,
                                      double fee_per_record, const std::string& currency) {
  std::vector<db::PtrRiskRecord> out;
  auto add = [&](const char* level, const char* code, std::string reason, std::string action) {
    out.push_back({{}, session.region, ip, level, code, std::move(reason), std::move(action)});
  };
  if (!owned) {
    add("high", "IP_NOT_OWNED",
        fmt::format("{} no longer belongs to the account in {}: the cloud reclaims such records "
                    "(PTR IP information mismatch)",
                    ip, session.region),
        "get the IP back, or rdnsctl ptr delete " + ip + " and drop it from the desired state");
  }
  if (!record.exists) {
    add("high", "RECORD_GONE",
        "rdnsctl manages this IP but the cloud has no record for it (deleted elsewhere or "
        "reclaimed)",
        "rdnsctl ptr set " + ip + " NAME again, or drop it from the desired state");
    return out;
  }
  try {
    if (record.status == provision::PtrStatus::disabled) {
      add("low", "DISABLED_BILLED",
          fmt::format("the record is disabled but still billed, about {:.2f} {}/day",
                      fee_per_record, currency),
          "rdnsctl ptr enable " + ip + " or rdnsctl ptr delete " + ip);
    } else {
      const auto forward = session.dns->a(record.value);
      if (std::find(forward.values.begin(), forward.values.end(), ip) == forward.values.end()) {
        std::string seen;
        for (const auto& value : forward.values) seen += (seen.empty() ? "" : ", ") + value;
        add("high", "FCRDNS_BROKEN",
            fmt::format("{} resolves to {}, not {}: receivers see a forward mismatch", record.value,
                        seen.empty()
                            ? (forward.failure.empty() ? std::string("nothing") : forward.failure)
                            : seen,
                        ip),
            "restore the A record of " + record.value + ", or rdnsctl ptr set " + ip +
                " with a name that resolves to it");
      }
    }
    if (session.provider->capabilities().needs_domain_verification) {
      const auto verified =
          provision::check_domain_verification(*session.provider, *session.dns, record.value);
      if (!verified.present) {
        add("medium", "TXT_MISSING",
            fmt::format("the verification TXT of {} is gone: the cloud may flag the record and "
                        "refuses changes to it",
                        verified.expected.domain),
            fmt::format("publish {} TXT \"{}\"", verified.expected.fqdn(),
                        verified.expected.value));
      }
    }
  } catch (const provision::ApiError& error) {
    if (error.kind() != provision::ApiErrorKind::ip_not_owned) throw;
    add("high", "IP_MISMATCH_ERROR", std::string("the API answered: ") + error.what(),
        "check the IP's ownership in " + session.region);
  }
  return out;
}

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
    const auto managed = session.journal->managed(session.region);
    const auto listing = session.provider->list();
    const double fee = listing.billing.billable_records > 0
                           ? listing.billing.daily_fee / listing.billing.billable_records
                           : 0.0;
    std::map<std::string, bool> owned;
    if (!managed.empty()) {
      for (const auto& entry : session.provider->ownership(managed)) {
        owned[entry.ip] = entry.role != provision::IpRole::not_owned;
      }
    }
    std::vector<db::PtrRiskRecord> all;
    for (const auto& ip : managed) {
      auto found = assess(session, ip, provision::state_of(listing.records, ip), owned[ip], fee,
                          listing.billing.currency);
      if (found.empty()) {
        found.push_back({{}, session.region, ip, "ok", "OK", "every check passes", "-"});
      }
      all.insert(all.end(), found.begin(), found.end());
    }
    session.journal->add_risks(all);
    int worst = 0;
    for (const auto& row : all) {
      worst = std::max(worst, rank(row.level));
      std::printf("%s\t%s\t%s\t%s\t%s\n", escape_text(row.ip).c_str(), row.level.c_str(),
                  row.code.c_str(), escape_text(row.reason).c_str(),
                  escape_text(row.action).c_str());
    }
    std::printf("# %zu managed records checked; worst risk: %s\n", managed.size(),
                worst == 3   ? "high"
                : worst == 2 ? "medium"
                : worst == 1 ? "low"
                             : "none");
    ctx->exit_code = worst >= rank(options->fail_on) ? kExitFindings : kExitOk;
  });
}

}  // namespace rdns::cli
