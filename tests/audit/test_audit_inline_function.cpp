// InlineFunction: the per-query callback holder. Small callables live inside
// it, larger ones on the heap; either way each is called with what it was
// given, moves with its holder and is destroyed exactly once.

#include <array>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "../../audit/src/inline_function.hpp"

using rdns::audit::InlineFunction;

namespace {

/// Counts the live copies of a callable, whatever moved it where.
struct Tracked {
  explicit Tracked(int* counter) : live(counter) { ++*live; }
  Tracked(Tracked&& other) noexcept : live(other.live) { ++*live; }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --*live; }
  int* live;
};

}  // namespace

TEST_CASE("InlineFunction calls a small callable kept inside it") {
  int live = 0;
  std::string seen;
  {
    InlineFunction<void(std::string &&)> call =
        [tracked = Tracked(&live), &seen](std::string&& text) { seen = std::move(text); };
    CHECK(live == 1);
    CHECK(static_cast<bool>(call));
    call(std::string("first"));
    CHECK(seen == "first");
    InlineFunction<void(std::string &&)> moved = std::move(call);
    CHECK_FALSE(static_cast<bool>(call));
    CHECK(live == 1);
    moved(std::string("second"));
    CHECK(seen == "second");
  }
  CHECK(live == 0);
}

TEST_CASE("InlineFunction keeps a large callable on the heap, with the same behaviour") {
  int live = 0;
  int sum = 0;
  {
    std::array<int, 64> numbers{};
    numbers[63] = 5;
    InlineFunction<int(int)> call = [tracked = Tracked(&live), numbers, &sum](int add) {
      sum += numbers[63] + add;
      return sum;
    };
    CHECK(live == 1);
    CHECK(call(1) == 6);
    InlineFunction<int(int)> moved;
    CHECK_FALSE(static_cast<bool>(moved));
    moved = std::move(call);
    CHECK(live == 1);
    CHECK(moved(2) == 13);
    // Assigning over a holder destroys what it held.
    moved = [](int add) { return add; };
    CHECK(live == 0);
    CHECK(moved(7) == 7);
  }
  CHECK(live == 0);
}

TEST_CASE("InlineFunction moves a callable that owns memory without copying it") {
  auto owned = std::make_unique<int>(42);
  const int* address = owned.get();
  InlineFunction<const int*()> call = [owned = std::move(owned)] { return owned.get(); };
  InlineFunction<const int*()> moved = std::move(call);
  CHECK(moved() == address);
}
