// `rdnsctl manual [COMMAND]`: the manual pages, written from the same
// command tree, descriptions and examples as --help, so the two cannot
// disagree. rdnsctl(1) is the overview; rdnsctl-COMMAND(1) covers one
// command and its subcommands.

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "choice_option.hpp"
#include "commands.hpp"
#include "help.hpp"

namespace rdns::cli {
namespace {

/// Text as roff reads it literally: backslashes and hyphens escaped, and a
/// line never starting with a control character.
std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (const char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  return out;
}

std::string command_path(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::App* at = &command; at != nullptr; at = at->get_parent()) {
    names.insert(names.begin(), at->get_name());
  }
  std::string path;
  for (const std::string& name : names) path += (path.empty() ? "" : " ") + name;
  return path;
}

std::vector<const CLI::App*> subcommands_of(const CLI::App& command) {
  return command.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<const CLI::Option*> positionals_of(const CLI::App& command) {
  std::vector<const CLI::Option*> positionals;
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_positional()) positionals.push_back(option);
  }
  return positionals;
}

std::vector<const CLI::Option*> flags_of(const CLI::App& command) {
  std::vector<const CLI::Option*> flags;
  for (const CLI::Option* option : command.get_options()) {
    if (!option->get_positional() && option->get_name() != "--help") flags.push_back(option);
  }
  return flags;
}

std::string argument_name(const CLI::Option& positional) {
  std::string name = value_name(positional);
  if (positional.get_expected_max() == CLI::detail::expected_max_vector_size) name += " ...";
  return positional.get_required() ? name : "[" + name + "]";
}

/// "rdnsctl runs show RUN [options]": one synopsis line.
std::string synopsis_line(const CLI::App& command) {
  std::string line = ".B " + roff(command_path(command)) + "\n";
  for (const CLI::Option* positional : positionals_of(command)) {
    line += ".I " + roff(argument_name(*positional)) + "\n";
  }
  if (!flags_of(command).empty()) line += ".RI [ options ]\n";
  return line;
}

/// A synopsis line for each command that runs something (a leaf).
void synopsis(const CLI::App& command, std::string& page) {
  const std::vector<const CLI::App*> subcommands = subcommands_of(command);
  if (subcommands.empty()) {
    page += synopsis_line(command) + ".br\n";
    return;
  }
  for (const CLI::App* subcommand : subcommands) synopsis(*subcommand, page);
}

std::string option_names(const CLI::Option& option) {
  std::string names;
  for (const std::string& name : option.get_snames()) {
    names += (names.empty() ? "" : ", ") + ("\\fB" + roff("-" + name) + "\\fR");
  }
  for (const std::string& name : option.get_lnames()) {
    names += (names.empty() ? "" : ", ") + ("\\fB" + roff("--" + name) + "\\fR");
  }
  if (takes_value(option)) names += " \\fI" + roff(value_name(option)) + "\\fR";
  if (option.get_expected_max() == CLI::detail::expected_max_vector_size) names += " ...";
  return names;
}

void option_entries(const CLI::App& command, std::string& page) {
  for (const CLI::Option* positional : positionals_of(command)) {
    page +=
        ".TP\n.I " + roff(value_name(*positional)) + "\n" + roff(option_help(*positional)) + "\n";
  }
  for (const CLI::Option* option : flags_of(command)) {
    page += ".TP\n" + option_names(*option) + "\n" + roff(option_help(*option)) + "\n";
  }
}

/// The "Examples:" block of help, without its heading, kept as typed.
void examples(const std::string& name, std::string& page) {
  const std::string text = examples_of(name);
  if (text.empty()) return;
  page += ".SH EXAMPLES\n.nf\n";
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // "Examples:"
  while (std::getline(lines, line)) {
    const std::size_t start = line.find_first_not_of(' ');
    page += roff(start == std::string::npos ? "" : line.substr(start)) + "\n";
  }
  page += ".fi\n";
}

/// A subcommand's section and, below it, its own subcommands'.
void subcommand_sections(const CLI::App& command, std::string& page) {
  for (const CLI::App* subcommand : subcommands_of(command)) {
    page += ".SS \"" + roff(command_path(*subcommand)) + "\"\n";
    page += roff(subcommand->get_description()) + "\n";
    option_entries(*subcommand, page);
    subcommand_sections(*subcommand, page);
  }
}

/// What a command's page says beyond its one-line description: the
/// behaviour that no single option describes.
struct CommandProse {
  const char* command;
  const char* text;
};

