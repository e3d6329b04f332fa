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
#include <util/error.hpp>
#include <util/escape.hpp>

#include "blocklists.hpp"
#include "dns_message.hpp"
#include "post_once.hpp"
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
/// Up to this many PTR values, duplicates are found by comparing names.
constexpr std::size_t kFewPtrNames = 8;
/// Addresses held back under zone cuts that have not answered yet, at most,
/// so memory stays bounded whatever the size of the range (an address is
/// all that is kept for each).
constexpr std::size_t kMaxParked = std::size_t{1} << 16;
/// Unusable replies in a row, with no usable one yet in the run, after
/// which the resolver gets one health check before the run is given up.
constexpr std::uint64_t kBreakerFailures = 8;
/// Usable answers between two updates of the health check's question.
constexpr std::uint64_t kHealthCheckRefresh = 1024;

/// Ancestors of a reverse name that may be zone cuts, nearest first: every
/// in-addr.arpa ancestor below in-addr.arpa itself, and ip6.arpa ancestors
/// on 16-bit boundaries.
std::vector<DnsName> probe_names(const DnsName& name) {
  const std::size_t count = name.label_count();
  std::vector<DnsName> probes;
  const bool ip6 = count >= 2 && name.parent(count - 2) == DnsName::from_dotted("ip6.arpa");
  for (std::size_t drop = 1; drop + 3 <= count && probes.size() < 6; ++drop) {
    const std::size_t remaining = count - drop;
    if (ip6 && (remaining - 2) % 4 != 0) continue;
    probes.push_back(name.parent(drop));
  }
  return probes;
}

/// The zone cut an address's reverse name most likely sits under: its /24
/// (in-addr.arpa) or /64 (ip6.arpa), the usual delegation boundaries. Kept
/// as the address's first 3 or 8 bytes, not as the cut's name: it is looked
/// up for every address.
struct CutKey {
  std::uint64_t prefix = 0;
  bool ip6 = false;
  friend bool operator==(const CutKey&, const CutKey&) = default;
};

struct CutKeyHash {
  std::size_t operator()(const CutKey& key) const noexcept {
    // Fibonacci hashing spreads neighbouring prefixes over the buckets.
    return static_cast<std::size_t>((key.prefix ^ (key.ip6 ? 1ULL << 63 : 0)) *
                                    0x9e3779b97f4a7c15ULL);
  }
};

CutKey cut_key(const IpAddress& ip) {
  const bool ip6 = ip.family() == Family::ipv6;
  CutKey key{0, ip6};
  for (std::size_t i = 0; i < (ip6 ? 8 : 3); ++i) key.prefix = key.prefix << 8 | ip.bytes()[i];
  return key;
}

/// An answer about the name: the resolver works and the zone answered.
bool usable(const Reply& reply) {
  return reply.status == ReplyStatus::noerror || reply.status == ReplyStatus::nxdomain;
}

/// A failure that says more about the resolver's load or a dead server than
/// about the name, and so deserves another try before a verdict.
bool retryable(const Reply& reply) {
  return reply.status == ReplyStatus::servfail || reply.status == ReplyStatus::timeout;
}

}  // namespace

