#pragma once
/// Looking through an `unknown` in the run a run is compared with (see
/// compare_with_previous): a temporary lookup failure is not a change of
/// verdict, so it neither starts nor ends a failure.

#include <db/database.hpp>
#include <reports/diff.hpp>

namespace rdns::reports {

/// Re-judges each change of `diff` (run `run` against `previous`) whose
/// address was `unknown` in `previous` and has a verdict now, against the
/// newest verdict the address got in an earlier complete run of the same
/// identity: fail then fail is no new failure (`changed`), fail then pass or
/// warn is `fixed`. Earlier runs are read back until every such address has
/// a verdict, or until a run whose checks would judge it differently (SMTP
/// in one and not the other).
void look_through_unknown(db::Database& database, const db::RunInfo& previous,
                          const db::RunInfo& run, RunDiff& diff);

}  // namespace rdns::reports
