#include "resolver.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <random>

#include <arpa/inet.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <sys/random.h>
#include <unistd.h>

#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::audit {

namespace asio = boost::asio;

/// One socket c-ares opened, watched for the directions c-ares asked for.
struct Resolver::Watcher {
  Watcher(asio::io_context& io, ares_socket_t socket) : fd(socket), descriptor(io, socket) {}
  ares_socket_t fd;
  asio::posix::stream_descriptor descriptor;
  bool want_read = false;
  bool want_write = false;
  bool read_armed = false;
  bool write_armed = false;
  bool closed = false;
};

namespace {

bool valid_port(std::string_view text) {
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && port > 0 &&
         port <= 65535;
}

bool is_address(const std::string& text, int family) {
  unsigned char buffer[16];
  return inet_pton(family, text.c_str(), buffer) == 1;
}

ReplyStatus status_from_rcode(int rcode) {
  switch (rcode) {
    case 0:
      return ReplyStatus::noerror;
    case 2:
      return ReplyStatus::servfail;
    case 3:
      return ReplyStatus::nxdomain;
    case 5:
      return ReplyStatus::refused;
    default:
      return ReplyStatus::other_rcode;
  }
}

}  // namespace

std::string describe_failure(const Reply& reply) {
  switch (reply.status) {
    case ReplyStatus::servfail:
      return "SERVFAIL";
    case ReplyStatus::refused:
      return "REFUSED";
    case ReplyStatus::timeout:
      return reply.tries == 1 ? std::string("no answer after 1 try")
                              : fmt::format("no answer after {} tries", reply.tries);
    case ReplyStatus::unreachable:
      return "resolver unreachable (connection refused)";
    case ReplyStatus::malformed:
      return reply.problem.empty() ? "malformed response" : "unusable response: " + reply.problem;
    case ReplyStatus::other_rcode:
      return fmt::format("RCODE {}", reply.message.rcode);
    case ReplyStatus::noerror:
    case ReplyStatus::nxdomain:
      break;
  }
  return "unexpected response";
}

std::string normalize_resolver(const std::string& text) {
  const auto fail = [&]() -> std::string {
    throw Error(Errc::usage, fmt::format("--resolver '{}': expected IP, IP:PORT or [IPv6]:PORT",
                                         escape_text(text)));
  };
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return fail();
    const std::string address = text.substr(1, close - 1);
    if (!is_address(address, AF_INET6)) return fail();
    if (close + 1 == text.size()) return "[" + address + "]:53";
    if (text[close + 1] != ':' || !valid_port(std::string_view(text).substr(close + 2))) {
      return fail();
    }
    return text;
  }
  if (is_address(text, AF_INET)) return text + ":53";
  if (is_address(text, AF_INET6)) return "[" + text + "]:53";
  const auto colon = text.rfind(':');
  if (colon != std::string::npos && is_address(text.substr(0, colon), AF_INET) &&
      valid_port(std::string_view(text).substr(colon + 1))) {
    return text;
  }
  return fail();
}

