// The documentation against the binary: every option --help lists is in
// docs/cli.md and the manual pages, the pages render cleanly, and the
// commands the guides and samples show run (against the loopback lab).

#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::ProcessResult;
using rdns::test::read_file;
using rdns::test::run_command;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

const std::filesystem::path kSource = rdns::test::source_dir();

/// What one `--help` page lists: long option names and subcommands.
struct HelpPage {
  std::vector<std::string> options;
  std::vector<std::string> subcommands;
};

HelpPage help_page(const std::vector<std::string>& command) {
  std::vector<std::string> args = command;
  args.push_back("--help");
  const ProcessResult result = run_rdnsctl(args);
  REQUIRE(result.exit_code == 0);
  HelpPage page;
  std::istringstream in(result.out);
  std::string line;
  std::string section;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ') {
      section = line;
      continue;
    }
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;
    if (section == "Options:" && first[0] == '-') {
      std::istringstream names(first);
      std::string name;
      while (std::getline(names, name, ',')) {
        if (name.rfind("--", 0) == 0) page.options.push_back(name);
      }
    } else if (section == "Subcommands:") {
      page.subcommands.push_back(first);
    }
  }
  return page;
}

/// Every command path with its long options, walking the subcommands.
std::map<std::string, std::vector<std::string>> all_options() {
  std::map<std::string, std::vector<std::string>> options;
  std::function<void(const std::vector<std::string>&)> walk =
      [&](const std::vector<std::string>& command) {
        const HelpPage page = help_page(command);
        std::string name = "rdnsctl";
        for (const auto& word : command) name += " " + word;
        options[name] = page.options;
        for (const auto& sub : page.subcommands) {
          auto next = command;
          next.push_back(sub);
          walk(next);
        }
      };
  walk({});
  return options;
}

bool mentions(const std::string& text, const std::string& option) {
  const std::regex word(std::regex_replace(option, std::regex(R"(\\)"), R"(\\)") +
                        "([^a-z0-9-]|$)");
  return std::regex_search(text, word);
}

/// roff writes a literal hyphen as \-.
std::string roff(const std::string& option) {
  return std::regex_replace(option, std::regex("-"), "\\-");
}

/// The `rdnsctl ...` lines of the fenced code blocks of a Markdown file.
std::vector<std::string> fenced_commands(const std::filesystem::path& file) {
  std::vector<std::string> commands;
  std::istringstream in(read_file(file));
  std::string line;
  bool fenced = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      fenced = !fenced;
    } else if (fenced && line.rfind("rdnsctl ", 0) == 0) {
      commands.push_back(line);
    }
  }
  return commands;
}

std::vector<std::string> words_of(std::string line) {
  // Comments and redirections are the shell's business, not rdnsctl's.
  const auto comment = line.find(" #");
  if (comment != std::string::npos) line.erase(comment);
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    if (word[0] == '>' || word[0] == '<') {
      if (word.size() == 1) in >> word;  // "> file"
      continue;
    }
    words.push_back(word);
  }
  return words;
}

/// The page `rdnsctl manual` writes for a command path: rdnsctl-audit(1)
/// for "rdnsctl audit ...", the overview for "rdnsctl".
std::string manual_page_for(const std::string& command) {
  std::istringstream words(command);
  std::string program;
  std::string top;
  words >> program >> top;
  std::vector<std::string> args{"manual"};
  if (!top.empty()) args.push_back(top);
  const ProcessResult result = run_rdnsctl(args);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

}  // namespace

TEST_CASE("docs/cli.md and the manual pages list every option --help shows") {
  const std::string reference = read_file(kSource / "docs/cli.md");
  REQUIRE(!reference.empty());
  std::map<std::string, std::string> pages;
  std::size_t checked = 0;
  for (const auto& [command, options] : all_options()) {
    std::istringstream words(command);
    std::string program;
    std::string top;
    words >> program >> top;
    if (pages.count(top) == 0) pages[top] = manual_page_for(command);
    for (const std::string& option : options) {
      if (option == "--help") continue;
      INFO(command << " " << option);
      CHECK(mentions(reference, option));
      if (!top.empty()) CHECK(pages[top].find(roff(option)) != std::string::npos);
      ++checked;
    }
  }
  CHECK(checked > 40);
  // The value names and ranges are help's own: one sample of each kind.
  CHECK_THAT(pages["audit"], Catch::Contains("\\fB\\-\\-timeout\\fR \\fISECONDS\\fR"));
  CHECK_THAT(pages["audit"], Catch::Contains("(1\\-10000; default 100)"));
  CHECK_THAT(pages["runs"], Catch::Contains("\\fB\\-\\-older\\-than\\fR \\fIDAYS\\fR"));
  CHECK_THAT(pages["audit"], Catch::Contains("rdnsctl audit \\-\\-domain example.com \\-\\-smtp"));
}

