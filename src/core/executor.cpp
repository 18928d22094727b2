#include "majordome/core/executor.hpp"

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace majordome {

namespace {

// TBB keeps one thread per core unless told otherwise: `-j 8` on 2 cores (transfers that wait
// on a server, not on the CPU) must still run 8 at once. With several limits alive (nested
// executors) TBB applies the smallest, so the arena never asks for more than that (TBB would
// warn and ignore the excess).
std::unique_ptr<tbb::global_control> allow(int jobs) {
  if (jobs <= static_cast<int>(std::thread::hardware_concurrency())) return nullptr;
  return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                               static_cast<std::size_t>(jobs));
}

int arena_size(int jobs) {
  const auto limit = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  return std::max(1, std::min(jobs, static_cast<int>(limit)));
}

}  // namespace

struct Executor::Arena {
  explicit Arena(int jobs) : control(allow(jobs)), arena(arena_size(jobs)) {}
  std::unique_ptr<tbb::global_control> control;  // declared first: outlives the arena
  tbb::task_arena arena;
};

Executor::Executor(int jobs)
    : jobs_(jobs > 0 ? jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {
  if (jobs_ > 1) arena_ = std::make_unique<Arena>(jobs_);
}

Executor::~Executor() = default;

int Executor::worker_index() {
  const int index = tbb::this_task_arena::current_thread_index();
  return index < 0 ? 0 : index;
}

void Executor::for_each(std::size_t n, const std::function<void(std::size_t)>& body, Progress* progress) {
  if (!arena_) {
    for (std::size_t i = 0; i < n; ++i) {
      if (progress) progress->check_cancelled();
      body(i);
      if (progress) progress->advance();
    }
    return;
  }
  std::atomic<bool> stop{false};
  std::exception_ptr first;
  std::mutex first_mutex;
  auto run_one = [&](std::size_t i) {
    if (stop.load(std::memory_order_relaxed)) return;
    try {
      if (progress) progress->check_cancelled();
      body(i);
      if (progress) progress->advance();
    } catch (...) {
      std::lock_guard lock(first_mutex);
      if (!first) first = std::current_exception();
      stop.store(true, std::memory_order_relaxed);
    }
  };
  arena_->arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1), [&](const tbb::blocked_range<std::size_t>& range) {
      for (std::size_t i = range.begin(); i != range.end(); ++i) run_one(i);
    });
  });
  if (first) std::rethrow_exception(first);
}

}  // namespace majordome
