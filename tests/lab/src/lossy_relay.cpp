#include <array>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lab/lossy_relay.hpp>

#include "lab_process.hpp"

namespace rdns::lab {

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

}  // namespace

LossyRelay::LossyRelay(const std::string& upstream, unsigned every)
    : every_(every == 0 ? 1 : every) {
  const auto colon = upstream.rfind(':');
  if (colon == std::string::npos || upstream.substr(0, colon) != "127.0.0.1") {
    throw std::invalid_argument("LossyRelay: upstream must be 127.0.0.1:PORT, not " + upstream);
  }
  const auto upstream_address =
      loopback(static_cast<std::uint16_t>(std::stoi(upstream.substr(colon + 1))));
  client_fd_ = detail::loopback_udp_socket(port_);
  upstream_fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (upstream_fd_ < 0 ||
      ::connect(upstream_fd_, reinterpret_cast<const sockaddr*>(&upstream_address),
                sizeof upstream_address) != 0) {
    const std::string error = detail::system_error_text("LossyRelay: connecting to " + upstream);
    ::close(client_fd_);
    if (upstream_fd_ >= 0) ::close(upstream_fd_);
    throw std::runtime_error(error);
  }
  thread_ = std::thread([this] { relay(); });
}

LossyRelay::~LossyRelay() {
  stopping_ = true;
  thread_.join();
  ::close(client_fd_);
  ::close(upstream_fd_);
}

std::string LossyRelay::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void LossyRelay::relay() {
  // Clients may use several sockets (a process's channels): each query gets
  // an ID of the relay's own upstream, and its answer goes back to the
  // socket it came from with the client's ID.
  struct Origin {
    sockaddr_in peer{};
    socklen_t length = 0;
    std::uint16_t id = 0;
  };
  std::vector<Origin> origins(65536);
  std::uint16_t next_id = 0;
  std::unordered_set<std::string> seen;  // questions already seen once
  std::uint64_t questions = 0;
  std::array<unsigned char, 65536> packet{};
  while (!stopping_) {
    std::array<pollfd, 2> waiting{pollfd{client_fd_, POLLIN, 0}, pollfd{upstream_fd_, POLLIN, 0}};
    if (::poll(waiting.data(), waiting.size(), 50) <= 0) continue;
    if ((waiting[0].revents & POLLIN) != 0) {
      Origin origin;
      origin.length = sizeof origin.peer;
      const ssize_t size = ::recvfrom(client_fd_, packet.data(), packet.size(), 0,
                                      reinterpret_cast<sockaddr*>(&origin.peer), &origin.length);
      if (size >= 12) {
        ++queries_;
        // The question: everything after the header (the ID differs per copy).
        const std::string question(reinterpret_cast<const char*>(packet.data()) + 12,
                                   static_cast<std::size_t>(size) - 12);
        const bool first_copy = seen.insert(question).second;
        if (first_copy && questions++ % every_ == 0) {
          ++lost_;
        } else {
          origin.id = static_cast<std::uint16_t>(packet[0] << 8 | packet[1]);
          const std::uint16_t id = next_id++;
          origins[id] = origin;
          packet[0] = static_cast<unsigned char>(id >> 8);
          packet[1] = static_cast<unsigned char>(id & 0xff);
          ::send(upstream_fd_, packet.data(), static_cast<std::size_t>(size), 0);
        }
      }
    }
    if ((waiting[1].revents & POLLIN) != 0) {
      const ssize_t size = ::recv(upstream_fd_, packet.data(), packet.size(), 0);
      if (size >= 12) {
        const Origin& origin = origins[static_cast<std::uint16_t>(packet[0] << 8 | packet[1])];
        if (origin.length == 0) continue;
        packet[0] = static_cast<unsigned char>(origin.id >> 8);
        packet[1] = static_cast<unsigned char>(origin.id & 0xff);
        ::sendto(client_fd_, packet.data(), static_cast<std::size_t>(size), 0,
                 reinterpret_cast<const sockaddr*>(&origin.peer), origin.length);
      }
    }
  }
}

}  // namespace rdns::lab
