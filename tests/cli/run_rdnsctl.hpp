#pragma once
// Runs the real rdnsctl binary the way a user's shell would.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "scratch_dir.hpp"
#include "test_paths.hpp"

namespace rdns::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

/// Writes `text` to `path`, creating its directory; returns `path`.
inline std::filesystem::path write_file(const std::filesystem::path& path,
                                        const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

using TempDir = rdns::test::ScratchDir;

/// Runs rdnsctl with `args`; `env` entries are "NAME=value" prefixes and
/// `stdin_text` is fed to standard input. HOME and XDG dirs point into a
/// scratch directory so a test never touches the user's files.
inline ProcessResult run_rdnsctl(const std::vector<std::string>& args,
                                 const std::string& stdin_text = {},
                                 const std::vector<std::string>& env = {}) {
  TempDir scratch;
  const auto in = scratch.path() / "stdin";
  const auto out = scratch.path() / "stdout";
  const auto err = scratch.path() / "stderr";
  std::ofstream(in, std::ios::binary) << stdin_text;
  std::string command = "env -u NO_COLOR HOME=" + shell_quote(scratch.path().string()) +
                        " XDG_DATA_HOME=" + shell_quote((scratch.path() / "data").string());
  for (const auto& entry : env) command.append(" ").append(shell_quote(entry));
  command.append(" ").append(shell_quote(rdns::test::rdnsctl_binary()));
  for (const auto& arg : args) command.append(" ").append(shell_quote(arg));
  command.append(" <").append(shell_quote(in.string()));
  command.append(" >").append(shell_quote(out.string()));
  command.append(" 2>").append(shell_quote(err.string()));
  const int status = std::system(command.c_str());
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

/// Starts rdnsctl in the background with stdout and stderr to files;
/// returns its PID. The caller signals it and reaps it with wait_exit().
inline pid_t spawn_rdnsctl(const std::vector<std::string>& args, const std::filesystem::path& out,
                           const std::filesystem::path& err) {
  std::fflush(nullptr);  // or the child's freopen writes our buffered output again
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(out.c_str(), "w", stdout);
    std::freopen(err.c_str(), "w", stderr);
    std::freopen("/dev/null", "r", stdin);
    std::vector<char*> argv;
    std::string binary = rdns::test::rdnsctl_binary();
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (auto& arg : copies) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

/// Waits until `path` holds at least `lines` complete lines (a spawned
/// run's progress) or `limit` passes; whether it got there. Tests that
/// interrupt a run wait for this instead of a fixed delay, which a slow
/// (sanitised, loaded) machine can outlast before the run has stored anything.
inline bool wait_for_lines(const std::filesystem::path& path, std::size_t lines,
                           std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_file(path);
    if (static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

/// Waits for a spawned process; its exit code, or 128 + the signal.
inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Runs any program (argv[0] looked up in PATH) with output captured, for
/// the tools the tests drive besides rdnsctl (node for the browser tests).
inline ProcessResult run_command(const std::vector<std::string>& argv) {
  TempDir scratch;
  const auto out = scratch.path() / "stdout";
  const auto err = scratch.path() / "stderr";
  std::string command;
  for (const auto& arg : argv) {
    if (!command.empty()) command.append(" ");
    command.append(shell_quote(arg));
  }
  command.append(" </dev/null >").append(shell_quote(out.string()));
  command.append(" 2>").append(shell_quote(err.string()));
  const int status = std::system(command.c_str());
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

}  // namespace rdns::test
