#pragma once
/// Writing a file named on the command line (`report -o`, `fix -o`,
/// `ptr plan -o`, `--prometheus-textfile`) without destroying what is there:
/// a device node, a FIFO, a symbolic link or a second hard link must survive
/// being named as an output.

#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include <sys/types.h>

#include <util/error.hpp>

namespace rdns {

/// One output, chosen by what the path names now:
/// - "-": standard output;
/// - a regular file with one link, or no file: a temporary file in the same
///   directory renamed over it on commit(), so readers see the old or the
///   new content, never half of it (the old file's mode is kept);
/// - a regular file with more links: written in place, so every name sees it;
/// - a symbolic link: its final target, by the rules above (created when
///   missing; the link itself is never replaced);
/// - a character device or FIFO: opened and written through, never replaced;
/// - a directory, block device or socket: refused.
/// Errors are rdns::Error naming the path and `what` ("the report"):
/// Errc::usage for a path that cannot be opened as an output, Errc::io for
/// a write or rename that fails afterwards.
class OutputFile {
 public:
  struct Options {
    std::optional<mode_t> mode;  ///< permissions of a created or replaced file
    bool sync = false;           ///< fsync before the rename
  };

  OutputFile(std::string path, std::string what, Options options);
  OutputFile(std::string path, std::string what)
      : OutputFile(std::move(path), std::move(what), {}) {}
  /// Removes the temporary file unless commit() succeeded.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::ostream& stream();
  /// Flushes and checks the writes, then renames the temporary file into place.
  void commit();

 private:
  [[noreturn]] void fail(std::string_view action, int error, Errc code) const;

  std::string path_;  ///< as given, for messages
  std::string what_;
  Options options_;
  std::string target_;     ///< where the content ends up (a symlink resolved)
  std::string temporary_;  ///< empty when written through or to stdout
  std::ofstream file_;
  bool committed_ = false;
};

/// Writes `content` to `path` through an OutputFile.
void write_output_file(const std::string& path, std::string_view content, const std::string& what,
                       OutputFile::Options options = {});

}  // namespace rdns
