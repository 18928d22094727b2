// How the command line shows a Progress: a bar redrawn in place on a terminal (count,
// rate, ETA), or a log line every few seconds when standard error is a file or a pipe.
#pragma once

#include <cstdio>

#include "majordome/core/progress.hpp"

namespace majordome::cli {

enum class ProgressDisplay {
  kAuto,  // a bar on a terminal, log lines otherwise
  kBar,   // --progress: the bar even when standard error is not a terminal
  kNone,  // --no-progress
};

class ProgressBar final : public Progress {
 public:
  explicit ProgressBar(ProgressDisplay display, std::FILE* out = stderr);

 protected:
  void render(const State& state, bool final) override;
  std::chrono::milliseconds interval() const override;

 private:
  ProgressDisplay display_;
  std::FILE* out_;
  bool bar_;
};

}  // namespace majordome::cli
