#pragma once
/// What the `rdnsctl ptr` subcommands share: the flags, the clients of one
/// invocation, the journaled write, reconciliation of writes a crash left
/// pending, and polling DNS until a change is visible.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <db/ptr_journal.hpp>
#include <provision/plan.hpp>
#include <provision/ptr_client.hpp>
#include <provision/write_checks.hpp>

#include "choice_option.hpp"
#include "cloud_setup.hpp"
#include "commands.hpp"
#include "number_option.hpp"

namespace rdns::cli {

/// The flags shared by every ptr subcommand, and the arguments of each.
struct PtrOptions {
  CloudConnection connection;
  std::vector<std::string> resolvers;
  double dns_timeout = 1.0;
  double wait = 30;
  double poll = 0;
  std::string db;
  std::string ip;
  std::string name;
  std::optional<int> ttl;
  bool allow_unconfirmed = false;
  // plan and apply
  std::string file;
  std::string output;
  bool delete_unmanaged = false;
  bool yes = false;
  bool force = false;
  double max_change_percent = 30;
  std::int64_t operation = 0;
  std::size_t limit = 20;
  std::string fail_on = "medium";
  int low_ttl = 60;
};

/// The clients one command needs, built from the shared flags.
struct PtrSession {
  std::string region;
  std::unique_ptr<provision::PtrClient> client;
  std::unique_ptr<provision::OwnershipChecker> owner;
  std::unique_ptr<provision::DnsView> dns;
  std::unique_ptr<db::PtrJournal> journal;  ///< set for commands that write
};

/// Whether a session will write (and so opens the journal and reconciles it).
enum class SessionUse { read, write };

/// Builds the clients; for writes opens the journal and reconciles every
/// operation of the region a crash left pending, describing the remote state.
PtrSession open_session(const PtrOptions& options, SessionUse use);

/// One write, as the journal stores it.
struct WriteStep {
  std::string source;  ///< "ptr set", "apply plan.json", "rollback 3"
  std::string action;  ///< create|update|delete|enable|disable
  std::string ip;
  std::string value;
  int ttl = 0;
  provision::RecordState before;
};

/// Stores the intent, calls the API, stores the outcome (and marks the IP
/// managed, or unmanaged after a delete). An ApiError is journaled as failed
/// and rethrown. Returns the journal's operation id.
std::int64_t journaled_write(PtrSession& session, const WriteStep& step);

/// Polls the resolver until ip's PTR is exactly name (empty name: gone) or
/// wait_seconds pass; prints which and returns whether it became visible.
bool wait_visible(provision::DnsView& dns, const std::string& ip, const std::string& name,
                  double wait_seconds);

/// Prints each warning and refusal to stderr; true when the write may go on.
bool report_check(const provision::WriteCheck& check);

/// ASCII lower case, for comparing host names.
std::string lower_name(std::string text);

/// Adds plan, apply, journal and rollback to the ptr command.
void add_ptr_plan_commands(CLI::App& ptr, const std::shared_ptr<PtrOptions>& options,
                           Context& context);

/// Adds risk to the ptr command.
void add_ptr_risk_command(CLI::App& ptr, const std::shared_ptr<PtrOptions>& options,
                          Context& context);

/// Adds change (the staged value change) to the ptr command.
void add_ptr_change_command(CLI::App& ptr, const std::shared_ptr<PtrOptions>& options,
                            Context& context);

}  // namespace rdns::cli
