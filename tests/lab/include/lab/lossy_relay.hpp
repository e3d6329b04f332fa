#pragma once
/// A lossy network path on a free 127.0.0.1 UDP port: relays queries to a
/// real resolver and its answers back, but loses the first copy of every
/// Nth question it sees, as a congested link or a full socket buffer does.
/// A copy sent again (a retry with the same question) gets through.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace rdns::lab {

class LossyRelay {
 public:
  /// `upstream`: "127.0.0.1:PORT". Loses the first copy of questions 1,
  /// 1 + every, 1 + 2 × every, ... in the order they arrive.
  LossyRelay(const std::string& upstream, unsigned every);
  /// Stops the relay thread (within ~50 ms) and closes its sockets.
  ~LossyRelay();
  LossyRelay(const LossyRelay&) = delete;
  LossyRelay& operator=(const LossyRelay&) = delete;

  /// "127.0.0.1:PORT", for --resolver.
  std::string address() const;
  /// Queries lost so far.
  std::uint64_t lost() const { return lost_.load(); }
  /// Queries received so far (lost or relayed).
  std::uint64_t queries() const { return queries_.load(); }

 private:
  void relay();

  unsigned every_;
  int client_fd_ = -1;
  int upstream_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> lost_{0};
  std::atomic<std::uint64_t> queries_{0};
  std::thread thread_;
};

}  // namespace rdns::lab
