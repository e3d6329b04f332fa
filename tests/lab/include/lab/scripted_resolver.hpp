#pragma once
/// A misbehaving resolver on a free 127.0.0.1 UDP port, for the failures a
/// real one rarely shows on demand: it answers every query with one RCODE
/// (REFUSED, SERVFAIL) or drops every query (a blackholed resolver).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace rdns::lab {

class ScriptedResolver {
 public:
  /// What the server does with each query.
  enum class Behaviour { drop, refuse, servfail };

  explicit ScriptedResolver(Behaviour behaviour);
  /// Stops the server thread (within ~50 ms) and closes the socket.
  ~ScriptedResolver();
  ScriptedResolver(const ScriptedResolver&) = delete;
  ScriptedResolver& operator=(const ScriptedResolver&) = delete;

  /// "127.0.0.1:PORT", for --resolver.
  std::string address() const;
  /// Queries received so far.
  std::uint64_t queries() const { return queries_.load(); }

 private:
  void serve();

  Behaviour behaviour_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> queries_{0};
  std::thread thread_;
};

}  // namespace rdns::lab
