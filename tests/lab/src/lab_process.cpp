// Starting and stopping the lab's servers: free loopback ports, spawning a
// server that dies with the test process, stopping it, probing it over DNS.
// Shared by DnsLab (knotd + unbound) and PdnsServer (pdns_server).

#include "lab_process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rdns::lab::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kStopGrace = 2s;
constexpr const char* kLoopback = "127.0.0.1";

}  // namespace

std::string system_error_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

namespace {

/// A file descriptor that closes itself.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Binds a socket of the given type to 127.0.0.1:port; returns the bound port or 0.
std::uint16_t bind_loopback(int socket_fd, std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(socket_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return 0;
  }
  socklen_t length = sizeof address;
  if (::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  return ntohs(address.sin_port);
}

}  // namespace

// A port that is free for both UDP and TCP on 127.0.0.1 right now. Another
// process may take it before the server binds; the server then exits, and the
// constructor retries with new ports.
std::uint16_t free_port(std::uint16_t avoid) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    Fd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    Fd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (udp.get() < 0 || tcp.get() < 0) throw std::runtime_error(system_error_text("socket"));
    const std::uint16_t port = bind_loopback(udp.get(), 0);
    if (port != 0 && port != avoid && bind_loopback(tcp.get(), port) == port) return port;
  }
  throw std::runtime_error("no free UDP+TCP port on 127.0.0.1");
}

int loopback_udp_socket(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(system_error_text("socket"));
  port = bind_loopback(fd, 0);
  if (port == 0) {
    const std::string error = system_error_text("binding a UDP socket to 127.0.0.1");
    ::close(fd);
    throw std::runtime_error(error);
  }
  return fd;
}

// Finds a server binary; sbin directories are searched too because they are
// often missing from a non-root PATH. RDNS_KNOTD / RDNS_UNBOUND override.
std::string find_program(const char* name, const char* override_variable) {
  if (const char* value = std::getenv(override_variable); value != nullptr && *value != '\0') {
    return value;
  }
  std::vector<std::string> directories;
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream stream(path);
    for (std::string entry; std::getline(stream, entry, ':');) {
      if (!entry.empty()) directories.push_back(entry);
    }
  }
  for (const char* extra : {"/usr/sbin", "/usr/local/sbin", "/sbin"})
    directories.emplace_back(extra);
  for (const auto& directory : directories) {
    const std::string candidate = directory + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error(std::string(name) + " not found (install it: scripts/install-deps.sh)");
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string log_tail(const std::filesystem::path& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string tail = "--- last lines of " + path.string() + " ---\n";
  for (const auto& line : lines) tail += line + "\n";
  return tail;
}

// Starts argv[0] in the foreground with stdout/stderr appended to log. No
// shell in between, so the PID we record is the server's own.
std::filesystem::path make_work_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error(system_error_text("mkdtemp"));
  return pattern;
}

void start_with_retries(int attempts, const std::function<std::string()>& start_once,
                        const std::function<void()>& stop) {
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    const std::string failure = start_once();
    if (failure.empty()) return;
    stop();
    if (attempt == attempts) throw std::runtime_error(failure);
  }
}

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  // Everything the child needs is prepared before fork: after it only
  // async-signal-safe calls are allowed.
  std::vector<char*> raw;
  for (const auto& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  Fd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (log_fd.get() < 0 || null_fd.get() < 0) {
    throw std::runtime_error(system_error_text("cannot open " + log.string()));
  }
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(system_error_text("fork"));
  if (pid == 0) {
    // Die with the test process, even when it crashes before ~DnsLab runs.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    // A blocked or ignored signal survives exec; the servers must see SIGTERM.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) {
      ::signal(signal_number, SIG_DFL);
    }
    ::dup2(null_fd.get(), STDIN_FILENO);
    ::dup2(log_fd.get(), STDOUT_FILENO);
    ::dup2(log_fd.get(), STDERR_FILENO);
    ::execv(raw[0], raw.data());
    constexpr char kMessage[] = "rdns_lab: exec failed\n";
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    ::_exit(127);
  }
  return pid;
}

int run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  const pid_t pid = spawn(argv, log);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool exited(pid_t pid) {
  int status = 0;
  const pid_t result = ::waitpid(pid, &status, WNOHANG);
  return result == pid || (result < 0 && errno == ECHILD);
}

// SIGTERM, a grace period for a clean shutdown, then SIGKILL for stragglers.
void stop_processes(std::vector<pid_t> pids) noexcept {
  std::erase_if(pids, [](pid_t pid) { return pid <= 0; });
  for (pid_t pid : pids) ::kill(pid, SIGTERM);
  const auto deadline = Clock::now() + kStopGrace;
  while (!pids.empty() && Clock::now() < deadline) {
    std::erase_if(pids, exited);
    if (!pids.empty()) std::this_thread::sleep_for(10ms);
  }
  for (pid_t pid : pids) {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

namespace {

/// Frees an ldns packet.
struct PacketDeleter {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
/// Frees an ldns rdf and its data.
struct RdfDeleter {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};

}  // namespace

// One UDP query to 127.0.0.1:port; the rcode, or nothing when no answer came.
// The resolver object is built by hand so /etc/resolv.conf is never read.
std::optional<ldns_pkt_rcode> probe(std::uint16_t port, const char* name, ldns_rr_type type) {
  std::unique_ptr<ldns_resolver, ResolverDeleter> resolver(ldns_resolver_new());
  std::unique_ptr<ldns_rdf, RdfDeleter> server(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, kLoopback));
  std::unique_ptr<ldns_rdf, RdfDeleter> qname(ldns_dname_new_frm_str(name));
  if (!resolver || !server || !qname) return std::nullopt;
  if (ldns_resolver_push_nameserver(resolver.get(), server.get()) != LDNS_STATUS_OK) {
    return std::nullopt;
  }
  ldns_resolver_set_port(resolver.get(), port);
  ldns_resolver_set_retry(resolver.get(), 1);
  ldns_resolver_set_timeout(resolver.get(), timeval{0, 200'000});
  ldns_resolver_set_fallback(resolver.get(), false);  // UDP only: readiness is about UDP
  ldns_pkt* raw = nullptr;
  if (ldns_resolver_send(&raw, resolver.get(), qname.get(), type, LDNS_RR_CLASS_IN, LDNS_RD) !=
      LDNS_STATUS_OK) {
    ldns_pkt_free(raw);
    return std::nullopt;
  }
  std::unique_ptr<ldns_pkt, PacketDeleter> packet(raw);
  if (!packet) return std::nullopt;
  return ldns_pkt_get_rcode(packet.get());
}

}  // namespace rdns::lab::detail
