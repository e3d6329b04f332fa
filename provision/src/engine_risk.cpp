// The risk pass: re-checks every record this tool manages for what makes the
// provider reclaim it or receivers distrust it, and stores the pass.

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <provision/api_error.hpp>
#include <provision/engine.hpp>

namespace rdns::provision {
namespace {

const char* level_name(int rank) {
  switch (rank) {
    case 3:
      return "high";
    case 2:
      return "medium";
    case 1:
      return "low";
    default:
      return "none";
  }
}

std::string joined_or(const std::vector<std::string>& values, const std::string& otherwise) {
  std::string text;
  for (const auto& value : values) text += (text.empty() ? "" : ", ") + value;
  return text.empty() ? otherwise : text;
}

}  // namespace

/// The risk findings of one managed IP.
std::vector<RiskFinding> Engine::assess(const std::string& ip, const RecordState& record,
                                        bool owned, double fee_per_record,
                                        const std::string& currency) {
  std::vector<RiskFinding> out;
  const std::string& region = settings_.region;
  auto add = [&](const char* level, const char* code, std::string reason, std::string action) {
    out.push_back({region, ip, level, code, std::move(reason), std::move(action)});
  };
  const ProviderCapabilities capabilities = provider_.capabilities();
  if (!owned) {
    add("high", "IP_NOT_OWNED",
        capabilities.bills_records
            ? fmt::format("{} no longer belongs to the account in {}: the cloud reclaims such "
                          "records (PTR IP information mismatch)",
                          ip, region)
            : fmt::format("{} is no longer {}", ip, capabilities.owned_means),
        "get the IP back, or rdnsctl ptr delete " + ip + " and drop it from the desired state");
  }
  if (!record.exists) {
    add("high", "RECORD_GONE",
        fmt::format(
            "rdnsctl manages this IP but {} has no record for it (deleted elsewhere or "
            "reclaimed)",
            capabilities.bills_records ? "the cloud" : "the " + provider_.name() + " provider"),
        "rdnsctl ptr set " + ip + " NAME again, or drop it from the desired state");
    return out;
  }
  try {
    if (record.status == PtrStatus::disabled && !capabilities.bills_records) {
      add("medium", "RECORD_DISABLED",
          "the record is disabled: DNS serves no PTR for this IP, so receivers see none",
          "rdnsctl ptr enable " + ip + " or rdnsctl ptr delete " + ip);
    } else if (record.status == PtrStatus::disabled) {
      add("low", "DISABLED_BILLED",
          fmt::format("the record is disabled but still billed, about {:.2f} {}/day",
                      fee_per_record, currency),
          "rdnsctl ptr enable " + ip + " or rdnsctl ptr delete " + ip);
    } else {
      const auto forward = dns_.a(record.value);
      if (std::find(forward.values.begin(), forward.values.end(), ip) == forward.values.end()) {
        add("high", "FCRDNS_BROKEN",
            fmt::format("{} resolves to {}, not {}: receivers see a forward mismatch", record.value,
                        joined_or(forward.values, forward.failure.empty() ? std::string("nothing")
                                                                          : forward.failure),
                        ip),
            "restore the A record of " + record.value + ", or rdnsctl ptr set " + ip +
                " with a name that resolves to it");
      }
    }
    if (provider_.capabilities().needs_domain_verification) {
      const auto verified = check_domain_verification(provider_, dns_, record.value);
      if (!verified.present) {
        add("medium", "TXT_MISSING",
            fmt::format("the verification TXT of {} is gone: the cloud may flag the record and "
                        "refuses changes to it",
                        verified.expected.domain),
            fmt::format("publish {} TXT \"{}\"", verified.expected.fqdn(),
                        verified.expected.value));
      }
    }
  } catch (const ApiError& error) {
    if (error.kind() != ApiErrorKind::ip_not_owned) throw;
    add("high", "IP_MISMATCH_ERROR", std::string("the API answered: ") + error.what(),
        "check the IP's ownership in " + region);
  }
  return out;
}

RiskReport Engine::risk() {
  RiskReport report;
  const auto managed = journal_.managed(settings_.region);
  report.managed = managed.size();
  const auto listing = provider_.list();
  const double fee = listing.billing.billable_records > 0
                         ? listing.billing.daily_fee / listing.billing.billable_records
                         : 0.0;
  std::map<std::string, bool> owned;
  if (!managed.empty()) {
    for (const auto& entry : provider_.ownership(managed)) {
      owned[entry.ip] = entry.role != IpRole::not_owned;
    }
  }
  int worst = 0;
  for (const auto& ip : managed) {
    auto found =
        assess(ip, state_of(listing.records, ip), owned[ip], fee, listing.billing.currency);
    if (found.empty()) {
      found.push_back({settings_.region, ip, "ok", "OK", "every check passes", "-"});
    }
    for (auto& finding : found) {
      worst = std::max(worst, risk_rank(finding.level));
      report.findings.push_back(std::move(finding));
    }
  }
  journal_.add_risks(report.findings);
  report.worst = level_name(worst);
  return report;
}

}  // namespace rdns::provision
