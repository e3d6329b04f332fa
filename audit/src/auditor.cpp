#include <algorithm>
#include <deque>
#include <exception>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <audit/auditor.hpp>

#include "dns_message.hpp"
#include "resolver.hpp"
#include "smtp_probe.hpp"

namespace rdns::audit {

namespace asio = boost::asio;
using dns::RrType;

namespace {

/// PTR values checked per address. A PTR record takes at least 16 bytes of
/// a message (2 for the compressed owner, 10 for type, class, TTL and
/// length, and on average 4 for a target that differs from every other), so
/// a 65,535-byte TCP answer holds at most about 4,094 distinct values: this
/// bound only ever cuts a list gathered from something larger.
constexpr std::size_t kMaxPtrNames = 4096;
constexpr int kMaxRequeries = 8;

/// Ancestors of a reverse name that may be zone cuts, nearest first: every
/// in-addr.arpa ancestor below in-addr.arpa itself, and ip6.arpa ancestors
/// on 16-bit boundaries.
std::vector<DnsName> probe_names(const DnsName& name) {
  const auto& labels = name.labels();
  std::vector<DnsName> probes;
  const bool ip6 = labels.size() >= 2 && DnsName({labels[labels.size() - 2], labels.back()}) ==
                                             DnsName::from_dotted("ip6.arpa");
  for (std::size_t drop = 1; drop + 3 <= labels.size() && probes.size() < 6; ++drop) {
    const std::size_t remaining = labels.size() - drop;
    if (ip6 && (remaining - 2) % 4 != 0) continue;
    probes.emplace_back(
        std::vector<std::string>(labels.begin() + static_cast<long>(drop), labels.end()));
  }
  return probes;
}

}  // namespace

/// The event loop, the resolver and the per-IP lookups of one run.
class Auditor::Engine {
 public:
  Engine(const AuditOptions& options, Rules rules)
      : rules_(std::move(rules)),
        resolver_(io_, ResolverOptions{options.resolvers, options.timeout, options.retries + 1,
                                       options.concurrency, options.qps}),
        max_jobs_(std::max<std::size_t>(1, options.concurrency)),
        stop_signals_(options.stop_signals),
        progress_interval_(options.progress_interval),
        progress_timer_(io_),
        smtp_(options.smtp) {}

  std::vector<std::string> resolvers() const { return resolver_.servers(); }
  void set_progress(std::function<void(std::uint64_t)> on_progress) {
    on_progress_ = std::move(on_progress);
  }
  void set_admission(std::function<bool()> may_start) { may_start_ = std::move(may_start); }
  void wake() {
    asio::post(io_, [this] {
      fill();
      finish_if_idle();
    });
  }
  void stop() {
    asio::post(io_, [this] {
      exhausted_ = true;
      finish_if_idle();
    });
  }

  AuditSummary run(const TargetSet& targets, const std::function<void(IpResult&&)>& on_result,
                   const SourceIndex* sources) {
    sources_ = sources != nullptr && !sources->empty() ? sources : nullptr;
    TargetSet::Cursor cursor = targets.cursor();
    cursor_ = &cursor;
    on_result_ = &on_result;
    summary_ = {};
    const std::uint64_t queries_before = resolver_.queries_sent();
    const std::uint64_t responses_before = resolver_.responses();
    exhausted_ = false;
    io_.restart();
    if (!stop_signals_.empty()) {
      signals_.emplace(io_);
      for (const int signal : stop_signals_) signals_->add(signal);
      wait_for_signal();
    }
    if (on_progress_) arm_progress();
    fill();
    finish_if_idle();
    io_.run();
    signals_.reset();
    paused_.reset();
    cursor_ = nullptr;
    summary_.queries = resolver_.queries_sent() - queries_before;
    summary_.responses = resolver_.responses() - responses_before;
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    return summary_;
  }

 private:
  /// The lookups of one IP; shared by its outstanding callbacks.
  struct Job {
    IpObservation observation;
    std::vector<TargetSource> sources;
    std::size_t forwards_pending = 0;
  };
  using JobPtr = std::shared_ptr<Job>;

  struct Probe {
    bool done = false;
    bool answered = false;
    std::vector<std::function<void(bool)>> waiters;
  };