/// The event loop, the resolver and the per-IP lookups of one run.
///
/// Addresses are grouped by the zone cut their reverse name most likely sits
/// under. Until a cut has answered, one lookup at a time goes under it, so a
/// dead delegation holds one query, not the whole window. A SERVFAIL or
/// timeout gets no verdict in the main pass: the address is tried again in a
/// later pass with fewer lookups at once, when the resolver is no longer busy
/// with the rest of the range. A cut whose first lookup failed is confirmed
/// with one more lookup and, if that fails while a parent zone answers,
/// every address under it is settled as lame without a query each. While
/// lookups elsewhere succeed (no sign of congestion since the first lookup
/// began), the confirmation is one try at once, through a channel of its
/// own, so a dead delegation costs one timeout schedule plus one try;
/// otherwise it waits for the later pass and gets the whole schedule. A
/// silent one-try probe is evidence only while the main channel is not
/// losing queries: a resolver that rate-limits drops the probe as it drops
/// the others. So when the zone nearest the cut was silent and a lookup
/// elsewhere was retried or timed out since the confirmation began, or one
/// has waited half a try's timeout unanswered, the cut is not judged lame
/// on that try: the later pass confirms it with the whole schedule.
class Auditor::Engine {
 public:
  Engine(const AuditOptions& options, Rules rules)
      : rules_(std::move(rules)),
        resolver_(io_, ResolverOptions{.servers = options.resolvers,
                                       .timeout = options.timeout,
                                       .tries = options.retries + 1,
                                       .max_in_flight = options.concurrency,
                                       .window_ceiling = options.concurrency_ceiling,
                                       .max_qps = options.qps,
                                       .round_trips = round_trips_}),
        // A tenth of the cap on top of the main channel's keeps --qps
        // within 10 %; confirmations are a handful per dead delegation, a
        // quarter of what the main channel may reach, so the dead cuts found
        // by a grown window are confirmed together, in one try's time.
        confirmer_(
            io_,
            ResolverOptions{.servers = options.resolvers,
                            .timeout = options.timeout,
                            .tries = 1,
                            .max_in_flight = std::max<std::size_t>(
                                1, std::max(options.concurrency, options.concurrency_ceiling) / 4),
                            .max_qps = options.qps > 0 ? std::max(1.0, options.qps / 10) : 0,
                            .round_trips = round_trips_}),
        max_jobs_(std::max<std::size_t>(1, options.concurrency)),
        gentle_jobs_(std::max<std::size_t>(1, max_jobs_ / 4)),
        first_try_(options.timeout),
        schedule_(options.timeout * ((1 << (std::clamp(options.retries, 0, 20) + 1)) - 1)),
        stop_signals_(options.stop_signals),
        progress_interval_(options.progress_interval),
        progress_timer_(io_),
        smtp_(options.smtp),
        ptr_only_(options.ptr_only) {
    const auto screen_reply = [this](const Reply& reply, RrType type, bool congestion) {
      return screen(reply, type, congestion);
    };
    resolver_.set_screen(screen_reply);
    confirmer_.set_screen(screen_reply);
    if (options.dnsbl || !options.dnsbl_lists.empty()) {
      std::vector<DnsblList> lists;
      for (const DnsblList& list : rules_.dnsbls) {
        const bool named = std::find(options.dnsbl_lists.begin(), options.dnsbl_lists.end(),
                                     list.zone) != options.dnsbl_lists.end();
        if (options.dnsbl_lists.empty() ? list.enabled : named) lists.push_back(list);
      }
      for (const std::string& zone : options.dnsbl_lists) {
        if (std::none_of(lists.begin(), lists.end(),
                         [&](const DnsblList& list) { return list.zone == zone; })) {
          std::string known;
          for (const DnsblList& list : rules_.dnsbls)
            known += (known.empty() ? "" : ", ") + list.zone;
          throw Error(Errc::usage, fmt::format("--dnsbl-list {}: no such list in the rules (they "
                                               "have: {})",
                                               escape_text(zone), known));
        }
      }
      refuse_public_resolvers(resolver_.servers());
      blocklists_.emplace(
          io_, std::move(lists), options.dnsbl_key,
          [this](const DnsName& name, RrType type, std::function<void(const Reply&)> done,
                 bool proven) { ask(name, type, std::move(done), proven); });
    }
  }

  std::vector<std::string> resolvers() const { return resolver_.servers(); }
  void set_progress(std::function<void(std::uint64_t)> on_progress) {
    on_progress_ = std::move(on_progress);
  }
  void set_admission(std::function<bool()> may_start) { may_start_ = std::move(may_start); }
  void set_round_end(std::function<void()> on_round_end) {
    on_round_end_ = std::move(on_round_end);
  }
  void set_warning(std::function<void(const std::string&)> on_warning) {
    on_warning_ = std::move(on_warning);
  }
  void wake() {
    asio::post(io_, [this] { advance(); });
  }
  /// No address starts any more; those in progress finish and are handed over.
  void stop_starting() {
    asio::post(io_, [this] {
      no_new_ = true;
      advance();
    });
  }

  AuditSummary run(const TargetSet& targets, const std::function<void(IpResult&&)>& on_result,
                   const SourceIndex* sources) {
    sources_ = sources != nullptr && !sources->empty() ? sources : nullptr;
    TargetSet::Cursor cursor = targets.cursor();
    cursor_ = &cursor;
    on_result_ = &on_result;
    summary_ = {};
    const std::uint64_t queries_before = resolver_.queries_sent() + confirmer_.queries_sent();
    const std::uint64_t responses_before = resolver_.responses() + confirmer_.responses();
    const std::uint64_t halvings_before = resolver_.halvings();
    const std::uint64_t early_retries_before = resolver_.early_retries();
    exhausted_ = false;
    stopping_ = false;
    no_new_ = false;
    gentle_ = false;
    last_usable_time_ = std::chrono::steady_clock::now();
    last_congestion_.reset();
    last_loss_.reset();
    failures_in_row_ = 0;
    io_.restart();
    if (!stop_signals_.empty()) {
      signals_.emplace(io_);
      for (const int signal : stop_signals_) signals_->add(signal);
      wait_for_signal();
    }
    progress_running_ = on_progress_ != nullptr;
    if (progress_running_) arm_progress();
    if (blocklists_ && !blocklists_->empty()) {
      // No address is judged against a list before the list has proven it
      // answers honestly.
      blocklists_tested_ = false;
      blocklists_->self_test([this] {
        blocklists_tested_ = true;
        if (on_warning_) {
          for (const auto& [zone, why] : blocklists_->untrusted()) {
            on_warning_(
                fmt::format("blocklist {} is not asked in this run: {}", escape_text(zone), why));
          }
        }
        advance();
      });
    }
    advance();
    io_.run();
    // A stopped loop drops what was posted: the caller hands on the rest.
    round_end_post_.reset();
    advance_post_.reset();
    signals_.reset();
    paused_.reset();
    cursor_ = nullptr;
    summary_.queries = resolver_.queries_sent() + confirmer_.queries_sent() - queries_before;
    summary_.responses = resolver_.responses() + confirmer_.responses() - responses_before;
    summary_.peak_in_flight = resolver_.peak_in_flight();
    summary_.window_halvings = resolver_.halvings() - halvings_before;
    summary_.early_retries = resolver_.early_retries() - early_retries_before;
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    return summary_;
  }

