// A Progress that cancels itself once a phase has counted a given number of units: what a
// user pressing Ctrl-C in the middle of an operation does, at a reproducible point.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "majordome/core/progress.hpp"

namespace majordome::testing {

class CancellingProgress final : public Progress {
 public:
  CancellingProgress(std::string phase, std::size_t after) : phase_(std::move(phase)), after_(after) {}
  std::vector<std::string> phases;  // every phase started, in order

 protected:
  // Interval 0: called at every advance() (single-threaded callers), so the cancel is exact.
  void render(const State& state, bool final) override {
    if (state.done == 0 && !final && (phases.empty() || phases.back() != state.phase)) phases.push_back(state.phase);
    if (state.phase == phase_ && state.done >= after_) cancel();
  }
  std::chrono::milliseconds interval() const override { return std::chrono::milliseconds(0); }

 private:
  std::string phase_;
  std::size_t after_;
};

}  // namespace majordome::testing
