#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lab/pg_server.hpp>

#include "lab_process.hpp"

namespace rdns::lab {
namespace {

using namespace detail;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kReadyDeadline = 30s;
constexpr auto kStopDeadline = 10s;
constexpr int kStartAttempts = 3;
constexpr const char* kUser = "rdns";
/// The user initdb and postgres run as when the tests run as root.
constexpr uid_t kUnprivilegedId = 65534;  // nobody / nogroup on Debian

/// Where Debian's postgresql-15 puts initdb and postgres (not on PATH);
/// RDNS_PG_BINDIR overrides.
std::filesystem::path bin_dir() {
  if (const char* value = std::getenv("RDNS_PG_BINDIR"); value != nullptr && *value != '\0') {
    return value;
  }
  const std::filesystem::path debian = "/usr/lib/postgresql/15/bin";
  if (std::filesystem::exists(debian / "postgres")) return debian;
  throw std::runtime_error(
      "PostgreSQL 15 server binaries not found in /usr/lib/postgresql/15/bin (install "
      "postgresql-15: scripts/install-deps.sh, or set RDNS_PG_BINDIR)");
}

bool running_as_root() {
  return ::geteuid() == 0;
}

/// argv run as the unprivileged user when we are root, as is otherwise.
/// Changing user clears the parent-death signal spawn() sets, so setpriv
/// sets it again: a test process killed outright still stops its server
/// (SIGINT: PostgreSQL's fast shutdown).
std::vector<std::string> unprivileged(std::vector<std::string> argv) {
  if (!running_as_root()) return argv;
  const std::string id = std::to_string(kUnprivilegedId);
  std::vector<std::string> wrapped{find_program("setpriv", "RDNS_SETPRIV"),
                                   "--reuid=" + id,
                                   "--regid=" + id,
                                   "--clear-groups",
                                   "--pdeathsig=INT",
                                   "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

/// Hands a path we created to the unprivileged user.
void give_away(const std::filesystem::path& path) {
  if (!running_as_root()) return;
  if (::chown(path.c_str(), kUnprivilegedId, kUnprivilegedId) != 0) {
    throw std::runtime_error(system_error_text("chown " + path.string()));
  }
}

std::string generated_password() {
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device random;
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string password = "pw";
  for (int i = 0; i < 24; ++i) password += kAlphabet[pick(random)];
  return password;
}

bool accepts_connections(const std::string& conninfo) {
  return PQping(conninfo.c_str()) == PQPING_OK;
}

/// Runs one statement as the server's superuser; throws with the message.
void run_statement(const std::string& url, const std::string& sql) {
  PGconn* connection = PQconnectdb(url.c_str());
  std::string failure;
  if (PQstatus(connection) != CONNECTION_OK) {
    failure = PQerrorMessage(connection);
  } else {
    PGresult* result = PQexec(connection, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) failure = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(connection);
  if (!failure.empty()) throw std::runtime_error("PostgreSQL lab: " + sql + ": " + failure);
}

}  // namespace

PgServer::PgServer() : password_(generated_password()), owner_pid_(::getpid()) {
  work_dir_ = make_work_dir("rdns-pg");
  try {
    give_away(work_dir_);
    const auto password_file = work_dir_ / "password";
    write_file(password_file, password_ + "\n");
    give_away(password_file);
    const auto setup_log = work_dir_ / "initdb.log";
    if (run_to_end(
            unprivileged({(bin_dir() / "initdb").string(),
                          "--pgdata=" + (work_dir_ / "data").string(),
                          std::string("--username=") + kUser, "--pwfile=" + password_file.string(),
                          "--auth=scram-sha-256", "--no-locale", "--encoding=UTF8", "--no-sync"}),
            setup_log) != 0) {
      throw std::runtime_error("PostgreSQL lab: initdb failed\n" + log_tail(setup_log));
    }
    start_with_retries(
        kStartAttempts, [this] { return start_once(); }, [this] { stop(); });
  } catch (...) {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(work_dir_, ignored);
    throw;
  }
}

PgServer::~PgServer() {
  // A forked child exiting through exit() must not stop the parent's server.
  if (::getpid() != owner_pid_) return;
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(work_dir_, ignored);
}

std::string PgServer::url(const std::string& database) const {
  return "postgresql://" + std::string(kUser) + ":" + password_ +
         "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PgServer::create_database() {
  const std::string name = "rdns_test_" + std::to_string(++databases_created_);
  run_statement(url("postgres"), "CREATE DATABASE " + name);
  return url(name);
}

std::string PgServer::start_once() {
  port_ = free_port(0);
  const auto log = work_dir_ / "postgres.log";
  // Only loopback TCP and a socket in the work dir: a system cluster's
  // /var/run/postgresql and port 5432 are never used.
  pid_ = spawn(unprivileged({(bin_dir() / "postgres").string(), "-D", (work_dir_ / "data").string(),
                             "-p", std::to_string(port_), "-c", "listen_addresses=127.0.0.1", "-c",
                             "unix_socket_directories=" + work_dir_.string(), "-c",
                             "max_connections=40", "-c", "logging_collector=off"}),
               log);
  const std::string probe = "host=127.0.0.1 port=" + std::to_string(port_) +
                            " dbname=postgres user=" + kUser + " connect_timeout=2";
  const auto deadline = Clock::now() + kReadyDeadline;
  while (Clock::now() < deadline) {
    // Exiting this early almost always means another process took the port.
    if (exited(pid_)) {
      pid_ = -1;
      return "PostgreSQL lab: postgres exited during startup\n" + log_tail(log);
    }
    if (accepts_connections(probe)) return {};
    std::this_thread::sleep_for(50ms);
  }
  return "PostgreSQL lab: postgres not ready after " + std::to_string(kReadyDeadline.count()) +
         " s\n" + log_tail(log);
}

// SIGINT is PostgreSQL's fast shutdown: it ends open sessions instead of
// waiting for them (SIGTERM would wait on a connection a test still holds).
void PgServer::stop() noexcept {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);
  const auto deadline = Clock::now() + kStopDeadline;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

PgServer& shared_pg_server() {
  // Function-local: started on first use, destroyed (server stopped) at exit.
  static PgServer server;
  return server;
}

}  // namespace rdns::lab
