#pragma once
/// Asynchronous DNS queries: c-ares 1.18 channels driven by a Boost.Asio
/// io_context on one thread, with a bound on queries in flight and an
/// optional queries-per-second cap. No call blocks.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <ares.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sys/socket.h>
#include <sys/uio.h>

#include "dns_message.hpp"
#include "inline_function.hpp"
#include "post_once.hpp"

namespace rdns::audit {

/// How a query ended.
enum class ReplyStatus {
  noerror,      ///< a response with RCODE 0 (may have no answer records)
  nxdomain,     ///< RCODE 3
  servfail,     ///< RCODE 2
  refused,      ///< RCODE 5
  other_rcode,  ///< any other RCODE (FORMERR, NOTIMP, ...)
  timeout,      ///< no response after every try
  unreachable,  ///< the resolver refused the connection (ICMP) on every try
  malformed,    ///< a response that could not be parsed, or is no answer to the question
};

struct Reply {
  ReplyStatus status = ReplyStatus::timeout;
  dns::Message message;
  int tries = 0;        ///< timeouts c-ares counted before the outcome
  std::string problem;  ///< for malformed: why the response is no answer
};

/// How long a resolver takes to answer, from queries answered at their
/// first copy (Karn's rule), smoothed as TCP does (RFC 6298). Channels to
/// the same resolvers may share one.
class RoundTripEstimate {
 public:
  void add(std::chrono::steady_clock::duration sample);
  std::uint64_t samples() const { return samples_; }
  /// TCP's retransmission timeout: the smoothed round trip plus four times
  /// its variation.
  std::chrono::steady_clock::duration retransmit_after() const;

 private:
  double smoothed_ = 0;  ///< seconds
  double variation_ = 0;
  std::uint64_t samples_ = 0;
};

struct ResolverOptions {
  /// "IP", "IP:PORT", "[IPv6]:PORT"; empty means the system's resolv.conf.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2000};  ///< first try; c-ares doubles it per round
  int tries = 3;
  std::size_t max_in_flight = 100;
  /// Above max_in_flight: the window starts at max_in_flight and, while
  /// answers come back clean and faster, may grow up to this many queries
  /// in flight (see Resolver::adapt_window).
  /// 0 (or not above max_in_flight): max_in_flight is a hard cap.
  std::size_t window_ceiling = 0;
  double max_qps = 0;  ///< 0: no cap
  /// A query still unanswered well past the resolver's usual round trip is
  /// asked once more (see Resolver::retry_late_queries) instead of waiting
  /// for its timeout; under max_qps, only when the cap has room.
  bool early_retry = true;
  /// Shared with other channels to the same resolvers; none: its own.
  std::shared_ptr<RoundTripEstimate> round_trips{};
};

/// Why a query gave no usable answer ("SERVFAIL", "no answer after 3
/// tries", ...), for findings.
std::string describe_failure(const Reply& reply);

/// Validates one --resolver value and returns it in c-ares' CSV form;
/// throws rdns::Error(Errc::usage) naming the value.
std::string normalize_resolver(const std::string& text);

/// A c-ares channel on an io_context.
class Resolver {
 public:
  /// Small captures (a few pointers and numbers) are kept inline: a query
  /// costs no allocation for its callback.
  using Callback = InlineFunction<void(Reply&&)>;

