#include "dns_exchange.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::provision::dns {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kTsigFudge = 300;
constexpr const char* kTsigAlgorithm = "hmac-sha256.";
/// The MAC field of a TSIG record (algorithm, time, fudge, MAC, ...).
constexpr std::size_t kTsigMacField = 3;
constexpr std::size_t kTsigErrorField = 5;

bool is_loopback(const std::string& host) {
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "::1";
}

/// A socket that closes itself.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket& operator=(Socket&&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

/// Waits for events on fd until deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

[[noreturn]] void network_failure(const Endpoint& server, const std::string& code,
                                  const std::string& what) {
  throw ExchangeError(ExchangeFailure::network, code,
                      fmt::format("DNS server {}: {}", server.text(), what));
}

Socket connect_to(const Endpoint& server, Clock::time_point deadline) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, server.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(server.port);
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, server.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(server.port);
    length = sizeof *v6;
  } else {
    network_failure(server, "Network.Address", "not an IP address");
  }
  Socket socket(::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) network_failure(server, "Network.Socket", std::strerror(errno));
  if (::connect(socket.fd(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    if (errno != EINPROGRESS) network_failure(server, "Network.Connect", std::strerror(errno));
    if (!wait_for(socket.fd(), POLLOUT, deadline)) {
      network_failure(server, "Network.Timeout", "no TCP connection within the timeout");
    }
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) network_failure(server, "Network.Connect", std::strerror(error));
  }
  return socket;
}

void write_all(const Socket& socket, const Endpoint& server, const std::vector<std::uint8_t>& data,
               Clock::time_point deadline) {
  for (std::size_t sent = 0; sent < data.size();) {
    if (!wait_for(socket.fd(), POLLOUT, deadline)) {
      network_failure(server, "Network.Timeout", "could not send within the timeout");
    }
    const ssize_t n = ::send(socket.fd(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      network_failure(server, "Network.Send", std::strerror(errno));
    }
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
}

std::vector<std::uint8_t> read_exact(const Socket& socket, const Endpoint& server,
                                     std::size_t count, Clock::time_point deadline) {
  std::vector<std::uint8_t> data(count);
  for (std::size_t got = 0; got < count;) {
    if (!wait_for(socket.fd(), POLLIN, deadline)) {
      network_failure(server, "Network.Timeout", "no answer within the timeout");
    }
    const ssize_t n = ::recv(socket.fd(), data.data() + got, count - got, 0);
    if (n == 0)
      network_failure(server, "Network.Closed", "the connection closed before the answer");
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      network_failure(server, "Network.Receive", std::strerror(errno));
    }
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  return data;
}

/// One length-prefixed message from a TCP stream (RFC 1035 4.2.2).
Reply read_message(const Socket& socket, const Endpoint& server, Clock::time_point deadline) {
  const auto prefix = read_exact(socket, server, 2, deadline);
  Reply reply;
  reply.wire = read_exact(socket, server, (std::size_t{prefix[0]} << 8) | prefix[1], deadline);
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, reply.wire.data(), reply.wire.size()) != LDNS_STATUS_OK) {
    ldns_pkt_free(raw);
    throw ExchangeError(
        ExchangeFailure::malformed, "Malformed",
        fmt::format("DNS server {}: an answer that is not a DNS message", server.text()));
  }
  reply.packet.reset(raw);
  return reply;
}

/// Whether the message is the last of a zone transfer: its last answer
/// record is the closing SOA (the first SOA opens the transfer).
bool ends_transfer(const ldns_pkt* packet, int& soa_seen) {
  const ldns_rr_list* answer = ldns_pkt_answer(packet);
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    if (ldns_rr_get_type(ldns_rr_list_rr(answer, i)) == LDNS_RR_TYPE_SOA) ++soa_seen;
  }
  return soa_seen >= 2 || ldns_pkt_get_rcode(packet) != LDNS_RCODE_NOERROR;
}