  void wait_for_signal() {
    signals_->async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (summary_.stopped_by_signal != 0) {
        io_.stop();  // the second signal: do not wait for lookups in flight
        return;
      }
      summary_.stopped_by_signal = signal;
      exhausted_ = true;
      if (active_ != 0) wait_for_signal();
      finish_if_idle();
    });
  }

  void arm_progress() {
    progress_timer_.expires_after(progress_interval_);
    progress_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      on_progress_(summary_.addresses);
      arm_progress();
    });
  }

  /// Once nothing is left to start or finish, cancels the waits that would
  /// otherwise keep the event loop running.
  void finish_if_idle() {
    if (!exhausted_ || active_ != 0) return;
    paused_.reset();
    if (signals_) signals_->cancel();
    progress_timer_.cancel();
  }

  void fill() {
    IpAddress ip;
    while (active_ < max_jobs_ && !exhausted_ && cursor_ != nullptr) {
      if (may_start_ && !may_start_()) {
        // The consumer is behind: start nothing until wake(), keeping the loop alive.
        if (!paused_) paused_.emplace(io_.get_executor());
        return;
      }
      if (!cursor_->next(ip)) {
        exhausted_ = true;
        break;
      }
      ++active_;
      auto job = std::make_shared<Job>();
      job->observation.ip = ip;
      if (sources_ != nullptr) {
        job->sources = sources_->find(ip);
        for (const TargetSource& source : job->sources) {
          auto& expected = job->observation.expected_names;
          if (!source.expected_name.empty() &&
              std::find(expected.begin(), expected.end(), source.expected_name) == expected.end()) {
            expected.push_back(source.expected_name);
          }
        }
      }
      query_ptr(job, DnsName::from_dotted(ip.reverse_name()), 0);
    }
  }

  void query_ptr(const JobPtr& job, const DnsName& qname, int depth) {
    resolver_.query(qname, RrType::ptr,
                    [this, job, qname, depth](Reply&& reply) { on_ptr(job, qname, depth, reply); });
  }

  void on_ptr(const JobPtr& job, const DnsName& qname, int depth, const Reply& reply) {
    PtrObservation& ptr = job->observation.ptr;
    if (reply.status == ReplyStatus::noerror || reply.status == ReplyStatus::nxdomain) {
      const dns::Chain chain = dns::follow_chain(reply.message, qname, RrType::ptr);
      ptr.aliases.insert(ptr.aliases.end(), chain.aliases.begin(), chain.aliases.end());
      if (chain.loop) {
        ptr.outcome = Outcome::tempfail;
        ptr.failure = "CNAME loop";
        return finish(job);
      }
      if (reply.status == ReplyStatus::nxdomain) {
        ptr.outcome = Outcome::nxdomain;
        return finish(job);
      }
      if (!chain.records.empty()) {
        ptr.outcome = Outcome::found;
        ptr.ttl = chain.records.front()->ttl;
        std::unordered_set<std::string> seen;
        for (const dns::Record* record : chain.records) {
          ptr.ttl = std::min(ptr.ttl, record->ttl);
          if (!seen.insert(record->target.key()).second) continue;
          ++ptr.names_total;
          if (ptr.names.size() < kMaxPtrNames) ptr.names.push_back(record->target);
        }
        return start_forward(job);
      }
      if (chain.dangling) {
        if (depth >= kMaxRequeries) {
          ptr.outcome = Outcome::tempfail;
          ptr.failure = "CNAME chain too long";
          return finish(job);
        }
        return query_ptr(job, chain.final_name, depth + 1);
      }
      ptr.outcome = Outcome::nodata;
      return finish(job);
    }
    ptr.outcome = Outcome::tempfail;
    ptr.failure = describe_failure(reply);
    // Only a resolver that gave up on the zone (SERVFAIL) or never answered
    // can point at a lame delegation; REFUSED is the resolver's own policy.
    if (reply.status == ReplyStatus::servfail || reply.status == ReplyStatus::timeout) {
      return diagnose_lame(job, probe_names(qname), 0);
    }
    finish(job);
  }

  /// Walks up from the failing reverse name: the first ancestor that gets
  /// any answer shows the resolver works and the zone below it does not.
  void diagnose_lame(const JobPtr& job, std::vector<DnsName> probes, std::size_t index) {
    if (index >= probes.size()) return finish(job);
    const DnsName name = probes[index];
    run_probe(name, [this, job, probes = std::move(probes), index](bool answered) mutable {
      if (answered) {
        job->observation.ptr.lame_below = probes[index];
        return finish(job);
      }
      diagnose_lame(job, std::move(probes), index + 1);
    });
  }

  void run_probe(const DnsName& name, std::function<void(bool)> done) {
    Probe& probe = probes_[name.key()];
    if (probe.done) return done(probe.answered);
    probe.waiters.push_back(std::move(done));
    if (probe.waiters.size() > 1) return;
    resolver_.query(name, RrType::soa, [this, key = name.key()](Reply&& reply) {
      Probe& finished = probes_[key];
      finished.done = true;
      finished.answered =
          reply.status == ReplyStatus::noerror || reply.status == ReplyStatus::nxdomain;
      auto waiters = std::move(finished.waiters);
      for (auto& waiter : waiters) waiter(finished.answered);
    });
  }

  void start_forward(const JobPtr& job) {
    const IpObservation& observation = job->observation;
    job->observation.forward.resize(observation.ptr.names.size());
    for (std::size_t i = 0; i < observation.ptr.names.size(); ++i) {
      ForwardObservation& forward = job->observation.forward[i];
      forward.name = observation.ptr.names[i];
      // An invalid host name is already an error; its A record cannot fix it.
      if (host_name_problem(forward.name)) {
        forward.outcome = Outcome::skipped;
        continue;
      }
      ++job->forwards_pending;
    }
    if (job->forwards_pending == 0) return finish(job);
    for (std::size_t i = 0; i < job->observation.forward.size(); ++i) {
      if (job->observation.forward[i].outcome == Outcome::skipped) continue;
      query_forward(job, i, job->observation.forward[i].name, family_type(job, false), 0);
    }
  }

  static RrType family_type(const JobPtr& job, bool other) {
    const bool v4 = job->observation.ip.family() == Family::ipv4;
    return v4 != other ? RrType::a : RrType::aaaa;
  }

  void query_forward(const JobPtr& job, std::size_t index, const DnsName& qname, RrType type,
                     int depth) {
    resolver_.query(qname, type, [this, job, index, qname, type, depth](Reply&& reply) {
      on_forward(job, index, qname, type, depth, reply);
    });
  }

  void on_forward(const JobPtr& job, std::size_t index, const DnsName& qname, RrType type,
                  int depth, const Reply& reply) {
    ForwardObservation& forward = job->observation.forward[index];
    const bool other = type != family_type(job, false);
    const auto settle = [&](Outcome outcome, std::string failure = {}) {
      if (other) {
        forward.other_family = outcome;
      } else {
        forward.outcome = outcome;
        forward.failure = std::move(failure);
        // No address of the IP's family: ask whether the other family has one.
        if (outcome == Outcome::nodata) {
          return query_forward(job, index, forward.name, family_type(job, true), 0);
        }
      }
      forward_done(job);
    };

    if (reply.status != ReplyStatus::noerror && reply.status != ReplyStatus::nxdomain) {
      return settle(Outcome::tempfail, describe_failure(reply));
    }
    const dns::Chain chain = dns::follow_chain(reply.message, qname, type);
    if (!other)
      forward.aliases.insert(forward.aliases.end(), chain.aliases.begin(), chain.aliases.end());
    if (chain.loop) return settle(Outcome::tempfail, "CNAME loop");
    if (reply.status == ReplyStatus::nxdomain) return settle(Outcome::nxdomain);
    if (!chain.records.empty()) {
      if (!other) {
        forward.ttl = chain.records.front()->ttl;
        for (const dns::Record* record : chain.records) {
          forward.ttl = std::min(forward.ttl, record->ttl);
          if (record->address) forward.addresses.push_back(*record->address);
        }
      }
      return settle(Outcome::found);
    }
    if (chain.dangling) {
      if (depth >= kMaxRequeries) return settle(Outcome::tempfail, "CNAME chain too long");
      return query_forward(job, index, chain.final_name, type, depth + 1);
    }
    settle(Outcome::nodata);
  }

  void forward_done(const JobPtr& job) {
    if (--job->forwards_pending == 0) finish(job);
  }

  /// DNS is done; the SMTP check, when asked for, comes next.
  void finish(const JobPtr& job) {
    if (!smtp_ || job->observation.smtp) return complete(job);
    smtp_waiting_.push_back(job);
    start_smtp();
  }

  void start_smtp() {
    while (!smtp_waiting_.empty() && smtp_active_ < std::max<std::size_t>(1, smtp_->concurrency)) {
      JobPtr job = std::move(smtp_waiting_.front());
      smtp_waiting_.pop_front();
      ++smtp_active_;
      probe_smtp(io_, job->observation.ip, *smtp_, [this, job](SmtpObservation&& observation) {
        --smtp_active_;
        job->observation.smtp = std::move(observation);
        complete(job);
        start_smtp();
      });
    }
  }

  void complete(const JobPtr& job) {
    IpResult result;
    result.verdict = classify(job->observation, rules_);
    result.observation = std::move(job->observation);
    result.sources = std::move(job->sources);
    ++summary_.addresses;
    // An exception must not unwind through c-ares, which would free its
    // state twice: keep it, start nothing new, and rethrow from run().
    if (!failure_) {
      try {
        (*on_result_)(std::move(result));
      } catch (...) {
        failure_ = std::current_exception();
        exhausted_ = true;
      }
    }
    --active_;
    asio::post(io_, [this] {
      fill();
      finish_if_idle();
    });
  }

  asio::io_context io_;
  Rules rules_;
  Resolver resolver_;
  std::size_t max_jobs_;
  std::size_t active_ = 0;
  bool exhausted_ = false;
  TargetSet::Cursor* cursor_ = nullptr;
  const std::function<void(IpResult&&)>* on_result_ = nullptr;
  const SourceIndex* sources_ = nullptr;
  std::unordered_map<std::string, Probe> probes_;
  AuditSummary summary_;
  std::vector<int> stop_signals_;
  std::function<void(std::uint64_t)> on_progress_;
  std::function<bool()> may_start_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> paused_;
  std::exception_ptr failure_;
  std::chrono::milliseconds progress_interval_;
  asio::steady_timer progress_timer_;
  std::optional<asio::signal_set> signals_;
  std::optional<SmtpOptions> smtp_;
  std::deque<JobPtr> smtp_waiting_;
  std::size_t smtp_active_ = 0;
};

