#include <algorithm>
#include <chrono>
#include <type_traits>
#include <utility>

#include <db/result_json.hpp>
#include <run/result_sink.hpp>

namespace rdns::run {

// The queue grows by moving its results; a result whose move might throw
// would be copied whole, allocations and all, each time it grew.
static_assert(std::is_nothrow_move_constructible_v<audit::IpResult>);

ResultSink::ResultSink(ResultObserver& observer, db::ResultWriter* writer, Callbacks callbacks,
                       std::size_t capacity)
    : observer_(observer),
      writer_(writer),
      callbacks_(std::move(callbacks)),
      capacity_(capacity == 0 ? 1 : capacity),
      thread_([this] { drain(); }) {
  collected_.reserve(kHandOverBatch);
}

ResultSink::~ResultSink() {
  stop_thread();
}

void ResultSink::push(audit::IpResult result) {
  if (failed_.load(std::memory_order_relaxed)) return;
  collected_.push_back(std::move(result));
  if (collected_.size() >= std::min(kHandOverBatch, capacity_)) hand_over();
}

void ResultSink::hand_over() {
  if (collected_.empty()) return;
  const std::size_t wake_at = std::min(kWakeBatch, capacity_);
  bool crossed = false;
  {
    const std::lock_guard lock(mutex_);
    if (failed_) {
      collected_.clear();
      return;
    }
    const std::size_t before = queue_.size();
    std::move(collected_.begin(), collected_.end(), std::back_inserter(queue_));
    queued_.store(queue_.size(), std::memory_order_relaxed);
    crossed = before < wake_at && queue_.size() >= wake_at;
  }
  collected_.clear();
  // One wake-up per batch the thread waits for; otherwise it wakes by
  // itself within kMaxDelay.
  if (crossed) wake_.notify_one();
}

bool ResultSink::has_room() const {
  const bool room = !failed_.load(std::memory_order_relaxed) &&
                    queued_.load(std::memory_order_relaxed) + collected_.size() < capacity_;
  if (!room) refused_.store(true);
  return room;
}

void ResultSink::stop_thread() {
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ResultSink::drain() {
  // Bounded loss on a crash: what is not stored is audited again on resume.
  constexpr auto kFlushInterval = std::chrono::seconds(1);
  auto last_flush = std::chrono::steady_clock::now();
  std::vector<audit::IpResult> batch;
  std::unique_lock lock(mutex_);
  const std::size_t batch_size = std::min(kWakeBatch, capacity_);
  for (;;) {
    wake_.wait_for(lock, kMaxDelay,
                   [this, batch_size] { return queue_.size() >= batch_size || closing_; });
    if (failed_ || (closing_ && queue_.empty())) return;
    batch.swap(queue_);
    queued_.store(0, std::memory_order_relaxed);
    lock.unlock();
    // The queue is empty again: a producer held back may go on auditing
    // while this batch is written, instead of idling until it is. Asked
    // after every wake-up, so a refusal that raced with the swap waits at
    // most kMaxDelay.
    if (refused_.exchange(false) && callbacks_.on_room) callbacks_.on_room();
    try {
      write(batch);
      const auto now = std::chrono::steady_clock::now();
      if (writer_ != nullptr && now - last_flush >= kFlushInterval) {
        writer_->flush();
        last_flush = now;
      }
    } catch (...) {
      lock.lock();
      failed_ = true;
      error_ = std::current_exception();
      queue_.clear();
      queued_.store(0, std::memory_order_relaxed);
      lock.unlock();
      if (callbacks_.on_failure) callbacks_.on_failure();
      return;
    }
    lock.lock();
  }
}

void ResultSink::write(std::vector<audit::IpResult>& batch) {
  for (audit::IpResult& result : batch) {
    db::ResultRecord record = audit::to_record(std::move(result));
    if (callbacks_.on_record) callbacks_.on_record(record);
    if (writer_ == nullptr) {
      observer_.add(record);
      continue;
    }
    // Encoded once, for the database and for a printer that shows JSON.
    db::ResultJson lists = db::result_json(record);
    observer_.add_encoded(record, lists);
    writer_->add(std::move(record), std::move(lists));
  }
  batch.clear();
}

void ResultSink::close(const db::RunCounts& counts) {
  hand_over();
  stop_thread();
  if (error_) std::rethrow_exception(error_);
  // The thread has ended: the observer and the writer are this thread's now.
  if (writer_ != nullptr) writer_->flush();
  observer_.finish(counts);
}

}  // namespace rdns::run