/// "QUERY NAME TYPE id N", or for an UPDATE "UPDATE zone ZONE: NAME TYPE
/// id N" naming the first record it changes.
std::string describe(const ldns_pkt* packet) {
  const bool update = ldns_pkt_get_opcode(packet) == LDNS_PACKET_UPDATE;
  auto first_of = [](const ldns_rr_list* list) {
    return ldns_rr_list_rr_count(list) > 0 ? ldns_rr_list_rr(list, 0) : nullptr;
  };
  const ldns_rr* zone = first_of(ldns_pkt_question(packet));
  // An UPDATE's update section travels in the authority section.
  const ldns_rr* subject = update ? first_of(ldns_pkt_authority(packet)) : zone;
  std::string text = update ? "UPDATE" : "QUERY";
  if (update && zone != nullptr) text += " zone " + name_of(ldns_rr_owner(zone)) + ":";
  if (subject != nullptr) {
    char* type = ldns_rr_type2str(ldns_rr_get_type(subject));
    text += " " + name_of(ldns_rr_owner(subject)) + " " + (type != nullptr ? type : "-");
    std::free(type);
  }
  return fmt::format("{} id {}", text, ldns_pkt_id(packet));
}

}  // namespace

std::string Endpoint::text() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

Endpoint Endpoint::parse(const std::string& text, std::uint16_t default_port, NetworkScope scope,
                         const std::string& what) {
  Endpoint endpoint;
  endpoint.port = default_port;
  std::string port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    endpoint.host = text.substr(1, close == std::string::npos ? 0 : close - 1);
    if (close != std::string::npos && close + 1 < text.size()) {
      if (text[close + 1] != ':') endpoint.host.clear();
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    endpoint.host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  } else {
    endpoint.host = text;
  }
  in6_addr any{};
  const bool address = ::inet_pton(AF_INET, endpoint.host.c_str(), &any) == 1 ||
                       ::inet_pton(AF_INET6, endpoint.host.c_str(), &any) == 1;
  const bool port_ok = port.empty() || (port.size() <= 5 &&
                                        std::all_of(port.begin(), port.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; }) &&
                                        std::stoi(port) > 0 && std::stoi(port) <= 65535);
  if (!address || !port_ok) {
    throw Error(Errc::usage, fmt::format("{}: \"{}\" is not IP[:PORT]", what, escape_text(text)));
  }
  if (!port.empty()) endpoint.port = static_cast<std::uint16_t>(std::stoi(port));
  if (scope == NetworkScope::loopback_only && !is_loopback(endpoint.host)) {
    throw Error(Errc::usage, fmt::format("{}: {} is not a loopback address (--loopback-only)", what,
                                         escape_text(text)));
  }
  return endpoint;
}

std::string absolute_lower(std::string_view name) {
  std::string text = ascii_lower(std::string(name));
  if (!text.ends_with('.')) text += '.';
  return text;
}

std::string name_of(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  std::string name = text == nullptr ? std::string() : absolute_lower(text);
  std::free(text);
  return name;
}

Rdf make_name(const std::string& name) {
  Rdf rdf(ldns_dname_new_frm_str(name.c_str()));
  if (!rdf) {
    throw Error(Errc::input, fmt::format("\"{}\" is not a domain name", escape_text(name)));
  }
  return rdf;
}

std::string rcode_name(ldns_pkt_rcode rcode) {
  const ldns_lookup_table* entry = ldns_lookup_by_id(ldns_rcodes, rcode);
  return entry != nullptr ? entry->name : fmt::format("RCODE{}", static_cast<int>(rcode));
}

std::uint16_t tsig_error(const ldns_pkt* packet) {
  const ldns_rr* tsig = ldns_pkt_tsig(packet);
  if (tsig == nullptr || ldns_rr_rd_count(tsig) <= kTsigErrorField) return 0;
  return ldns_rdf2native_int16(ldns_rr_rdf(tsig, kTsigErrorField));
}

std::string tsig_error_name(std::uint16_t error) {
  switch (error) {
    case 16:
      return "BADSIG";
    case 17:
      return "BADKEY";
    case 18:
      return "BADTIME";
    case 22:
      return "BADTRUNC";
    default:
      return fmt::format("TSIG error {}", error);
  }
}

Channel::Channel(Endpoint server, const TsigKey* key, std::chrono::milliseconds timeout,
                 std::function<void(std::string_view)> log)
    : server_(std::move(server)), key_(key), timeout_(timeout), log_(std::move(log)) {}

