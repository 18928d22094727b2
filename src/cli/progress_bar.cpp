#include "progress_bar.hpp"

#include "conventions.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome::cli {

namespace {

std::string duration(double seconds) {
  const auto s = static_cast<long>(std::lround(seconds));
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

// The progress SIGINT cancels. Progress::cancel() is one store to a lock-free atomic, which a
// signal handler may do.
std::atomic<Progress*> interrupt_target{nullptr};
volatile sig_atomic_t interrupted = 0;
static_assert(std::atomic<Progress*>::is_always_lock_free);

extern "C" void on_interrupt(int) {
  interrupted = 1;
  if (Progress* p = interrupt_target.load()) p->cancel();
}

}  // namespace

ProgressBar::ProgressBar(ProgressDisplay display, std::FILE* out)
    : display_(display == ProgressDisplay::kAuto ? global_progress_display() : display),
      out_(out),
      bar_(display_ == ProgressDisplay::kBar || (display_ == ProgressDisplay::kAuto && ::isatty(::fileno(out)))) {}

ProgressBar::~ProgressBar() {
  if (line_open_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

std::chrono::milliseconds ProgressBar::interval() const {
  return bar_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
}

void ProgressBar::render(const State& state, bool final) {
  if (display_ == ProgressDisplay::kNone) return;
  const double rate = state.elapsed_s > 0 ? static_cast<double>(state.done) / state.elapsed_s : 0.0;
  std::string count = state.total ? fmt::format("{}/{}", state.done, state.total) : fmt::format("{}", state.done);
  std::string eta;
  if (!final && state.total > state.done && rate > 0)
    eta = ", ETA " + duration(static_cast<double>(state.total - state.done) / rate);
  if (!bar_) {
    // Lines only for phases long enough to need them: quick commands print what they printed
    // before (as Rubin's butler, which shows no progress by default).
    if (state.done == 0 && !final) {
      logged_ = false;  // a new phase
      return;
    }
    if (final && !logged_) return;
    logged_ = !final;
    std::fprintf(out_, "info %s: %s%s (%.0f/s, %s%s)\n", state.phase.c_str(), count.c_str(), final ? " done" : "",
                 rate, duration(state.elapsed_s).c_str(), eta.c_str());
    std::fflush(out_);
    return;
  }
  constexpr int kWidth = 30;
  std::string bar;
  if (state.total) {
    const int filled = static_cast<int>(kWidth * std::min(1.0, static_cast<double>(state.done) / static_cast<double>(state.total)));
    bar = "[" + std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(kWidth - filled), '.') + "] ";
  }
  std::fprintf(out_, "\r\033[K%s %s%s %.0f/s %s%s", state.phase.c_str(), bar.c_str(), count.c_str(), rate,
               duration(state.elapsed_s).c_str(), eta.c_str());
  line_open_ = !final;
  if (final) std::fputc('\n', out_);
  std::fflush(out_);
}

void run_cancellable(Progress& progress, std::string_view consequence, const std::function<void()>& work) {
  struct sigaction action {}, previous{};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a read or write under way finishes (the work stops between units, not in the
  // middle of a file); SA_RESETHAND: a second Ctrl-C ends the process.
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  interrupted = 0;
  interrupt_target.store(&progress);
  ::sigaction(SIGINT, &action, &previous);
  struct Restore {
    struct sigaction& previous;
    ~Restore() {
      ::sigaction(SIGINT, &previous, nullptr);
      interrupt_target.store(nullptr);
    }
  } restore{previous};
  try {
    work();
  } catch (const CancelledError&) {
    const auto state = progress.state();
    const std::string where =
        state.phase.empty() ? std::string()
                            : fmt::format(" while {} (at {}{})", state.phase, state.done,
                                          state.total ? fmt::format(" of {}", state.total) : std::string());
    throw CancelledError(fmt::format("{}{}; {}", interrupted ? "interrupted (SIGINT)" : "cancelled", where,
                                     consequence));
  }
}

}  // namespace majordome::cli
