#pragma once
// Process and port helpers of the lab's servers (lab_process.cpp).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <lab/ldns.hpp>

namespace rdns::lab::detail {

/// "what: strerror(errno)".
std::string system_error_text(const std::string& what);

/// A port free for both UDP and TCP on 127.0.0.1 right now, other than avoid.
std::uint16_t free_port(std::uint16_t avoid);

/// A UDP socket bound to a free port on 127.0.0.1 (set in `port`); the
/// caller closes it. Throws std::runtime_error.
int loopback_udp_socket(std::uint16_t& port);

/// A server binary from PATH or the sbin directories; override_variable
/// (RDNS_KNOTD, ...) names one explicitly. Throws std::runtime_error.
std::string find_program(const char* name, const char* override_variable);

void write_file(const std::filesystem::path& path, const std::string& text);
std::string read_file(const std::filesystem::path& path);

/// The last lines of a server's log, headed by its path, for error messages.
std::string log_tail(const std::filesystem::path& path, std::size_t max_lines = 20);

/// A new directory named prefix-XXXXXX in the temporary directory.
std::filesystem::path make_work_dir(const std::string& prefix);

/// Calls start_once until it returns "" (the server is ready), calling stop
/// after each failure; after `attempts` failures throws std::runtime_error
/// with the last failure (a port taken meanwhile is the usual cause).
void start_with_retries(int attempts, const std::function<std::string()>& start_once,
                        const std::function<void()>& stop);

/// Starts argv[0] with stdout/stderr appended to log; the child gets SIGKILL
/// when the spawning thread dies.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// Runs argv to its end (output appended to log); its exit status, -1 when killed.
int run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// Whether pid has exited (reaped here).
bool exited(pid_t pid);

/// SIGTERM, a grace period, then SIGKILL for the ones still running.
void stop_processes(std::vector<pid_t> pids) noexcept;

/// Frees an ldns resolver with its name server list.
struct ResolverDeleter {
  void operator()(ldns_resolver* resolver) const { ldns_resolver_deep_free(resolver); }
};

/// One UDP query to 127.0.0.1:port; the rcode, or nothing when no answer came.
std::optional<ldns_pkt_rcode> probe(std::uint16_t port, const char* name, ldns_rr_type type);

}  // namespace rdns::lab::detail
