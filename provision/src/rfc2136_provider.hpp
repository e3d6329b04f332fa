#pragma once
// The rfc2136 provider: PTR records in reverse zones served by a primary
// that takes TSIG-signed dynamic updates (RFC 2136). See rfc2136.hpp and
// docs/provisioning.md.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <provision/provider.hpp>
#include <provision/rfc2136.hpp>

#include "dns_exchange.hpp"

namespace rdns::provision {

/// Where an address's PTR lives: the owner name (the CNAME target for an
/// RFC 2317 child zone), its zone, and the primary that takes updates.
struct PtrLocation {
  std::string owner;  ///< "10.2.0.192.in-addr.arpa."
  std::string zone;   ///< "2.0.192.in-addr.arpa."
  dns::Endpoint primary;
  /// Why the address cannot be written there; empty when it can.
  std::string not_served;
};

class Rfc2136PtrProvider final : public PtrProvider {
 public:
  explicit Rfc2136PtrProvider(Rfc2136Config config);

  const std::string& name() const override;
  ProviderCapabilities capabilities() const override;
  std::vector<Ownership> ownership(const std::vector<std::string>& ips) override;
  PtrListing list() override;
  std::vector<PtrRecord> read(const std::string& ip) override;
  std::string write(const std::string& ip, const std::string& value, int ttl,
                    const std::string& current_record_id) override;
  void remove(const std::string& ip, const std::string& current_record_id) override;
  void set_status(const std::string& ip, const std::string& current_record_id,
                  PtrStatus status) override;
  std::optional<VerificationTxt> verification_txt(const std::string& value) override;
  const std::string& last_request_id() const override;

 private:
  /// Errc::usage unless ip is an IPv4 address inside a configured prefix;
  /// nothing is sent for one outside.
  void require_in_prefixes(const std::string& ip) const;
  std::string prefix_list() const;
  /// Finds (and remembers) where ip's PTR lives; ApiError when the server
  /// refuses the key.
  const PtrLocation& locate(const std::string& ip);
  PtrLocation discover(const std::string& ip);
  /// The CNAME target of name as source answers it, or name itself.
  std::string follow_cname(dns::Channel& source, const std::string& name, bool recursive);
  /// The zone holding name and its SOA MNAME, as source answers (nullopt
  /// when it gives no SOA); authoritative says whether source claimed it.
  struct ZoneAnswer {
    std::string zone;
    std::string mname;
    bool authoritative = false;
    std::string rcode;
  };
  ZoneAnswer find_zone(dns::Channel& source, const std::string& name, bool recursive);
  std::optional<dns::Endpoint> resolve_primary(const std::string& mname);
  /// Signed with the key: reads, updates and transfers.
  dns::Channel primary_channel(const dns::Endpoint& primary) const;
  /// Unsigned, for finding the zone: whether a server serves a zone does
  /// not depend on the key, and a server may refuse a key (BADKEY) for any
  /// name outside the zones its ACLs give it.
  dns::Channel probe_channel(const dns::Endpoint& primary) const;
  dns::Channel resolver_channel(std::size_t index) const;

  /// locate(), and ApiError (ip_not_owned) when the primary does not serve the zone.
  const PtrLocation& writable(const std::string& ip);
  /// Sends one UPDATE with updates, guarded by the prerequisite that the
  /// PTR RRset is still current_record_id's values (or, for an empty ID and
  /// create, that there is none). Done when the server carries it out, or
  /// when it shows value with ttl (empty value: no record) after a lost
  /// answer or a failed prerequisite; ApiError (conflict) otherwise.
  void apply_update(const PtrLocation& where, const std::string& ip,
                    const std::string& current_record_id, bool create, ldns_rr_list* updates,
                    const std::string& value, int ttl);
  std::vector<PtrRecord> read_at(const PtrLocation& where, const std::string& ip);
  /// Sends one UPDATE of where's zone; returns the answer's RCODE after
  /// naming a refusal of the key or the zone in an ApiError.
  ldns_pkt_rcode send_update(const PtrLocation& where, const std::string& ip,
                             ldns_rr_list* prerequisites, ldns_rr_list* updates);
  /// Throws the ApiError for an answer that refuses the message (NOTAUTH,
  /// REFUSED, a TSIG error...).
  [[noreturn]] void refused(const PtrLocation& where, const std::string& ip,
                            const std::string& what, const ldns_pkt* answer) const;
  void collect_zone(const std::string& zone, const dns::Endpoint& primary,
                    std::map<std::string, PtrRecord>& records,
                    std::vector<std::pair<std::string, std::string>>& aliases);

  Rfc2136Config config_;
  std::optional<dns::Endpoint> server_;
  std::vector<dns::Endpoint> resolvers_;
  std::map<std::string, PtrLocation> locations_;
  std::string last_request_id_;
};

}  // namespace rdns::provision
