#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <stdlib.h>  // mkdtemp

#include <db/result_writer.hpp>
#include <db/scratch_run.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::db {
namespace {

/// The order the database reads a run back in: IPv4 before IPv6, numerically.
bool address_less(const ResultRecord& a, const ResultRecord& b) {
  if (a.family != b.family) return a.family == "ipv4";
  unsigned char x[16] = {}, y[16] = {};
  const int af = a.family == "ipv4" ? AF_INET : AF_INET6;
  inet_pton(af, a.ip.c_str(), x);
  inet_pton(af, b.ip.c_str(), y);
  return std::lexicographical_compare(x, x + 16, y, y + 16);
}

std::filesystem::path temporary_parent() {
  std::error_code error;
  std::filesystem::path parent = std::filesystem::temp_directory_path(error);
  if (error) {
    const char* tmpdir = std::getenv("TMPDIR");
    throw Error(Errc::io,
                fmt::format("no temporary directory to put results in address order "
                            "(TMPDIR={}): {}",
                            escape_text(tmpdir != nullptr ? tmpdir : ""), error.message()));
  }
  return parent;
}

std::filesystem::path make_directory(std::filesystem::path parent) {
  if (parent.empty()) parent = temporary_parent();
  std::string pattern = (parent / "rdnsctl-results-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw Error(Errc::io, fmt::format("cannot make a temporary directory in {} to put results in "
                                      "address order: {} (set TMPDIR to another directory)",
                                      escape_text(parent.string()), std::strerror(errno)));
  }
  return pattern;
}

}  // namespace

/// The temporary database; its directory is removed last, with everything in it.
struct ScratchRun::Spill {
  struct Directory {
    ~Directory() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path path;
  };

  explicit Spill(const std::filesystem::path& parent)
      : directory{make_directory(parent)},
        database(Database::open(directory.path / "results.sqlite")),
        run_id(database.begin_run("audit", "{}", {}, "scratch")),
        writer(std::in_place, database, run_id) {}

  Directory directory;
  Database database;
  std::int64_t run_id;
  std::optional<ResultWriter> writer;
};

ScratchRun::ScratchRun(std::size_t in_memory, std::filesystem::path parent)
    : in_memory_(in_memory), parent_(std::move(parent)) {}

ScratchRun::~ScratchRun() = default;

void ScratchRun::add(ResultRecord record) {
  if (spill_) {
    spill_->writer->add(std::move(record));
    return;
  }
  records_.push_back(std::move(record));
  if (records_.size() > in_memory_) move_to_disk();
}

void ScratchRun::move_to_disk() {
  spill_ = std::make_unique<Spill>(parent_);
  for (ResultRecord& record : records_) spill_->writer->add(std::move(record));
  records_.clear();
  records_.shrink_to_fit();
}

void ScratchRun::visit(const std::function<void(const ResultRecord&)>& visit) {
  if (spill_) {
    spill_->writer->flush();
    spill_->database.visit_results(spill_->run_id, visit);
    return;
  }
  std::sort(records_.begin(), records_.end(), address_less);
  for (const ResultRecord& record : records_) visit(record);
}

}  // namespace rdns::db
