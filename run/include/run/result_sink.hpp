#pragma once
/// Takes audit results off the event loop. Turning a result into its record
/// (names in presentation form, escaping), printing and SQLite writes cost
/// more than the lookups themselves and can block (a slow pipe, a busy
/// database); on the loop they would hold back the timers and turn answers
/// into false timeouts.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <audit/auditor.hpp>
#include <db/result_writer.hpp>
#include <run/observer.hpp>

namespace rdns::run {

/// A writer thread behind a bounded queue: push() never blocks, has_room()
/// tells the producer to hold back, and the first error stops the thread.
/// push(), hand_over() and has_room() belong to one producer thread.
class ResultSink {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  /// The writer thread is woken when this many results wait, or after
  /// kMaxDelay: a wake-up per result would cost two context switches each,
  /// more CPU than printing and storing it.
  static constexpr std::size_t kWakeBatch = 256;
  static constexpr std::chrono::milliseconds kMaxDelay{20};
  /// Results the producer collects before it takes the lock once for all.
  static constexpr std::size_t kHandOverBatch = 64;

  struct Callbacks {
    std::function<void()> on_room;     ///< on the writer thread: the producer may start again
    std::function<void()> on_failure;  ///< on the writer thread: printing or storing failed
    /// On the writer thread: each record, before it is printed and stored.
    std::function<void(const db::ResultRecord&)> on_record;
  };

  /// `observer` and `writer` (null: nothing stored) must outlive the sink and
  /// are used only by its thread until close() returns.
  ResultSink(ResultObserver& observer, db::ResultWriter* writer, Callbacks callbacks,
             std::size_t capacity = kDefaultCapacity);
  /// Stops the thread; what is queued is dropped (resume audits it again).
  ~ResultSink();
  ResultSink(const ResultSink&) = delete;
  ResultSink& operator=(const ResultSink&) = delete;

  /// Collects a result; handed over kHandOverBatch at a time, or by
  /// hand_over(). Dropped once the sink has failed.
  void push(audit::IpResult result);
  /// Queues what push() collected: once the producer has nothing more to
  /// push for now, or the results would wait for the next batch.
  void hand_over();
  /// False while the queue holds `capacity` results or the sink has failed;
  /// the writer thread calls on_room once it has taken results after a no.
  bool has_room() const;

  /// Writes what is collected and queued, stores the last batch and lets
  /// the observer finish; rethrows the first error of the writer thread.
  void close(const db::RunCounts& counts);

 private:
  void drain();
  void write(std::vector<audit::IpResult>& batch);
  void stop_thread();

  ResultObserver& observer_;
  db::ResultWriter* writer_;
  Callbacks callbacks_;
  std::size_t capacity_;
  /// The producer's results not handed over yet; its thread's only.
  std::vector<audit::IpResult> collected_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  /// A vector, swapped with the writer's batch: the two buffers keep their
  /// room, so a result queued costs no allocation (a deque node each did).
  std::vector<audit::IpResult> queue_;
  /// queue_.size(), readable without the lock by has_room().
  std::atomic<std::size_t> queued_{0};
  /// has_room() said no since the writer last took results.
  mutable std::atomic<bool> refused_{false};
  bool closing_ = false;
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace rdns::run
