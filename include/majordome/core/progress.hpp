// Progress of a long operation, and a way to cancel it.
//
// Library code that takes long (ingest, import, the simulator, pipeline executors) reports
// through a Progress it is given (a nullable pointer: none means nobody watches):
// start() names a phase and its size, advance() counts units done, finish() ends the phase.
// The shells decide how it looks by overriding render(): the CLI draws a bar on a terminal
// and writes periodic log lines otherwise; Python and the HTTP server poll state(). A caller
// cancels with cancel(); the operation calls check_cancelled() between units, which throws
// CancelledError, and leaves nothing half-written, as for any other error.
//
// Thread safety: every member may be called from any thread (advance() is lock-free).
#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

namespace majordome {

class Progress {
 public:
  virtual ~Progress() = default;

  // Begins a phase of `total` units (0: unknown). Resets the count.
  void start(std::string_view phase, std::size_t total);
  // Counts `units` more done; may draw (at most every few tenths of a second).
  void advance(std::size_t units = 1);
  // Ends the current phase (draws its final state).
  void finish();

  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  // Throws CancelledError naming the phase if cancel() was called.
  void check_cancelled() const;

  // A consistent view of the counters, for shells that poll.
  struct State {
    std::string phase;
    std::size_t done = 0;
    std::size_t total = 0;
    double elapsed_s = 0.0;
  };
  State state() const;

 protected:
  // Called under a lock when something should be shown: a phase starts, at most every
  // `interval()` while it runs, and when it finishes (`final` true).
  virtual void render(const State& state, bool final) { (void)state, (void)final; }
  virtual std::chrono::milliseconds interval() const { return std::chrono::milliseconds(200); }

 private:
  State state_locked() const;

  mutable std::mutex mutex_;
  std::string phase_;
  std::atomic<std::size_t> done_{0};
  std::atomic<std::size_t> total_{0};
  std::atomic<bool> cancelled_{false};
  std::chrono::steady_clock::time_point started_{};
  std::atomic<std::int64_t> next_render_ns_{0};
};

}  // namespace majordome
