#pragma once
/// What the `rdnsctl ptr` subcommands share: the flags and the clients of one
/// invocation, with the provisioning engine (provision/engine.hpp) for the
/// commands that write.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <db/engine_journal.hpp>
#include <db/ptr_journal.hpp>
#include <provision/engine.hpp>
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
#include "powerdns_options.hpp"
#include "rfc2136_options.hpp"

namespace rdns::cli {

/// The flags shared by every ptr subcommand, and the arguments of each.
struct PtrOptions {
  CloudConnection connection;
  std::string provider = "alibaba";  ///< --provider: who serves the reverse zone
  Rfc2136Flags rfc2136;              ///< --dns-server, --tsig-key... (--provider rfc2136)
  PowerDnsOptions powerdns;          ///< the --pdns-* flags of --provider powerdns
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

/// The clients one command needs, built from the shared flags. Commands that
/// write also get the journal and the engine over it; the session holds the
/// database's lock for them (the engine itself knows no files).
struct PtrSession {
  std::string region;
  std::unique_ptr<provision::PtrProvider> provider;
  std::unique_ptr<provision::DnsView> dns;
  /// How long after its start a write may still be carried out by the cloud:
  /// the client's connect and request timeouts.
  std::chrono::milliseconds in_flight{0};
  /// The database's lock, held by commands that write: a second ptr command
  /// (risk from cron during an apply) would otherwise settle, or repeat, the
  /// other one's write in flight. A PostgreSQL journal holds its lock on its
  /// own connection instead (PtrJournal::try_lock_writers).
  std::optional<FileLock> lock;
  std::unique_ptr<db::PtrJournal> journal;  ///< set for commands that write
  std::unique_ptr<db::EngineJournal> engine_journal;
  std::unique_ptr<provision::Clock> clock;
  std::unique_ptr<provision::EngineObserver> printer;
  std::unique_ptr<provision::Engine> engine;  ///< set for commands that write
};

/// Whether a session will write (and so opens the journal and reconciles it).
enum class SessionUse { read, write };

/// Builds the clients; for writes takes the database's lock (run::RunLocked,
/// exit 4, while another command holds it), opens the journal, builds the
/// engine and reconciles every operation of the region a crash left pending.
PtrSession open_session(const PtrOptions& options, SessionUse use);

/// The sign of a plan line: + create, ~ update or enable, - delete, = no-op, ! blocked.
char plan_sign(provision::PlanAction action);

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
