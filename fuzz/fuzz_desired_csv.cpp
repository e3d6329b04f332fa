// Desired-state CSV files for `ptr plan`: accepted or refused with an input
// error naming the file and line, never anything else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <provision/plan.hpp>
#include <util/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto desired = rdns::provision::parse_desired_csv(text, "desired.csv");
    for (const auto& line : desired) {
      if (line.line < 1) __builtin_trap();
    }
  } catch (const rdns::Error& error) {
    if (error.code() != rdns::Errc::input) __builtin_trap();
  }
  return 0;
}
