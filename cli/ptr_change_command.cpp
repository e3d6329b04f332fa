// rdnsctl ptr change IP NAME: a staged value change that never leaves
// resolvers holding the old name for a long TTL after the switch. Each step is
// journaled and the stage is persisted after it, so a killed change resumes.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include <util/error.hpp>
#include <util/escape.hpp>

#include "ptr_workflow.hpp"

namespace rdns::cli {
namespace {

void say(const db::PtrStageRecord& stage, const std::string& text) {
  std::printf("%s: [%s] %s\n", escape_text(stage.ip).c_str(), stage.stage.c_str(),
              escape_text(text).c_str());
  std::fflush(stdout);
}

/// Writes value and TTL unless the record already has them (a step that
/// completed before an interruption is not written again).
void write_step(PtrSession& session, const db::PtrStageRecord& stage,
                const provision::RecordState& now, const std::string& value, int ttl) {
  if (lower_name(now.value) == lower_name(value) && now.ttl == ttl) {
    say(stage, fmt::format("already {} TTL {}", value, ttl));
    return;
  }
  const auto id =
      journaled_write(session, WriteStep{"ptr change", "update", stage.ip, value, ttl, now});
  say(stage, fmt::format("{} TTL {} (operation {})", value, ttl, id));
}

}  // namespace

void add_ptr_change_command(CLI::App& ptr, const std::shared_ptr<PtrOptions>& options,
                            Context& context) {
  Context* ctx = &context;
  CLI::App* change =
      ptr.add_subcommand("change",
                         "Switch an IP's PTR value in stages: lower the TTL, wait out the old one, "
                         "switch, confirm in DNS, restore the TTL; re-run to resume");
  change->add_option("ip", options->ip, "IPv4 address with a record")->required();
  change->add_option("name", options->name, "The new value")->required();
  change->add_option("--ttl", options->ttl, "TTL after the change (default: the current one)")
      ->check(whole_number_range(1, 86400));
  change->add_option("--low-ttl", options->low_ttl, "TTL held during the switch")
      ->default_val(60)
      ->check(whole_number_range(1, 86400));
  change->add_flag("--allow-unconfirmed", options->allow_unconfirmed,
                   "Switch even when the new name's A record does not hold the IP");
  change->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::write);
    auto& journal = *session.journal;
    auto current = [&] {
      return provision::state_of(session.provider->read(options->ip), options->ip);
    };
    std::optional<db::PtrStageRecord> saved = journal.stage(session.region, options->ip);
    std::string name = options->name;
    if (name.ends_with('.')) name.pop_back();
    db::PtrStageRecord stage;
    if (saved) {
      if (lower_name(saved->value) != lower_name(name)) {
        throw Error(
            Errc::usage,
            fmt::format("{}: a change to {} is in progress (stage {}); finish it first "
                        "with rdnsctl ptr change {} {}",
                        options->ip, saved->value, saved->stage, options->ip, saved->value));
      }
      stage = *saved;
      say(stage, "resuming the change " + stage.original_value + " -> " + stage.value);
      // The A record or the TXT may have changed since the change began:
      // checked again, before any wait, unless the switch is already made.
      const bool switched = stage.stage == "confirm" || stage.stage == "restore";
      if (!switched &&
          !check_write(session, stage.ip, stage.value, stage.ttl, options->allow_unconfirmed)
               .ok()) {
        ctx->exit_code = kExitFindings;
        return;
      }
    } else {
      const auto now = current();
      if (!now.exists) {
        throw Error(Errc::input,
                    options->ip + " has no PTR record: use rdnsctl ptr set to create one");
      }
      stage = {
          session.region,   options->ip, name, options->ttl.value_or(now.ttl), now.value, now.ttl,
          options->low_ttl, "lower",     0};
      // The new value must pass what any write would before anything changes.
      if (!check_write(session, stage.ip, stage.value, stage.ttl, options->allow_unconfirmed)
               .ok()) {
        ctx->exit_code = kExitFindings;
        return;
      }
      stage.low_ttl = std::min(stage.low_ttl, now.ttl);
      journal.save_stage(stage);
    }
    if (stage.stage == "lower") {
      write_step(session, stage, current(), stage.original_value, stage.low_ttl);
      // Caches may have fetched the old record just before the write: they
      // hold it for the old TTL.
      stage.not_before = static_cast<std::int64_t>(std::time(nullptr)) + stage.original_ttl;
      stage.stage = "wait";
      journal.save_stage(stage);
    }
    if (stage.stage == "wait") {
      const auto left = stage.not_before - static_cast<std::int64_t>(std::time(nullptr));
      if (left > 0) {
        say(stage, fmt::format("waiting {} s for the old TTL to run out", left));
        std::this_thread::sleep_for(std::chrono::seconds(left));
      }
      stage.stage = "switch";
      journal.save_stage(stage);
    }
    if (stage.stage == "switch") {
      write_step(session, stage, current(), stage.value, stage.low_ttl);
      stage.stage = "confirm";
      journal.save_stage(stage);
    }
    if (stage.stage == "confirm") {
      if (!wait_visible(*session.dns, stage.ip, stage.value, options->wait)) {
        say(stage, "not confirmed in DNS yet; re-run rdnsctl ptr change to go on");
        ctx->exit_code = kExitFindings;
        return;
      }
      stage.stage = "restore";
      journal.save_stage(stage);
    }
    if (stage.stage == "restore") {
      write_step(session, stage, current(), stage.value, stage.ttl);
      journal.clear_stage(session.region, stage.ip);
      say(stage, "done");
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace rdns::cli
