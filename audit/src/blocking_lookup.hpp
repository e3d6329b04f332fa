#pragma once
/// One query at a time on a private event loop: for callers that ask a few
/// questions, each depending on the one before (domain expansion, the
/// provisioning checks), never thousands.

#include <optional>

#include <boost/asio/io_context.hpp>

#include <audit/auditor.hpp>

#include "resolver.hpp"

namespace rdns::audit {

/// A resolver channel whose ask() returns when its answer is in.
class BlockingLookup {
 public:
  explicit BlockingLookup(const AuditOptions& options)
      : resolver_(io_, ResolverOptions{.servers = options.resolvers,
                                       .timeout = options.timeout,
                                       .tries = options.retries + 1,
                                       .max_in_flight = options.concurrency,
                                       .max_qps = options.qps}) {}

  Reply ask(const DnsName& name, dns::RrType type) {
    std::optional<Reply> reply;
    resolver_.query(name, type, [&](Reply&& answer) { reply = std::move(answer); });
    io_.restart();
    while (!reply && io_.run_one() > 0) {
    }
    if (!reply) reply.emplace();  // the loop ran dry: treat as a timeout
    return std::move(*reply);
  }

 private:
  boost::asio::io_context io_;
  Resolver resolver_;
};

}  // namespace rdns::audit
