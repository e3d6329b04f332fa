#pragma once
/// --notify-webhook: after a complete run, tell a webhook which addresses
/// newly fail reverse DNS, and which recovered, compared with the previous
/// run of the same identity (reports/diff.hpp).

#include <cstdint>
#include <string>

#include <notify/webhook.hpp>

#include <db/database.hpp>
#include <reports/diff.hpp>

namespace rdns::run {

/// The document posted for `run`: the addresses newly failing and recovered
/// since the run it is compared with (`comparison`, which kept the changes
/// of reports::kAlertKinds; without one, every failing address). `count`
/// receives how many addresses it lists.
std::string newly_failing_json(db::Database& database, const db::RunInfo& run,
                               const std::optional<reports::Comparison>& comparison,
                               std::size_t& count);

/// Posts newly_failing_json() when it lists any address (newly failing or
/// recovered); returns how many it listed. Throws what notify::post_json throws.
std::size_t notify_newly_failing(db::Database& database, const db::RunInfo& run,
                                 const std::optional<reports::Comparison>& comparison,
                                 const notify::WebhookOptions& options);

}  // namespace rdns::run
