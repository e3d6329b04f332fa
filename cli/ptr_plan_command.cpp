// rdnsctl ptr plan | apply | journal | rollback: desired state in, a stored
// plan out, and the apply (journaled, drift-checked, rate-limited: the
// engine's) printed.

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include <provision/plan.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/output_file.hpp>

#include "number_option.hpp"
#include "ptr_workflow.hpp"

namespace rdns::cli {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::input, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The plan as a diff: one line per IP, then the counts.
void print_plan(const provision::Plan& plan) {
  std::map<provision::PlanAction, int> counts;
  for (const auto& item : plan.items) {
    ++counts[item.action];
    std::string change;
    if (item.action == provision::PlanAction::update && item.before.exists) {
      change = fmt::format("{} TTL {} -> {} TTL {}", item.before.value, item.before.ttl, item.value,
                           item.ttl);
    } else if (item.action == provision::PlanAction::remove) {
      change = fmt::format("{} TTL {}", item.before.value, item.before.ttl);
    } else {
      change = fmt::format("{} TTL {}", item.value, item.ttl);
    }
    std::printf("%c %s\t%s\t%s: %s\n", plan_sign(item.action), escape_text(item.ip).c_str(),
                escape_text(change).c_str(), provision::to_string(item.action),
                escape_text(item.reason).c_str());
    for (const auto& warning : item.warnings) {
      std::printf("  WARNING: %s\n", escape_text(warning).c_str());
    }
  }
  std::printf("# %d create, %d update, %d enable, %d delete, %d no-op, %d blocked\n",
              counts[provision::PlanAction::create], counts[provision::PlanAction::update],
              counts[provision::PlanAction::enable], counts[provision::PlanAction::remove],
              counts[provision::PlanAction::noop], counts[provision::PlanAction::blocked]);
}

provision::Plan plan_from_desired(PtrSession& session, const PtrOptions& options,
                                  const std::string& path) {
  return session.engine->plan(provision::parse_desired_csv(read_text(path), path), path,
                              {options.delete_unmanaged, options.allow_unconfirmed});
}

/// Why nothing was written, when drift or the safety limit refused the apply.
void print_apply_refusal(const provision::ApplyReport& report, const std::string& source) {
  for (const auto& drift : report.drift) {
    std::fprintf(stderr, "rdnsctl: refused: %s\n",
                 escape_text(fmt::format("{}: changed since the plan: planned from {}, now {}",
                                         drift.ip, provision::describe_state(drift.planned),
                                         provision::describe_state(drift.now)))
                     .c_str());
  }
  if (!report.drift.empty()) {
    std::fprintf(stderr,
                 "rdnsctl: refused: the remote state drifted since %s was made; run rdnsctl ptr "
                 "plan again\n",
                 escape_text(source).c_str());
  }
  if (const auto& limit = report.exceeded) {
    std::fprintf(stderr,
                 "rdnsctl: refused: the plan updates or deletes %zu of %zu existing records, "
                 "more than %g%% (%zu); check it and pass --force\n",
                 limit->changes, limit->existing, limit->percent, limit->allowed);
  }
}

/// Executes a plan against the cloud as it is now. Returns the exit code.
int apply_plan(PtrSession& session, const PtrOptions& options, const provision::Plan& plan,
               const std::string& source) {
  const provision::ApplyReport report = session.engine->apply(
      plan, source, {options.max_change_percent, options.force, options.allow_unconfirmed});
  if (!report.written_at_all()) {
    print_apply_refusal(report, source);
    return kExitFindings;
  }
  std::printf("# applied %d, already done %zu, refused %d, blocked in the plan %d\n",
              report.applied, report.already_done, report.refused, report.blocked);
  return report.complete() ? kExitOk : kExitFindings;
}

void print_operation(const db::PtrOperationRecord& op) {
  std::printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", static_cast<long long>(op.id),
              op.created_at.c_str(), op.state.c_str(), op.action.c_str(),
              escape_text(op.ip).c_str(), escape_text(op.value.empty() ? "-" : op.value).c_str(),
              escape_text(op.previous_value.empty() ? "-" : op.previous_value).c_str(),
              escape_text(op.request_id.empty() ? "-" : op.request_id).c_str(),
              escape_text(op.source).c_str(), escape_text(op.outcome).c_str());
}

}  // namespace

char plan_sign(provision::PlanAction action) {
  switch (action) {
    case provision::PlanAction::create:
      return '+';
    case provision::PlanAction::update:
    case provision::PlanAction::enable:
      return '~';
    case provision::PlanAction::remove:
      return '-';
    case provision::PlanAction::noop:
      return '=';
    case provision::PlanAction::blocked:
      return '!';
  }
  return '=';
}

