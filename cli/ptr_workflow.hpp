#pragma once
/// What the `rdnsctl ptr` subcommands share: the flags, the clients of one
/// invocation, the journaled write, reconciliation of writes a crash left
/// pending, and polling DNS until a change is visible.

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <db/ptr_journal.hpp>
#include <provision/plan.hpp>
#include <provision/provider.hpp>
#include <provision/ptr_client.hpp>
#include <provision/write_checks.hpp>
#include <util/error.hpp>
#include <util/file_lock.hpp>

#include "aws_options.hpp"
#include "choice_option.hpp"
#include "cloud_setup.hpp"
#include "commands.hpp"
#include "number_option.hpp"

namespace rdns::cli {

/// The flags shared by every ptr subcommand, and the arguments of each.
struct PtrOptions {
  CloudConnection connection;
  std::string provider = "alibaba";  ///< --provider: who serves the reverse zone
  AwsPtrOptions aws;                 ///< the flags of --provider aws
  std::vector<std::string> resolvers;
  std::vector<std::string> authorities;  ///< asked for A-record TTLs instead of the zones' NS
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
  std::unique_ptr<provision::PtrProvider> provider;
  std::unique_ptr<provision::DnsView> dns;
  std::unique_ptr<db::PtrJournal> journal;  ///< set for commands that write
  /// The database's lock, held by commands that write: a second ptr command
  /// (risk from cron during an apply) would otherwise settle, or repeat, the
  /// other one's write in flight.
  std::optional<FileLock> lock;
  /// How long after its start a write may still be carried out by the cloud:
  /// the client's connect and request timeouts.
  std::chrono::milliseconds in_flight{0};
  /// (IP, lower-case value) pairs that passed the pre-write checks in this session.
  std::set<std::pair<std::string, std::string>> checked;
};

/// Whether a session will write (and so opens the journal and reconciles it).
enum class SessionUse { read, write };

/// Builds the clients; for writes takes the database's lock (run::RunLocked,
/// exit 4, while another command holds it), opens the journal and reconciles
/// every operation of the region a crash left pending against the remote state.
PtrSession open_session(const PtrOptions& options, SessionUse use);

/// The pre-write checks of writing name (TTL ttl, or the A record's) as ip's
/// PTR, each failure and warning printed; a pass is remembered in the session.
/// Every write path runs them: directly, or through journaled_write.
provision::WriteCheck check_write(PtrSession& session, const std::string& ip,
                                  const std::string& name, std::optional<int> ttl,
                                  bool allow_unconfirmed);

/// One write, as the journal stores it.
struct WriteStep {
  std::string source;  ///< "ptr set", "apply plan.json", "rollback 3"
  std::string action;  ///< create|update|delete|enable|disable
  std::string ip;
  std::string value;
  int ttl = 0;
  provision::RecordState before;
  bool allow_unconfirmed = false;  ///< for the pre-write checks
};

/// Why ip must not be written now: a staged change (`ptr change`) of it is in
/// progress and would overwrite the write later; nullopt when none is.
std::optional<std::string> change_in_progress(PtrSession& session, const std::string& ip);

/// Refuses the step while a staged change of its IP is in progress
/// (Errc::usage; the change's own steps and a delete, which abandons the
/// change, go on), and when it publishes a value the cloud does not serve now
/// that has not passed the pre-write checks in this session (Refused). Then
/// stores the intent, calls the API, stores the outcome (and marks the IP
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
