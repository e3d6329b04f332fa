// One audit run from its plan to its final state, comparison, metrics,
// retention and webhook.

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include <audit/auditor.hpp>
#include <db/result_writer.hpp>
#include <reports/diff.hpp>
#include <run/notification.hpp>
#include <run/result_sink.hpp>
#include <run/run.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "plan.hpp"

namespace rdns::run {
namespace {

bool reaches(const db::FindingRecord& finding, FailOn threshold) {
  switch (threshold) {
    case FailOn::never:
      return false;
    case FailOn::info:
      return true;
    case FailOn::warning:
      return finding.severity != Severity::info;
    case FailOn::error:
      return finding.severity == Severity::error;
  }
  return false;
}

bool any_reaches(const std::vector<db::FindingRecord>& findings, FailOn threshold) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const db::FindingRecord& f) { return reaches(f, threshold); });
}

/// Whether a stored result of a re-run shard's named run is the shard's
/// (the run holds every shard's results).
bool in_part(const Plan& plan, const std::string& ip) {
  const auto address = audit::IpAddress::parse(ip);
  return address && plan.part_targets->contains(*address);
}

/// The counts of a named run's shard across its attempts: this attempt's,
/// or for a re-run shard those of every stored result in its share.
db::RunCounts part_counts(Plan& plan, const db::RunCounts& this_attempt) {
  if (!plan.part_targets) return this_attempt;
  db::RunCounts counts;
  const std::int64_t run_ids[] = {*plan.run_id};
  plan.database->visit_statuses(run_ids, [&](std::int64_t, const std::string& ip, Status status) {
    if (in_part(plan, ip)) counts.add(status);
  });
  return counts;
}

/// Ends what this process audited: the run, or its shard of a named run
/// (which completes the run when it was the last one).
void record_end(Plan& plan, db::RunState state, const db::RunCounts& this_attempt) {
  if (plan.part) {
    plan.database->finish_shard(*plan.run_id, plan.part->index, state,
                                part_counts(plan, this_attempt));
    return;
  }
  plan.database->finish_run(*plan.run_id, state, plan.database->count_results(*plan.run_id));
}

/// Marks a run that printing or storing stopped, keeping it resumable, and
/// says so in the error: a reader that went away (`| head`) interrupted it,
/// anything else failed it.
Error stopped_run(Plan& plan, std::string_view command, const Error& error,
                  const db::RunCounts& this_attempt) {
  if (!plan.database) return error;
  const bool closed = dynamic_cast<const OutputClosed*>(&error) != nullptr;
  const db::RunState state = closed ? db::RunState::interrupted : db::RunState::failed;
  try {
    record_end(plan, state, this_attempt);
  } catch (const Error&) {
    // A full disk or a held lock may refuse this too; the run stays
    // "running", which --resume continues just the same.
  }
  if (plan.part) {
    return Error(Errc::io, fmt::format("{}; shard {}/{} of run {} {}: re-run the same command to "
                                       "resume it",
                                       error.what(), plan.part->index, plan.part->count,
                                       *plan.run_id, db::to_string(state)));
  }
  if (command != "audit") {
    return Error(Errc::io,
                 fmt::format("{}; run {} {}", error.what(), *plan.run_id, db::to_string(state)));
  }
  return Error(Errc::io, fmt::format("{}; run {} {}: continue with: rdnsctl audit --resume {} "
                                     "--db {}",
                                     error.what(), *plan.run_id, db::to_string(state), *plan.run_id,
                                     escape_text(plan.database->path().string())));
}