Resolver::Resolver(asio::io_context& io, const ResolverOptions& options)
    : io_(io),
      timeout_timer_(io),
      rate_timer_(io),
      retry_timer_(io),
      max_in_flight_(std::max<std::size_t>(1, options.max_in_flight)),
      ceiling_(static_cast<double>(std::max(max_in_flight_, options.window_ceiling))),
      max_qps_(options.max_qps),
      first_try_timeout_(options.timeout),
      window_(static_cast<double>(max_in_flight_)),
      probing_(ceiling_ > window_),
      capacity_(ceiling_),
      tokens_(1),
      last_refill_(std::chrono::steady_clock::now()),
      early_retry_(options.early_retry),
      round_trips_(options.round_trips ? options.round_trips
                                       : std::make_shared<RoundTripEstimate>()) {
  // Validate before the channel exists, so a bad value leaks nothing.
  std::string csv;
  for (const std::string& server : options.servers) {
    if (!csv.empty()) csv += ',';
    csv += normalize_resolver(server);
  }
  ares_options ares{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  // Responses are judged here (SERVFAIL and REFUSED are findings), so c-ares
  // must hand every response over instead of silently trying the next server.
  ares.flags = ARES_FLAG_NOCHECKRESP;
  ares.timeout = static_cast<int>(options.timeout.count());
  ares.tries = std::max(1, options.tries);
  ares.sock_state_cb = &Resolver::on_socket_state;
  ares.sock_state_cb_data = this;
  if (options.servers.size() > 1) mask |= ARES_OPT_ROTATE;
  if (const int status = ares_init_options(&channel_, &ares, mask); status != ARES_SUCCESS) {
    throw Error(Errc::resolver, fmt::format("cannot initialise c-ares: {}", ares_strerror(status)));
  }
  if (!csv.empty()) {
    if (const int status = ares_set_servers_ports_csv(channel_, csv.c_str());
        status != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw Error(Errc::usage,
                  fmt::format("cannot use resolvers '{}': {}", csv, ares_strerror(status)));
    }
  }
  // c-ares keeps the pointer: the functions live as long as the program.
  static constexpr ares_socket_functions kSocketFunctions{
      &Resolver::open_socket, &Resolver::close_socket, &Resolver::connect_socket,
      &Resolver::receive, &Resolver::send_vector};
  ares_set_socket_functions(channel_, &kSocketFunctions, this);
}

Resolver::~Resolver() {
  destroying_ = true;
  timeout_timer_.cancel();
  rate_timer_.cancel();
  retry_timer_.cancel();
  unlist_all();
  ares_destroy(channel_);  // fails outstanding queries with ARES_EDESTRUCTION
  for (auto& [fd, watcher] : watchers_) {
    watcher->closed = true;
    watcher->descriptor.release();
  }
}

std::vector<std::string> Resolver::servers() const {
  std::vector<std::string> result;
  ares_addr_port_node* nodes = nullptr;
  if (ares_get_servers_ports(channel_, &nodes) != ARES_SUCCESS) return result;
  for (const ares_addr_port_node* node = nodes; node != nullptr; node = node->next) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(node->family, &node->addr, text, sizeof text);
    const int port = node->udp_port == 0 ? 53 : node->udp_port;
    result.push_back(node->family == AF_INET6 ? fmt::format("[{}]:{}", text, port)
                                              : fmt::format("{}:{}", text, port));
  }
  ares_free_data(nodes);
  return result;
}

void Resolver::query(const DnsName& name, dns::RrType type, Callback done, bool congestion,
                     bool screened) {
  queue_.push_back(PendingQuery{std::move(done), copy_name(name), type, congestion, screened});
  // At once, so c-ares counts it in flight (with none, it closes its
  // sockets); its datagram leaves with the round's others (flush_later).
  pump();
}

DnsName Resolver::copy_name(const DnsName& name) {
  if (spare_names_.empty()) return name;
  DnsName copy = std::move(spare_names_.back());
  spare_names_.pop_back();
  copy = name;
  return copy;
}

void Resolver::send(PendingQuery&& query) {
  InFlight* context = nullptr;
  if (spare_.empty()) {
    context = new InFlight{this, std::move(query)};
  } else {
    context = spare_.back().release();
    spare_.pop_back();
    *context = InFlight{this, std::move(query)};
  }
  if (context->query.congestion) {
    context->sequence = first_sent_ + sent_.size();
    sent_.push_back(Sent{round_now_});
  }
  // Listed before it is sent: c-ares may end a query inside ares_send(),
  // and a listed query outlives that.
  if (early_retry_) {
    context->sent = round_now_;
    context->first_sent = round_now_;
    context->in_age_list = true;
    age_list_.push_back(context);
  }
  send_copy(context);
}

void Resolver::send_copy(InFlight* query) {
  dns::build_query(query->query.name, query->query.type, packet_);
  // c-ares 1.18 sends the ID it is given. A random one per query is what
  // makes a spoofed answer hard to guess, and it keeps c-ares' lookup of
  // the query an answer belongs to at one entry, not a walk over every
  // query in flight (all sharing one ID).
  const std::uint16_t id = next_query_id();
  packet_[0] = static_cast<char>(id >> 8);
  packet_[1] = static_cast<char>(id & 0xff);
  ares_send(channel_, reinterpret_cast<const unsigned char*>(packet_.data()),
            static_cast<int>(packet_.size()), &Resolver::on_reply, query);
}

