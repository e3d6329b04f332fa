#pragma once
/// Locations that follow the XDG base directory convention.

#include <filesystem>

namespace rdns {

/// $XDG_DATA_HOME, else $HOME/.local/share; throws Errc::usage when neither is set.
std::filesystem::path xdg_data_home();

/// $XDG_CONFIG_HOME, else $HOME/.config; throws Errc::usage when neither is set.
std::filesystem::path xdg_config_home();

}  // namespace rdns
