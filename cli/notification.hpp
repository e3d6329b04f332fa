#pragma once
/// --notify-webhook: after a complete run, tell a webhook which addresses
/// newly fail reverse DNS, and which recovered, compared with the previous
/// run of the same identity (reports/diff.hpp).

#include <cstdint>
#include <string>

#include <notify/webhook.hpp>

#include <db/database.hpp>

namespace rdns::cli {

/// The document posted for run `run_id`: the addresses newly failing and
/// recovered since the run it is compared with (every failing address when
/// there is none). `count` receives how many addresses it lists.
std::string newly_failing_json(db::Database& database, std::int64_t run_id, std::size_t& count);

/// Posts newly_failing_json() when it lists any address (newly failing or
/// recovered); returns how many it listed. Throws what notify::post_json throws.
std::size_t notify_newly_failing(db::Database& database, std::int64_t run_id,
                                 const notify::WebhookOptions& options);

}  // namespace rdns::cli
