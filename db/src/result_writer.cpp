#include <algorithm>
#include <utility>

#include <db/result_json.hpp>
#include <db/result_writer.hpp>

namespace rdns::db {

ResultWriter::ResultWriter(Database& database, std::int64_t run_id, std::size_t batch_size)
    : database_(database), run_id_(run_id), batch_size_(std::max<std::size_t>(batch_size, 1)) {
  buffer_.reserve(batch_size_);
  lists_.reserve(batch_size_);
}

ResultWriter::~ResultWriter() {
  // Reached during unwinding too, where a second exception would terminate;
  // the records are then lost, which the explicit flush() would have reported.
  try {
    flush();
  } catch (...) {  // NOLINT(bugprone-empty-catch)
  }
}

void ResultWriter::add(ResultRecord record) {
  ResultJson lists = result_json(record);
  add(std::move(record), std::move(lists));
}

void ResultWriter::add(ResultRecord record, ResultJson lists) {
  buffer_.push_back(std::move(record));
  lists_.push_back(std::move(lists));
  if (buffer_.size() >= batch_size_) {
    flush();
  }
}

void ResultWriter::flush() {
  if (buffer_.empty()) {
    return;
  }
  database_.add_results(run_id_, buffer_, lists_);
  buffer_.clear();
  lists_.clear();
}

}  // namespace rdns::db
