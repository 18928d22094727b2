// The process's one way to run work in parallel.
//
// An Executor runs loops over TBB's work-stealing scheduler inside an arena of jobs()
// threads, so `-j 4` means four threads however many loops nest, even on fewer cores (for
// work that waits on I/O). Ingest, the simulator and
// the pipeline executors use it instead of threads of their own.
//
// Thread safety: one Executor may run loops from several threads at once; bodies run
// concurrently and must synchronise what they share.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "majordome/core/progress.hpp"

namespace majordome {

class Executor {
 public:
  // `jobs` threads at most; 0 or less means one per core. With one job, loops run in order
  // on the calling thread (deterministic, easy to debug).
  explicit Executor(int jobs = 0);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  int jobs() const { return jobs_; }

  // Runs body(i) for every i in [0, n) and returns when all have run. The first exception a
  // body throws stops the loop (bodies not yet started are skipped) and is rethrown here.
  // With `progress`, every finished body advances it by one, and progress->cancel() stops
  // the loop with CancelledError.
  void for_each(std::size_t n, const std::function<void(std::size_t)>& body, Progress* progress = nullptr);

  // Inside a body: the index, in [0, jobs()), of the thread running it, so a loop can keep
  // scratch space per thread (a vector of jobs() buffers). 0 outside a loop.
  static int worker_index();

 private:
  struct Arena;
  int jobs_;
  std::unique_ptr<Arena> arena_;
};

}  // namespace majordome
