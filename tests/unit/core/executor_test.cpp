#include "majordome/core/executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "majordome/core/error.hpp"

namespace majordome {
namespace {

class RecordingProgress final : public Progress {
 public:
  std::vector<State> shown;
  std::vector<bool> finals;

 protected:
  void render(const State& state, bool final) override {
    shown.push_back(state);
    finals.push_back(final);
  }
  std::chrono::milliseconds interval() const override { return std::chrono::milliseconds(0); }
};

TEST(Executor, RunsEveryIndexOnceOnSeveralThreads) {
  Executor executor(4);
  EXPECT_EQ(executor.jobs(), 4);
  std::vector<std::atomic<int>> hits(10'000);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  executor.for_each(hits.size(), [&](std::size_t i) {
    hits[i].fetch_add(1);
    if (i % 100 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
    }
  });
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_GT(threads.size(), 1u);
  EXPECT_LE(threads.size(), 4u);
}

TEST(Executor, OneJobRunsInOrderOnTheCallingThread) {
  Executor executor(1);
  std::vector<std::size_t> order;
  const auto caller = std::this_thread::get_id();
  executor.for_each(5, [&](std::size_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

TEST(Executor, TheFirstErrorStopsTheLoopAndIsRethrown) {
  for (int jobs : {1, 3}) {
    Executor executor(jobs);
    std::atomic<int> ran{0};
    try {
      executor.for_each(100'000, [&](std::size_t i) {
        ran.fetch_add(1);
        if (i == 10) throw NotFoundError("file 10 is missing");
      });
      FAIL() << "expected NotFoundError";
    } catch (const NotFoundError& e) {
      EXPECT_STREQ(e.what(), "file 10 is missing");
    }
    EXPECT_LT(ran.load(), 100'000) << jobs << " jobs: the loop did not stop";
  }
}

TEST(Executor, ProgressCountsAndCancelStops) {
  Executor executor(2);
  RecordingProgress progress;
  progress.start("ingest", 50);
  executor.for_each(50, [](std::size_t) {}, &progress);
  progress.finish();
  EXPECT_EQ(progress.state().done, 50u);
  ASSERT_FALSE(progress.shown.empty());
  EXPECT_EQ(progress.shown.front().phase, "ingest");
  EXPECT_EQ(progress.shown.back().done, 50u);
  EXPECT_TRUE(progress.finals.back());

  RecordingProgress cancelling;
  cancelling.start("simulate", 1000);
  std::atomic<int> ran{0};
  try {
    executor.for_each(1000, [&](std::size_t i) {
      ran.fetch_add(1);
      if (i == 3) cancelling.cancel();
    }, &cancelling);
    FAIL() << "expected CancelledError";
  } catch (const CancelledError& e) {
    EXPECT_NE(std::string(e.what()).find("simulate"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), ErrorCode::kCancelled);
    EXPECT_EQ(exit_status(e.code()), 14);
  }
  EXPECT_LT(ran.load(), 1000);
}

}  // namespace
}  // namespace majordome