/// What the end of a named run's shard says: its own state, and whether the
/// run is complete now or waits for other shards.
std::string part_notice(const Plan& plan, db::RunState state, const db::RunCounts& part,
                        const db::ShardEnd& end) {
  const std::string shard = fmt::format("shard {}/{}", plan.part->index, plan.part->count);
  const std::string run =
      fmt::format("run {} ('{}')", *plan.run_id, escape_text(plan.options.run_name));
  if (state != db::RunState::complete) {
    return fmt::format(
        "{} {} ({} addresses stored); {} waits for it: re-run the same command "
        "to resume it",
        shard, db::to_string(state), part.total, run);
  }
  if (!end.run_complete) {
    return fmt::format("{} done ({} addresses); {} waits for {} more shard{}", shard, part.total,
                       run, end.shards_left, end.shards_left == 1 ? "" : "s");
  }
  return fmt::format("{} done ({} addresses); {} complete: all {} shards", shard, part.total, run,
                     plan.part->count);
}

/// The inventory's retention, after one of its runs completed (and was
/// compared, so its predecessor was still there to compare with).
void apply_retention(const RunOptions& options, db::Database& database, Outcome& outcome,
                     const RunHooks& hooks) {
  if (options.inventory.empty() || !options.retention.any()) return;
  db::PrunePolicy policy;
  policy.keep_runs = options.retention.keep_runs;
  policy.keep_days = options.retention.keep_days;
  policy.inventory = options.inventory;
  outcome.pruned = database.prune(policy).removed.size();
  if (hooks.notice && outcome.pruned > 0) {
    hooks.notice(fmt::format("removed {} older runs of inventory {} (its retention)",
                             outcome.pruned, escape_text(options.inventory)));
  }
}

/// The stored results a resumed run shows: those of the addresses this part
/// audits. Its targets are the run's less the addresses stored before it
/// started, so the earlier results fall outside them.
StoredResultFilter part_results(const Plan& plan) {
  if (!plan.resumed) return {};
  return [&targets = plan.targets](const db::ResultRecord& record) {
    const auto address = audit::IpAddress::parse(record.ip);
    return address && targets.contains(*address);
  };
}

/// Ends a run of its own: its state and totals, and for a resumed run the
/// verdict and metrics over all of it.
void end_run(Plan& plan, db::RunState state, const db::RunCounts& this_attempt, Outcome& outcome,
             bool& reached, const RunHooks& hooks) {
  // A fresh run stored exactly what this attempt counted (the sink stores
  // every result or fails the run); only a resumed one has earlier parts,
  // which a pass over the stored rows adds up.
  const db::RunCounts totals =
      plan.resumed ? plan.database->count_results(*plan.run_id) : this_attempt;
  plan.database->finish_run(*plan.run_id, state, totals);
  outcome.metrics.counts = totals;
  if (plan.resumed) {
    // The verdict and the metrics cover the whole run, not only this part.
    outcome.metrics.findings.clear();
    plan.database->visit_results(*plan.run_id, [&](const db::ResultRecord& stored) {
      reached = reached || any_reaches(stored.findings, plan.options.fail_on);
      count_findings(outcome.metrics, stored.findings);
    });
  }
  if (hooks.notice) {
    hooks.notice(fmt::format("run {} {} in {} ({} addresses)", *plan.run_id, db::to_string(state),
                             escape_text(plan.database->path().string()), totals.total));
  }
}

/// Ends this process's shard of a named run, with the verdict and metrics
/// over the whole shard (earlier attempts included); true when it completed
/// the run.
bool end_part(Plan& plan, db::RunState state, const db::RunCounts& this_attempt, Outcome& outcome,
              bool& reached, const RunHooks& hooks) {
  db::RunCounts part = this_attempt;
  if (plan.part_targets) {
    part = {};
    outcome.metrics.findings.clear();
    plan.database->visit_results(*plan.run_id, [&](const db::ResultRecord& stored) {
      if (!in_part(plan, stored.ip)) return;
      part.add(stored.status);
      reached = reached || any_reaches(stored.findings, plan.options.fail_on);
      count_findings(outcome.metrics, stored.findings);
    });
  }
  const db::ShardEnd end = plan.database->finish_shard(*plan.run_id, plan.part->index, state, part);
  outcome.metrics.counts = part;
  if (hooks.notice) hooks.notice(part_notice(plan, state, part, end));
  return end.run_complete;
}