void Resolver::release(InFlight* query) {
  if (query->copies == 0 && !query->in_age_list) spare_.emplace_back(query);
}

void Resolver::unlist(InFlight* query) {
  // A query c-ares still has a copy of is released when that copy ends.
  query->in_age_list = false;
  release(query);
}

void Resolver::unlist_all() {
  for (auto* list : {&age_list_, &late_}) {
    for (InFlight* query : *list) unlist(query);
    list->clear();
  }
}

void Resolver::pump() {
  if (pumping_ || destroying_) return;
  pumping_ = true;
  refill_tokens();
  round_now_ = round_time();
  const auto window = static_cast<std::size_t>(window_);
  while (!queue_.empty() && in_flight_ < window && (max_qps_ <= 0 || tokens_ >= 1)) {
    PendingQuery next = std::move(queue_.front());
    queue_.pop_front();
    if (max_qps_ > 0) tokens_ -= 1;
    peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
    ++queries_sent_;
    send(std::move(next));
  }
  arm_early_retry();
  if (!queue_.empty() && max_qps_ > 0 && tokens_ < 1 && !rate_timer_armed_) {
    rate_timer_armed_ = true;
    const auto wait = std::chrono::duration<double>((1 - tokens_) / max_qps_);
    rate_timer_.expires_after(std::chrono::duration_cast<std::chrono::microseconds>(wait));
    rate_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: `this` may be gone
      rate_timer_armed_ = false;
      pump();
    });
  }
  pumping_ = false;
  flush_later();
  reschedule_timeout();
}

