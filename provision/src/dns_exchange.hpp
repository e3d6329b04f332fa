#pragma once
// DNS messages for the rfc2136 provider: ldns packets owned by C++ handles,
// one exchange over TCP (a query, an UPDATE, or an AXFR's stream of
// messages), signed and verified with TSIG. TCP only: an UPDATE is never
// re-sent behind the caller's back, as a UDP retry would.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// ldns/common.h defines bool/true/false unless stdbool.h came first.
// clang-format off
#include <stdbool.h>  // IWYU pragma: keep
#include <ldns/ldns.h>
// clang-format on

#include <provision/client_config.hpp>
#include <provision/rfc2136.hpp>

namespace rdns::provision::dns {

struct PacketDeleter {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
struct RdfDeleter {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
struct RrListDeleter {
  void operator()(ldns_rr_list* list) const { ldns_rr_list_deep_free(list); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;
using Rdf = std::unique_ptr<ldns_rdf, RdfDeleter>;
using RrList = std::unique_ptr<ldns_rr_list, RrListDeleter>;

/// An address and port to talk DNS to.
struct Endpoint {
  std::string host;  ///< an IPv4 or IPv6 literal
  std::uint16_t port = 53;
  /// "192.0.2.1:53", "[2001:db8::1]:53"
  std::string text() const;
  /// "IP", "IP:PORT", "[IPv6]:PORT"; Errc::usage naming what (a flag) otherwise,
  /// and when scope is loopback_only and the address is not 127.0.0.0/8 or ::1.
  static Endpoint parse(const std::string& text, std::uint16_t default_port, NetworkScope scope,
                        const std::string& what);
};

/// A domain name in presentation form, absolute and lower case ("a.b.").
std::string absolute_lower(std::string_view name);
/// The name of an rdf (owner or PTR target), absolute and lower case.
std::string name_of(const ldns_rdf* rdf);
/// An ldns dname; Errc::input when name is not a domain name.
Rdf make_name(const std::string& name);
/// "NOERROR", "NXRRSET", ...
std::string rcode_name(ldns_pkt_rcode rcode);

/// One message received: the parsed packet and the bytes it came in (TSIG
/// is computed over the bytes).
struct Reply {
  Packet packet;
  std::vector<std::uint8_t> wire;
};

/// Failures of the exchange itself (no answer, a broken or forged one).
enum class ExchangeFailure { network, malformed, tsig };

/// Thrown by exchange(); what() says what happened at which server.
class ExchangeError : public std::runtime_error {
 public:
  ExchangeError(ExchangeFailure failure, std::string code, const std::string& message)
      : std::runtime_error(message), failure_(failure), code_(std::move(code)) {}
  ExchangeFailure failure() const { return failure_; }
  /// "Network.Timeout", "TSIG.BADSIG", "Malformed"
  const std::string& code() const { return code_; }

 private:
  ExchangeFailure failure_;
  std::string code_;
};

/// Talks to one server, signing every message with key when one is given
/// and refusing answers whose signature does not verify.
class Channel {
 public:
  Channel(Endpoint server, const TsigKey* key, std::chrono::milliseconds timeout,
          std::function<void(std::string_view)> log);

  /// Sends packet (its ID set here) and returns the answer. An answer
  /// refusing the key (BADKEY, BADSIG, BADTIME) is returned unverified for
  /// the caller to name; any other unsigned or badly signed answer throws.
  Reply send(ldns_pkt* packet);
  /// A zone transfer: every message until the closing SOA, each verified.
  std::vector<Reply> transfer(const std::string& zone);
  const Endpoint& server() const { return server_; }

 private:
  std::vector<Reply> exchange(ldns_pkt* packet, bool zone_transfer);

  Endpoint server_;
  const TsigKey* key_;
  std::chrono::milliseconds timeout_;
  std::function<void(std::string_view)> log_;
};

/// The TSIG error of an answer (16 BADSIG, 17 BADKEY, 18 BADTIME...), 0 when
/// it has none.
std::uint16_t tsig_error(const ldns_pkt* packet);
/// "BADSIG", "BADKEY", "BADTIME" or "TSIG error N".
std::string tsig_error_name(std::uint16_t error);

}  // namespace rdns::provision::dns
