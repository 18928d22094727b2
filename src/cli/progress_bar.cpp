#include "progress_bar.hpp"

#include <unistd.h>

#include <cmath>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace majordome::cli {

namespace {

std::string duration(double seconds) {
  const auto s = static_cast<long>(std::lround(seconds));
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

ProgressBar::ProgressBar(ProgressDisplay display, std::FILE* out)
    : display_(display),
      out_(out),
      bar_(display == ProgressDisplay::kBar || (display == ProgressDisplay::kAuto && ::isatty(::fileno(out)))) {}

std::chrono::milliseconds ProgressBar::interval() const {
  return bar_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
}

void ProgressBar::render(const State& state, bool final) {
  if (display_ == ProgressDisplay::kNone) return;
  const double rate = state.elapsed_s > 0 ? static_cast<double>(state.done) / state.elapsed_s : 0.0;
  std::string count = state.total ? fmt::format("{}/{}", state.done, state.total) : fmt::format("{}", state.done);
  std::string eta;
  if (!final && state.total > state.done && rate > 0)
    eta = " ETA " + duration(static_cast<double>(state.total - state.done) / rate);
  if (!bar_) {
    if (state.done == 0 && !final) return;  // a log line once there is something to say
    spdlog::info("{}: {} ({:.0f}/s, {}){}", state.phase, count, rate, duration(state.elapsed_s), eta);
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
  if (final) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace majordome::cli