void Resolver::refill_tokens() {
  if (max_qps_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  // A burst of at most a tenth of a second's worth keeps the cap honest
  // over any window longer than that.
  tokens_ = std::min(std::max(1.0, max_qps_ / 10), tokens_ + elapsed * max_qps_);
}

void Resolver::flush_later() {
  if (outbox_.empty()) return;
  flush_post_.post(io_, [this] { flush_outbox(); });
}

void Resolver::pump_later() {
  pump_post_.post(io_, [this] { pump(); });
}

void Resolver::on_reply(void* arg, int status, int timeouts, unsigned char* abuf, int alen) {
  auto* context = static_cast<InFlight*>(arg);
  Resolver& self = *context->resolver;
  --context->copies;
  const bool ended = status == ARES_EDESTRUCTION || status == ARES_ECANCELLED;
  // The first copy to bring a response decides, and so does the first to
  // give up: that is the one sent first, so its whole timeout schedule has
  // passed and the early retries' would only add their head start to it.
  if (context->delivered) {
    self.release(context);
    return;
  }
  context->delivered = true;
  --self.in_flight_;
  if (context->query.congestion) self.mark_answered(context->sequence);
  // What the callback needs moves out; a listed record keeps only its
  // bookkeeping until the early-retry scan passes it, then goes back for
  // the next query.
  PendingQuery query = std::move(context->query);
  const bool timed = timeouts == 0 && context->early_copies == 0;
  const auto sent = context->sent;
  self.release(context);
  if (self.destroying_ || self.cancelling_ || ended) return;

  std::unique_ptr<Reply> held = self.take_reply();
  Reply& reply = *held;
  reply.tries = timeouts;
  bool parsed = false;
  if (status == ARES_SUCCESS && abuf != nullptr) {
    ++self.responses_;
    if (timed) self.note_round_trip(sent);
    parsed = dns::parse_message(abuf, static_cast<std::size_t>(alen), reply.message);
    if (parsed) {
      const auto problem = dns::reply_problem(reply.message, query.name, query.type);
      reply.status = problem ? ReplyStatus::malformed : status_from_rcode(reply.message.rcode);
      if (problem) reply.problem = *problem;
    } else {
      reply.status = ReplyStatus::malformed;
    }
  } else if (status == ARES_ECONNREFUSED) {
    reply.status = ReplyStatus::unreachable;
  } else if (status == ARES_EBADRESP) {
    ++self.responses_;
    reply.status = ReplyStatus::malformed;
  } else {
    reply.status = ReplyStatus::timeout;
  }
  // A recursive resolver that SERVFAILs is as often congested (its request
  // list full of queries waiting on dead servers) as it is answering about
  // the name, so it counts as a loss, like a timeout.
  if (query.congestion) {
    self.adapt_window(timeouts > 0 || reply.status == ReplyStatus::timeout ||
                      reply.status == ReplyStatus::servfail);
  }
  // Nothing of an earlier reply may show through.
  if (!parsed) reply.message.clear();
  if (!query.screened || !self.screen_ || self.screen_(reply, query.type, query.congestion)) {
    query.done(std::move(reply));
  }
  self.spare_replies_.push_back(std::move(held));
  self.spare_names_.push_back(std::move(query.name));
  if (self.in_flight_ == 0 && self.queue_.empty()) {
    // An armed timer is the only thing that would keep the event loop alive
    // once the last answer is in: stop them, or the run ends up to one
    // timeout late. So would a first copy still waiting after its early
    // retry was answered: nothing waits for it any more.
    if (self.timer_armed_) {
      self.timeout_timer_.cancel();
      self.timer_armed_ = false;
    }
    if (self.retry_timer_armed_) {
      self.retry_timer_.cancel();
      self.retry_timer_armed_ = false;
    }
    asio::post(self.io_, [resolver = &self] {
      if (resolver->in_flight_ == 0 && resolver->queue_.empty()) resolver->cancel_all();
    });
  }
  // Deferred: c-ares must not be re-entered from inside its own callback.
  self.pump_later();
}

std::unique_ptr<Reply> Resolver::take_reply() {
  if (spare_replies_.empty()) return std::make_unique<Reply>();
  std::unique_ptr<Reply> reply = std::move(spare_replies_.back());
  spare_replies_.pop_back();
  reply->status = ReplyStatus::timeout;
  reply->tries = 0;
  reply->problem.clear();
  return reply;
}

void Resolver::note_round_trip(std::chrono::steady_clock::time_point sent) {
  if (sent == std::chrono::steady_clock::time_point{}) return;  // not timed
  round_trips_->add(round_time() - sent);
}

void RoundTripEstimate::add(std::chrono::steady_clock::duration sample) {
  const double seconds = std::chrono::duration<double>(sample).count();
  if (samples_++ == 0) {
    smoothed_ = seconds;
    variation_ = seconds / 2;
    return;
  }
  variation_ = 0.75 * variation_ + 0.25 * std::abs(smoothed_ - seconds);
  smoothed_ = 0.875 * smoothed_ + 0.125 * seconds;
}

std::chrono::steady_clock::duration RoundTripEstimate::retransmit_after() const {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(smoothed_ + 4 * variation_));
}

void Resolver::arm_early_retry() {
  if (retry_timer_armed_ || (age_list_.empty() && late_.empty()) || destroying_) return;
  retry_timer_armed_ = true;
  // Checked a few times per retry delay; a query is retried at most a
  // quarter of the delay late.
  retry_timer_.expires_after(std::max<std::chrono::steady_clock::duration>(
                                 kMinRetryDelay, round_trips_->retransmit_after()) /
                             4);
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: `this` may be gone
    retry_timer_armed_ = false;
    retry_late_queries();
    flush_later();
    reschedule_timeout();
    arm_early_retry();
  });
}

