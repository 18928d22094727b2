#include "majordome/core/progress.hpp"

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Progress::start(std::string_view phase, std::size_t total) {
  std::lock_guard lock(mutex_);
  phase_ = phase;
  done_.store(0);
  total_.store(total);
  started_ = std::chrono::steady_clock::now();
  next_render_ns_.store(now_ns() + std::chrono::nanoseconds(interval()).count());
  render(State{phase_, 0, total, 0.0}, false);
}

void Progress::advance(std::size_t units) {
  done_.fetch_add(units, std::memory_order_relaxed);
  const std::int64_t now = now_ns();
  std::int64_t due = next_render_ns_.load(std::memory_order_relaxed);
  // One thread wins the right to draw; the others go on working.
  if (now < due || !next_render_ns_.compare_exchange_strong(due, now + std::chrono::nanoseconds(interval()).count()))
    return;
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock) return;
  render(state_locked(), false);
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  render(state_locked(), true);
}

void Progress::check_cancelled() const {
  if (!cancelled()) return;
  std::lock_guard lock(mutex_);
  throw CancelledError(phase_.empty() ? std::string("cancelled") : fmt::format("{}: cancelled", phase_));
}

Progress::State Progress::state() const {
  std::lock_guard lock(mutex_);
  return state_locked();
}

Progress::State Progress::state_locked() const {
  const double elapsed =
      started_ == std::chrono::steady_clock::time_point{}
          ? 0.0
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return State{phase_, done_.load(std::memory_order_relaxed), total_.load(std::memory_order_relaxed), elapsed};
}

}  // namespace majordome
