// The composition root: global library initialisation, the command table,
// and the mapping from errors to exit codes.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <ares.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <provision/engine.hpp>
#include <run/run.hpp>
#include <util/error.hpp>
#include <util/paths.hpp>

#include "commands.hpp"
#include "config.hpp"
#include "help.hpp"
#include "messages.hpp"
#include "version.hpp"

namespace {

using rdns::cli::Context;

struct CommandEntry {
  void (*add)(CLI::App&, Context&);
};

constexpr CommandEntry kCommands[] = {
    {&rdns::cli::add_audit_command},
    {&rdns::cli::add_runs_command},
    {&rdns::cli::add_cloud_command},
    {&rdns::cli::add_report_command},
    {&rdns::cli::add_history_command},
    // The Nagios/Icinga plugin.
    {&rdns::cli::add_check_command},
    // Provisioning: docs/provisioning.md.
    {&rdns::cli::add_ptr_command},
    {&rdns::cli::add_fix_command},
    {&rdns::cli::add_completion_command},
    {&rdns::cli::add_manual_command},
};

/// Messages already escape the data they quote; this only keeps a stray
/// control byte (from a library's message) off the terminal.
std::string printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

int exit_code_for(rdns::Errc code) {
  switch (code) {
    case rdns::Errc::usage:
    case rdns::Errc::input:
    case rdns::Errc::database:
    case rdns::Errc::credentials:
      return rdns::cli::kExitUsage;
    case rdns::Errc::resolver:
    case rdns::Errc::io:
    case rdns::Errc::internal:
    case rdns::Errc::cloud:
      return rdns::cli::kExitOperational;
  }
  return rdns::cli::kExitOperational;
}

bool stdin_was_closed = false;

/// A closed standard input would be handed to the next file opened (the
/// database's lock) and read as the targets: hold it open on /dev/null, and
/// remember that `-` has nothing to read.
void guard_standard_input() {
  if (fcntl(0, F_GETFD) != -1 || errno != EBADF) return;
  stdin_was_closed = true;
  // open() returns the lowest free descriptor: 0.
  const int opened = open("/dev/null", O_RDONLY);
  if (opened > 0) close(opened);
}

/// A closed stdout or stderr would be handed to the next file opened (the
/// lock, a report), which output would then overwrite. /dev/null opened
/// read-only holds the number and makes every write fail.
void reserve_closed_outputs() {
  for (const int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      const int held = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (held >= 0 && held != fd) close(held);
    }
  }
}

/// Output still buffered at exit must arrive too: a full disk or a closed
/// pipe is an error (exit 3), not success.
int check_stdout(int code) {
  errno = 0;
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  // A failing command has said why already.
  if (!failed || (code != rdns::cli::kExitOk && code != rdns::cli::kExitFindings)) return code;
  const int error = errno != 0 ? errno : EIO;
  std::fprintf(stderr, "rdnsctl: output: standard output: %s\n", std::strerror(error));
  return rdns::cli::kExitOperational;
}

/// One plain line on stderr (for `check`, the plugin's UNKNOWN line on
/// stdout); returns the exit code.
int report_parse_error(const CLI::App& app, const Context& context, const CLI::ParseError& error) {
  std::string message = rdns::cli::command_message(error, app);
  if (message.empty()) {
    message = rdns::cli::plain_message(error, app);
    const std::string variable = rdns::cli::environment_source(app, context.arguments, message);
    if (!variable.empty()) message += " (value from the environment variable " + variable + ")";
  }
  std::fprintf(stderr, "rdnsctl: %s\n", printable(message).c_str());
  // A Nagios plugin reports its own misuse as UNKNOWN, not CRITICAL (2).
  if (!context.arguments.empty() && context.arguments[0] == "check") {
    std::printf("RDNS UNKNOWN - %s\n", printable(message).c_str());
    return rdns::cli::kExitPluginUnknown;
  }
  return rdns::cli::kExitUsage;
}

}  // namespace

namespace rdns::cli {

bool standard_input_closed() {
  return stdin_was_closed;
}

std::filesystem::path database_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  // runs and report take no --config, yet must find the database the
  // scheduled audits write (audit and check resolve --db themselves).
  const std::string configured = configured_database();
  if (!configured.empty()) return configured;
  return xdg_data_home() / "rdnsctl" / "rdnsctl.db";
}

void add_database_option(CLI::App& command, std::string& path) {
  command
      .add_option("--db", path,
                  "Database of runs: a SQLite file (default: $XDG_DATA_HOME/rdnsctl/rdnsctl.db) "
                  "or a postgresql:// URL")
      ->type_name("PATH|URL");
}

}  // namespace rdns::cli

int main(int argc, char** argv) {
  guard_standard_input();
  reserve_closed_outputs();
  // A reader that goes away (`| head`) is reported as EPIPE, then handled.
  std::signal(SIGPIPE, SIG_IGN);
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
    std::fputs("rdnsctl: cannot initialise c-ares\n", stderr);
    return rdns::cli::kExitOperational;
  }
  // Named, so usage lines say "rdnsctl", not the path it was started by.
  CLI::App app{"rdnsctl: audit and fix the reverse DNS (PTR) of mail-server IPs", "rdnsctl"};
  app.set_version_flag("--version", rdns::cli::version_text());
  app.require_subcommand(1);
  app.fallthrough(false);
  rdns::cli::use_plain_help(app);

  Context context;
  for (int i = 1; i < argc; ++i) context.arguments.emplace_back(argv[i]);
  for (const CommandEntry& entry : kCommands) entry.add(app, context);
  rdns::cli::add_examples(app);

  int code = 0;
  try {
    app.parse(argc, argv);
    code = context.exit_code;
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) {
      code = app.exit(error);  // --help, --version
    } else {
      code = report_parse_error(app, context, error);
    }
  } catch (const rdns::run::RunLocked& locked) {
    // Another command holds the database (audit, runs prune, a ptr write).
    std::fprintf(stderr, "rdnsctl: %s\n", printable(locked.what()).c_str());
    code = rdns::cli::kExitLocked;
  } catch (const rdns::provision::Refused& refused) {
    // A write refused by the pre-write checks, whose failures were printed.
    std::fprintf(stderr, "rdnsctl: %s\n", printable(refused.what()).c_str());
    code = rdns::cli::kExitFindings;
  } catch (const rdns::Error& error) {
    std::fprintf(stderr, "rdnsctl: %s\n", printable(error.what()).c_str());
    code = exit_code_for(error.code());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "rdnsctl: %s\n", printable(error.what()).c_str());
    code = rdns::cli::kExitOperational;
  }
  ares_library_cleanup();
  return check_stdout(code);
}