void Resolver::retry_late_queries() {
  // Against a resolver that answers in a few milliseconds, a query still
  // unanswered after many round trips was most likely lost (a full socket
  // buffer on either side drops datagrams without a trace). Asking once
  // more now costs one datagram; waiting costs the whole first-try timeout,
  // and a run whose other lookups are done waits for it. The delay follows
  // TCP's retransmission timeout (smoothed RTT + 4 × its variation). Not
  // while the window is shrinking for losses: a resolver that drops because
  // it is overloaded or rate-limits needs fewer queries, not more. Under a
  // --qps cap a retry counts against the cap like any query.
  refill_tokens();
  const auto now = std::chrono::steady_clock::now();
  const auto delay = std::max<std::chrono::steady_clock::duration>(
      kMinRetryDelay, round_trips_->retransmit_after());
  const bool allowed = round_trips_->samples() >= kMinRttSamples &&
                       delay <= first_try_timeout_ / 2 &&
                       now - last_decrease_ >= first_try_timeout_;
  const auto retry = [this, now, delay](InFlight* query) {
    // Ahead of the queries waiting to be sent: it borrows from the bucket,
    // which the next ones then wait to refill.
    if (max_qps_ > 0) tokens_ -= 1;
    ++query->early_copies;
    ++query->copies;
    ++early_retries_;
    ++queries_sent_;
    send_copy(query);
    // A retry may be lost too (the burst that lost the first copy may not
    // be over): it waits twice as long for its answer before the next, as
    // TCP backs off, while c-ares' own retry is still far.
    query->sent = now;
    const auto next = delay * (1 << query->early_copies);
    if (query->early_copies < kMaxEarlyRetries &&
        now + next - query->first_sent < first_try_timeout_) {
      age_list_.push_back(query);
    } else {
      unlist(query);
    }
  };
  // Late queries found while retries were held back wait apart (few: the
  // lost ones), so the answered ones sent after them need not stay listed;
  // once c-ares has tried one again by itself it needs no early retry.
  while (!late_.empty() &&
         (allowed || late_.front()->delivered || now - late_.front()->sent >= first_try_timeout_)) {
    InFlight* query = late_.front();
    late_.pop_front();
    if (!query->delivered && allowed) {
      retry(query);
    } else {
      unlist(query);
    }
  }
  // Retried queries go back to the end with a longer wait; the scan stops
  // at the first that is not due, which may hold a few newer ones up to
  // one more delay.
  const std::size_t due = age_list_.size();
  for (std::size_t scanned = 0; scanned < due && !age_list_.empty(); ++scanned) {
    InFlight* query = age_list_.front();
    if (!query->delivered && now - query->sent < delay * (1 << query->early_copies)) break;
    age_list_.pop_front();
    if (query->delivered) {
      unlist(query);
    } else if (allowed) {
      retry(query);
    } else {
      late_.push_back(query);
    }
  }
}

void Resolver::mark_answered(std::uint64_t sequence) {
  sent_[sequence - first_sent_].answered = true;
  while (!sent_.empty() && sent_.front().answered) {
    sent_.pop_front();
    ++first_sent_;
  }
}

std::optional<std::chrono::steady_clock::time_point> Resolver::oldest_unanswered() const {
  if (sent_.empty()) return std::nullopt;
  return sent_.front().at;
}

void Resolver::adapt_window(bool lost) {
  // As TCP does: a resolver that drops queries (its socket buffer
  // overflowed, or it rate-limits) gets half the window at once, at most once
  // per timeout period since the losses of one burst are reported together.
  // Until that first loss the window probes for the resolver's capacity in
  // rounds at a fixed size, doubling after each round that brought a quarter
  // more answers per second than the best so far (note_probe_answer); after
  // that, it grows by one query per round trip up to the capacity found, so
  // it hovers just below where the resolver starts to drop or queue, instead
  // of climbing straight back into the losses. Only a ceiling above the
  // start (an unset --concurrency) lets the window pass the start at all.
  if (lost) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_decrease_ >= first_try_timeout_) {
      window_ = std::max(kMinWindow, window_ / 2);
      last_decrease_ = now;
      ++halvings_;
      probing_ = false;
    }
    return;
  }
  if (probing_) {
    note_probe_answer();
    return;
  }
  window_ = std::min(capacity_, window_ + 1.0 / window_);
}

