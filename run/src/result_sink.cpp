#include <algorithm>
#include <chrono>
#include <utility>

#include <run/result_sink.hpp>

namespace rdns::run {

ResultSink::ResultSink(ResultObserver& observer, db::ResultWriter* writer, Callbacks callbacks,
                       std::size_t capacity)
    : observer_(observer),
      writer_(writer),
      callbacks_(std::move(callbacks)),
      capacity_(capacity == 0 ? 1 : capacity),
      thread_([this] { drain(); }) {}

ResultSink::~ResultSink() {
  stop_thread();
}

void ResultSink::push(db::ResultRecord record) {
  std::size_t waiting = 0;
  {
    const std::lock_guard lock(mutex_);
    if (failed_) return;
    queue_.push_back(std::move(record));
    waiting = queue_.size();
  }
  // Otherwise the thread wakes by itself within kMaxDelay.
  if (waiting == std::min(kWakeBatch, capacity_)) wake_.notify_one();
}

bool ResultSink::has_room() const {
  const std::lock_guard lock(mutex_);
  return !failed_ && queue_.size() < capacity_;
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
  std::vector<db::ResultRecord> batch;
  std::unique_lock lock(mutex_);
  const std::size_t batch_size = std::min(kWakeBatch, capacity_);
  for (;;) {
    wake_.wait_for(lock, kMaxDelay,
                   [this, batch_size] { return queue_.size() >= batch_size || closing_; });
    if (failed_ || (closing_ && queue_.empty())) return;
    const bool was_full = queue_.size() >= capacity_;
    batch.swap(queue_);
    lock.unlock();
    // The queue is empty again: the loop may go on auditing while this batch
    // is written, instead of idling until it is.
    if (was_full && callbacks_.on_room) callbacks_.on_room();
    try {
      for (db::ResultRecord& record : batch) {
        observer_.add(record);
        if (writer_ != nullptr) writer_->add(std::move(record));
      }
      batch.clear();
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
      lock.unlock();
      if (callbacks_.on_failure) callbacks_.on_failure();
      return;
    }
    lock.lock();
  }
}

void ResultSink::close(const db::RunCounts& counts) {
  stop_thread();
  if (error_) std::rethrow_exception(error_);
  // The thread has ended: the observer and the writer are this thread's now.
  if (writer_ != nullptr) writer_->flush();
  observer_.finish(counts);
}

}  // namespace rdns::run