  Resolver(boost::asio::io_context& io, const ResolverOptions& options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  /// Queues a query; `done` runs on the io_context thread. With `congestion`
  /// false its losses do not shrink the window: for queries expected to go
  /// unanswered (a zone suspected dead), whose silence says nothing of load.
  /// With `screened`, the reply passes the screen (set_screen) first.
  void query(const DnsName& name, dns::RrType type, Callback done, bool congestion = true,
             bool screened = false);

  /// Sees every reply to a screened query before its callback, and
  /// withholds it from the callback by returning false. One screen for all
  /// spares wrapping each query's callback in another (an allocation each).
  using Screen = std::function<bool(const Reply& reply, dns::RrType type, bool congestion)>;
  void set_screen(Screen screen) { screen_ = std::move(screen); }

  /// The servers in use, as "IP:PORT".
  std::vector<std::string> servers() const;
  std::uint64_t queries_sent() const { return queries_sent_; }
  /// Queries answered with any DNS response (the resolver is alive).
  std::uint64_t responses() const { return responses_; }
  std::size_t in_flight() const { return in_flight_; }
  /// The time the current round of answers began to be read: one clock
  /// read for all of them, not one per answer (the round takes well under
  /// a millisecond). Outside such a round, now.
  std::chrono::steady_clock::time_point round_time() const;
  /// The current adaptive limit on queries in flight (at most the ceiling:
  /// window_ceiling when that is above max_in_flight, else max_in_flight).
  double window() const { return window_; }
  /// The most queries that were ever in flight at once.
  std::size_t peak_in_flight() const { return peak_in_flight_; }
  /// How often losses halved the window.
  std::uint64_t halvings() const { return halvings_; }
  /// Queries asked once more before their timeout because they were late.
  std::uint64_t early_retries() const { return early_retries_; }
  std::size_t queued() const { return queue_.size(); }
  /// When the query that has waited longest for its answer was sent, among
  /// those in flight whose losses count (see query()); none when all of
  /// them are answered. A wait of more than a try's timeout means c-ares
  /// has already sent the query again: a try was lost.
  std::optional<std::chrono::steady_clock::time_point> oldest_unanswered() const;

  /// Drops every queued query and abandons those in flight: nothing more is
  /// sent and no callback of theirs runs. For ending a run at once.
  void cancel_all();

 private:
  struct Watcher;
  struct PendingQuery {
    Callback done;
    DnsName name;
    dns::RrType type;
    bool congestion;
    bool screened;
  };
  /// What c-ares carries for a query in flight, until it is answered or
  /// given up and c-ares has ended every copy of it that was sent (the first
  /// and an early retry); recycled through spare_.
  struct InFlight {
    Resolver* resolver;
    PendingQuery query;
    std::chrono::steady_clock::time_point sent{};  ///< its latest copy
    int copies = 1;                                ///< sent copies c-ares has not ended yet
    int early_copies = 0;                          ///< early retries sent
    std::chrono::steady_clock::time_point first_sent{};
    bool delivered = false;      ///< answered or given up (or the run was cancelled)
    bool in_age_list = false;    ///< on age_list_ or late_
    std::uint64_t sequence = 0;  ///< its place in sent_, when it counts for congestion
  };
  /// A query whose losses count, in the order they were sent.
  struct Sent {
    std::chrono::steady_clock::time_point at;
    bool answered = false;
  };

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
  // c-ares' socket functions (ares_set_socket_functions): its UDP datagrams
  // wait in the outbox and leave in one sendmmsg() per socket and round
  // (flush_outbox), instead of a system call (and often a context switch
  // to the server) each.
  static ares_socket_t open_socket(int family, int type, int protocol, void* data);
  static int close_socket(ares_socket_t fd, void* data);
  static int connect_socket(ares_socket_t fd, const sockaddr* address, ares_socklen_t length,
                            void* data);
  static ares_ssize_t receive(ares_socket_t fd, void* buffer, size_t length, int flags,
                              sockaddr* from, ares_socklen_t* from_length, void* data);
  static ares_ssize_t send_vector(ares_socket_t fd, const iovec* vector, int count, void* data);
  void flush_outbox();
  /// Reads what waits on a UDP socket with one recvmmsg() into the inbox.
  bool fill_inbox(ares_socket_t fd);
  /// flush_outbox() after the handlers ready now, which may send more.
  void flush_later();
  void send_datagrams(ares_socket_t fd, std::size_t first, std::size_t end);
  static void on_reply(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void watch(ares_socket_t fd, bool readable, bool writable);
  void arm(const std::shared_ptr<Watcher>& watcher);
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void reschedule_timeout();
  void pump();
  /// pump() after the callbacks of this round of answers, once for all.
  void pump_later();
  void send(PendingQuery&& query);
  void send_copy(InFlight* query);
  void adapt_window(bool lost);
  void mark_answered(std::uint64_t sequence);
  void note_round_trip(std::chrono::steady_clock::time_point sent);
  void arm_early_retry();
  void retry_late_queries();
  void release(InFlight* query);
  void unlist(InFlight* query);
  void unlist_all();
  void refill_tokens();
  std::uint16_t next_query_id();

  boost::asio::io_context& io_;
  ares_channel channel_ = nullptr;
  boost::asio::steady_timer timeout_timer_;
  boost::asio::steady_timer rate_timer_;
  boost::asio::steady_timer retry_timer_;
  std::unordered_map<ares_socket_t, std::shared_ptr<Watcher>> watchers_;
  /// Queries waiting for room in the window, first in first out: a vector
  /// and the place of its front, so its room is kept (a deque allocates a
  /// block every few queries as the queue moves along).
  class QueryQueue {
   public:
    bool empty() const { return front_ == items_.size(); }
    std::size_t size() const { return items_.size() - front_; }
    PendingQuery& front() { return items_[front_]; }
    void push_back(PendingQuery&& query) { items_.push_back(std::move(query)); }
    void pop_front() {
      if (++front_ == items_.size()) return clear();
      // A queue that never empties drops what it has passed now and then.
      if (front_ >= kCompactAfter && 2 * front_ >= items_.size()) {
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(front_));
        front_ = 0;
      }
    }
    void clear() {
      items_.clear();
      front_ = 0;
    }

   private:
    static constexpr std::size_t kCompactAfter = 1024;
    std::vector<PendingQuery> items_;
    std::size_t front_ = 0;
  };
  QueryQueue queue_;
  /// InFlight records of answered queries, reused: no allocation per query.
  std::vector<std::unique_ptr<InFlight>> spare_;
  /// A reply for on_reply() to fill, with the room of the names and lists
  /// of an earlier one (one per callback running at once: a callback's
  /// query may end another inside c-ares).
  std::unique_ptr<Reply> take_reply();
  std::vector<std::unique_ptr<Reply>> spare_replies_;
  /// A copy of `name` in the room of an ended query's name.
  DnsName copy_name(const DnsName& name);
  std::vector<DnsName> spare_names_;
  std::string packet_;  ///< the query being sent; its room is kept
  /// When the current round of sends began: one clock read per round.
  std::chrono::steady_clock::time_point round_now_{};
  /// Inside process(): round_now_ is when its round of answers began.
  bool in_round_ = false;
  PostOnce pump_post_;
  struct Datagram {
    ares_socket_t fd;  ///< ARES_SOCKET_BAD once c-ares closed the socket
    std::size_t offset;
    std::size_t size;
  };
  std::vector<Datagram> outbox_;
  PostOnce flush_post_;
  std::string outbox_bytes_;  ///< the outbox's datagrams, one after the other
  std::vector<ares_socket_t> udp_sockets_;
  /// Sockets whose send reported an ICMP error (ECONNREFUSED): their next
  /// receive reports it to c-ares, as its own send would have.
  std::vector<ares_socket_t> refused_;
  std::vector<mmsghdr> messages_;  ///< sendmmsg()'s arguments, their room kept
  std::vector<iovec> vectors_;
  /// Datagrams read ahead from one UDP socket, handed to c-ares one per
  /// receive() as if read one by one.
  struct Inbox {
    static constexpr std::size_t kSlots = 64;
    static constexpr std::size_t kSlotSize = 4097;  ///< c-ares 1.18's own read buffer
    ares_socket_t fd = ARES_SOCKET_BAD;
    std::size_t next = 0;
    std::size_t count = 0;
    std::vector<char> bytes = std::vector<char>(kSlots * kSlotSize);
    std::array<mmsghdr, kSlots> messages{};
    std::array<iovec, kSlots> vectors{};
    std::array<sockaddr_storage, kSlots> senders{};
  };
  Inbox inbox_;
  Screen screen_;
  std::size_t max_in_flight_;
  double ceiling_;  ///< the window never grows past this
  double max_qps_;
  std::chrono::milliseconds first_try_timeout_;
  static constexpr double kMinWindow = 4;
  double window_;  ///< queries allowed in flight now, adapted to losses
  /// Probing for the resolver's capacity (a ceiling above the start, no
  /// loss yet, answers still coming faster): the window doubles after each
  /// round at a fixed size that brought a worthwhile gain.
  bool probing_ = false;
  /// A round trip's worth of clean answers (and at least kMinProbeRound)
  /// at one window size while probing: how fast they came, to tell whether
  /// a larger window still brings more answers.
  struct ProbeRound {
    std::chrono::steady_clock::time_point started;
    double window = 0;  ///< the window when the round began; 0: none yet
    std::uint64_t answers = 0;
    std::size_t fullest = 0;  ///< most queries in flight seen during the round
  };
  void note_probe_answer();
  /// A round counts only when the window was used (not when the auditor had
  /// too little to ask), and a larger window is worth keeping only when it
  /// brings a quarter more answers per second; after three rounds that do
  /// not, the resolver is queueing, not answering faster (as TCP BBR judges).
  static constexpr double kUsedShare = 0.8;
  static constexpr double kWorthwhileGain = 1.25;
  static constexpr int kRoundsWithoutGain = 3;
  /// Shorter rounds measure the scheduler (a burst read at once, a thread
  /// woken late), not the resolver.
  static constexpr std::chrono::milliseconds kMinProbeRound{20};
  ProbeRound round_;
  double best_rate_ = 0;    ///< clean answers per second, of the best round
  double best_window_ = 0;  ///< the window of that round
  int rounds_without_gain_ = 0;
  /// What the window regrows to after a loss: the ceiling, or the window
  /// beyond which probing found no more answers per second.
  double capacity_;
  std::chrono::steady_clock::time_point last_decrease_{};
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_refill_;
  bool rate_timer_armed_ = false;
  bool timer_armed_ = false;
  bool pumping_ = false;
  bool destroying_ = false;
  bool cancelling_ = false;
  /// Random query IDs, refilled from getrandom() a block at a time.
  std::array<std::uint16_t, 128> query_ids_{};  // 256 bytes: getrandom() fills them whole
  std::size_t query_ids_left_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t peak_in_flight_ = 0;
  /// Early retries: queries that may get one, oldest first. A query leaves
  /// the list when it is retried or found answered, so the list holds about
  /// one retry delay's worth of queries.
  bool early_retry_;
  std::deque<InFlight*> age_list_;
  /// Late queries not retried yet because retries were held back.
  std::deque<InFlight*> late_;
  bool retry_timer_armed_ = false;
  std::shared_ptr<RoundTripEstimate> round_trips_;
  /// Not before this many samples, nor sooner than kMinRetryDelay, nor when
  /// the retry could not come before half the first try's timeout.
  static constexpr std::uint64_t kMinRttSamples = 16;
  static constexpr std::chrono::milliseconds kMinRetryDelay{100};
  /// Each waits twice as long as the one before, and all come before
  /// c-ares' own retry.
  static constexpr int kMaxEarlyRetries = 3;
  std::uint64_t early_retries_ = 0;
  std::uint64_t halvings_ = 0;
  /// The send times of queries whose losses count, oldest first; the
  /// answered ones at the front are dropped as they are answered, so the
  /// longest wait is known without walking the queries in flight.
  std::deque<Sent> sent_;
  std::uint64_t first_sent_ = 0;  ///< the sequence number of sent_.front()
  std::uint64_t queries_sent_ = 0;
  std::uint64_t responses_ = 0;
};

}  // namespace rdns::audit
