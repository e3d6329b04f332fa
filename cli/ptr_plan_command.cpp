// rdnsctl ptr plan | apply | journal | rollback: desired state in, a stored
// plan out, and a journaled, drift-checked, rate-limited apply.

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <unistd.h>

#include <provision/api_error.hpp>
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

char sign_of(provision::PlanAction action) {
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
    std::printf("%c %s\t%s\t%s: %s\n", sign_of(item.action), escape_text(item.ip).c_str(),
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
  const auto desired = provision::parse_desired_csv(read_text(path), path);
  provision::PlanInputs inputs;
  inputs.remote = session.provider->list().records;
  for (const auto& ip : session.journal->managed(session.region)) inputs.managed.insert(ip);
  inputs.delete_unmanaged = options.delete_unmanaged;
  inputs.fixed_ttl = session.provider->capabilities().fixed_ttl;
  provision::WriteCheckOptions check_options;
  check_options.allow_unconfirmed = options.allow_unconfirmed;
  inputs.check = [&](const provision::DesiredPtr& line) {
    return provision::check_ptr_write(*session.provider, *session.dns, line.ip, line.name, line.ttl,
                                      check_options);
  };
  provision::Plan plan = provision::make_plan(desired, inputs);
  plan.region = session.region;
  plan.source = path;
  return plan;
}

const char* journal_action(provision::PlanAction action) {
  switch (action) {
    case provision::PlanAction::create:
      return "create";
    case provision::PlanAction::update:
      return "update";
    case provision::PlanAction::enable:
      return "enable";
    case provision::PlanAction::remove:
      return "delete";
    default:
      return "";
  }
}

bool writes(provision::PlanAction action) {
  return action == provision::PlanAction::create || action == provision::PlanAction::update ||
         action == provision::PlanAction::enable || action == provision::PlanAction::remove;
}

std::string describe_state(const provision::RecordState& state) {
  if (!state.exists) return "no record";
  return fmt::format("{} TTL {} {}", state.value, state.ttl,
                     state.status == provision::PtrStatus::enabled ? "enabled" : "disabled");
}

/// Executes a plan against the cloud as it is now. Returns the exit code.
int apply_plan(PtrSession& session, const PtrOptions& options, const provision::Plan& plan,
               const std::string& source) {
  if (plan.region != session.region) {
    throw Error(Errc::usage, fmt::format("{} was planned for region {}, not {}", source,
                                         plan.region, session.region));
  }
  const auto remote = session.provider->list().records;
  // Every item must find the record as planned (to do) or as the plan leaves
  // it (done by an earlier, interrupted apply); anything else is drift, and
  // nothing is written.
  std::vector<const provision::PlanItem*> todo;
  std::vector<const provision::PlanItem*> already_done;
  std::vector<std::string> drift;
  for (const auto& item : plan.items) {
    if (item.action == provision::PlanAction::blocked) continue;
    const auto now = provision::state_of(remote, item.ip);
    if (provision::same_state(now, item.before)) {
      if (writes(item.action)) todo.push_back(&item);
    } else if (provision::same_state(now, provision::state_after(item))) {
      // Done by an earlier, interrupted apply of this plan: the record is
      // this tool's as if this run had written it.
      if (writes(item.action)) {
        already_done.push_back(&item);
      }
    } else {
      drift.push_back(fmt::format("{}: changed since the plan: planned from {}, now {}", item.ip,
                                  describe_state(item.before), describe_state(now)));
    }
  }
  if (!drift.empty()) {
    for (const auto& line : drift) {
      std::fprintf(stderr, "rdnsctl: refused: %s\n", escape_text(line).c_str());
    }
    std::fprintf(stderr,
                 "rdnsctl: refused: the remote state drifted since %s was made; run rdnsctl ptr "
                 "plan again\n",
                 escape_text(source).c_str());
    return kExitFindings;
  }
  std::size_t bulk = 0;
  for (const auto* item : todo) {
    if (item->action == provision::PlanAction::update ||
        item->action == provision::PlanAction::remove) {
      ++bulk;
    }
  }
  // One change is never "bulk"; beyond that, at most the given share of the
  // records that existed when the plan was made.
  const auto allowed = std::max<std::size_t>(
      1, static_cast<std::size_t>(
             std::floor(static_cast<double>(plan.existing) * options.max_change_percent / 100.0)));
  if (bulk > allowed && !options.force) {
    std::fprintf(stderr,
                 "rdnsctl: refused: the plan updates or deletes %zu of %zu existing records, "
                 "more than %g%% (%zu); check it and pass --force\n",
                 bulk, plan.existing, options.max_change_percent, allowed);
    return kExitFindings;
  }

  for (const auto* item : already_done) {
    session.journal->set_managed(session.region, item->ip,
                                 item->action != provision::PlanAction::remove);
  }

  // Written to a file or a pipe, stdout is block-buffered: a kill would lose
  // the record of how far the apply got, so stderr gets it line by line.
  const bool progress = ::isatty(STDOUT_FILENO) == 0;
  int refused = 0;
  int done = 0;
  std::size_t position = 0;
  for (const auto* item : todo) {
    ++position;
    const std::string& shown =
        item->action == provision::PlanAction::remove ? item->before.value : item->value;
    if (const auto change = change_in_progress(session, item->ip);
        change && item->action != provision::PlanAction::remove) {
      std::fprintf(stderr, "rdnsctl: refused: %s\n", escape_text(*change).c_str());
      ++refused;
      continue;
    }
    if (item->action != provision::PlanAction::remove) {
      // Checked again: TXT, ownership or the A record may have changed since planning.
      const bool allow = options.allow_unconfirmed || !item->warnings.empty();
      if (!check_write(session, item->ip, item->value, item->ttl, allow).ok()) {
        ++refused;
        continue;
      }
    }
    const WriteStep step{"apply " + source, journal_action(item->action),
                         item->ip,          item->value,
                         item->ttl,         item->before};
    if (progress) {
      std::fprintf(stderr, "rdnsctl: apply: %zu of %zu: %s %s %s\n", position, todo.size(),
                   step.action.c_str(), escape_text(item->ip).c_str(), escape_text(shown).c_str());
    }
    std::int64_t id = 0;
    try {
      id = journaled_write(session, step);
    } catch (const provision::ApiError& error) {
      std::fprintf(stderr,
                   "rdnsctl: %s: %s failed; stopped after %d of %zu (re-run apply to go on)\n",
                   escape_text(item->ip).c_str(), step.action.c_str(), done, todo.size());
      throw;
    }
    ++done;
    if (progress) {
      std::fprintf(stderr, "rdnsctl: apply: %zu of %zu done: operation %lld\n", position,
                   todo.size(), static_cast<long long>(id));
    }
    std::printf("%c %s: %s %s (operation %lld)\n", sign_of(item->action),
                escape_text(item->ip).c_str(), step.action.c_str(), escape_text(shown).c_str(),
                static_cast<long long>(id));
    wait_visible(*session.dns, item->ip,
                 item->action == provision::PlanAction::remove ? std::string() : item->value,
                 options.wait);
    std::fflush(stdout);
  }
  int blocked = 0;
  for (const auto& item : plan.items) {
    if (item.action == provision::PlanAction::blocked) ++blocked;
  }
  std::printf(
      "# applied %d, already done %zu, refused %d, blocked in the plan %d\n", done,
      plan.items.size() - todo.size() - static_cast<std::size_t>(blocked) -
          [&] {
            std::size_t idle = 0;
            for (const auto& item : plan.items) {
              if (item.action == provision::PlanAction::noop) ++idle;
            }
            return idle;
          }(),
      refused, blocked);
  return refused + blocked > 0 ? kExitFindings : kExitOk;
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
    const auto op = session.journal->find(options->operation);
    if (!op) throw Error(Errc::usage, fmt::format("no operation {}", options->operation));
    if (op->state != "done") {
      throw Error(Errc::usage,
                  fmt::format("operation {} is {}, not done: nothing to undo", op->id, op->state));
    }
    if (op->region != session.region) {
      throw Error(Errc::usage, fmt::format("operation {} was in region {}", op->id, op->region));
    }
    const auto now = provision::state_of(session.provider->read(op->ip), op->ip);
    // The record must still be what the operation left, or undoing it would
    // overwrite a later change.
    provision::RecordState left;
    if (op->action != "delete") {
      left.exists = true;
      left.value = op->action == "create" || op->action == "update" ? op->value : now.value;
      left.ttl = op->action == "create" || op->action == "update" ? op->ttl : now.ttl;
      left.status =
          op->action == "disable" ? provision::PtrStatus::disabled : provision::PtrStatus::enabled;
    }
    if (!provision::same_state(now, left)) {
      std::fprintf(
          stderr, "rdnsctl: refused: %s changed since operation %lld: it left %s, now %s\n",
          escape_text(op->ip).c_str(), static_cast<long long>(op->id),
          escape_text(describe_state(left)).c_str(), escape_text(describe_state(now)).c_str());
      ctx->exit_code = kExitFindings;
      return;
    }
    // enable and disable keep the value and TTL the record has now.
    WriteStep step{fmt::format("rollback {}", op->id), "", op->ip, now.value, now.ttl, now,
                   options->allow_unconfirmed};
    if (op->action == "create") {
      step.action = "delete";
    } else if (op->action == "delete") {
      step.action = "create";
      step.value = op->previous_value;
      step.ttl = op->previous_ttl;
    } else if (op->action == "update") {
      step.action = "update";
      step.value = op->previous_value;
      step.ttl = op->previous_ttl;
    } else {
      step.action = op->action == "enable" ? "disable" : "enable";
    }
    // journaled_write runs the pre-write checks on whatever this publishes.
    const std::int64_t id = journaled_write(session, step);
    std::printf("%s: %s %s (operation %lld undoes %lld)\n", escape_text(op->ip).c_str(),
                step.action.c_str(), escape_text(step.value).c_str(), static_cast<long long>(id),
                static_cast<long long>(op->id));
    wait_visible(*session.dns, step.ip,
                 step.action == "delete" || step.action == "disable" ? std::string() : step.value,
                 options->wait);
    ctx->exit_code = kExitOk;
  });
}

}  // namespace rdns::cli
