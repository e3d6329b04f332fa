#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lab/scripted_resolver.hpp>

#include "lab_process.hpp"

namespace rdns::lab {

ScriptedResolver::ScriptedResolver(Behaviour behaviour) : behaviour_(behaviour) {
  fd_ = detail::loopback_udp_socket(port_);
  thread_ = std::thread([this] { serve(); });
}

ScriptedResolver::~ScriptedResolver() {
  stopping_ = true;
  thread_.join();
  ::close(fd_);
}

std::string ScriptedResolver::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void ScriptedResolver::serve() {
  unsigned char packet[4096];
  while (!stopping_) {
    pollfd waiting{fd_, POLLIN, 0};
    if (::poll(&waiting, 1, 50) <= 0) continue;
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    const ssize_t size =
        ::recvfrom(fd_, packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&peer), &length);
    if (size < 12) continue;
    ++queries_;
    if (behaviour_ == Behaviour::drop) continue;
    // The query itself, turned into a response: QR set, RD kept, RA set,
    // the RCODE asked for, no records.
    packet[2] = static_cast<unsigned char>(0x80 | (packet[2] & 0x01));
    packet[3] = static_cast<unsigned char>(0x80 | (behaviour_ == Behaviour::refuse ? 5 : 2));
    ::sendto(fd_, packet, static_cast<std::size_t>(size), 0, reinterpret_cast<sockaddr*>(&peer),
             length);
  }
}

}  // namespace rdns::lab
