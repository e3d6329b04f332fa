#pragma once
/// The loopback DNS lab: a real authoritative server and a real recursive
/// resolver on free 127.0.0.1 ports, so tests and demos exercise rdnsctl
/// against genuine DNS behaviour (CNAME chains, SERVFAIL, lame delegations)
/// without sending a single packet off the machine.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace rdns::lab {

/// Whether Knot accepts RFC 2136 dynamic updates.
enum class Updates {
  refused,        ///< the zones are read-only (the samples)
  from_loopback,  ///< any zone may be updated from 127.0.0.0/8 (the emulator publishes so)
  /// Only updates and zone transfers signed with the lab's TSIG key
  /// (kLabTsigKeyName, kLabTsigSecret) are allowed, as on a real primary.
  tsig,
};

/// The hmac-sha256 key a lab with Updates::tsig accepts.
inline constexpr const char* kLabTsigKeyName = "rdnsctl-lab.";
inline constexpr const char* kLabTsigSecret = "tZfjB3EK3/Iyw4gJ/4+9uYQ7NM11jv0XVd4kQL7vvSw=";
/// A second key of that lab that may update but not transfer zones.
inline constexpr const char* kLabUpdateOnlyKeyName = "rdnsctl-update-only.";
inline constexpr const char* kLabUpdateOnlySecret = "od6WKvX9mVC2bLJjbWsRUlZoGPlZHfMkNLy2mZf0iCU=";

/// Queries a second one client gets answered by a ResolverProfile::rate_limited lab.
inline constexpr int kLabRateLimitQps = 500;

/// How the lab's unbound treats servers that never answer, and its clients.
enum class ResolverProfile {
  /// Few outgoing queries at a time (64) and a capped backoff: a dead server
  /// gives SERVFAIL within ~2 s, and a burst of such lookups crowds out the
  /// healthy ones, as on a small or busy resolver.
  small,
  /// Unbound's own defaults: thousands of outgoing queries, long backoff; a
  /// lookup under a dead server is dropped unanswered after ~18 s.
  stock,
  /// The stock settings, but it answers one client at most
  /// kLabRateLimitQps queries a second and drops the rest unanswered, as a
  /// resolver that protects itself from a flood does.
  rate_limited,
};

/// A zone the lab's unbound asks another server for instead of Knot (a
/// PowerDNS under test), so the resolver sees that server's changes.
struct StubZone {
  std::string zone;     ///< "2.0.192.in-addr.arpa."
  std::string address;  ///< "127.0.0.1@PORT"
};

/// A knotd (authoritative) + unbound (recursive, stub zones to knotd) pair on free 127.0.0.1 ports.
///
/// Every `*.zone` file in the zones directory is served as the zone named by
/// the file name minus ".zone". Knot also serves an empty root zone of its own,
/// and unbound sends every name to Knot, so an unknown name ends in NXDOMAIN
/// rather than in a query to the real root servers.
///
/// The servers are children of the constructing thread and get SIGKILL when it
/// dies, so construct a lab on a thread that outlives it (normally main).
class DnsLab {
 public:
  /// Starts both servers and returns once both answer; throws
  /// std::runtime_error with the tail of the failing server's log otherwise.
  /// Zones in elsewhere are resolved at their own server, not at Knot.
  explicit DnsLab(const std::filesystem::path& zones_dir, Updates updates = Updates::refused,
                  ResolverProfile profile = ResolverProfile::small,
                  std::vector<StubZone> elsewhere = {});
  /// Stops both servers (SIGTERM, up to ~2 s, then SIGKILL) and removes the work dir.
  ~DnsLab();

  DnsLab(const DnsLab&) = delete;
  DnsLab& operator=(const DnsLab&) = delete;
  DnsLab(DnsLab&&) = delete;
  DnsLab& operator=(DnsLab&&) = delete;

  std::uint16_t authority_port() const { return authority_port_; }
  std::uint16_t resolver_port() const { return resolver_port_; }
  /// "127.0.0.1:PORT" of unbound, the address rdnsctl should query.
  std::string resolver_address() const;
  /// "127.0.0.1:PORT" of knotd, for looking at the zones without a cache in between.
  std::string authority_address() const;
  /// Holds both configs and logs (knotd.log, unbound.log).
  const std::filesystem::path& work_dir() const { return work_dir_; }
  /// Zone origins served from the zones directory, with the trailing dot, sorted.
  const std::vector<std::string>& zones() const { return zones_; }

  pid_t authority_pid() const { return authority_pid_; }
  pid_t resolver_pid() const { return resolver_pid_; }

  /// Leaves the work dir on disk after stopping, to read the logs of a failed run.
  void keep_work_dir(bool keep) { keep_work_dir_ = keep; }

 private:
  // Empty when both servers answer; else the server that exited early (most
  // likely it lost its port), whose log start_once() leaves for the caller.
  std::string start_once();
  void stop() noexcept;

  std::filesystem::path zones_dir_;
  Updates updates_ = Updates::refused;
  ResolverProfile profile_ = ResolverProfile::small;
  std::vector<StubZone> elsewhere_;
  std::filesystem::path work_dir_;
  std::vector<std::string> zones_;
  std::uint16_t authority_port_ = 0;
  std::uint16_t resolver_port_ = 0;
  pid_t authority_pid_ = -1;
  pid_t resolver_pid_ = -1;
  pid_t owner_pid_ = -1;  // a forked child that runs static destructors must not stop the lab
  bool keep_work_dir_ = false;
};

/// One lab for the whole test process, serving RDNS_SOURCE_DIR/samples/zones;
/// started on first use and stopped at process exit.
DnsLab& shared_lab();

/// A lab for the rfc2136 provider's tests, serving
/// RDNS_SOURCE_DIR/tests/zones/rfc2136 with updates signed by the lab's key.
DnsLab& rfc2136_lab();

/// A second lab for the cloud emulator's tests, serving
/// RDNS_SOURCE_DIR/tests/zones/emulator with dynamic updates from loopback
/// (the emulator publishes PTRs into it; tests publish verification TXTs).
DnsLab& emulator_lab();

/// The PTR targets a server on 127.0.0.1:port answers for name (no trailing
/// dot on input; targets with it), asked directly, without recursion.
std::vector<std::string> ptr_targets(std::uint16_t port, const std::string& name);

}  // namespace rdns::lab
