#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lab/dns_lab.hpp>
#include <lab/pdns_server.hpp>

#include "lab_process.hpp"

namespace rdns::lab {
namespace {

using namespace detail;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kReadyDeadline = 10s;
constexpr int kStartAttempts = 3;
constexpr const char* kLoopback = "127.0.0.1";

/// Where Debian's pdns-backend-sqlite3 puts the schema (the doc copy may be
/// dropped by a minimal install's path excludes); RDNS_PDNS_SCHEMA overrides.
std::filesystem::path schema_path() {
  if (const char* value = std::getenv("RDNS_PDNS_SCHEMA"); value != nullptr && *value != '\0') {
    return value;
  }
  for (const char* candidate : {"/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
                                "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  throw std::runtime_error(
      "PowerDNS SQLite schema not found (install pdns-backend-sqlite3: scripts/install-deps.sh)");
}

// Every setting on the command line's behalf, in the server's own config
// dir: the system's /etc/powerdns is never read. No security polling (a DNS
// query to the internet) and no caches, so an API change shows in DNS at once.
std::string pdns_config(const std::filesystem::path& work, const std::string& api_key,
                        std::uint16_t dns_port, std::uint16_t api_port) {
  return "# Written by rdns_lab for one test run; see tests/lab/src/pdns_server.cpp.\n"
         "launch=gsqlite3\n"
         "gsqlite3-database=" +
         (work / "pdns.sqlite3").string() +
         "\n"
         "local-address=" +
         kLoopback + "\nlocal-port=" + std::to_string(dns_port) +
         "\n"
         "api=yes\n"
         "api-key=" +
         api_key +
         "\n"
         "webserver=yes\n"
         "webserver-address=" +
         kLoopback + "\nwebserver-port=" + std::to_string(api_port) +
         "\n"
         "webserver-allow-from=127.0.0.0/8\n"
         "socket-dir=" +
         work.string() +
         "\n"
         "guardian=no\n"
         "daemon=no\n"
         "disable-syslog=yes\n"
         "write-pid=no\n"
         "security-poll-suffix=\n"
         // Negative answers cached for a second, so a deleted PTR is gone at once.
         "default-soa-content=ns1.pdns.lab.invalid. hostmaster.@ 0 10800 3600 604800 1\n"
         "cache-ttl=0\n"
         "query-cache-ttl=0\n"
         "negquery-cache-ttl=0\n"
         "receiver-threads=1\n"
         "distributor-threads=1\n";
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

}  // namespace

PdnsServer::PdnsServer(const std::vector<std::string>& zones, std::string api_key)
    : api_key_(std::move(api_key)), owner_pid_(::getpid()) {
  work_dir_ = make_work_dir("rdns-pdns");
  try {
    start_with_retries(
        kStartAttempts, [&] { return start_once(zones); }, [this] { stop(); });
  } catch (...) {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(work_dir_, ignored);
    throw;
  }
}

PdnsServer::~PdnsServer() {
  // A forked child exiting through exit() must not stop the parent's server.
  if (::getpid() != owner_pid_) return;
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(work_dir_, ignored);
}

std::string PdnsServer::api_url() const {
  return std::string("http://") + kLoopback + ":" + std::to_string(api_port_);
}

std::string PdnsServer::dns_address() const {
  return std::string(kLoopback) + ":" + std::to_string(dns_port_);
}

std::string PdnsServer::start_once(const std::vector<std::string>& zones) {
  dns_port_ = free_port(0);
  api_port_ = free_port(dns_port_);
  const auto database = work_dir_ / "pdns.sqlite3";
  std::filesystem::remove(database);
  write_file(work_dir_ / "pdns.conf", pdns_config(work_dir_, api_key_, dns_port_, api_port_));
  const auto setup_log = work_dir_ / "setup.log";
  if (run_to_end({find_program("sqlite3", "RDNS_SQLITE3"), database.string(),
                  ".read " + schema_path().string()},
                 setup_log) != 0) {
    throw std::runtime_error("PowerDNS lab: the schema did not load\n" + log_tail(setup_log));
  }
  const std::string pdnsutil = find_program("pdnsutil", "RDNS_PDNSUTIL");
  const std::string config_dir = "--config-dir=" + work_dir_.string();
  for (const auto& zone : zones) {
    // SOA-EDIT-API as a zone created through the API has it: each change
    // raises the serial and the answer names it (X-PDNS-New-Serial).
    for (const std::vector<std::string>& step :
         {std::vector<std::string>{"create-zone", zone, "ns1.pdns.lab.invalid."},
          std::vector<std::string>{"set-meta", zone, "SOA-EDIT-API", "DEFAULT"}}) {
      std::vector<std::string> argv{pdnsutil, config_dir};
      argv.insert(argv.end(), step.begin(), step.end());
      if (run_to_end(argv, setup_log) != 0) {
        throw std::runtime_error("PowerDNS lab: pdnsutil " + step.front() + " " + zone +
                                 " failed\n" + log_tail(setup_log));
      }
    }
  }
  const auto log = work_dir_ / "pdns.log";
  pid_ = spawn(
      {find_program("pdns_server", "RDNS_PDNS_SERVER"), "--config-dir=" + work_dir_.string()}, log);
  const std::string probe_zone = zones.empty() ? "." : zones.front();
  const auto deadline = Clock::now() + kReadyDeadline;
  while (Clock::now() < deadline) {
    // Exiting this early almost always means another process took a port.
    if (exited(pid_)) {
      pid_ = -1;
      return "PowerDNS lab: pdns_server exited during startup\n" + log_tail(log);
    }
    const auto rcode = probe(dns_port_, probe_zone.c_str(), LDNS_RR_TYPE_SOA);
    if (rcode.has_value() && accepts_connections(api_port_)) return {};
    std::this_thread::sleep_for(50ms);
  }
  return "PowerDNS lab: pdns_server not ready after " + std::to_string(kReadyDeadline.count()) +
         " s\n" + log_tail(log);
}

void PdnsServer::stop() noexcept {
  stop_processes({pid_});
  pid_ = -1;
}

std::vector<std::string> PdnsServer::ptr(const std::string& name) const {
  return ptr_targets(dns_port_, name);
}

}  // namespace rdns::lab
