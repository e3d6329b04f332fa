#pragma once
/// A throw-away PostgreSQL 15 server for the tests and the storage benchmark:
/// initdb in a temporary directory, listening on a free 127.0.0.1 port, its
/// unix socket inside that directory, password authentication (SCRAM) with a
/// password generated per server. It never reads or touches a system cluster.
///
/// initdb and postgres refuse to run as root. When the tests run as root
/// (CI containers), both run as the unprivileged user `nobody` through
/// util-linux's setpriv (--reuid/--regid/--clear-groups), and the temporary
/// directory is handed to that user; otherwise they run as the caller.

#include <cstdint>
#include <filesystem>
#include <string>

#include <sys/types.h>

namespace rdns::lab {

class PgServer {
 public:
  /// Initialises the cluster and starts postgres; returns once it accepts
  /// connections, or throws std::runtime_error with the log's tail.
  PgServer();
  /// Stops the server (fast shutdown, then SIGKILL) and removes the directory.
  ~PgServer();

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  /// Creates a new, empty database and returns its URL,
  /// "postgresql://rdns:PASSWORD@127.0.0.1:PORT/NAME".
  std::string create_database();
  /// The URL of an existing database on this server.
  std::string url(const std::string& database) const;
  /// The generated password, so a test can check it is printed nowhere.
  const std::string& password() const { return password_; }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& work_dir() const { return work_dir_; }
  /// The postmaster's process id (its children are the sessions' backends).
  pid_t pid() const { return pid_; }

 private:
  std::string start_once();
  void stop() noexcept;

  std::filesystem::path work_dir_;
  std::string password_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  pid_t owner_pid_ = -1;
  int databases_created_ = 0;
};

/// The server of this test process: started on first use, stopped at exit.
PgServer& shared_pg_server();

}  // namespace rdns::lab
