#pragma once
/// Audits of the DNS lab that several test files run: the lab's sample of
/// mail addresses, and a paced audit of three whole reverse zones that lasts
/// long enough to be interrupted part-way.

#include <cstdint>
#include <string>
#include <vector>

#include <lab/dns_lab.hpp>

#include "test_paths.hpp"

namespace rdns::test {

/// The lab sample and a mail domain whose MX and SPF add addresses, as
/// jsonl, findings never failing the process; `extra` flags after the rest.
inline std::vector<std::string> sample_audit(const std::string& db,
                                             const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"audit",
                                   "--resolver",
                                   rdns::lab::shared_lab().resolver_address(),
                                   "--timeout",
                                   "0.4",
                                   "--retries",
                                   "1",
                                   "--format",
                                   "jsonl",
                                   "--fail-on",
                                   "never",
                                   "--db",
                                   db,
                                   "-i",
                                   std::string(source_dir()) + "/samples/mail-ips.txt",
                                   "--domain",
                                   "good.spf.example"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// How many addresses paced_audit audits.
inline constexpr std::int64_t kPacedTargets = 768;

/// 768 addresses (over 1,000 queries) in three reverse zones paced at 300
/// queries/s: the run lasts more than 3 s however fast the machine, long
/// enough to be killed part-way at several points. `extra` flags come
/// before the targets.
inline std::vector<std::string> paced_audit(const std::string& db,
                                            const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {
      "audit",     "--resolver", rdns::lab::shared_lab().resolver_address(),
      "--timeout", "0.4",        "--retries",
      "1",         "--qps",      "300",
      "--db",      db,           "--format",
      "jsonl",     "--fail-on",  "never"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"192.0.2.0/24", "198.51.100.0/24", "2001:db8::/120"});
  return args;
}

}  // namespace rdns::test
