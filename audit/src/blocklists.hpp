#pragma once
/// Asks DNS blocklists about addresses (--dnsbl): the RFC 5782 self-test of
/// every list once per run, then per address an A query (and a TXT query
/// for the reason when listed), each list within its own query rate. Runs
/// on the audit's event loop; the queries go through the caller's `ask`,
/// so they share the resolver, its window and its circuit breaker.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <audit/dnsbl.hpp>
#include <audit/observation.hpp>

#include "resolver.hpp"

namespace rdns::audit {

/// Blocklists refuse queries that come through large public resolvers
/// (Spamhaus answers 127.255.255.254 to each): with one of those among
/// `servers` ("IP:PORT"), throws Errc::usage naming it.
void refuse_public_resolvers(const std::vector<std::string>& servers);

class BlocklistChecker {
 public:
  /// Sends a query. `proven`: false for a list not yet shown to answer (the
  /// self-test), whose silence says nothing of the resolver's load.
  using Ask = std::function<void(const DnsName&, dns::RrType, std::function<void(const Reply&)>,
                                 bool proven)>;

  /// `lists`: those to ask; `key`: the DQS-style key for lists with a
  /// key_zone (empty: none).
  BlocklistChecker(boost::asio::io_context& io, std::vector<DnsblList> lists, std::string key,
                   Ask ask);

  bool empty() const { return lists_.empty(); }

  /// After the self-test: each list that failed it, with why.
  std::vector<std::pair<std::string, std::string>> untrusted() const;

  /// Tests every list; `done` runs when all have answered or failed.
  void self_test(std::function<void()> done);

  /// One observation per list covering the address's family, in list order.
  void check(const IpAddress& ip, std::function<void(std::vector<DnsblObservation>&&)> done);

 private:
  struct ListState {
    DnsblList list;
    std::string untrusted;  ///< why the self-test failed; empty when trusted
    std::chrono::steady_clock::time_point next_slot{};
  };

  void test_list(std::size_t index, const IpAddress& probe, bool must_be_listed,
                 const std::function<void()>& done);
  /// Runs `send` now or when the list's rate allows.
  void paced(std::size_t index, std::function<void()> send);
  void ask_list(std::size_t index, const IpAddress& ip,
                std::function<void(DnsblObservation&&)> done);

  boost::asio::io_context& io_;
  std::vector<ListState> lists_;
  std::string key_;
  Ask ask_;
};

}  // namespace rdns::audit