void Resolver::note_probe_answer() {
  // A round lasts a round trip's worth of answers at its window, and at
  // least kMinProbeRound: shorter ones measure the scheduler (a burst read
  // at once, a thread woken late), not the resolver. The window stays fixed
  // during a round, so each rate belongs to one window size, and a larger
  // window is tried only after a smaller one has shown a gain: one round
  // past a limit is as far as probing goes (a server whose socket buffer
  // overflows says so only a timeout later).
  const auto now = round_time();
  round_.fullest = std::max(round_.fullest, in_flight_ + 1);
  ++round_.answers;
  const auto elapsed = now - round_.started;
  if (round_.window > 0 &&
      (round_.answers < static_cast<std::uint64_t>(round_.window) || elapsed < kMinProbeRound)) {
    return;
  }
  if (round_.window > 0 && static_cast<double>(round_.fullest) >= kUsedShare * round_.window) {
    const double rate = static_cast<double>(round_.answers) /
                        std::max(1e-6, std::chrono::duration<double>(elapsed).count());
    if (rate >= best_rate_ * kWorthwhileGain) {
      best_rate_ = rate;
      best_window_ = round_.window;
      rounds_without_gain_ = 0;
      window_ = std::min(ceiling_, 2 * window_);
    } else if (++rounds_without_gain_ >= kRoundsWithoutGain) {
      // More queries in flight only wait longer in the resolver: go back to
      // the smallest window that answered as fast, and never grow past it.
      probing_ = false;
      window_ = best_window_;
      capacity_ = best_window_;
    }
  }
  round_ = ProbeRound{now, window_, 0, in_flight_};
}

std::uint16_t Resolver::next_query_id() {
  if (query_ids_left_ == 0) {
    // One system call per 128 queries. getrandom() only fails without
    // kernel support (before Linux 3.17); then the C++ library's source.
    const ssize_t got = getrandom(query_ids_.data(), sizeof query_ids_, 0);
    if (got != static_cast<ssize_t>(sizeof query_ids_)) {
      std::random_device device;
      for (std::uint16_t& id : query_ids_) id = static_cast<std::uint16_t>(device());
    }
    query_ids_left_ = query_ids_.size();
  }
  return query_ids_[--query_ids_left_];
}

void Resolver::cancel_all() {
  queue_.clear();
  retry_timer_.cancel();
  retry_timer_armed_ = false;
  unlist_all();
  outbox_.clear();
  outbox_bytes_.clear();
  cancelling_ = true;
  ares_cancel(channel_);  // fails every query in flight with ARES_ECANCELLED
  cancelling_ = false;
  timeout_timer_.cancel();
  timer_armed_ = false;
  rate_timer_.cancel();
  rate_timer_armed_ = false;
}

void Resolver::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<Resolver*>(data)->watch(fd, readable != 0, writable != 0);
}

void Resolver::watch(ares_socket_t fd, bool readable, bool writable) {
  auto found = watchers_.find(fd);
  if (!readable && !writable) {
    // c-ares is about to close the socket: stop watching without closing it.
    if (found != watchers_.end()) {
      found->second->closed = true;
      found->second->descriptor.cancel();
      found->second->descriptor.release();
      watchers_.erase(found);
    }
    return;
  }
  if (found == watchers_.end()) {
    found = watchers_.emplace(fd, std::make_shared<Watcher>(io_, fd)).first;
  }
  found->second->want_read = readable;
  found->second->want_write = writable;
  arm(found->second);
}

void Resolver::arm(const std::shared_ptr<Watcher>& watcher) {
  if (watcher->want_read && !watcher->read_armed) {
    watcher->read_armed = true;
    watcher->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                   [this, watcher](const boost::system::error_code& ec) {
                                     watcher->read_armed = false;
                                     if (ec || watcher->closed) return;
                                     process(watcher->fd, ARES_SOCKET_BAD);
                                     if (!watcher->closed) arm(watcher);
                                   });
  }
  if (watcher->want_write && !watcher->write_armed) {
    watcher->write_armed = true;
    watcher->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                   [this, watcher](const boost::system::error_code& ec) {
                                     watcher->write_armed = false;
                                     if (ec || watcher->closed) return;
                                     process(ARES_SOCKET_BAD, watcher->fd);
                                     if (!watcher->closed) arm(watcher);
                                   });
  }
}

std::chrono::steady_clock::time_point Resolver::round_time() const {
  return in_round_ ? round_now_ : std::chrono::steady_clock::now();
}

void Resolver::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  // What was read in this call had arrived by now: its answers, and the
  // queries their callbacks send, are timed from here.
  round_now_ = std::chrono::steady_clock::now();
  in_round_ = true;
  ares_process_fd(channel_, read_fd, write_fd);
  in_round_ = false;
  // c-ares stops reading at an answer from an unexpected address: what it
  // left in the inbox, the socket no longer reports as readable.
  if (inbox_.next < inbox_.count && read_fd == inbox_.fd) {
    asio::post(io_, [this, fd = read_fd] {
      if (inbox_.fd == fd && inbox_.next < inbox_.count) process(fd, ARES_SOCKET_BAD);
    });
  }
  // The queries the answers' callbacks asked, and the retries of those
  // that timed out.
  flush_outbox();
  reschedule_timeout();
}

