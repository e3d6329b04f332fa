#pragma once
/// Looking through an `unknown` in the run a run is compared with (see
/// compare_with_previous): a temporary lookup failure is not a change of
/// verdict, so it neither starts nor ends a failure.

#include <optional>
#include <string>
#include <vector>

#include <db/database.hpp>
#include <reports/diff.hpp>

namespace rdns::reports {

/// An address `unknown` in the run compared with that has a verdict now:
/// its change, to be judged against the address's last verdict. A few
/// dozen bytes, so that even a whole run after an outage can wait.
struct AwaitingVerdict {
  std::string ip;
  Status now = Status::unknown;
  ChangeKind kind = ChangeKind::changed;  ///< against `unknown`, then re-judged
  std::optional<EarlierVerdict> earlier;
};

/// Whether `change` (of two runs' records) is such an address.
bool awaits_verdict(const Change& change);

/// Finds each address's newest verdict in the earlier complete runs of
/// `run`'s identity, before `previous`, and re-judges its kind against it:
/// fail then fail is no new failure (`changed`), fail then pass or warn is
/// `fixed`. Earlier runs are read back until every address has a verdict,
/// or until a run whose checks would judge it differently (SMTP in one and
/// not the other). Sorts `awaiting` by address text, as `awaited` needs.
void find_last_verdicts(db::Database& database, const db::RunInfo& previous, const db::RunInfo& run,
                        std::vector<AwaitingVerdict>& awaiting);

/// The entry of `ip` in `awaiting` as find_last_verdicts left it; throws
/// Errc::internal when it is not there.
const AwaitingVerdict& awaited(const std::vector<AwaitingVerdict>& awaiting, const std::string& ip);

}  // namespace rdns::reports
