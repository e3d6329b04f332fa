#pragma once
/// How a run's results reach whoever shows them. The run module never
/// prints: the command line implements this interface with its printers.

#include <functional>

#include <db/database.hpp>
#include <util/error.hpp>

namespace rdns::run {

/// An observer's reader went away (EPIPE, as with `| head`): the run was
/// interrupted rather than broken. Other write errors are rdns::Error
/// (Errc::io) with "output: ..." messages.
class OutputClosed : public Error {
 public:
  using Error::Error;
};

/// Which of a run's stored results an observer shows; empty: all of them.
using StoredResultFilter = std::function<bool(const db::ResultRecord&)>;

/// Receives results one at a time, on the result sink's writer thread.
class ResultObserver {
 public:
  virtual ~ResultObserver() = default;
  virtual void add(const db::ResultRecord& record) = 0;
  /// The same with the record's lists encoded already (db::result_json),
  /// when the run stores them: an observer that prints that JSON takes it
  /// from here instead of encoding the record a second time.
  virtual void add_encoded(const db::ResultRecord& record, const db::ResultJson& /*lists*/) {
    add(record);
  }
  /// Before any result, when the run's results are stored in `database`:
  /// an observer that shows results in address order reads them back from
  /// there in finish() instead of keeping every one in memory, those that
  /// `shown` accepts (a resumed run shows only the part it audited).
  /// finish() is called after the last result was stored, on the thread
  /// that owns `database` again.
  virtual void read_back_from(db::Database& /*database*/, std::int64_t /*run_id*/,
                              StoredResultFilter /*shown*/) {}
  /// Findings about domains, before any result.
  virtual void add_domain_finding(const db::DomainFindingRecord& /*finding*/) {}
  /// After the last result; `counts` are this run's (or this part's) counts.
  virtual void finish(const db::RunCounts& counts) = 0;
};

}  // namespace rdns::run
