#pragma once
/// Bounds for numeric options. CLI::Range lets NaN through, an unbounded
/// number of seconds overflows its conversion to milliseconds, and CLI11's
/// own messages ("Value 0 not in range 1 to 10000") and help texts
/// ("INT in [1 - 10000]") read badly. Messages here start with the value
/// ("0: expected ..."); the description is the range help shows ("1-10000").

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
          return fmt::format("{}: expected {}", escape_text(input), range);
        }
        return {};
      },
      fmt::format("{}-{} {}", min, max, what));
}

/// Seconds for one DNS or network try: a millisecond up to five minutes.
inline CLI::Validator try_seconds() {
  return finite_range(0.001, 300, "seconds");
}

/// A whole number from `min` to `max`, for integer options (not CLI::Range,
/// which takes "2.5" and prints CLI11's wording).
inline CLI::Validator whole_number_range(std::int64_t min, std::int64_t max) {
  return CLI::Validator(
      [min, max](const std::string& text) -> std::string {
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
          return fmt::format("{}: expected a whole number from {} to {}", escape_text(text), min,
                             max);
        }
        return {};
      },
      fmt::format("{}-{}", min, max));
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
          return fmt::format("{}: expected a whole number, 1 or more", escape_text(text));
        }
        return {};
      },
      "1 or more");
}

}  // namespace rdns::cli
