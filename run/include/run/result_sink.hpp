#pragma once
/// Takes audit results off the event loop. Printing and SQLite writes can
/// block (a slow pipe, a busy database); on the loop they would hold back
/// the timers and turn answers into false timeouts.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <db/result_writer.hpp>
#include <run/observer.hpp>

namespace rdns::run {

/// A writer thread behind a bounded queue: push() never blocks, has_room()
/// tells the producer to hold back, and the first error stops the thread.
class ResultSink {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  /// The writer thread is woken when this many results wait, or after
  /// kMaxDelay: a wake-up per result would cost two context switches each,
  /// more CPU than printing and storing it.
  static constexpr std::size_t kWakeBatch = 256;
  static constexpr std::chrono::milliseconds kMaxDelay{20};

  struct Callbacks {
    std::function<void()> on_room;  ///< on the writer thread: a full queue was taken to be written
    std::function<void()> on_failure;  ///< on the writer thread: printing or storing failed
  };

  /// `observer` and `writer` (null: nothing stored) must outlive the sink and
  /// are used only by its thread until close() returns.
  ResultSink(ResultObserver& observer, db::ResultWriter* writer, Callbacks callbacks,
             std::size_t capacity = kDefaultCapacity);
  /// Stops the thread; what is queued is dropped (resume audits it again).
  ~ResultSink();
  ResultSink(const ResultSink&) = delete;
  ResultSink& operator=(const ResultSink&) = delete;

  /// Queues a result; dropped once the sink has failed.
  void push(db::ResultRecord record);
  /// False while the queue holds `capacity` results or the sink has failed.
  bool has_room() const;

  /// Writes what is queued, stores the last batch and lets the observer
  /// finish; rethrows the first error of the writer thread.
  void close(const db::RunCounts& counts);

 private:
  void drain();
  void stop_thread();

  ResultObserver& observer_;
  db::ResultWriter* writer_;
  Callbacks callbacks_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  /// A vector, swapped with the writer's batch: the two buffers keep their
  /// room, so a result queued costs no allocation (a deque node each did).
  std::vector<db::ResultRecord> queue_;
  bool closing_ = false;
  bool failed_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace rdns::run
