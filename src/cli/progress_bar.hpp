// How the command line shows a Progress: a bar redrawn in place on a terminal (count,
// rate, ETA), or a log line every few seconds when standard error is a file or a pipe; and
// how Ctrl-C (SIGINT) cancels it.
#pragma once

#include <cstdio>
#include <functional>
#include <string_view>

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
  // Ends a bar line left open by an operation that stopped (error or cancellation).
  ~ProgressBar() override;
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

 protected:
  void render(const State& state, bool final) override;
  std::chrono::milliseconds interval() const override;

 private:
  ProgressDisplay display_;
  std::FILE* out_;
  bool bar_;
  bool line_open_ = false;  // a bar is drawn without its newline
  bool logged_ = false;     // a log line was written in this phase (then its end is logged too)
};

// Runs `work` with SIGINT cancelling `progress`: the operation stops at its next unit and
// leaves the repository consistent, and the CancelledError it throws comes out (exit status
// 14) saying that the command was interrupted, where, and `consequence` (what the repository
// or the output holds now). A second SIGINT ends the process at once, as usual.
void run_cancellable(Progress& progress, std::string_view consequence, const std::function<void()>& work);

}  // namespace majordome::cli
