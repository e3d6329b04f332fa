// The resolver's record of its oldest unanswered query, which tells the
// auditor whether the resolver is dropping queries right now: a query into
// a resolver that drops everything is counted from the moment it is sent
// until its last try has timed out, and a query whose losses do not count
// (one into a zone that may be dead) is never counted.

#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <lab/scripted_resolver.hpp>

#include "../../audit/src/resolver.hpp"

using namespace rdns::audit;
using rdns::lab::ScriptedResolver;
using Clock = std::chrono::steady_clock;

namespace {

/// Runs the loop until `done` or two seconds have passed.
void run_until(boost::asio::io_context& io, const bool& done) {
  const auto give_up = Clock::now() + std::chrono::seconds(2);
  while (!done && Clock::now() < give_up) io.run_one_for(std::chrono::milliseconds(50));
}

}  // namespace

TEST_CASE("the resolver knows when its oldest unanswered query was sent") {
  ScriptedResolver dropping(ScriptedResolver::Behaviour::drop);
  boost::asio::io_context io;
  // One try of 300 ms, so a query ends as a timeout well within the test.
  Resolver resolver(
      io, ResolverOptions{{dropping.address()}, std::chrono::milliseconds(300), 1, 10, 0, 0});
  CHECK_FALSE(resolver.oldest_unanswered());
  const DnsName name = DnsName::from_dotted("mail.example.org");
  bool done = false;

  SECTION("queries whose losses count, each from its send until it has timed out") {
    const auto before = Clock::now();
    std::optional<Clock::time_point> first_sent;
    bool first_done = false;
    resolver.query(name, dns::RrType::a, [&](Reply&& reply) {
      CHECK(reply.status == ReplyStatus::timeout);
      // Forgotten when its answer is handed over: the second is the oldest now.
      const auto oldest = resolver.oldest_unanswered();
      REQUIRE(oldest);
      CHECK(*oldest > *first_sent);
      first_done = true;
    });
    first_sent = resolver.oldest_unanswered();
    REQUIRE(first_sent);
    CHECK(*first_sent >= before);
    CHECK(*first_sent <= Clock::now());
    io.run_for(std::chrono::milliseconds(20));
    // A query sent later does not make the first one younger.
    resolver.query(name, dns::RrType::aaaa, [&](Reply&& reply) {
      CHECK(reply.status == ReplyStatus::timeout);
      CHECK_FALSE(resolver.oldest_unanswered());
      done = true;
    });
    CHECK(resolver.oldest_unanswered() == first_sent);
    io.run_for(std::chrono::milliseconds(100));
    CHECK(resolver.oldest_unanswered() == first_sent);
    run_until(io, done);
    CHECK(first_done);
    CHECK(done);
    CHECK_FALSE(resolver.oldest_unanswered());
  }
  SECTION("a query whose silence says nothing of load is not counted") {
    resolver.query(
        name, dns::RrType::a, [&](Reply&&) { done = true; }, false);
    CHECK(resolver.in_flight() == 1);
    CHECK_FALSE(resolver.oldest_unanswered());
    run_until(io, done);
    CHECK(done);
  }
  CHECK(dropping.queries() > 0);
}
