#pragma once
/// --notify-webhook: after a complete run, tell a webhook which addresses
/// newly fail reverse DNS compared with the previous run.

#include <cstdint>
#include <string>

#include <notify/webhook.hpp>

#include <db/database.hpp>

namespace rdns::cli {

/// The document posted for run `run_id`: the addresses that fail in it and
/// did not fail (or were not audited) in the newest earlier complete run of
/// the same command. `count` receives how many there are.
std::string newly_failing_json(db::Database& database, std::int64_t run_id, std::size_t& count);

/// Posts newly_failing_json() when it lists any address; returns how many it
/// listed. Throws what notify::post_json throws.
std::size_t notify_newly_failing(db::Database& database, std::int64_t run_id,
                                 const notify::WebhookOptions& options);

}  // namespace rdns::cli