Reply Channel::send(ldns_pkt* packet) {
  return std::move(exchange(packet, false).front());
}

std::vector<Reply> Channel::transfer(const std::string& zone) {
  Packet query(
      ldns_pkt_query_new(make_name(zone).release(), LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0));
  return exchange(query.get(), true);
}

std::vector<Reply> Channel::exchange(ldns_pkt* packet, bool zone_transfer) {
  ldns_pkt_set_random_id(packet);
  Rdf mac;
  if (key_ != nullptr) {
    const ldns_status signed_status =
        ldns_pkt_tsig_sign(packet, key_->name.c_str(), key_->secret.reveal().c_str(), kTsigFudge,
                           kTsigAlgorithm, nullptr);
    if (signed_status != LDNS_STATUS_OK) {
      throw Error(Errc::usage,
                  fmt::format("cannot sign with TSIG key {} ({}): {}", escape_text(key_->name),
                              escape_text(key_->origin), ldns_get_errorstr_by_id(signed_status)));
    }
    mac.reset(ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(packet), kTsigMacField)));
  }
  std::uint8_t* raw_wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&raw_wire, packet, &size) != LDNS_STATUS_OK) {
    throw Error(Errc::internal, "cannot encode a DNS message");
  }
  std::vector<std::uint8_t> message{static_cast<std::uint8_t>(size >> 8),
                                    static_cast<std::uint8_t>(size & 0xff)};
  message.insert(message.end(), raw_wire, raw_wire + size);
  std::free(raw_wire);

  if (log_)
    log_(fmt::format("dns: {} {}{}", server_.text(), describe(packet),
                     key_ != nullptr ? " signed by " + key_->name : ""));

  const auto deadline = Clock::now() + timeout_;
  const Socket socket = connect_to(server_, deadline);
  write_all(socket, server_, message, deadline);
  std::vector<Reply> replies;
  int soa_seen = 0;
  for (;;) {
    Reply reply = read_message(socket, server_, deadline);
    if (ldns_pkt_id(reply.packet.get()) != ldns_pkt_id(packet)) {
      throw ExchangeError(ExchangeFailure::malformed, "Malformed",
                          fmt::format("DNS server {}: an answer to another message (ID {})",
                                      server_.text(), ldns_pkt_id(reply.packet.get())));
    }
    if (log_) {
      log_(fmt::format("dns: {} answered {}{}", server_.text(),
                       rcode_name(ldns_pkt_get_rcode(reply.packet.get())),
                       tsig_error(reply.packet.get()) != 0
                           ? " " + tsig_error_name(tsig_error(reply.packet.get()))
                           : ""));
    }
    if (key_ != nullptr) {
      const bool has_tsig = ldns_pkt_tsig(reply.packet.get()) != nullptr;
      const bool refusal = ldns_pkt_get_rcode(reply.packet.get()) != LDNS_RCODE_NOERROR;
      // A server that refuses the key cannot sign with it; an error answer
      // is returned for the caller to name, whatever its signature.
      if ((!has_tsig || tsig_error(reply.packet.get()) != 0) && refusal && replies.empty()) {
        replies.push_back(std::move(reply));
        return replies;
      }
      const bool verified =
          has_tsig &&
          (replies.empty()
               ? ldns_pkt_tsig_verify(reply.packet.get(), reply.wire.data(), reply.wire.size(),
                                      key_->name.c_str(), key_->secret.reveal().c_str(), mac.get())
               : ldns_pkt_tsig_verify_next(reply.packet.get(), reply.wire.data(), reply.wire.size(),
                                           key_->name.c_str(), key_->secret.reveal().c_str(),
                                           mac.get(), 1));
      if (!verified) {
        throw ExchangeError(
            ExchangeFailure::tsig, "TSIG.Unverified",
            fmt::format("DNS server {}: the answer is {} with key {}", server_.text(),
                        has_tsig ? "not correctly signed" : "not signed", key_->name));
      }
      mac.reset(ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(reply.packet.get()), kTsigMacField)));
    }
    const bool last = !zone_transfer || ends_transfer(reply.packet.get(), soa_seen);
    replies.push_back(std::move(reply));
    if (last) return replies;
  }
}

}  // namespace rdns::provision::dns
