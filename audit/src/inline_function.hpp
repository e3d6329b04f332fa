#pragma once
/// A move-only callable kept inside the object when it is small: the
/// per-query callbacks of the event loop (a pointer or two and a few
/// numbers) cost no allocation, where std::function allocates for anything
/// that is not trivially copyable or larger than two pointers.

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace rdns::audit {

template <typename Signature, std::size_t Capacity = 48>
class InlineFunction;

template <typename Result, typename... Args, std::size_t Capacity>
class InlineFunction<Result(Args...), Capacity> {
 public:
  InlineFunction() = default;

  template <typename F, typename Callable = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same_v<Callable, InlineFunction> &&
                                        std::is_invocable_r_v<Result, Callable&, Args...>>>
  InlineFunction(F&& callable) {  // NOLINT(google-explicit-constructor)
    if constexpr (fits<Callable>()) {
      ::new (static_cast<void*>(storage_)) Callable(std::forward<F>(callable));
      ops_ = &kInlineOps<Callable>;
    } else {
      heap_ = new Callable(std::forward<F>(callable));
      ops_ = &kHeapOps<Callable>;
    }
  }

  InlineFunction(InlineFunction&& other) noexcept { take(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  Result operator()(Args... args) { return ops_->call(*this, std::forward<Args>(args)...); }

 private:
  struct Ops {
    Result (*call)(InlineFunction&, Args&&...);
    /// Moves the callable from the first into the second (empty) holder
    /// and destroys it in the first.
    void (*move)(InlineFunction&, InlineFunction&) noexcept;
    void (*destroy)(InlineFunction&) noexcept;
  };

  template <typename Callable>
  static constexpr bool fits() {
    return sizeof(Callable) <= Capacity && alignof(Callable) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<Callable>;
  }

  template <typename Callable>
  static Callable& stored(InlineFunction& holder) {
    return *std::launder(reinterpret_cast<Callable*>(holder.storage_));
  }

  template <typename Callable>
  static constexpr Ops kInlineOps{
      [](InlineFunction& self, Args&&... args) -> Result {
        return stored<Callable>(self)(std::forward<Args>(args)...);
      },
      [](InlineFunction& from, InlineFunction& to) noexcept {
        ::new (static_cast<void*>(to.storage_)) Callable(std::move(stored<Callable>(from)));
        stored<Callable>(from).~Callable();
      },
      [](InlineFunction& self) noexcept { stored<Callable>(self).~Callable(); }};

  template <typename Callable>
  static constexpr Ops kHeapOps{
      [](InlineFunction& self, Args&&... args) -> Result {
        return (*static_cast<Callable*>(self.heap_))(std::forward<Args>(args)...);
      },
      [](InlineFunction& from, InlineFunction& to) noexcept { to.heap_ = from.heap_; },
      [](InlineFunction& self) noexcept { delete static_cast<Callable*>(self.heap_); }};

  void take(InlineFunction& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->move(other, *this);
    ops_ = std::exchange(other.ops_, nullptr);
  }

  void reset() noexcept {
    if (ops_ == nullptr) return;
    std::exchange(ops_, nullptr)->destroy(*this);
  }

  const Ops* ops_ = nullptr;
  union {
    alignas(std::max_align_t) unsigned char storage_[Capacity];
    void* heap_;
  };
};

}  // namespace rdns::audit
