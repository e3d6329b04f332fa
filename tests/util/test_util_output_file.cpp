// Output paths against real files, links, FIFOs and device nodes.

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <util/error.hpp>
#include <util/output_file.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace fs = std::filesystem;
using rdns::test::read_file;
using rdns::test::TempDir;

namespace {

struct stat status_of(const fs::path& path, bool follow = true) {
  struct stat status {};
  REQUIRE((follow ? stat(path.c_str(), &status) : lstat(path.c_str(), &status)) == 0);
  return status;
}

/// Reads a FIFO to its end on another thread, as a consumer would.
std::future<std::string> drain(const fs::path& fifo) {
  return std::async(std::launch::async, [fifo] { return read_file(fifo); });
}

}  // namespace

TEST_CASE("an output file replaces a regular file atomically, keeping its mode") {
  TempDir dir;
  const fs::path path = dir.path() / "report.csv";
  std::ofstream(path) << "old";
  chmod(path.c_str(), 0640);
  const ino_t before = status_of(path).st_ino;
  rdns::write_output_file(path.string(), "new", "the report");
  CHECK(read_file(path) == "new");
  CHECK(status_of(path).st_ino != before);  // renamed into place, not rewritten
  CHECK((status_of(path).st_mode & 07777) == 0640);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("an output file that is not committed leaves the old content and no temporary") {
  TempDir dir;
  const fs::path path = dir.path() / "report.csv";
  std::ofstream(path) << "old";
  {
    rdns::OutputFile output(path.string(), "the report");
    output.stream() << "half";
  }
  CHECK(read_file(path) == "old");
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("an output file writes a symbolic link's target and keeps the link") {
  TempDir dir;
  const fs::path target = dir.path() / "real.prom";
  const fs::path link = dir.path() / "link.prom";
  std::ofstream(target) << "old";
  fs::create_symlink(target, link);
  rdns::write_output_file(link.string(), "new", "the textfile");
  CHECK(fs::is_symlink(link));
  CHECK(read_file(target) == "new");

  const fs::path ahead = dir.path() / "ahead";
  fs::create_symlink("next.prom", ahead);  // relative, and not created yet
  rdns::write_output_file(ahead.string(), "first", "the textfile");
  CHECK(fs::is_symlink(ahead));
  CHECK(read_file(dir.path() / "next.prom") == "first");

  const fs::path dangling = dir.path() / "dangling";
  fs::create_symlink(dir.path() / "missing" / "file", dangling);
  CHECK_THROWS_AS(rdns::write_output_file(dangling.string(), "x", "the report"), rdns::Error);
  CHECK(fs::is_symlink(dangling));
}

TEST_CASE("an output file writes through a FIFO and a hard link, never replacing them") {
  TempDir dir;
  const fs::path fifo = dir.path() / "pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto read = drain(fifo);
  rdns::write_output_file(fifo.string(), "through the pipe\n", "the report");
  CHECK(read.get() == "through the pipe\n");
  CHECK(S_ISFIFO(status_of(fifo, false).st_mode));

  const fs::path first = dir.path() / "first";
  const fs::path second = dir.path() / "second";
  std::ofstream(first) << "old";
  fs::create_hard_link(first, second);
  rdns::write_output_file(second.string(), "shared", "the report");
  CHECK(read_file(first) == "shared");
  CHECK(status_of(first).st_ino == status_of(second).st_ino);
}

TEST_CASE("an output file writes through a character device and refuses a directory") {
  TempDir dir;
  if (geteuid() == 0) {
    // A private copy of /dev/null: the test never risks the real one.
    const fs::path null = dir.path() / "null";
    REQUIRE(mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    rdns::write_output_file(null.string(), "discarded", "the report");
    CHECK(S_ISCHR(status_of(null, false).st_mode));
  }
  try {
    rdns::write_output_file(dir.path().string(), "x", "the report");
    FAIL("a directory was accepted");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::usage);
    CHECK_THAT(error.what(), Catch::Contains("is a directory"));
  }
}
