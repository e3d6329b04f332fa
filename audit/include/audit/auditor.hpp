#pragma once
/// The audit engine: walks a TargetSet, resolves each IP's PTR and the
/// forward records of every PTR name through c-ares on an Asio event loop,
/// and hands each classified result to a callback as soon as it is ready.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <audit/classify.hpp>
#include <audit/observation.hpp>
#include <audit/rules.hpp>
#include <audit/sources.hpp>
#include <audit/targets.hpp>
#include <db/database.hpp>

namespace rdns::audit {

/// The opt-in SMTP banner and EHLO check.
struct SmtpOptions {
  std::uint16_t port = 25;
  std::string helo_name;                    ///< the name sent with EHLO
  std::chrono::milliseconds timeout{5000};  ///< per step: connect, each reply
  std::size_t concurrency = 20;             ///< SMTP conversations at once
  /// PEM file of the CAs a STARTTLS certificate must chain to; empty: the
  /// system's store.
  std::string ca_file;
};

struct AuditOptions {
  /// "IP", "IP:PORT" or "[IPv6]:PORT"; empty: the system's resolv.conf.
  std::vector<std::string> resolvers;
  std::chrono::milliseconds timeout{1000};  ///< first try; c-ares doubles it each round
  int retries = 3;                          ///< tries after the first
  std::size_t concurrency = 100;            ///< DNS queries in flight at the start
  /// Above `concurrency`: while answers come back clean the window grows
  /// past `concurrency` up to this many queries in flight (and shrinks on
  /// timeouts and SERVFAILs as always). 0 or not above it: `concurrency` is
  /// a hard cap.
  std::size_t concurrency_ceiling = 0;
  double qps = 0;  ///< queries per second at most; 0: no cap
  /// Signals that end a run at once: nothing more is sent, and addresses
  /// still in flight are left unreported (a resumed run audits them).
  std::vector<int> stop_signals;
  std::chrono::milliseconds progress_interval{250};
  /// When set, each address also gets the SMTP check (HELO_* findings).
  std::optional<SmtpOptions> smtp;
  /// Ask every enabled blocklist of the rules about each address (--dnsbl).
  bool dnsbl = false;
  /// Ask these lists (zones of the rules' [[dnsbl]] tables, enabled or not)
  /// instead; an unknown zone is Errc::usage.
  std::vector<std::string> dnsbl_lists;
  /// The key for lists queried under KEY.key_zone (Spamhaus DQS). Secret:
  /// it is part of query names only, never of findings or messages.
  std::string dnsbl_key;
  /// Only the PTR step: which reverse names exist and what they say; the
  /// PTR names get no A/AAAA lookup (FORWARD_NOT_CHECKED instead).
  bool ptr_only = false;
  /// The port of https://mta-sts.DOMAIN/ when a --domain's MTA-STS policy
  /// is fetched: 443 but for tests and port-forwarding proxies.
  std::uint16_t mta_sts_port = 443;
  /// PEM CA certificates that HTTPS servers (MTA-STS policy hosts) are
  /// checked against; empty: the system's store.
  std::string ca_file;
};

/// One audited IP: what DNS said and what it means.
struct IpResult {
  IpObservation observation;
  Verdict verdict;
  std::vector<TargetSource> sources;  ///< empty for addresses given directly
};

struct AuditSummary {
  std::uint64_t addresses = 0;
  std::uint64_t queries = 0;
  std::uint64_t responses = 0;  ///< queries that got any DNS response
  std::uint64_t usable = 0;     ///< responses that answered (NOERROR, NXDOMAIN)
  /// The most DNS queries in flight at once on the main channel: how far
  /// the window grew.
  std::size_t peak_in_flight = 0;
  /// How often the window was halved for timeouts or SERVFAILs: a resolver
  /// that drops or rate-limits queries drives it down.
  std::uint64_t window_halvings = 0;
  /// Queries asked again before their timeout because they were late
  /// compared with the resolver's round trips (most likely lost).
  std::uint64_t early_retries = 0;
  /// Set when the circuit breaker ended the run: the resolver gave no usable
  /// answer for too long. Says what it saw.
  std::string resolver_failure;
  int stopped_by_signal = 0;  ///< the signal that ended the run early, or 0
};

/// Runs audits; one instance owns one resolver channel.
class Auditor {
 public:
  /// Throws rdns::Error(Errc::usage) for a malformed resolver.
  Auditor(const AuditOptions& options, Rules rules);
  ~Auditor();
  Auditor(const Auditor&) = delete;
  Auditor& operator=(const Auditor&) = delete;

  /// Called on the run's thread about every progress_interval with the
  /// number of addresses finished so far.
  void set_progress(std::function<void(std::uint64_t finished)> on_progress);

  /// Called on the run's thread with what the user should know about the
  /// run as a whole (a blocklist that failed its self-test), once each.
  void set_warning(std::function<void(const std::string&)> on_warning);

  /// Back-pressure from the consumer of results: while `may_start` (asked on
  /// the run's thread) returns false no new address starts; those in
  /// progress go on. Call wake() once it may have turned true.
  void set_admission(std::function<bool()> may_start);

  /// From any thread: asks `may_start` again and starts what it allows.
  void wake();

  /// Called on the run's thread once the results of one round of the event
  /// loop (the answers that arrived together) went to `on_result`, before
  /// the loop waits again: a consumer that collects results hands them on
  /// here, in one go instead of one at a time.
  void set_round_end(std::function<void()> on_round_end);

  /// From any thread: no new address starts; those in progress finish and
  /// are handed over, then run() returns.
  void stop();

  /// The resolvers in use, as "IP:PORT".
  std::vector<std::string> resolvers() const;

  /// Audits every address of `targets`; `on_result` runs once per address,
  /// in completion order, on the calling thread. When it throws, no further
  /// address starts or is handed over and run() rethrows the exception.
  /// `sources`, when given, says where addresses came from (domains).
  AuditSummary run(const TargetSet& targets, const std::function<void(IpResult&&)>& on_result,
                   const SourceIndex* sources = nullptr);

 private:
  class Engine;
  std::unique_ptr<Engine> engine_;
};

/// The storage and output form of a result: names escaped, codes as text.
/// The rvalue form moves the findings' text and the sources instead of
/// copying them.
db::ResultRecord to_record(IpResult&& result);
db::ResultRecord to_record(const IpResult& result);

}  // namespace rdns::audit
