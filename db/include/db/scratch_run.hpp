#pragma once
/// The results of a run that is not stored (--no-db) but is shown in address
/// order: kept in memory while they are few, then moved to a temporary
/// database deleted with this object, so that a million addresses print
/// within the memory of a stored run.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include <db/database.hpp>

namespace rdns::db {

class ScratchRun {
 public:
  static constexpr std::size_t kDefaultInMemory = 16384;

  /// Up to `in_memory` results stay in memory; beyond that they move to a
  /// database in a new directory under `parent` (empty: the system's
  /// temporary directory, TMPDIR or /tmp).
  explicit ScratchRun(std::size_t in_memory = kDefaultInMemory, std::filesystem::path parent = {});
  /// Deletes the temporary database, if there is one.
  ~ScratchRun();
  ScratchRun(const ScratchRun&) = delete;
  ScratchRun& operator=(const ScratchRun&) = delete;

  /// Throws rdns::Error(Errc::io) naming the directory when the temporary
  /// database cannot be made or written.
  void add(ResultRecord record);

  /// Calls visit for every result in address order (IPv4 first, then
  /// numerically); may be called again.
  void visit(const std::function<void(const ResultRecord&)>& visit);

  /// Whether the results moved to the temporary database.
  bool on_disk() const { return spill_ != nullptr; }

 private:
  struct Spill;
  void move_to_disk();

  std::size_t in_memory_;
  std::filesystem::path parent_;
  std::vector<ResultRecord> records_;
  std::unique_ptr<Spill> spill_;
};

}  // namespace rdns::db
