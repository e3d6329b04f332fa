#include "blocklists.hpp"

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::audit {
namespace {

namespace asio = boost::asio;
using dns::RrType;

std::vector<IpAddress> addresses_in(const Reply& reply, const DnsName& name) {
  std::vector<IpAddress> addresses;
  for (const dns::Record* record : dns::follow_chain(reply.message, name, RrType::a).records) {
    if (record->address) addresses.push_back(*record->address);
  }
  return addresses;
}

/// Anycast services whose queries no blocklist can attribute to a sender.
constexpr std::string_view kPublicResolvers[] = {
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "94.140.14.14",
    "94.140.15.15",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "2620:fe::fe",
    "2620:fe::9",
};

/// "IP:PORT" or "[IPv6]:PORT" without the port and brackets.
std::string host_of(const std::string& server) {
  std::string host = server.substr(0, server.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

void refuse_public_resolvers(const std::vector<std::string>& servers) {
  for (const std::string& server : servers) {
    const std::string host = host_of(server);
    for (const std::string_view known : kPublicResolvers) {
      if (host != known) continue;
      throw Error(Errc::usage,
                  fmt::format("--dnsbl through the public resolver {}: blocklists refuse its "
                              "queries (Spamhaus answers 127.255.255.254), so every answer would "
                              "be an error; give --resolver a recursive resolver of your own",
                              host));
    }
  }
}

BlocklistChecker::BlocklistChecker(asio::io_context& io, std::vector<DnsblList> lists,
                                   std::string key, Ask ask)
    : io_(io), key_(std::move(key)), ask_(std::move(ask)) {
  for (DnsblList& list : lists) lists_.push_back({std::move(list), {}, {}});
}

void BlocklistChecker::self_test(std::function<void()> done) {
  auto pending = std::make_shared<std::size_t>(0);
  for (const ListState& state : lists_) *pending += state.list.ipv6 ? 4 : 2;
  if (*pending == 0) return done();
  const auto one_done = [pending, done] {
    if (--*pending == 0) done();
  };
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    if (lists_[i].list.needs_key && key_.empty()) {
      lists_[i].untrusted = "it answers only with a key (--dnsbl-key, or RDNSCTL_DNSBL_KEY)";
      for (int n = lists_[i].list.ipv6 ? 4 : 2; n > 0; --n) one_done();
      continue;
    }
    for (const Family family : {Family::ipv4, Family::ipv6}) {
      if (family == Family::ipv6 && !lists_[i].list.ipv6) continue;
      test_list(i, dnsbl_test_listed(family), true, one_done);
      test_list(i, dnsbl_test_unlisted(family), false, one_done);
    }
  }
}

std::vector<std::pair<std::string, std::string>> BlocklistChecker::untrusted() const {
  std::vector<std::pair<std::string, std::string>> failed;
  for (const ListState& state : lists_) {
    if (!state.untrusted.empty()) failed.emplace_back(state.list.zone, state.untrusted);
  }
  return failed;
}

void BlocklistChecker::test_list(std::size_t index, const IpAddress& probe, bool must_be_listed,
                                 const std::function<void()>& done) {
  const std::optional<DnsName> name = dnsbl_query_name(lists_[index].list, probe, key_);
  if (!name) return done();
  ask_(
      *name, RrType::a,
      [this, index, probe, must_be_listed, name = *name, done](const Reply& reply) {
        ListState& state = lists_[index];
        const std::string shown = probe.to_string();
        std::string problem;
        if (reply.status == ReplyStatus::noerror || reply.status == ReplyStatus::nxdomain) {
          const DnsblReading reading = read_dnsbl_answer(state.list, addresses_in(reply, name));
          const bool listed = reading.kind == DnsblReading::Kind::listed;
          if (reading.kind == DnsblReading::Kind::error) {
            problem = reading.text();
          } else if (must_be_listed && !listed) {
            problem = fmt::format(
                "the test address {} is not listed: the list answers nothing (an "
                "empty, retired or wrongly named zone)",
                shown);
          } else if (!must_be_listed && listed) {
            problem = fmt::format(
                "the test address {} is listed: the zone answers everything (a "
                "parked, expired or wildcard zone)",
                shown);
          }
        } else {
          problem =
              fmt::format("no answer for the test address {}: {}", shown, describe_failure(reply));
        }
        if (!problem.empty() && state.untrusted.empty()) {
          state.untrusted = "it failed its self-test: " + problem;
        }
        done();
      },
      false);
}

void BlocklistChecker::paced(std::size_t index, std::function<void()> send) {
  ListState& state = lists_[index];
  if (state.list.qps <= 0) return send();
  const auto now = std::chrono::steady_clock::now();
  const auto slot = std::max(now, state.next_slot);
  state.next_slot = slot + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(1.0 / state.list.qps));
  if (slot <= now) return send();
  auto timer = std::make_shared<asio::steady_timer>(io_, slot);
  timer->async_wait([timer, send = std::move(send)](const boost::system::error_code& error) {
    if (!error) send();
  });
}

void BlocklistChecker::check(const IpAddress& ip,
                             std::function<void(std::vector<DnsblObservation>&&)> done) {
  struct Pending {
    std::vector<DnsblObservation> observations;
    std::size_t left = 0;
    std::function<void(std::vector<DnsblObservation>&&)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  std::vector<std::size_t> asked;
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    const ListState& state = lists_[i];
    if (!dnsbl_covers(state.list, ip.family())) continue;
    DnsblObservation observation;
    observation.zone = state.list.zone;
    observation.untrusted = state.untrusted;
    if (state.untrusted.empty()) asked.push_back(i);
    pending->observations.push_back(std::move(observation));
  }
  pending->left = asked.size();
  if (pending->left == 0) return pending->done(std::move(pending->observations));
  for (const std::size_t index : asked) {
    ask_list(index, ip, [this, index, pending](DnsblObservation&& observation) {
      for (DnsblObservation& slot : pending->observations) {
        if (slot.zone == lists_[index].list.zone) slot = std::move(observation);
      }
      if (--pending->left == 0) pending->done(std::move(pending->observations));
    });
  }
}

void BlocklistChecker::ask_list(std::size_t index, const IpAddress& ip,
                                std::function<void(DnsblObservation&&)> done) {
  const DnsName name = *dnsbl_query_name(lists_[index].list, ip, key_);
  paced(index, [this, index, name, done = std::move(done)]() mutable {
    ask_(
        name, RrType::a,
        [this, index, name, done = std::move(done)](const Reply& reply) mutable {
          DnsblObservation observation;
          observation.zone = lists_[index].list.zone;
          if (reply.status == ReplyStatus::nxdomain) {
            observation.outcome = Outcome::nxdomain;
            return done(std::move(observation));
          }
          if (reply.status != ReplyStatus::noerror) {
            observation.failure = describe_failure(reply);
            return done(std::move(observation));
          }
          observation.answers = addresses_in(reply, name);
          observation.outcome = observation.answers.empty() ? Outcome::nodata : Outcome::found;
          const bool listed = read_dnsbl_answer(lists_[index].list, observation.answers).kind ==
                              DnsblReading::Kind::listed;
          if (!listed) return done(std::move(observation));
          // The list's own words for the listing; without them it still counts.
          paced(index, [this, name, observation = std::move(observation),
                        done = std::move(done)]() mutable {
            ask_(
                name, RrType::txt,
                [name, observation = std::move(observation),
                 done = std::move(done)](const Reply& txt) mutable {
                  if (txt.status == ReplyStatus::noerror) {
                    for (const dns::Record* record :
                         dns::follow_chain(txt.message, name, RrType::txt).records) {
                      observation.reason = record->text;
                      break;
                    }
                  }
                  done(std::move(observation));
                },
                true);
          });
        },
        true);
  });
}

}  // namespace rdns::audit
