#include <cstdlib>

#include <util/error.hpp>
#include <util/paths.hpp>

namespace rdns {
namespace {

std::filesystem::path xdg_dir(const char* variable, const char* home_suffix) {
  if (const char* value = std::getenv(variable); value != nullptr && *value == '/') {
    return value;
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    throw Error(Errc::usage, std::string("neither ") + variable + " nor HOME is set");
  }
  return std::filesystem::path(home) / home_suffix;
}

}  // namespace

std::filesystem::path xdg_data_home() {
  return xdg_dir("XDG_DATA_HOME", ".local/share");
}

std::filesystem::path xdg_config_home() {
  return xdg_dir("XDG_CONFIG_HOME", ".config");
}

}  // namespace rdns
