#pragma once
/// Time as the provisioning engine sees it. Waits (DNS polling, the staged
/// change's wait, watching an operation that may still be in flight) go
/// through a Clock so tests run them instantly with a manual one.

#include <chrono>

namespace rdns::provision {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall time: compared with journal times and stored deadlines.
  virtual std::chrono::system_clock::time_point now() = 0;
  /// Monotonic time: measures how long a wait took.
  virtual std::chrono::steady_clock::time_point monotonic_now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

/// The real clocks and std::this_thread::sleep_for.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override;
  std::chrono::steady_clock::time_point monotonic_now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
};

}  // namespace rdns::provision
