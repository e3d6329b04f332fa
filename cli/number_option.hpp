#pragma once
/// Bounds for numeric options. CLI::Range lets NaN through, and an
/// unbounded number of seconds overflows its conversion to milliseconds.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <util/escape.hpp>

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

/// Not CLI::PositiveNumber, whose message prints the largest double in full,
/// nor a Range over an unsigned type, which takes "-5" as 2^64 - 5.
inline CLI::Validator positive_whole_number() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value == 0 ||
            value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return fmt::format("'{}' is not a whole number of at least 1", escape_text(text));
        }
        return {};
      },
      "POSITIVE");
}

}  // namespace rdns::cli
