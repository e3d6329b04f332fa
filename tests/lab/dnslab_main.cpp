// rdns-dnslab: runs a command (or just waits) next to a loopback DNS lab, so
// rdnsctl can be tried against the sample zones without touching real DNS.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lab/dns_lab.hpp>

namespace {

// The wrapper's own failures; a COMMAND's exit code is passed through as is.
constexpr int kExitUsage = 2;
constexpr int kExitLab = 3;

// The usage text names the rate limit.
static_assert(rdns::lab::kLabRateLimitQps == 500);
constexpr const char* kUsage =
    "usage: rdns-dnslab [--zones DIR] [--keep] [--allow-updates]\n"
    "                   [--stock-resolver | --rate-limited-resolver] -- COMMAND [ARGS...]\n"
    "       rdns-dnslab [--zones DIR] [--keep] [--allow-updates]\n"
    "                   [--stock-resolver | --rate-limited-resolver] --serve\n"
    "\n"
    "Starts knotd and unbound on free 127.0.0.1 ports, serving every DIR/*.zone\n"
    "(default: the source tree's samples/zones), then either runs COMMAND and\n"
    "exits with its exit code, or (--serve) prints the addresses and waits for\n"
    "SIGINT/SIGTERM. The servers are stopped in both cases.\n"
    "\n"
    "In ARGS these are replaced: {resolver} {resolver_host} {resolver_port}\n"
    "{authority} {authority_host} {authority_port}. COMMAND also gets them as\n"
    "RDNS_LAB_RESOLVER and RDNS_LAB_AUTHORITY (host:port) in its environment.\n"
    "--keep leaves the configs and logs in the work dir and prints its path.\n"
    "--allow-updates lets Knot take dynamic updates from 127.0.0.0/8 (the cloud\n"
    "emulator publishes PTRs so); the zone files themselves are never written.\n"
    "--stock-resolver runs unbound with its default limits and backoff instead of\n"
    "the lab's small, fast-failing settings (64 outgoing queries, capped backoff).\n"
    "--rate-limited-resolver runs the stock unbound answering one client at most\n"
    "500 queries a second and dropping the rest (ip-ratelimit).\n"
    "\n"
    "example: rdns-dnslab -- kdig @{resolver_host} -p {resolver_port} -x 192.0.2.10\n";

/// What the command line asked for.
struct Options {
  std::filesystem::path zones_dir = std::filesystem::path(RDNS_SOURCE_DIR) / "samples" / "zones";
  bool keep = false;
  bool serve = false;
  rdns::lab::Updates updates = rdns::lab::Updates::refused;
  rdns::lab::ResolverProfile profile = rdns::lab::ResolverProfile::small;
  std::vector<std::string> command;
};

std::optional<Options> parse(int argc, char** argv) {
  Options options;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "--zones" && i + 1 < argc) {
      options.zones_dir = argv[++i];
    } else if (arg.starts_with("--zones=")) {
      options.zones_dir = std::string(arg.substr(8));
    } else if (arg == "--keep") {
      options.keep = true;
    } else if (arg == "--allow-updates") {
      options.updates = rdns::lab::Updates::from_loopback;
    } else if (arg == "--stock-resolver") {
      options.profile = rdns::lab::ResolverProfile::stock;
    } else if (arg == "--rate-limited-resolver") {
      options.profile = rdns::lab::ResolverProfile::rate_limited;
    } else if (arg == "--serve") {
      options.serve = true;
    } else {
      return std::nullopt;
    }
  }
  for (; i < argc; ++i) options.command.emplace_back(argv[i]);
  // Exactly one of the two modes.
  if (options.serve == !options.command.empty()) return std::nullopt;
  return options;
}

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

std::string substitute(std::string arg, const rdns::lab::DnsLab& lab) {
  // No placeholder is a prefix of another (the closing brace differs), so order does not matter.
  replace_all(arg, "{resolver}", lab.resolver_address());
  replace_all(arg, "{resolver_host}", "127.0.0.1");
  replace_all(arg, "{resolver_port}", std::to_string(lab.resolver_port()));
  replace_all(arg, "{authority}", lab.authority_address());
  replace_all(arg, "{authority_host}", "127.0.0.1");
  replace_all(arg, "{authority_port}", std::to_string(lab.authority_port()));
  return arg;
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

int serve(const rdns::lab::DnsLab& lab) {
  std::cout << "RDNS_LAB_RESOLVER=" << lab.resolver_address() << "\n"
            << "RDNS_LAB_AUTHORITY=" << lab.authority_address() << "\n"
            << "RDNS_LAB_WORK_DIR=" << lab.work_dir().string() << std::endl;
  const sigset_t set = stop_signals();
  int received = 0;
  while (sigwait(&set, &received) != 0) {
  }
  std::cerr << "rdns-dnslab: " << strsignal(received) << ", stopping the lab\n";
  return 0;
}

int run(const rdns::lab::DnsLab& lab, const std::vector<std::string>& command) {
  std::vector<std::string> args;
  for (const auto& arg : command) args.push_back(substitute(arg, lab));
  std::vector<char*> raw;
  for (auto& arg : args) raw.push_back(arg.data());
  raw.push_back(nullptr);
  ::setenv("RDNS_LAB_RESOLVER", lab.resolver_address().c_str(), 1);
  ::setenv("RDNS_LAB_AUTHORITY", lab.authority_address().c_str(), 1);

  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("rdns-dnslab: fork");
    return kExitLab;
  }
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(raw[0], raw.data());
    std::fprintf(stderr, "rdns-dnslab: cannot run %s: %s\n", raw[0], std::strerror(errno));
    ::_exit(127);
  }

  // SIGCHLD joins the blocked stop signals so one sigtimedwait sees both the
  // command ending and a request to stop; a stop signal is passed on to the
  // command, and the lab is stopped once the command is gone.
  sigset_t set = stop_signals();
  sigaddset(&set, SIGCHLD);
  int forwarded = 0;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (done < 0 && errno != EINTR) {
      std::perror("rdns-dnslab: waitpid");
      return kExitLab;
    }
    const timespec timeout{1, 0};
    const int signal_number = sigtimedwait(&set, nullptr, &timeout);
    if (signal_number > 0 && signal_number != SIGCHLD) {
      // A second request means the command ignored the first one.
      ::kill(child, forwarded != 0 ? SIGKILL : signal_number);
      forwarded = signal_number;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse(argc, argv);
  if (!options) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  // Blocked before the lab starts, so a stop request during startup waits
  // until the lab exists and then still stops it cleanly (the servers unblock
  // them again in their own process).
  sigset_t set = stop_signals();
  sigaddset(&set, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  try {
    rdns::lab::DnsLab lab(options->zones_dir, options->updates, options->profile);
    lab.keep_work_dir(options->keep);
    if (options->keep) std::cerr << "rdns-dnslab: work dir " << lab.work_dir().string() << "\n";
    return options->serve ? serve(lab) : run(lab, options->command);
  } catch (const std::exception& error) {
    std::cerr << "rdns-dnslab: " << error.what() << "\n";
    return kExitLab;
  }
}
