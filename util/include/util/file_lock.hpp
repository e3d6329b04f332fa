#pragma once
/// An advisory lock on a file, so two scheduled runs (a timer and a cron job,
/// or a run that outlasts its interval) never write one database at once.

#include <filesystem>
#include <optional>

namespace rdns {

/// An exclusive flock(2) held on an open file until destruction. The kernel
/// drops it when the process dies, so a killed run never leaves a stale lock.
class FileLock {
 public:
  /// Creates `path` (and its directory) when missing and locks it without
  /// waiting; nullopt when another process holds it. Throws Errc::io, naming
  /// the path, when the file cannot be opened or locked for another reason.
  static std::optional<FileLock> try_acquire(const std::filesystem::path& path);

  ~FileLock();
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  FileLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace rdns
