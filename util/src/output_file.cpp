#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/output_file.hpp>

namespace rdns {
namespace {

namespace fs = std::filesystem;

mode_t current_umask() {
  const mode_t mask = umask(0);
  umask(mask);
  return mask;
}

}  // namespace

OutputFile::OutputFile(std::string path, std::string what, Options options)
    : path_(std::move(path)), what_(std::move(what)), options_(options), target_(path_) {
  if (path_ == "-") return;
  struct stat entry {};
  if (lstat(path_.c_str(), &entry) == 0 && S_ISLNK(entry.st_mode)) {
    // The final target, which may not exist yet (a link to this month's file).
    std::error_code error;
    fs::path resolved = fs::canonical(path_, error);
    if (error) {
      fs::path target = fs::read_symlink(path_, error);
      if (!error && target.is_relative()) target = fs::path(path_).parent_path() / target;
      if (!error) resolved = fs::weakly_canonical(target, error);
    }
    if (error) {
      throw Error(Errc::usage, fmt::format("{}: cannot write {}: cannot resolve the symbolic "
                                           "link: {}",
                                           escape_text(path_), what_, error.message()));
    }
    target_ = resolved.string();
  }
  struct stat status {};
  const bool exists = stat(target_.c_str(), &status) == 0;
  if (!exists && errno != ENOENT) fail("cannot write", errno, Errc::usage);
  if (exists && S_ISDIR(status.st_mode)) {
    throw Error(Errc::usage,
                fmt::format("{}: cannot write {}: is a directory", escape_text(path_), what_));
  }
  if (exists && !S_ISREG(status.st_mode) && !S_ISCHR(status.st_mode) && !S_ISFIFO(status.st_mode)) {
    throw Error(Errc::usage, fmt::format("{}: cannot write {}: not a regular file, character "
                                         "device or FIFO",
                                         escape_text(path_), what_));
  }
  if (exists && (!S_ISREG(status.st_mode) || status.st_nlink > 1)) {
    // Written through: a device or FIFO stays what it is, a hard link stays shared.
    file_.open(target_, std::ios::binary | std::ios::trunc);
    if (!file_) fail("cannot write", errno, Errc::usage);
    return;
  }
  std::string pattern = target_ + ".tmp-XXXXXX";
  const int fd = mkstemp(pattern.data());
  if (fd < 0) fail("cannot create a temporary file for", errno, Errc::usage);
  temporary_ = pattern;
  const mode_t mode = options_.mode ? *options_.mode
                      : exists      ? (status.st_mode & 07777)
                                    : (0666 & ~current_umask());
  if (fchmod(fd, mode) != 0) {
    const int error = errno;
    close(fd);
    fail("cannot set the mode of", error, Errc::usage);
  }
  if (exists && geteuid() == 0) {
    // Root replacing another user's file keeps it theirs.
    if (fchown(fd, status.st_uid, status.st_gid) != 0) {
      const int error = errno;
      close(fd);
      fail("cannot keep the owner of", error, Errc::usage);
    }
  }
  close(fd);
  file_.open(temporary_, std::ios::binary | std::ios::trunc);
  if (!file_) fail("cannot write", errno, Errc::usage);
}

OutputFile::~OutputFile() {
  if (!temporary_.empty() && !committed_) {
    file_.close();
    unlink(temporary_.c_str());
  }
}

std::ostream& OutputFile::stream() {
  if (path_ == "-") return std::cout;
  return file_;
}

void OutputFile::fail(std::string_view action, int error, Errc code) const {
  throw Error(
      code, fmt::format("{}: {} {}: {}", escape_text(path_), action, what_, std::strerror(error)));
}

void OutputFile::commit() {
  errno = 0;
  if (path_ == "-") {
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0) {
      throw Error(Errc::io, fmt::format("output: standard output: cannot write {}: {}", what_,
                                        std::strerror(errno != 0 ? errno : EIO)));
    }
    committed_ = true;
    return;
  }
  file_.flush();
  file_.close();
  if (file_.fail()) fail("cannot write", errno != 0 ? errno : EIO, Errc::io);
  if (temporary_.empty()) {
    committed_ = true;
    return;
  }
  if (options_.sync) {
    const int fd = open(temporary_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
      const int error = errno;
      if (fd >= 0) close(fd);
      fail("cannot write", error, Errc::io);
    }
    close(fd);
  }
  if (std::rename(temporary_.c_str(), target_.c_str()) != 0)
    fail("cannot replace", errno, Errc::io);
  committed_ = true;
}

void write_output_file(const std::string& path, std::string_view content, const std::string& what,
                       OutputFile::Options options) {
  OutputFile output(path, what, options);
  output.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  output.commit();
}

}  // namespace rdns