constexpr CommandProse kProse[] = {
    {"audit",
     "Resolves the PTR of every address, then the A/AAAA records of every PTR name, and "
     "classifies each address (the codes are listed in docs/jsonl.md): pass, warn, fail, or "
     "unknown when DNS could not tell. A SERVFAIL or a timeout is never read as a missing PTR: "
     "such addresses are retried in a later, gentler pass and are TEMPFAIL if DNS still cannot "
     "answer. The results are printed and stored as a run in the database; an interrupted run "
     "continues with --resume. The run stops early and is marked failed (exit 3) when no "
     "resolver gives a usable answer."},
    {"check",
     "A Nagios/Icinga plugin: audits like rdnsctl audit (or, with --run, judges a stored run), "
     "prints one status line with performance data and the first failing addresses with their "
     "codes, and exits 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN (also when no address was "
     "audited, or every one is unknown). A RANGE is N (alert above N), N: (below N), ~:N, N:M, "
     "or @N:M (inside); each number is a count or a percentage (N%) of the addresses audited."},
    {"runs",
     "Stored runs: list them with their state, inventory and counts, show one in any audit "
     "format, or prune old ones. prune keeps the newest N runs of each inventory or target set "
     "(--keep) and removes runs begun more than DAYS days ago (--older-than); with both, a run "
     "goes when neither keeps it. A running run is never removed. prune holds the database "
     "lock (exit 4 while an audit runs)."},
    {"report",
     "A compliance report of a stored run: a self-contained HTML page (failures first, a "
     "print layout and a narrow-screen layout) or CSV. report diff compares two runs, each "
     "address in one class; without run IDs it compares the newest complete run with the one "
     "before it of the same inventory or target set. report history lists runs over time, "
     "each compared with its predecessor."},
    {"history",
     "One address's stored results, newest run first, with the change against the previous "
     "result of the same inventory or ad-hoc targets: newly failing, recovered, PTR changed, "
     "changed, unchanged or first. An address never audited prints a note and exits 0."},
    {"ptr",
     "Creates, changes and deletes verified, single-value PTR records through the cloud API. "
     "Every write checks first that the address belongs to the account and that the name's "
     "A record holds the address (forward confirmation), then confirms in DNS afterwards; "
     "each operation is journaled in the database before it is sent, so an interrupted run "
     "can be reconciled. Commands that write hold the database lock (exit 4 while another "
     "holds it). See docs/provisioning.md."},
    {"fix",
     "Turns a stored audit run's failing IPv4 addresses into a desired-state CSV for rdnsctl "
     "ptr plan, proposing for each a name whose A record holds the address, and lists what "
     "cannot be fixed automatically and why."},
};

std::string prose_of(const std::string& command) {
  for (const CommandProse& prose : kProse) {
    if (command == prose.command) return prose.text;
  }
  return {};
}

std::string header(const std::string& title, const std::string& name, const std::string& summary) {
  return fmt::format(
      ".\\\" Generated by `rdnsctl manual` from the definitions --help shows.\n"
      ".TH {} 1 \"\" \"rdnsctl {}\" \"User Commands\"\n"
      ".SH NAME\n{} \\- {}\n",
      title, RDNSCTL_VERSION, roff(name), roff(summary));
}

/// A description as a NAME line's summary: lower-case start, no full stop.
std::string summary_of(std::string description) {
  if (!description.empty() && std::isupper(static_cast<unsigned char>(description[0])) &&
      (description.size() < 2 || !std::isupper(static_cast<unsigned char>(description[1])))) {
    description[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
  }
  if (!description.empty() && description.back() == '.') description.pop_back();
  return description;
}

std::string command_page(const CLI::App& command) {
  const std::string name = "rdnsctl-" + command.get_name();
  std::string page = header(ascii_upper(name), name, summary_of(command.get_description()));
  page += ".SH SYNOPSIS\n";
  synopsis(command, page);
  const std::string prose = prose_of(command.get_name());
  page += ".SH DESCRIPTION\n" + roff(prose.empty() ? command.get_description() : prose) + "\n";
  if (!flags_of(command).empty() || !positionals_of(command).empty()) {
    page += ".SH OPTIONS\n";
    option_entries(command, page);
  }
  if (!subcommands_of(command).empty()) {
    page += ".SH COMMANDS\n";
    subcommand_sections(command, page);
  }
  examples(command.get_name(), page);
  if (command.get_option_no_throw("--config") != nullptr) {
    page += ".SH ENVIRONMENT\n" + roff(environment_note()) + "\n";
  }
  page += ".SH SEE ALSO\n.BR rdnsctl (1)\n";
  return page;
}

/// The overview's fixed sections: what the command tree cannot say.
constexpr const char* kOverviewDescription =
    "Receivers such as Gmail, Microsoft and Yahoo reject or junk mail from an IP whose reverse "
    "DNS is missing, generic, or not forward-confirmed (the PTR name must resolve back to the "
    "same IP: FCrDNS). rdnsctl audit checks many IPs at once through a recursive resolver, "
    "classifies each, prints the results and stores them as a run in a SQLite database; "
    "runs, report, history and check read the stored runs; ptr and fix provision PTR "
    "records. A temporary DNS failure (TEMPFAIL) is never reported as a missing PTR.";

constexpr const char* kOverviewTail = R"(.SH DIAGNOSTICS
A mistake in the command line, the environment or the configuration file is
one line naming the flag, the value and what is accepted, such as
.BR "rdnsctl: \-\-format xml: expected table, json, jsonl or csv" .
.SH CONFIGURATION AND ENVIRONMENT
Options of
.B audit
and
.B check
also come from
.BI RDNSCTL_ NAME
environment variables (\fB\-\-fail\-on\fR is \fBRDNSCTL_FAIL_ON\fR) and from
the configuration file (top level,
.B [audit]
and
.B [check]
tables, and
.BI [inventory. NAME ]
tables for
.BR \-\-inventory ,
which win over the others and may also set
.B keep\-runs
and
.B keep\-days
for retention). A flag wins over the environment, which wins over the file.
.B NO_COLOR
turns colour off.
.SH EXIT STATUS
.TP
0
Done; no finding reached \-\-fail\-on.
.TP
1
Done; some finding did.
.TP
2
Usage, input, configuration or database error.
.TP
3
No resolver gave a usable answer (the run stops early and is marked failed), I/O failed, or the webhook did not take the notification.
.TP
4
Another run or ptr write holds the database's lock (\fIDB\fR.lock).
.TP
130, 143
Interrupted by SIGINT or SIGTERM; resume with \fB\-\-resume\fR.
.PP
.B rdnsctl check
exits as a Nagios plugin: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
.SH FILES
.TP
.I $XDG_CONFIG_HOME/rdnsctl/config.toml
Configuration (an example: /usr/share/doc/rdnsctl/examples/rdnsctl.toml).
.TP
.I $XDG_DATA_HOME/rdnsctl/rdnsctl.db
Run history, locked through \fIrdnsctl.db.lock\fR while a run writes it.
)";

