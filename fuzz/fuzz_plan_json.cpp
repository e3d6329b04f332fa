// Plan files for `ptr apply`: refused with an input error or read, and a
// plan that was read writes out and reads back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <provision/plan.hpp>
#include <util/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rdns::provision;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Plan plan;
  try {
    plan = plan_from_json(text, "plan.json");
  } catch (const rdns::Error& error) {
    if (error.code() != rdns::Errc::input) __builtin_trap();
    return 0;
  }
  const std::string written = plan_to_json(plan);
  if (plan_to_json(plan_from_json(written, "rewritten plan")) != written) __builtin_trap();
  return 0;
}
