#include <cctype>
#include <memory>
#include <stdexcept>

#include <arpa/inet.h>

// ldns/common.h defines bool/true/false unless stdbool.h came first.
// clang-format off
#include <stdbool.h>
#include <ldns/ldns.h>
// clang-format on

#include "dns.hpp"

namespace rdns::emulator {
namespace {

/// Frees an ldns resolver with its name servers.
struct ResolverDeleter {
  void operator()(ldns_resolver* resolver) const { ldns_resolver_deep_free(resolver); }
};
/// Frees an ldns packet.
struct PacketDeleter {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
/// Frees an ldns rdf.
struct RdfDeleter {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
using Resolver = std::unique_ptr<ldns_resolver, ResolverDeleter>;
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;
using Rdf = std::unique_ptr<ldns_rdf, RdfDeleter>;

// Built by hand so /etc/resolv.conf, and with it the system resolver, is never used.
Resolver make_resolver(const ServerAddress& server) {
  Resolver resolver(ldns_resolver_new());
  Rdf address(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, server.host.c_str()));
  if (!resolver || !address ||
      ldns_resolver_push_nameserver(resolver.get(), address.get()) != LDNS_STATUS_OK) {
    throw std::runtime_error("cannot set up a DNS resolver for " + server.host);
  }
  ldns_resolver_set_port(resolver.get(), server.port);
  ldns_resolver_set_retry(resolver.get(), 2);
  ldns_resolver_set_timeout(resolver.get(), timeval{1, 0});
  return resolver;
}

std::string absolute(std::string name) {
  if (!name.ends_with('.')) name.push_back('.');
  return name;
}

}  // namespace

ServerAddress ServerAddress::parse(const std::string& text) {
  const auto colon = text.rfind(':');
  ServerAddress address;
  address.host = text.substr(0, colon);
  if (colon != std::string::npos) {
    const int port = std::stoi(text.substr(colon + 1));
    if (port <= 0 || port > 65535) throw std::runtime_error("bad port in " + text);
    address.port = static_cast<unsigned short>(port);
  }
  in_addr parsed{};
  // The emulator is for loopback labs: it must never query real DNS.
  if (::inet_pton(AF_INET, address.host.c_str(), &parsed) != 1 ||
      (ntohl(parsed.s_addr) >> 24) != 127) {
    throw std::runtime_error("DNS server " + text + " is not a 127.0.0.0/8 address");
  }
  return address;
}

namespace {

/// Asks the resolver for name's RRset of type: the packet, an empty answer for
/// NXDOMAIN (a null packet), or nullopt for no answer or another error.
std::optional<Packet> ask(const ServerAddress& resolver_address, const std::string& name,
                          ldns_rr_type type) {
  Resolver resolver = make_resolver(resolver_address);
  Rdf qname(ldns_dname_new_frm_str(absolute(name).c_str()));
  if (!qname) return Packet();
  ldns_pkt* raw = nullptr;
  if (ldns_resolver_send(&raw, resolver.get(), qname.get(), type, LDNS_RR_CLASS_IN, LDNS_RD) !=
      LDNS_STATUS_OK) {
    ldns_pkt_free(raw);
    return std::nullopt;
  }
  Packet packet(raw);
  const auto rcode = ldns_pkt_get_rcode(packet.get());
  if (rcode == LDNS_RCODE_NXDOMAIN) return Packet();
  if (rcode != LDNS_RCODE_NOERROR) return std::nullopt;
  return packet;
}

std::string lower_trimmed(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

std::optional<std::vector<std::string>> query_txt(const ServerAddress& resolver_address,
                                                  const std::string& name) {
  auto packet = ask(resolver_address, name, LDNS_RR_TYPE_TXT);
  if (!packet) return std::nullopt;
  std::vector<std::string> texts;
  if (!*packet) return texts;
  ldns_rr_list* answer = ldns_pkt_answer(packet->get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT) continue;
    std::string joined;
    for (std::size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
      const ldns_rdf* field = ldns_rr_rdf(rr, j);
      const std::uint8_t* data = ldns_rdf_data(field);
      // A character-string: one length byte, then the bytes.
      if (ldns_rdf_size(field) > 0) {
        joined.append(reinterpret_cast<const char*>(data + 1), data[0]);
      }
    }
    texts.push_back(joined);
  }
  return texts;
}

std::optional<std::vector<std::string>> query_a(const ServerAddress& resolver_address,
                                                const std::string& name) {
  auto packet = ask(resolver_address, name, LDNS_RR_TYPE_A);
  if (!packet) return std::nullopt;
  std::vector<std::string> addresses;
  if (!*packet) return addresses;
  ldns_rr_list* answer = ldns_pkt_answer(packet->get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || ldns_rr_rd_count(rr) < 1) continue;
    char text[INET_ADDRSTRLEN] = {};
    if (::inet_ntop(AF_INET, ldns_rdf_data(ldns_rr_rdf(rr, 0)), text, sizeof text) != nullptr) {
      addresses.emplace_back(text);
    }
  }
  return addresses;
}

std::string zone_for(const std::vector<std::string>& zones, const std::string& name) {
  std::string best;
  const std::string wanted = lower_trimmed(name);
  for (const auto& zone : zones) {
    const std::string candidate = lower_trimmed(zone);
    if ((wanted == candidate || wanted.ends_with("." + candidate)) &&
        candidate.size() > best.size()) {
      best = candidate;
    }
  }
  return best;
}

std::string update_ptr(const ServerAddress& server, const std::string& zone,
                       const std::string& name, const std::string& value, int ttl) {
  Resolver resolver = make_resolver(server);
  Rdf zone_name(ldns_dname_new_frm_str(absolute(zone).c_str()));
  if (!zone_name) return "bad zone name " + zone;

  ldns_rr_list* updates = ldns_rr_list_new();
  // "Delete an RRset" (RFC 2136 2.5.2): class ANY, TTL 0, no data.
  ldns_rr* erase = ldns_rr_new();
  ldns_rr_set_owner(erase, ldns_dname_new_frm_str(absolute(name).c_str()));
  ldns_rr_set_type(erase, LDNS_RR_TYPE_PTR);
  ldns_rr_set_class(erase, LDNS_RR_CLASS_ANY);
  ldns_rr_set_ttl(erase, 0);
  ldns_rr_list_push_rr(updates, erase);
  if (!value.empty()) {
    ldns_rr* add = nullptr;
    const std::string text =
        absolute(name) + " " + std::to_string(ttl) + " IN PTR " + absolute(value);
    if (ldns_rr_new_frm_str(&add, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
      ldns_rr_list_deep_free(updates);
      return "cannot build the record " + text;
    }
    ldns_rr_list_push_rr(updates, add);
  }
  // The packet takes the zone name but copies the update list.
  Packet update(ldns_update_pkt_new(ldns_rdf_clone(zone_name.get()), LDNS_RR_CLASS_IN, nullptr,
                                    updates, nullptr));
  ldns_rr_list_deep_free(updates);
  if (!update) return "cannot build the update";
  ldns_pkt_set_rd(update.get(), false);
  ldns_pkt_set_random_id(update.get());
  ldns_pkt* raw = nullptr;
  const ldns_status status = ldns_resolver_send_pkt(&raw, resolver.get(), update.get());
  Packet answer(raw);
  if (status != LDNS_STATUS_OK || !answer) {
    return std::string("no answer to the update: ") + ldns_get_errorstr_by_id(status);
  }
  const auto rcode = ldns_pkt_get_rcode(answer.get());
  if (rcode != LDNS_RCODE_NOERROR) {
    ldns_lookup_table* entry = ldns_lookup_by_id(ldns_rcodes, rcode);
    return std::string("update refused: ") + (entry != nullptr ? entry->name : "rcode");
  }
  return {};
}

}  // namespace rdns::emulator
