#pragma once
// Audit options that point at the shared loopback lab, with timeouts short
// enough for tests (the lame-delegation case waits them out).

#include <chrono>

#include <audit/auditor.hpp>
#include <lab/dns_lab.hpp>

namespace rdns::test {

inline audit::AuditOptions lab_options() {
  audit::AuditOptions options;
  options.resolvers = {lab::shared_lab().resolver_address()};
  options.timeout = std::chrono::milliseconds(400);
  options.retries = 1;
  return options;
}

}  // namespace rdns::test