ares_socket_t Resolver::open_socket(int family, int type, int protocol, void* data) {
  const ares_socket_t fd = ::socket(family, type, protocol);
  if (fd != ARES_SOCKET_BAD && type == SOCK_DGRAM) {
    static_cast<Resolver*>(data)->udp_sockets_.push_back(fd);
  }
  return fd;
}

int Resolver::close_socket(ares_socket_t fd, void* data) {
  auto& self = *static_cast<Resolver*>(data);
  std::erase(self.udp_sockets_, fd);
  std::erase(self.refused_, fd);
  if (self.inbox_.fd == fd) {
    self.inbox_.fd = ARES_SOCKET_BAD;
    self.inbox_.next = self.inbox_.count = 0;
  }
  // c-ares requeues the queries of a socket it closes; the number may come
  // back at once for a new socket, which must not send these.
  for (Datagram& datagram : self.outbox_) {
    if (datagram.fd == fd) datagram.fd = ARES_SOCKET_BAD;
  }
  return ::close(fd);
}

int Resolver::connect_socket(ares_socket_t fd, const sockaddr* address, ares_socklen_t length,
                             void* /*data*/) {
  return ::connect(fd, address, length);
}

ares_ssize_t Resolver::receive(ares_socket_t fd, void* buffer, size_t length, int flags,
                               sockaddr* from, ares_socklen_t* from_length, void* data) {
  auto& self = *static_cast<Resolver*>(data);
  if (const auto refused = std::find(self.refused_.begin(), self.refused_.end(), fd);
      refused != self.refused_.end()) {
    self.refused_.erase(refused);
    errno = ECONNREFUSED;
    return -1;
  }
  Inbox& inbox = self.inbox_;
  const bool udp =
      std::find(self.udp_sockets_.begin(), self.udp_sockets_.end(), fd) != self.udp_sockets_.end();
  if (!udp || (inbox.fd != fd && inbox.next < inbox.count)) {
    return ::recvfrom(fd, buffer, length, flags, from, from_length);
  }
  if (inbox.next == inbox.count && !self.fill_inbox(fd)) return -1;  // errno from recvmmsg
  const std::size_t slot = inbox.next++;
  const mmsghdr& message = inbox.messages[slot];
  const std::size_t size = std::min<std::size_t>(message.msg_len, length);
  std::copy_n(inbox.bytes.data() + slot * Inbox::kSlotSize, size, static_cast<char*>(buffer));
  if (from != nullptr && from_length != nullptr) {
    const auto sender_length = std::min<ares_socklen_t>(*from_length, message.msg_hdr.msg_namelen);
    std::copy_n(reinterpret_cast<const char*>(&inbox.senders[slot]), sender_length,
                reinterpret_cast<char*>(from));
    *from_length = message.msg_hdr.msg_namelen;
  }
  return static_cast<ares_ssize_t>(size);
}

