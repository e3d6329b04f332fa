// `rdnsctl completion`: the script it prints, loaded into a real bash and
// asked what completes a half-typed command line.

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "run_rdnsctl.hpp"

using rdns::test::ProcessResult;
using rdns::test::run_command;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;
using rdns::test::write_file;

namespace {

/// The bash script rdnsctl prints, written to a file to source.
std::string bash_script(const TempDir& dir) {
  const ProcessResult script = run_rdnsctl({"completion", "bash"});
  REQUIRE(script.exit_code == 0);
  return write_file(dir.path() / "rdnsctl.bash", script.out).string();
}

/// What bash offers for `words`, the last being the one under the cursor,
/// as a sorted list.
std::vector<std::string> complete(const std::string& script,
                                  const std::vector<std::string>& words) {
  std::string array;
  // append(), not " " + std::string: at -O3 GCC 12 warns falsely (-Wrestrict)
  // inside the libstdc++ insert() that operator+ uses.
  for (const std::string& word : words) array.append(" ").append(rdns::test::shell_quote(word));
  const ProcessResult result =
      run_command({"bash", "--norc", "--noprofile", "-c",
                   "source \"$1\" && COMP_WORDS=(rdnsctl" + array +
                       ") && COMP_CWORD=" + std::to_string(words.size()) +
                       " && _rdnsctl && printf '%s\\n' \"${COMPREPLY[@]}\" | sort",
                   "bash", script});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  std::vector<std::string> offered;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) offered.push_back(line);
  }
  return offered;
}

using Words = std::vector<std::string>;

}  // namespace

TEST_CASE("bash completes commands, their options and the values of enumerated options") {
  TempDir dir;
  const std::string script = bash_script(dir);
  CHECK(complete(script, {"au"}) == Words{"audit"});
  CHECK(complete(script, {"r"}) == Words{"report", "runs"});
  CHECK(complete(script, {"audit", "--form"}) == Words{"--format"});
  CHECK(complete(script, {"audit", "--format", ""}) == Words{"csv", "json", "jsonl", "table"});
  CHECK(complete(script, {"audit", "--fail-on", "w"}) == Words{"warning"});
  // Nested commands, and the options of the one reached.
  CHECK(complete(script, {"runs", ""}) == Words{"--help", "list", "prune", "show"});
  CHECK(complete(script, {"runs", "list", "--format", "j"}) == Words{"json"});
  CHECK(complete(script, {"runs", "show", "1", "--format", "j"}) == Words{"json", "jsonl"});
  CHECK(complete(script, {"report", "diff", "--format", ""}) == Words{"json", "table"});
  CHECK(complete(script, {"completion", ""}) == Words{"--help", "bash", "fish", "zsh"});
  // An option value of a flag before the cursor does not end the command.
  CHECK(complete(script, {"audit", "--format", "json", "--no"}) ==
        Words{"--no-db", "--notify-retries", "--notify-webhook"});
}

TEST_CASE("bash completes file names after an option that takes a file") {
  TempDir dir;
  const std::string script = bash_script(dir);
  write_file(dir.path() / "relays.txt", "192.0.2.1\n");
  const std::string typed = (dir.path() / "rel").string();
  CHECK(complete(script, {"audit", "-i", typed}) == Words{(dir.path() / "relays.txt").string()});
}

TEST_CASE("the script follows the binary: every audit option is offered") {
  TempDir dir;
  const std::string script = bash_script(dir);
  const std::vector<std::string> offered = complete(script, {"audit", "--"});
  const std::string help = run_rdnsctl({"audit", "--help"}).out;
  for (const std::string& option : offered) {
    INFO(option);
    CHECK_THAT(help, Catch::Contains(option));
  }
  CHECK(offered.size() > 20);
}

TEST_CASE("zsh and fish scripts come from the same tree") {
  const ProcessResult zsh = run_rdnsctl({"completion", "zsh"});
  CHECK(zsh.exit_code == 0);
  CHECK_THAT(zsh.out, Catch::StartsWith("#compdef rdnsctl\n") && Catch::Contains("bashcompinit") &&
                          Catch::Contains("complete -F _rdnsctl rdnsctl"));
  // scripts/install-deps.sh installs both shells: the scripts run in them.
  TempDir dir;
  const auto zsh_file = write_file(dir.path() / "_rdnsctl", zsh.out);
  CHECK(run_command({"zsh", "-n", zsh_file.string()}).exit_code == 0);
  const ProcessResult loaded =
      run_command({"zsh", "-c",
                   "autoload -U compinit && compinit -u && source " + zsh_file.string() +
                       " && print -r -- ${_comps[rdnsctl]}"});
  INFO(loaded.err);
  CHECK(loaded.out == "_bash_complete -F _rdnsctl\n");

  const ProcessResult fish = run_rdnsctl({"completion", "fish"});
  CHECK(fish.exit_code == 0);
  CHECK_THAT(fish.out, Catch::Contains("complete -c rdnsctl -n '__fish_seen_subcommand_from audit' "
                                       "-l format -x -a 'table json jsonl csv'"));
  const auto fish_file = write_file(dir.path() / "rdnsctl.fish", fish.out);
  const auto offered = [&](const std::string& line) {
    return run_command({"fish", "--no-config", "-c",
                        "source " + fish_file.string() + "; complete -C '" + line + "'"})
        .out;
  };
  CHECK(offered("rdnsctl audit --format ") == "csv\njson\njsonl\ntable\n");
  CHECK(offered("rdnsctl au") == "audit\n");
  CHECK(offered("rdnsctl runs ") == "list\nprune\nshow\n");
}

TEST_CASE("an unknown shell is refused with the choices") {
  const ProcessResult result = run_rdnsctl({"completion", "tcsh"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "rdnsctl: shell tcsh: expected bash, zsh or fish\n");
}