 private:
  class JobPool;
  struct Cut;

  /// The lookups of one IP; shared by its outstanding callbacks, and reused
  /// for a later IP once the last of them is done with it.
  struct Job {
    IpObservation observation;
    std::vector<TargetSource> sources;
    std::size_t forwards_pending = 0;
    DnsName reverse;      ///< the PTR name asked first
    CutKey cut;           ///< cut_key() of the address
    Cut* zone = nullptr;  ///< cuts_[cut]: the map's entries stay where they are
    std::chrono::steady_clock::time_point started;
    bool active = false;         ///< counted in active_
    bool retried = false;        ///< this is the later, gentler attempt
    bool lookup_failed = false;  ///< a SERVFAIL or timeout on the way: worth another try
    bool blocklisted = false;    ///< the blocklists were asked
    std::size_t references = 0;  ///< JobPtr handles to it
    JobPool* pool = nullptr;     ///< where it goes when the last handle does
  };

  /// A counted handle to a Job, as shared_ptr but with no allocation per
  /// Job and no atomic count (everything runs on the loop's thread): the
  /// last handle to go hands the Job back to its pool.
  class JobPtr {
   public:
    JobPtr() = default;
    explicit JobPtr(Job* job) noexcept : job_(job) {
      if (job_ != nullptr) ++job_->references;
    }
    // noexcept: a lambda that captures a `const JobPtr&` copies it when moved,
    // and only a lambda that moves without throwing is kept inline.
    JobPtr(const JobPtr& other) noexcept : JobPtr(other.job_) {}
    JobPtr(JobPtr&& other) noexcept : job_(std::exchange(other.job_, nullptr)) {}
    JobPtr& operator=(JobPtr other) noexcept {
      std::swap(job_, other.job_);
      return *this;
    }
    ~JobPtr() {
      if (job_ != nullptr && --job_->references == 0) job_->pool->recycle(job_);
    }
    Job* operator->() const { return job_; }

   private:
    Job* job_ = nullptr;
  };

  /// Jobs no address uses, with the room their names and lists had.
  class JobPool {
   public:
    JobPtr take() {
      if (spare_.empty()) spare_.push_back(std::make_unique<Job>());
      Job* job = spare_.back().release();
      spare_.pop_back();
      job->pool = this;
      return JobPtr(job);
    }
    void recycle(Job* job) {
      job->observation = {};
      job->sources.clear();
      job->forwards_pending = 0;
      job->active = job->retried = job->lookup_failed = job->blocklisted = false;
      spare_.emplace_back(job);
    }

   private:
    std::vector<std::unique_ptr<Job>> spare_;
  };

  /// What the run has learnt about one presumed zone cut.
  struct Cut {
    enum class State {
      unproven,    ///< nothing asked under it yet
      pioneering,  ///< its first lookup is in flight; the others wait
      healthy,     ///< it answered: lookups go under it freely
      suspect,     ///< its first lookup failed; confirmed in the later pass
      confirming,  ///< a confirmation is in flight
      lame,        ///< its servers do not answer while a parent does
    };
    State state = State::unproven;
    bool quick = false;  ///< the confirmation in flight is the one-try one
    /// When the one-try confirmation began: losses after it make its
    /// silences no evidence.
    std::chrono::steady_clock::time_point confirm_started;
    JobPtr pioneer;
    std::vector<IpAddress> parked;
    DnsName lame_below;
    std::string failure;
  };

  struct Probe {
    bool done = false;
    bool answered = false;
    std::vector<std::function<void(bool)>> waiters;
  };

  /// What the zones above a failing name said, gathered for one judgement.
  struct ProbeAnswers {
    std::vector<DnsName> probes;  ///< nearest first
    std::vector<bool> answered;
    std::size_t pending = 0;
  };