/// A shard whose earlier attempt completed it: nothing is audited again.
Outcome already_complete(const Plan& plan, const RunHooks& hooks) {
  Outcome outcome;
  outcome.run_id = plan.run_id;
  outcome.part = plan.part;
  outcome.database = plan.database->path().string();
  outcome.metrics.success = true;
  if (hooks.notice) {
    hooks.notice(fmt::format("shard {}/{} of run {} ('{}') is already complete: nothing to audit",
                             plan.part->index, plan.part->count, *plan.run_id,
                             escape_text(plan.options.run_name)));
  }
  return outcome;
}

}  // namespace

Outcome execute(const RunOptions& command_line, const std::vector<std::string>& arguments,
                std::string_view command, const RunHooks& hooks) {
  // The engine exists before anything is stored, so a bad resolver or rules
  // file leaves no half-made run behind.
  audit::AuditOptions engine;
  std::optional<audit::Auditor> auditor;
  Plan plan;
  if (command_line.resume != 0) {
    plan = plan_resume(command_line, hooks);
    engine = engine_options(plan.options);
    auditor.emplace(engine, audit::Rules::load(plan.options.rules));
  } else {
    engine = engine_options(command_line);
    auditor.emplace(engine, audit::Rules::load(command_line.rules));
    plan = plan_new(command_line, arguments, command, engine, auditor->resolvers(), hooks);
  }
  if (plan.part_complete) return already_complete(plan, hooks);
  const RunOptions& options = plan.options;
  Outcome outcome;
  outcome.run_id = plan.run_id;
  outcome.part = plan.part;
  outcome.resolvers = auditor->resolvers();
  if (plan.database) outcome.database = plan.database->path().string();

  std::optional<db::ResultWriter> writer;
  if (plan.database) writer.emplace(*plan.database, *plan.run_id);
  const std::unique_ptr<ResultObserver> observer = hooks.make_observer(plan.run_id);
  if (plan.database) observer->read_back_from(*plan.database, *plan.run_id, part_results(plan));
  db::RunCounts counts;
  bool reached = false;
  for (const auto& finding : plan.domain_findings) {
    observer->add_domain_finding(finding);
    reached = reached || reaches(db::FindingRecord{finding.code, finding.severity, finding.detail},
                                 options.fail_on);
  }
  const auto clear_progress = [&] {
    if (hooks.clear_progress) hooks.clear_progress();
  };
  if (hooks.show_progress) {
    const auto total = static_cast<std::uint64_t>(plan.targets.size());
    auditor->set_progress(
        [&hooks, &counts, total](std::uint64_t done) { hooks.show_progress(done, total, counts); });
  }
  const auto started = std::chrono::steady_clock::now();

  // Results leave the loop for the sink's thread, which turns them into
  // records, judges them against --fail-on, prints and stores them; while
  // its queue is full no new address starts, and its first error ends the
  // run. `reached` and `outcome` are the sink thread's until close().
  const auto judge = [&](const db::ResultRecord& record) {
    reached = reached || any_reaches(record.findings, options.fail_on);
    count_findings(outcome.metrics, record.findings);
    if (record.status == Status::fail && outcome.failing.size() < kFailingListed) {
      FailingAddress& failing = outcome.failing.emplace_back();
      failing.ip = record.ip;
      for (const auto& finding : record.findings) failing.codes.push_back(finding.code);
    }
  };
  ResultSink sink(*observer, writer ? &*writer : nullptr,
                  {.on_room = [&] { auditor->wake(); },
                   .on_failure = [&] { auditor->stop(); },
                   .on_record = judge});
  auditor->set_admission([&] { return sink.has_room(); });
  auditor->set_round_end([&] { sink.hand_over(); });
  if (hooks.warning) auditor->set_warning(hooks.warning);
  audit::AuditSummary summary;
  try {
    summary = auditor->run(
        plan.targets,
        [&](audit::IpResult&& result) {
          counts.add(result.verdict.status);
          sink.push(std::move(result));
        },
        &plan.sources);
    clear_progress();
    sink.close(counts);
  } catch (const Error& error) {
    clear_progress();
    throw stopped_run(plan, command, error, counts);
  } catch (...) {
    clear_progress();
    if (plan.database) {
      try {
        record_end(plan, db::RunState::failed, counts);
      } catch (...) {  // NOLINT(bugprone-empty-catch): the first error is the one to report
      }
    }
    throw;
  }

  const bool interrupted = summary.stopped_by_signal != 0;
  // A resolver that only refuses, fails or stays silent proves nothing about
  // any address: the run failed, whatever the verdicts say.
  const bool no_resolver_answered = !interrupted && summary.queries > 0 &&
                                    (summary.usable == 0 || !summary.resolver_failure.empty());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (hooks.notice) {
    hooks.notice(fmt::format(
        "audited {} addresses with {} queries ({} answered) in {:.2f} s, at most {} in flight, "
        "window halved {} times, {} late queries asked again",
        summary.addresses, summary.queries, summary.responses, seconds, summary.peak_in_flight,
        summary.window_halvings, summary.early_retries));
  }
  outcome.metrics.counts = counts;
  outcome.metrics.success = !interrupted && !no_resolver_answered;
  bool run_complete = false;
  if (plan.database) {
    const db::RunState state = interrupted            ? db::RunState::interrupted
                               : no_resolver_answered ? db::RunState::failed
                                                      : db::RunState::complete;
    if (plan.part) {
      run_complete = end_part(plan, state, counts, outcome, reached, hooks);
    } else {
      run_complete = state == db::RunState::complete;
      end_run(plan, state, counts, outcome, reached, hooks);
    }
  }
  if (plan.database && outcome.metrics.success && run_complete) {
    // One comparison for the metrics, the webhook and check's verdict; of a
    // named run's shards, only the one that completed it compares.
    const db::RunInfo run = *plan.database->find_run(*plan.run_id);
    // Only the webhook lists addresses; the metrics need the counts alone.
    std::span<const reports::ChangeKind> listed;
    if (!options.notify_webhook.empty()) listed = reports::kAlertKinds;
    const auto comparison = reports::compare_with_previous(*plan.database, run, listed);
    if (comparison) record_changes(outcome.metrics, *comparison);
    if (!options.notify_webhook.empty()) {
      notify::WebhookOptions webhook;
      webhook.url = options.notify_webhook;
      webhook.retries = options.notify_retries;
      try {
        outcome.notified = notify_newly_failing(*plan.database, run, comparison, webhook);
      } catch (const Error& error) {
        outcome.notify_error = error.what();
      }
    }
    apply_retention(options, *plan.database, outcome, hooks);
  }
  outcome.reached = reached;
  outcome.stopped_by_signal = summary.stopped_by_signal;
  outcome.no_resolver_answered = no_resolver_answered;
  if (no_resolver_answered) {
    std::string servers;
    for (const auto& server : outcome.resolvers) servers += (servers.empty() ? "" : ", ") + server;
    outcome.resolver_failure = fmt::format(
        "no resolver answered ({}) with a usable answer: {}", servers,
        summary.resolver_failure.empty()
            ? fmt::format("{} queries, {} usable answers", summary.queries, summary.usable)
            : summary.resolver_failure);
  }
  outcome.queries = summary.queries;
  outcome.metrics.duration_seconds = seconds;
  if (!options.prometheus_textfile.empty()) {
    write_prometheus_textfile(options.prometheus_textfile, outcome.metrics);
  }
  return outcome;
}

}  // namespace rdns::run
