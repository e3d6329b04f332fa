#include "version.hpp"

#include <ares.h>
#include <boost/version.hpp>
#include <fmt/format.h>
#include <notify/webhook.hpp>

#include <db/database.hpp>

namespace rdns::cli {

std::string version_text() {
  // Boost is header-only here: its version is the one compiled in.
  return fmt::format(
      "rdnsctl {} (commit {})\n"
      "built with {} (C++{}), build type {}\n"
      "libraries: c-ares {}, SQLite {}, {}, Boost {}.{}.{}, fmt {}.{}.{}\n"
      "database schema {}",
      RDNSCTL_VERSION, RDNSCTL_COMMIT, RDNSCTL_COMPILER, __cplusplus / 100 % 100,
      RDNSCTL_BUILD_TYPE, ares_version(nullptr), db::Database::sqlite_version(),
      notify::http_library_version(), BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
      BOOST_VERSION % 100, FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100,
      db::Database::latest_schema_version());
}

}  // namespace rdns::cli