  void wait_for_signal() {
    signals_->async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      // Nothing more is sent: what is in flight is dropped, and audited
      // again when the run is resumed.
      summary_.stopped_by_signal = signal;
      stop();
    });
  }

  void arm_progress() {
    progress_timer_.expires_after(progress_interval_);
    progress_timer_.async_wait([this](const boost::system::error_code& ec) {
      // cancel() cannot take back a wait that has already completed: at the
      // end of a run this handler may still come, and arming the timer
      // again would keep the event loop (and the run) alive for good.
      if (ec || !progress_running_) return;
      on_progress_(summary_.addresses);
      arm_progress();
    });
  }

  /// Ends the run now: no query is sent after this, and no answer still on
  /// its way is used. May be called from inside a c-ares callback, which
  /// must not re-enter c-ares: the cancellation runs next on the loop.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    asio::post(io_, [this] {
      resolver_.cancel_all();
      confirmer_.cancel_all();
      if (signals_) signals_->cancel();
      progress_running_ = false;
      progress_timer_.cancel();
      io_.stop();
    });
  }

  /// Sends a query, and counts what came back towards the circuit breaker.
  /// `congestion`: whether a loss should shrink the window (not for queries
  /// into a zone that may be dead, whose silence says nothing of load) and
  /// counts as a sign of congestion. `quick`: one try, for a confirmation.
  void ask(const DnsName& name, RrType type, Resolver::Callback done, bool congestion = true,
           bool quick = false) {
    if (stopping_) return;
    (quick ? confirmer_ : resolver_).query(name, type, std::move(done), congestion, true);
  }

  /// What every reply to ask() goes through before its callback.
  bool screen(const Reply& reply, RrType type, bool congestion) {
    observe(reply, type);
    if (congestion && (retryable(reply) || reply.tries > 0)) {
      const auto now = std::chrono::steady_clock::now();
      if (reply.tries > 0 || reply.status == ReplyStatus::timeout) last_loss_ = now;
      if (retryable(reply)) last_congestion_ = now;
    }
    return !stopping_;
  }

  /// Whether a lookup expected to work has failed since `since`: then a
  /// failure under an unproven cut may be the resolver's load, not the zone.
  bool congested_since(std::chrono::steady_clock::time_point since) const {
    return last_congestion_ && *last_congestion_ >= since;
  }

  /// Whether the main channel has lost a query since `since`, or is waiting
  /// for one now that a healthy answer would have brought long ago: then a
  /// one-try query's silence in that time may be the same loss (a resolver
  /// that rate-limits drops whatever exceeds its limit, ours or not). Half
  /// a try's timeout, not a whole one, so the queries a limit drops just
  /// after a one-try probe count by the time that probe has timed out; an
  /// answer from a resolver that is not dropping takes milliseconds.
  bool losing_queries_since(std::chrono::steady_clock::time_point since) const {
    const auto now = std::chrono::steady_clock::now();
    const auto oldest = resolver_.oldest_unanswered();
    return (last_loss_ && *last_loss_ >= since) || (oldest && now - *oldest >= first_try_ / 2);
  }

  /// The circuit breaker: a resolver that has given no usable answer for a
  /// whole timeout schedule, or only failures from the start, is asked once
  /// more for something it answered before (or the root); if that fails
  /// too, the run stops instead of judging every address on non-answers.
  void observe(const Reply& reply, RrType type) {
    const auto now = resolver_.round_time();
    if (usable(reply)) {
      ++summary_.usable;
      failures_in_row_ = 0;
      last_usable_time_ = now;
      // A usable reply answers its one question (reply_problem checked it).
      // Any recent answer serves the health check: refreshing it now and
      // then spares a name copy per answer.
      if (!last_answered_ || summary_.usable % kHealthCheckRefresh == 0) {
        last_answered_ = std::make_pair(reply.message.questions.front().name, type);
      }
      return;
    }
    ++failures_in_row_;
    last_failure_ = describe_failure(reply);
    if (health_check_running_) return;
    const bool never_answered = summary_.usable == 0;
    if (!(never_answered && failures_in_row_ >= kBreakerFailures) &&
        now - last_usable_time_ < schedule_) {
      return;
    }
    health_check_running_ = true;
    const auto [check_name, check_type] =
        last_answered_.value_or(std::make_pair(DnsName(), RrType::ns));
    resolver_.query(
        check_name, check_type,
        [this, started = now](Reply&& check) {
          health_check_running_ = false;
          if (usable(check)) {
            ++summary_.usable;
            failures_in_row_ = 0;
            last_usable_time_ = std::chrono::steady_clock::now();
            asio::post(io_, [this] { advance(); });
            return;
          }
          const auto silent = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                            std::min(started, last_usable_time_));
          summary_.resolver_failure = fmt::format(
              "no usable answer for {:.1f} s ({} failed queries in a row, the last: {}; "
              "health check: {})",
              silent.count(), failures_in_row_, last_failure_, describe_failure(check));
          stop();
        },
        false);
  }

  /// Starts what can start; when nothing is in flight, begins the next
  /// pass: confirm suspect cuts, go on with the range, retry failures.
  void advance() {
    // While the health check runs, the resolver looks dead: no address
    // starts until it has answered (then advance() runs again).
    if (stopping_ || !blocklists_tested_ || health_check_running_) return;
    fill();
    if (active_ != 0) return;
    if (!no_new_ && (!ready_.empty() || !released_.empty())) return;
    // After stop_starting(), what has not started is left for --resume.
    if (!no_new_ && !suspects_.empty()) {
      gentle_ = true;
      for (const CutKey& key : suspects_) {
        Cut& cut = cuts_[key];
        cut.state = Cut::State::confirming;
        retry(cut.pioneer);
        // The zones above are asked at the same time as the cut itself, so
        // a confirmation costs one timeout schedule, not three.
        for (const DnsName& name : probe_names(cut.pioneer->reverse)) run_probe(name, [](bool) {});
        ready_.push_back(std::move(cut.pioneer));
      }
      suspects_.clear();
      return fill();
    }
    if (!no_new_ && !exhausted_ && parked_ < kMaxParked) {
      gentle_ = false;
      return fill();
    }
    if (!no_new_ && !retry_.empty()) {
      gentle_ = true;
      for (JobPtr& job : retry_) ready_.push_back(std::move(job));
      retry_.clear();
      return fill();
    }
    // Done: cancel the waits that would otherwise keep the event loop running.
    paused_.reset();
    if (signals_) signals_->cancel();
    progress_running_ = false;
    progress_timer_.cancel();
  }

  void fill() {
    IpAddress ip;
    while (!stopping_ && !no_new_ && active_ < job_limit()) {
      if (may_start_ && !may_start_()) {
        // The consumer is behind: start nothing until wake(), keeping the loop alive.
        if (!paused_) paused_.emplace(io_.get_executor());
        return;
      }
      if (!ready_.empty()) {
        JobPtr job = std::move(ready_.front());
        ready_.pop_front();
        begin(job);
        continue;
      }
      if (!released_.empty() && !reading_ahead()) {
        begin(make_job(released_.front()));
        released_.pop_front();
        continue;
      }
      if (exhausted_ || parked_ >= kMaxParked || cursor_ == nullptr) break;
      if (!cursor_->next(ip)) {
        exhausted_ = true;
        continue;  // what was released still starts
      }
      dispatch(ip);
    }
  }

  /// Whether new addresses start before those released under a cut that
  /// answered: so every cut of the range gets its first lookup early, and a
  /// dead delegation's timeout schedule runs alongside the rest of the range
  /// instead of after the cuts before it. What is held back stays bounded.
  bool reading_ahead() const {
    return !exhausted_ && cursor_ != nullptr && parked_ + released_.size() < kMaxParked;
  }

  /// Addresses in progress at most: enough to fill the main channel's window
  /// when it has grown past its start, fewer in the gentle pass.
  std::size_t job_limit() const {
    if (gentle_) return gentle_jobs_;
    return std::max(max_jobs_, static_cast<std::size_t>(resolver_.window()));
  }

  JobPtr make_job(const IpAddress& ip) {
    const CutKey key = cut_key(ip);
    return make_job(ip, key, cuts_[key]);
  }

  /// `key` and `cut` as dispatch() found them: once per address.
  JobPtr make_job(const IpAddress& ip, CutKey key, Cut& cut) {
    JobPtr job = jobs_.take();
    job->observation.ip = ip;
    DnsName::assign_reverse(ip, job->reverse);
    job->cut = key;
    job->zone = &cut;
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
    return job;
  }

  /// Starts a new address, or holds it back while its cut is unproven.
  void dispatch(const IpAddress& ip) {
    const CutKey key = cut_key(ip);
    Cut& cut = cuts_[key];
    switch (cut.state) {
      case Cut::State::unproven:
        cut.state = Cut::State::pioneering;
        return begin(make_job(ip, key, cut));
      case Cut::State::healthy:
        return begin(make_job(ip, key, cut));
      case Cut::State::lame:
        return settle_lame(make_job(ip, key, cut), cut);
      case Cut::State::pioneering:
      case Cut::State::suspect:
      case Cut::State::confirming:
        cut.parked.push_back(ip);
        ++parked_;
        return;
    }
  }

  void begin(const JobPtr& job) {
    job->started = std::chrono::steady_clock::now();
    job->active = true;
    ++active_;
    query_ptr(job, job->reverse, 0);
  }

  void deactivate(const JobPtr& job) {
    if (!job->active) return;
    job->active = false;
    --active_;
    // Once for every address of this round that ended.
    advance_post_.post(io_, [this] { advance(); });
  }

  /// Clears what the first attempt saw, for the later one.
  static void retry(const JobPtr& job) {
    IpObservation fresh;
    fresh.ip = job->observation.ip;
    fresh.expected_names = std::move(job->observation.expected_names);
    job->observation = std::move(fresh);
    job->forwards_pending = 0;
    job->lookup_failed = false;
    job->blocklisted = false;
    job->retried = true;
  }

  void defer(const JobPtr& job) {
    retry(job);
    retry_.push_back(job);
    deactivate(job);
  }

  /// The cut answered: the addresses held back under it may go.
  void cut_answered(Cut& cut) {
    if (cut.state == Cut::State::healthy) return;
    cut.state = Cut::State::healthy;
    parked_ -= cut.parked.size();
    released_.insert(released_.end(), cut.parked.begin(), cut.parked.end());
    cut.parked = {};
  }

  void settle_lame(const JobPtr& job, const Cut& cut) {
    PtrObservation& ptr = job->observation.ptr;
    ptr.outcome = Outcome::tempfail;
    ptr.failure = cut.failure + " (not asked again: its delegation is lame in this run)";
    ptr.lame_below = cut.lame_below;
    finish(job);
  }

  void query_ptr(const JobPtr& job, const DnsName& qname, int depth) {
    const Cut& cut = *job->zone;
    const bool proven = depth > 0 || cut.state == Cut::State::healthy;
    const bool quick = depth == 0 && cut.state == Cut::State::confirming && cut.quick;
    ask(
        qname, RrType::ptr, [this, job, depth](const Reply& reply) { on_ptr(job, depth, reply); },
        proven, quick);
  }

  /// The name a reply answers, without a copy kept per query: a usable
  /// reply repeats it (reply_problem checked that), and the first query of
  /// a lookup (depth 0) asked `first`.
  static const DnsName& asked(const Reply& reply, const DnsName& first) {
    return usable(reply) ? reply.message.questions.front().name : first;
  }

  /// The cut's first lookup failed while lookups elsewhere worked: ask once
  /// more now, one try, with the zones above it, instead of in the later pass.
  void confirm_now(const JobPtr& job, Cut& cut) {
    cut.state = Cut::State::confirming;
    cut.quick = true;
    cut.confirm_started = std::chrono::steady_clock::now();
    retry(job);
    for (const DnsName& name : probe_names(job->reverse))
      run_probe(
          name, [](bool) {}, true);
    query_ptr(job, job->reverse, 0);
  }

  void on_ptr(const JobPtr& job, int depth, const Reply& reply) {
    // Only a usable reply or the first query's failure needs the name.
    const DnsName& qname = asked(reply, job->reverse);
    PtrObservation& ptr = job->observation.ptr;
    // Any reply but a SERVFAIL or timeout shows the cut is not dead.
    if (depth == 0 && !retryable(reply)) cut_answered(*job->zone);
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
        // Nearly every address has one PTR: the set of seen names is only
        // built for the few with many.
        std::unordered_set<std::string> seen;
        const bool many = chain.records.size() > kFewPtrNames;
        for (const dns::Record* record : chain.records) {
          ptr.ttl = std::min(ptr.ttl, record->ttl);
          const bool repeated = many ? !seen.insert(record->target.key()).second
                                     : std::find(ptr.names.begin(), ptr.names.end(),
                                                 record->target) != ptr.names.end();
          if (repeated) continue;
          ++ptr.names_total;
          if (ptr.names.size() < kMaxPtrNames) ptr.names.push_back(record->target);
        }
        if (ptr_only_) {
          job->observation.forward_skipped = true;
          return finish(job);
        }
        return start_forward(job);
      }
      if (chain.dangling) {
        if (depth >= kMaxRequeries) {
          ptr.outcome = Outcome::tempfail;
          ptr.failure = "CNAME chain too long";
          return finish(job);
        }
        return query_ptr(job, *chain.final_name, depth + 1);
      }
      ptr.outcome = Outcome::nodata;
      return finish(job);
    }
    ptr.outcome = Outcome::tempfail;
    ptr.failure = describe_failure(reply);
    // REFUSED and the like are the resolver's own policy: no retry helps.
    if (!retryable(reply)) return finish(job);
    Cut& cut = *job->zone;
    if (depth == 0 && cut.state == Cut::State::pioneering) {
      if (!congested_since(job->started)) return confirm_now(job, cut);
      // The cut's first lookup failed while the resolver struggled: it and
      // the addresses under it wait for the later pass, which tells a dead
      // delegation from congestion.
      cut.state = Cut::State::suspect;
      cut.pioneer = job;
      suspects_.push_back(job->cut);
      return deactivate(job);
    }
    if (depth == 0 && cut.state == Cut::State::confirming) return diagnose_lame(job, qname);
    if (!job->retried) return defer(job);
    finish(job);
  }

  /// The cut failed twice. Asks every ancestor that may be a zone cut (the
  /// answers were asked for when the confirmation started): the cut is lame
  /// only when the nearest ancestor fails too while a higher one answers.
  /// When the nearest answers, the zone works and the failure belongs to
  /// this one name (a CNAME loop, a broken chain).
  void diagnose_lame(const JobPtr& job, const DnsName& qname) {
    const bool quick = job->zone->quick;
    auto answers = std::make_shared<ProbeAnswers>();
    answers->probes = probe_names(qname);
    answers->answered.assign(answers->probes.size(), false);
    answers->pending = answers->probes.size();
    if (answers->pending == 0) return judge_cut(job, *answers);
    for (std::size_t i = 0; i < answers->probes.size(); ++i) {
      run_probe(
          answers->probes[i],
          [this, job, answers, i](bool answered) {
            answers->answered[i] = answered;
            if (--answers->pending == 0) judge_cut(job, *answers);
          },
          quick);
    }
  }

  void judge_cut(const JobPtr& job, const ProbeAnswers& answers) {
    Cut& cut = *job->zone;
    const auto first = std::find(answers.answered.begin(), answers.answered.end(), true);
    const bool nearest_silent = first != answers.answered.begin();
    if (cut.quick && (first == answers.answered.end() ||
                      (nearest_silent && losing_queries_since(cut.confirm_started)))) {
      // Nothing answered one quick try, or the zones nearest the cut did
      // not while the resolver was dropping queries: no evidence either
      // way, so the later pass confirms with the whole schedule.
      cut.quick = false;
      cut.state = Cut::State::suspect;
      cut.pioneer = job;
      suspects_.push_back(job->cut);
      return deactivate(job);
    }
    if (first == answers.answered.begin() || first == answers.answered.end()) {
      // The zone answers, or nothing does (the resolver's trouble, not the
      // zone's): the others under the cut get a lookup each.
      cut_answered(cut);
      return finish(job);
    }
    const DnsName& parent =
        answers.probes[static_cast<std::size_t>(first - answers.answered.begin())];
    cut.state = Cut::State::lame;
    cut.lame_below = parent;
    cut.failure = job->observation.ptr.failure;
    job->observation.ptr.lame_below = parent;
    parked_ -= cut.parked.size();
    const std::vector<IpAddress> parked = std::move(cut.parked);
    cut.parked = {};
    finish(job);
    for (const IpAddress& other : parked) settle_lame(make_job(other), cut);
  }

  /// Asks once per run whether a zone answers (SOA): the answer is shared by
  /// every address that needs it. A `quick` probe (one try) is kept apart:
  /// its silence is weaker evidence than a whole schedule's.
  void run_probe(const DnsName& name, std::function<void(bool)> done, bool quick = false) {
    const std::string key = (quick ? "quick " : "") + name.key();
    Probe& probe = probes_[key];
    if (probe.done) return done(probe.answered);
    probe.waiters.push_back(std::move(done));
    if (probe.waiters.size() > 1) return;
    ask(
        name, RrType::soa,
        [this, key](const Reply& reply) {
          Probe& finished = probes_[key];
          finished.done = true;
          finished.answered = usable(reply);
          auto waiters = std::move(finished.waiters);
          finished.waiters.clear();
          for (auto& waiter : waiters) waiter(finished.answered);
        },
        false, quick);
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
    ask(qname, type, [this, job, index, type, depth](const Reply& reply) {
      on_forward(job, index, type, depth, reply);
    });
  }

  void on_forward(const JobPtr& job, std::size_t index, RrType type, int depth,
                  const Reply& reply) {
    ForwardObservation& forward = job->observation.forward[index];
    // Only a usable reply needs the name.
    const DnsName& qname = asked(reply, forward.name);
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
      if (retryable(reply)) job->lookup_failed = true;
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
      return query_forward(job, index, *chain.final_name, type, depth + 1);
    }
    settle(Outcome::nodata);
  }

  void forward_done(const JobPtr& job) {
    if (--job->forwards_pending == 0) finish(job);
  }

  /// DNS is done; the SMTP check, when asked for, comes next.
  void finish(const JobPtr& job) {
    if (job->lookup_failed && !job->retried) return defer(job);
    if (blocklists_ && !job->blocklisted) {
      job->blocklisted = true;
      return blocklists_->check(job->observation.ip,
                                [this, job](std::vector<DnsblObservation>&& observations) {
                                  job->observation.dnsbl = std::move(observations);
                                  finish(job);
                                });
    }
    if (!smtp_ || job->observation.smtp) return complete(job);
    smtp_waiting_.push_back(job);
    start_smtp();
  }

  void start_smtp() {
    while (!smtp_waiting_.empty() && smtp_active_ < std::max<std::size_t>(1, smtp_->concurrency)) {
      JobPtr job = std::move(smtp_waiting_.front());
      smtp_waiting_.pop_front();
      ++smtp_active_;
      // The names a certificate should cover: the host the address serves
      // (an MX host), then its PTR names.
      std::vector<std::string> names = job->observation.expected_names;
      for (const DnsName& name : job->observation.ptr.names) names.push_back(name.presentation());
      probe_smtp(io_, job->observation.ip, *smtp_, std::move(names),
                 [this, job](SmtpObservation&& observation) {
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
    // state twice: keep it, end the run, and rethrow from run().
    if (!failure_) {
      try {
        (*on_result_)(std::move(result));
      } catch (...) {
        failure_ = std::current_exception();
        stop();
      }
      // After the rest of this round's answers.
      if (on_round_end_) round_end_post_.post(io_, [this] { on_round_end_(); });
    }
    deactivate(job);
  }

  /// First: the handles that the loop's handlers and the members below
  /// hold give their Jobs back to it when they go.
  JobPool jobs_;
  asio::io_context io_;
  Rules rules_;
  /// Both channels ask the same resolvers: the confirmations, a handful,
  /// judge lateness by the main channel's many answers.
  std::shared_ptr<RoundTripEstimate> round_trips_ = std::make_shared<RoundTripEstimate>();
  Resolver resolver_;
  Resolver confirmer_;  ///< one try per query: confirmations of a dead cut
  std::size_t max_jobs_;
  std::size_t gentle_jobs_;              ///< lookups at once in the later passes
  std::chrono::milliseconds first_try_;  ///< one try's timeout
  std::chrono::milliseconds schedule_;   ///< one query's whole timeout schedule
  std::size_t active_ = 0;
  bool exhausted_ = false;
  bool stopping_ = false;
  bool no_new_ = false;  ///< stop_starting() was called
  bool gentle_ = false;
  std::unordered_map<CutKey, Cut, CutKeyHash> cuts_;
  std::size_t parked_ = 0;
  std::deque<JobPtr> ready_;        ///< to start before new addresses
  std::deque<IpAddress> released_;  ///< parked under a cut that answered
  std::vector<CutKey> suspects_;    ///< cuts to confirm in the next pass
  std::vector<JobPtr> retry_;       ///< addresses for the later pass
  std::uint64_t failures_in_row_ = 0;
  std::chrono::steady_clock::time_point last_usable_time_;
  /// The last SERVFAIL or timeout of a lookup expected to work.
  std::optional<std::chrono::steady_clock::time_point> last_congestion_;
  /// The last lookup expected to work that went unanswered at least once
  /// (timed out, or answered only after c-ares sent it again).
  std::optional<std::chrono::steady_clock::time_point> last_loss_;
  std::optional<std::pair<DnsName, RrType>> last_answered_;
  std::string last_failure_;
  bool health_check_running_ = false;
  TargetSet::Cursor* cursor_ = nullptr;
  const std::function<void(IpResult&&)>* on_result_ = nullptr;
  const SourceIndex* sources_ = nullptr;
  std::unordered_map<std::string, Probe> probes_;
  AuditSummary summary_;
  std::vector<int> stop_signals_;
  std::function<void(std::uint64_t)> on_progress_;
  std::function<bool()> may_start_;
  std::function<void()> on_round_end_;
  PostOnce round_end_post_;
  PostOnce advance_post_;
  std::function<void(const std::string&)> on_warning_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> paused_;
  std::exception_ptr failure_;
  std::chrono::milliseconds progress_interval_;
  asio::steady_timer progress_timer_;
  bool progress_running_ = false;  ///< until the run ends: the timer may arm itself again
  std::optional<asio::signal_set> signals_;
  std::optional<SmtpOptions> smtp_;
  std::deque<JobPtr> smtp_waiting_;
  std::optional<BlocklistChecker> blocklists_;
  bool blocklists_tested_ = true;
  std::size_t smtp_active_ = 0;
  bool ptr_only_ = false;  ///< --ptr-only: no forward lookups
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

void Auditor::set_warning(std::function<void(const std::string&)> on_warning) {
  engine_->set_warning(std::move(on_warning));
}

void Auditor::set_admission(std::function<bool()> may_start) {
  engine_->set_admission(std::move(may_start));
}

void Auditor::wake() {
  engine_->wake();
}

void Auditor::set_round_end(std::function<void()> on_round_end) {
  engine_->set_round_end(std::move(on_round_end));
}

void Auditor::stop() {
  engine_->stop_starting();
}

AuditSummary Auditor::run(const TargetSet& targets,
                          const std::function<void(IpResult&&)>& on_result,
                          const SourceIndex* sources) {
  return engine_->run(targets, on_result, sources);
}

db::ResultRecord to_record(IpResult&& result) {
  db::ResultRecord record;
  const IpObservation& observation = result.observation;
  record.ip = observation.ip.to_string();
  record.family = std::string(to_string(observation.ip.family()));
  record.status = result.verdict.status;
  record.ptr.reserve(observation.ptr.names.size());
  for (const DnsName& name : observation.ptr.names) record.ptr.push_back(name.presentation());
  record.forward.reserve(observation.forward.size());
  for (const ForwardObservation& forward : observation.forward) {
    db::ForwardRecord entry;
    entry.name = forward.name.presentation();
    entry.addresses.reserve(forward.addresses.size());
    for (const IpAddress& address : forward.addresses)
      entry.addresses.push_back(address.to_string());
    record.forward.push_back(std::move(entry));
  }
  record.sources.reserve(result.sources.size());
  for (TargetSource& source : result.sources) {
    record.sources.push_back(db::SourceRecord{std::move(source.domain), std::move(source.via),
                                              std::move(source.expected_name)});
  }
  if (observation.smtp) {
    const SmtpObservation& smtp = *observation.smtp;
    record.smtp = db::SmtpRecord{smtp.greeted, escape_text(smtp.banner_name),
                                 escape_text(smtp.ehlo_name), escape_text(smtp.failure)};
  }
  record.findings.reserve(result.verdict.findings.size());
  for (Finding& finding : result.verdict.findings) {
    record.findings.push_back(db::FindingRecord{std::string(code_name(finding.code)),
                                                finding.severity, std::move(finding.detail)});
  }
  return record;
}

db::ResultRecord to_record(const IpResult& result) {
  return to_record(IpResult(result));
}

}  // namespace rdns::audit
