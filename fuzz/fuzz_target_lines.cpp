// Target lines as `-i FILE` and standard input give them: every byte
// sequence is either added or refused with rdns::Error, and the merged set
// it leaves behind walks in order.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <audit/targets.hpp>
#include <util/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rdns::audit;
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const InvalidInput mode : {InvalidInput::fail, InvalidInput::skip_with_warning}) {
    TargetSet targets(uint128{1} << 20);
    std::istringstream in(text);
    try {
      targets.add_lines(in, "fuzz.txt", mode, [](const std::string&) {});
    } catch (const rdns::Error&) {
      continue;
    }
    TargetSet::Cursor cursor = targets.cursor();
    IpAddress previous;
    IpAddress ip;
    bool first = true;
    for (int walked = 0; walked < 4096 && cursor.next(ip); ++walked) {
      if (!first && ip.family() == previous.family() && !(previous.value() < ip.value())) {
        __builtin_trap();  // the cursor must walk each family in ascending order
      }
      previous = ip;
      first = false;
    }
  }
  return 0;
}
