#pragma once
/// What `rdnsctl --version` prints: the version, how it was built, and the
/// libraries it runs with, for bug reports and for checking a package.

#include <string>

namespace rdns::cli {

std::string version_text();

}  // namespace rdns::cli
