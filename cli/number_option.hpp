#pragma once
/// Bounds for floating-point options. CLI::Range lets NaN through, and an
/// unbounded number of seconds overflows its conversion to milliseconds.

#include <cmath>
#include <string>

#include <fmt/format.h>

#include <CLI/CLI.hpp>

namespace rdns::cli {

/// A finite number from `min` to `max`; `what` names the unit ("seconds").
inline CLI::Validator finite_range(double min, double max, const std::string& what) {
  const std::string range = fmt::format("a number of {} from {} to {}", what, min, max);
  return CLI::Validator(
      [min, max, range](std::string& input) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(input, value) || !std::isfinite(value) || value < min ||
            value > max) {
          return fmt::format("'{}' is not {}", input, range);
        }
        return {};
      },
      fmt::format("{} in [{}, {}]", what, min, max));
}

/// Seconds for one DNS or network try: a millisecond up to five minutes.
inline CLI::Validator try_seconds() {
  return finite_range(0.001, 300, "seconds");
}

}  // namespace rdns::cli
