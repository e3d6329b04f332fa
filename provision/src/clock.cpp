#include <thread>

#include <provision/clock.hpp>

namespace rdns::provision {

std::chrono::system_clock::time_point SystemClock::now() {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point SystemClock::monotonic_now() {
  return std::chrono::steady_clock::now();
}

void SystemClock::sleep_for(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}

}  // namespace rdns::provision