void add_ptr_plan_commands(CLI::App& ptr, const std::shared_ptr<PtrOptions>& options,
                           Context& context) {
  Context* ctx = &context;

  CLI::App* plan = ptr.add_subcommand(
      "plan", "Compare a desired-state CSV (ip,name[,ttl]) with the cloud; print and store a plan");
  plan->add_option("file", options->file, "Desired-state CSV")->required();
  plan->add_option("-o,--output", options->output, "Store the plan (JSON) for ptr apply")
      ->type_name("FILE");
  plan->add_flag("--delete-unmanaged", options->delete_unmanaged,
                 "Also delete records absent from the file that rdnsctl did not create");
  plan->add_flag("--allow-unconfirmed", options->allow_unconfirmed,
                 "Plan writes whose name's A record does not hold the IP (FCrDNS will fail)");
  plan->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::write);
    const provision::Plan result = plan_from_desired(session, *options, options->file);
    print_plan(result);
    if (!options->output.empty()) {
      write_output_file(options->output, provision::plan_to_json(result), "the plan");
      std::printf("# plan stored in %s: rdnsctl ptr apply %s\n",
                  escape_text(options->output).c_str(), escape_text(options->output).c_str());
    }
    bool blocked = false;
    for (const auto& item : result.items) {
      blocked = blocked || item.action == provision::PlanAction::blocked;
    }
    ctx->exit_code = blocked ? kExitFindings : kExitOk;
  });

  CLI::App* apply = ptr.add_subcommand(
      "apply", "Carry out a stored plan (or, with --yes, a desired-state CSV planned now)");
  apply->add_option("plan", options->file, "Plan file from ptr plan -o, or a CSV with --yes")
      ->required();
  apply->add_flag("--yes", options->yes, "Plan the CSV and apply it without a stored plan");
  apply->add_flag("--force", options->force, "Go beyond the bulk-change safety limit");
  apply
      ->add_option("--max-change-percent", options->max_change_percent,
                   "Refuse to update or delete more than this share of existing records")
      ->default_val(30)
      ->check(finite_range(0, 100, "percent"));
  apply->add_flag("--delete-unmanaged", options->delete_unmanaged,
                  "With --yes: also delete records rdnsctl did not create");
  apply->add_flag("--allow-unconfirmed", options->allow_unconfirmed,
                  "Write even when a name's A record does not hold the IP");
  apply->callback([options, ctx] {
    const std::string text = read_text(options->file);
    const bool is_plan = text.find_first_not_of(" \t\r\n") != std::string::npos &&
                         text[text.find_first_not_of(" \t\r\n")] == '{';
    if (!is_plan && !options->yes) {
      throw Error(Errc::usage, options->file +
                                   " is not a stored plan: run rdnsctl ptr plan FILE -o PLAN "
                                   "first, or pass --yes to plan and apply at once");
    }
    PtrSession session = open_session(*options, SessionUse::write);
    provision::Plan planned;
    if (is_plan) {
      planned = provision::plan_from_json(text, options->file);
    } else {
      planned = plan_from_desired(session, *options, options->file);
      print_plan(planned);
    }
    ctx->exit_code = apply_plan(session, *options, planned, options->file);
  });

  CLI::App* journal = ptr.add_subcommand(
      "journal",
      "The journaled operations, newest first: ID, time, state, action, IP, value, "
      "previous value, RequestId, source, outcome");
  journal->add_option("--limit", options->limit, "At most this many")
      ->default_val(20)
      ->check(positive_whole_number());
  journal->callback([options, ctx] {
    auto stored = db::PtrJournal::open(database_path(options->db));
    for (const auto& op : stored.list(options->limit)) print_operation(op);
    ctx->exit_code = kExitOk;
  });

  CLI::App* rollback =
      ptr.add_subcommand("rollback", "Undo a done operation of the journal (itself journaled)");
  rollback->add_option("operation", options->operation, "Operation ID (ptr journal)")->required();
  rollback->add_flag("--allow-unconfirmed", options->allow_unconfirmed,
                     "Restore a value whose A record no longer holds the IP");
  rollback->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::write);
    const provision::RollbackResult result =
        session.engine->rollback(options->operation, options->allow_unconfirmed);
    if (result.refused) {
      ctx->exit_code = kExitFindings;
      return;
    }
    std::printf("%s: %s %s (operation %lld undoes %lld)\n", escape_text(result.undone.ip).c_str(),
                result.step.action.c_str(), escape_text(result.step.value).c_str(),
                static_cast<long long>(result.written.operation),
                static_cast<long long>(result.undone.id));
    session.engine->wait_visible(result.step.ip, result.expect_in_dns);
    ctx->exit_code = kExitOk;
  });
}

}  // namespace rdns::cli