std::string overview_page(const CLI::App& app) {
  std::string page = header("RDNSCTL", "rdnsctl",
                            summary_of("audit and fix the reverse DNS (PTR) "
                                       "of mail-server IPs"));
  page +=
      ".SH SYNOPSIS\n.B rdnsctl\n.I COMMAND\n.RI [ options ]\n.br\n"
      ".B rdnsctl\n.BR \\-\\-version \" | \" \\-\\-help\n";
  page += ".SH DESCRIPTION\n" + roff(kOverviewDescription) + "\n";
  page += ".SH COMMANDS\n";
  for (const CLI::App* command : subcommands_of(app)) {
    page += ".TP\n.BR rdnsctl\\-" + roff(command->get_name()) + " (1)\n" +
            roff(command->get_description()) + "\n";
  }
  page += kOverviewTail;
  page += ".SH SEE ALSO\n";
  for (const CLI::App* command : subcommands_of(app)) {
    page += ".BR rdnsctl\\-" + roff(command->get_name()) + " (1),\n";
  }
  page += ".BR systemd.timer (5),\n.BR cron (8)\n";
  return page;
}

std::string page_for(const CLI::App& app, const std::string& command) {
  if (command.empty()) return overview_page(app);
  return command_page(*app.get_subcommand(command));
}

void write_pages(const CLI::App& app, const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  std::vector<std::pair<std::string, std::string>> pages{{"rdnsctl.1", overview_page(app)}};
  for (const CLI::App* command : subcommands_of(app)) {
    pages.emplace_back("rdnsctl-" + command->get_name() + ".1", command_page(*command));
  }
  for (const auto& [file, page] : pages) {
    const std::filesystem::path path = directory / file;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << page;
    out.close();
    if (!out) {
      throw Error(Errc::io, fmt::format("manual: cannot write {}", escape_text(path.string())));
    }
  }
}

struct ManualOptions {
  std::string command;
  std::string directory;
};

}  // namespace

void add_manual_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ManualOptions>();
  CLI::App* manual = app.add_subcommand(
      "manual", "Print the manual page of rdnsctl or of one command (roff: pipe it to man -l -)");
  manual->add_option("command", options->command, "The command (default: the overview, rdnsctl(1))")
      ->check(CLI::Validator(
          [&app](const std::string& name) -> std::string {
            for (const CLI::App* command : subcommands_of(app)) {
              if (command->get_name() == name) return {};
            }
            return fmt::format("{}: no such command", escape_text(name));
          },
          ""))
      ->type_name("COMMAND");
  manual
      ->add_option("--output-dir", options->directory,
                   "Write every page (rdnsctl.1, rdnsctl-COMMAND.1) into this directory instead")
      ->type_name("DIR")
      ->excludes("command");
  manual->callback([options, &app, &context] {
    if (!options->directory.empty()) {
      write_pages(app, options->directory);
    } else {
      std::fputs(page_for(app, options->command).c_str(), stdout);
    }
    context.exit_code = kExitOk;
  });
}

}  // namespace rdns::cli