Auditor::Auditor(const AuditOptions& options, Rules rules)
    : engine_(std::make_unique<Engine>(options, std::move(rules))) {}

Auditor::~Auditor() = default;

std::vector<std::string> Auditor::resolvers() const {
  return engine_->resolvers();
}

void Auditor::set_progress(std::function<void(std::uint64_t)> on_progress) {
  engine_->set_progress(std::move(on_progress));
}

void Auditor::set_admission(std::function<bool()> may_start) {
  engine_->set_admission(std::move(may_start));
}

void Auditor::wake() {
  engine_->wake();
}

void Auditor::stop() {
  engine_->stop();
}

AuditSummary Auditor::run(const TargetSet& targets,
                          const std::function<void(IpResult&&)>& on_result,
                          const SourceIndex* sources) {
  return engine_->run(targets, on_result, sources);
}

db::ResultRecord to_record(const IpResult& result) {
  db::ResultRecord record;
  const IpObservation& observation = result.observation;
  record.ip = observation.ip.to_string();
  record.family = std::string(to_string(observation.ip.family()));
  record.status = std::string(status_name(result.verdict.status));
  for (const DnsName& name : observation.ptr.names) record.ptr.push_back(name.presentation());
  for (const ForwardObservation& forward : observation.forward) {
    db::ForwardRecord entry;
    entry.name = forward.name.presentation();
    for (const IpAddress& address : forward.addresses)
      entry.addresses.push_back(address.to_string());
    record.forward.push_back(std::move(entry));
  }
  for (const TargetSource& source : result.sources) {
    record.sources.push_back(db::SourceRecord{source.domain, source.via, source.expected_name});
  }
  for (const Finding& finding : result.verdict.findings) {
    record.findings.push_back(db::FindingRecord{std::string(code_name(finding.code)),
                                                std::string(severity_name(finding.severity)),
                                                finding.detail});
  }
  return record;
}

}  // namespace rdns::audit