bool Resolver::fill_inbox(ares_socket_t fd) {
  Inbox& inbox = inbox_;
  inbox.fd = fd;
  inbox.next = 0;
  inbox.count = 0;
  for (std::size_t i = 0; i < Inbox::kSlots; ++i) {
    inbox.vectors[i] = iovec{inbox.bytes.data() + i * Inbox::kSlotSize, Inbox::kSlotSize};
    inbox.messages[i] = mmsghdr{};
    inbox.messages[i].msg_hdr.msg_iov = &inbox.vectors[i];
    inbox.messages[i].msg_hdr.msg_iovlen = 1;
    inbox.messages[i].msg_hdr.msg_name = &inbox.senders[i];
    inbox.messages[i].msg_hdr.msg_namelen = sizeof inbox.senders[i];
  }
  int got = -1;
  do {
    got = ::recvmmsg(fd, inbox.messages.data(), Inbox::kSlots, MSG_DONTWAIT, nullptr);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return false;
  inbox.count = static_cast<std::size_t>(got);
  return true;
}

ares_ssize_t Resolver::send_vector(ares_socket_t fd, const iovec* vector, int count, void* data) {
  auto& self = *static_cast<Resolver*>(data);
  if (std::find(self.udp_sockets_.begin(), self.udp_sockets_.end(), fd) ==
      self.udp_sockets_.end()) {
    return ::writev(fd, vector, count);  // TCP: c-ares tracks partial writes itself
  }
  Datagram datagram{fd, self.outbox_bytes_.size(), 0};
  for (int i = 0; i < count; ++i) {
    self.outbox_bytes_.append(static_cast<const char*>(vector[i].iov_base), vector[i].iov_len);
    datagram.size += vector[i].iov_len;
  }
  self.outbox_.push_back(datagram);
  return static_cast<ares_ssize_t>(datagram.size);
}

void Resolver::flush_outbox() {
  // A refused socket's error goes to c-ares now, which requeues its
  // queries: their new datagrams are sent in the next turn.
  while (!outbox_.empty()) {
    std::size_t first = 0;
    while (first < outbox_.size()) {
      std::size_t end = first + 1;
      while (end < outbox_.size() && outbox_[end].fd == outbox_[first].fd) ++end;
      if (outbox_[first].fd != ARES_SOCKET_BAD) send_datagrams(outbox_[first].fd, first, end);
      first = end;
    }
    outbox_.clear();
    outbox_bytes_.clear();
    if (refused_.empty() || destroying_ || cancelling_) break;
    const std::vector<ares_socket_t> refused = refused_;
    for (const ares_socket_t fd : refused) ares_process_fd(channel_, fd, ARES_SOCKET_BAD);
    // Once each: a socket c-ares did not read keeps no error to report.
    for (const ares_socket_t fd : refused) std::erase(refused_, fd);
  }
}

void Resolver::send_datagrams(ares_socket_t fd, std::size_t first, std::size_t end) {
  const std::size_t count = end - first;
  vectors_.resize(count);
  messages_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const Datagram& datagram = outbox_[first + i];
    vectors_[i] = iovec{outbox_bytes_.data() + datagram.offset, datagram.size};
    messages_[i] = mmsghdr{};
    messages_[i].msg_hdr.msg_iov = &vectors_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
  }
  std::size_t sent = 0;
  while (sent < count) {
    const int result =
        ::sendmmsg(fd, messages_.data() + sent,
                   static_cast<unsigned>(std::min<std::size_t>(count - sent, 1024)), 0);
    if (result > 0) {
      sent += static_cast<std::size_t>(result);
      continue;
    }
    if (result < 0 && errno == EINTR) continue;
    // An ICMP error from an earlier datagram: c-ares learns it from the next
    // receive, as it would have from its own send. Anything else (a full
    // socket buffer): the rest is lost, and c-ares retries those queries
    // when they time out (its own failed send moved them on at once).
    if (result < 0 && errno == ECONNREFUSED &&
        std::find(refused_.begin(), refused_.end(), fd) == refused_.end()) {
      refused_.push_back(fd);
    }
    break;
  }
}

void Resolver::reschedule_timeout() {
  if (destroying_) return;
  // ares_timeout() walks every query in flight, so it is asked only when the
  // armed timer could be late: a query sent now expires no earlier than
  // now + the first-try timeout, and retries only expire later. An
  // earlier time from round_time() only makes the timer fire a little
  // early, when c-ares finds nothing due and it is armed again.
  const auto now = round_time();
  if (timer_armed_ && timeout_timer_.expiry() <= now + first_try_timeout_) return;
  timeval wait{};
  if (ares_timeout(channel_, nullptr, &wait) == nullptr) return;
  const auto deadline =
      now + std::chrono::seconds(wait.tv_sec) + std::chrono::microseconds(wait.tv_usec);
  if (timer_armed_ && timeout_timer_.expiry() <= deadline) return;
  timer_armed_ = true;
  timeout_timer_.expires_at(deadline);
  timeout_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled or re-armed: `this` may be gone
    timer_armed_ = false;
    process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  });
}

}  // namespace rdns::audit
