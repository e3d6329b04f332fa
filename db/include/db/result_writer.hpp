#pragma once
/// Batching in front of Database::add_results: one transaction per record
/// would make a large audit spend its time committing.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <db/database.hpp>

namespace rdns::db {

/// Buffers one run's results and stores them batch_size at a time.
class ResultWriter {
 public:
  static constexpr std::size_t kDefaultBatchSize = 2000;

  /// database must outlive the writer. A batch_size of 0 is taken as 1.
  ResultWriter(Database& database, std::int64_t run_id, std::size_t batch_size = kDefaultBatchSize);

  /// Flushes, swallowing errors: call flush() first to see them.
  ~ResultWriter();

  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  /// Stores the buffer once it holds batch_size records; may throw as add_results.
  void add(ResultRecord record);
  /// The same with the record's lists encoded already (result_json).
  void add(ResultRecord record, ResultJson lists);

  /// Stores whatever is buffered. On failure the records stay buffered
  /// (with PostgreSQL the failure may be an earlier batch's, reported by
  /// this call: see Database::add_results).
  void flush();

  std::size_t pending() const { return buffer_.size(); }

 private:
  Database& database_;
  std::int64_t run_id_;
  std::size_t batch_size_;
  std::vector<ResultRecord> buffer_;
  std::vector<ResultJson> lists_;  ///< lists_[i] belongs to buffer_[i]
};

}  // namespace rdns::db