TEST_CASE("rdnsctl manual writes a page per command, each rendering without warnings") {
  TempDir dir;
  const ProcessResult written = run_rdnsctl({"manual", "--output-dir", dir.path().string()});
  INFO(written.err);
  REQUIRE(written.exit_code == 0);
  const std::vector<std::string> commands = help_page({}).subcommands;
  REQUIRE(commands.size() > 8);
  std::set<std::string> expected{"rdnsctl.1"};
  for (const std::string& command : commands) expected.insert("rdnsctl-" + command + ".1");
  std::set<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    found.insert(entry.path().filename().string());
    const ProcessResult groff = run_command({"groff", "-man", "-ww", "-z", entry.path().string()});
    INFO(entry.path().filename().string() << ": " << groff.err);
    CHECK(groff.exit_code == 0);
    CHECK(groff.err.empty());
  }
  CHECK(found == expected);
  // The overview names every command's page; a command's page is what
  // `rdnsctl manual COMMAND` prints.
  const std::string overview = read_file(dir.path() / "rdnsctl.1");
  for (const std::string& command : commands) {
    CHECK_THAT(overview, Catch::Contains(".BR rdnsctl\\-" + roff(command) + " (1)"));
  }
  CHECK(read_file(dir.path() / "rdnsctl-check.1") == run_rdnsctl({"manual", "check"}).out);
}

TEST_CASE("rdnsctl manual refuses a command that does not exist") {
  const ProcessResult result = run_rdnsctl({"manual", "audti"});
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("audti: no such command"));
  CHECK(result.out.empty());
}

TEST_CASE("the commands in the guides and samples run") {
  TempDir dir;
  const std::string resolver = rdns::lab::shared_lab().resolver_address();
  const auto ips = dir.path() / "mail-ips.txt";
  std::ofstream(ips) << "192.0.2.10\n192.0.2.12\n";
  // The sample configuration, with its inventory's list made local too.
  const auto config = dir.path() / "rdnsctl.toml";
  std::ofstream(config) << std::regex_replace(read_file(kSource / "samples/rdnsctl.toml"),
                                              std::regex("/etc/rdnsctl/mail-ips.txt"),
                                              ips.string());
  // The guides' system paths, made local to this test.
  const std::vector<std::pair<std::string, std::string>> paths = {
      {"/etc/rdnsctl/mail-ips.txt", ips.string()},
      {"/etc/rdnsctl/rdnsctl.toml", config.string()},
      {"/var/lib/rdnsctl/rdnsctl.db", (dir.path() / "state.db").string()},
      {"/var/lib/nagios/rdnsctl.db", (dir.path() / "nagios.db").string()},
      {"/var/lib/rdnsctl/rdnsctl.prom", (dir.path() / "rdnsctl.prom").string()},
      {"report.html", (dir.path() / "report.html").string()},
      {"$ARG1$", "0"},
      {"$ARG2$", "5%"}};
  std::vector<std::string> lines;
  // ExecStart, the cron entry and the Nagios command lines, from "rdnsctl"
  // on; first, as they fill the database the guides' `check --run` reads.
  for (const char* sample : {"samples/systemd/rdnsctl-audit.service", "samples/cron/rdnsctl",
                             "samples/nagios/rdnsctl.cfg"}) {
    std::istringstream in(read_file(kSource / sample));
    std::string line;
    while (std::getline(in, line)) {
      const auto at = line.find("rdnsctl audit");
      const auto check = line.find("rdnsctl check");
      const auto start = std::min(at, check);
      if (start != std::string::npos && line[0] != '#') lines.push_back(line.substr(start));
    }
  }
  for (const char* guide : {"docs/quickstart.md", "docs/operations.md"}) {
    for (auto& line : fenced_commands(kSource / guide)) lines.push_back(line);
  }
  REQUIRE(lines.size() >= 12);
  const std::vector<std::string> env = {"XDG_DATA_HOME=" + (dir.path() / "data").string()};
  for (const std::string& line : lines) {
    std::vector<std::string> args = words_of(line);
    args.erase(args.begin());  // "rdnsctl"
    for (auto& arg : args) {
      for (const auto& [from, to] : paths) {
        if (arg == from) arg = to;
      }
    }
    if (std::find(args.begin(), args.end(), "--smtp") != args.end()) {
      // SMTP would connect to the audited addresses themselves, which are
      // not on 127.0.0.1; test_cli_audit covers --smtp against a loopback server.
      continue;
    }
    const bool audits = (args[0] == "audit" || args[0] == "check") &&
                        std::find(args.begin(), args.end(), "--run") == args.end();
    if (audits) {
      for (const char* flag :
           {"--resolver", resolver.c_str(), "--timeout", "0.4", "--retries", "1"}) {
        args.push_back(flag);
      }
    }
    const ProcessResult result = run_rdnsctl(args, {}, env);
    INFO(line << "\n" << result.err << result.out);
    if (args[0] == "check") {
      CHECK(result.exit_code <= 2);  // a verdict, never UNKNOWN
      CHECK(result.out.rfind("RDNS ", 0) == 0);
    } else if (args[0] == "audit") {
      CHECK((result.exit_code == 0 || result.exit_code == 1));  // 192.0.2.12 has no PTR
    } else {
      CHECK(result.exit_code == 0);
    }
  }
}
