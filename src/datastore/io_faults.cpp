#include "majordome/datastore/io_faults.hpp"

#include <cerrno>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

namespace majordome::datastore {

namespace {

constexpr int kNone = -1;

std::atomic<int> armed_step{kNone};
std::atomic<int> remaining{0};
std::once_flag environment_read;

void arm(IoStep step, int nth) {
  remaining.store(nth);
  armed_step.store(static_cast<int>(step));
}

void read_environment() {
  const char* spec = std::getenv("MAJORDOME_TEST_FAIL_IO");
  if (!spec || !*spec) return;
  const std::string text(spec);
  const auto colon = text.find(':');
  const std::string name = text.substr(0, colon);
  int nth = 1;
  if (colon != std::string::npos) {
    try {
      nth = std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
      nth = 0;
    }
  }
  for (IoStep step : {IoStep::kWrite, IoStep::kSync, IoStep::kRename, IoStep::kLink, IoStep::kMkdir, IoStep::kRemove}) {
    if (io_step_name(step) == name && nth >= 1) {
      arm(step, nth);
      return;
    }
  }
  spdlog::warn("MAJORDOME_TEST_FAIL_IO='{}' is not <step>:<n> with step one of write, sync, rename, link, mkdir, "
               "remove and n >= 1; no fault armed",
               text);
}

}  // namespace

std::string_view io_step_name(IoStep step) {
  switch (step) {
    case IoStep::kWrite: return "write";
    case IoStep::kSync: return "sync";
    case IoStep::kRename: return "rename";
    case IoStep::kLink: return "link";
    case IoStep::kMkdir: return "mkdir";
    case IoStep::kRemove: return "remove";
  }
  return "?";
}

void arm_io_fault(IoStep step, int nth) {
  std::call_once(environment_read, [] {});  // an explicit fault wins over the environment
  arm(step, nth);
}

void disarm_io_fault() {
  std::call_once(environment_read, [] {});
  armed_step.store(kNone);
}

int io_fault(IoStep step) {
  std::call_once(environment_read, read_environment);
  if (armed_step.load(std::memory_order_relaxed) != static_cast<int>(step)) return 0;
  if (remaining.fetch_sub(1) != 1) return 0;
  armed_step.store(kNone);
  // Said once, so that a test knows the fault was reached even when the code under test
  // recovers from it (ingest-raws places a failed batch's files again one by one).
  spdlog::warn("injected I/O fault: this {} fails (MAJORDOME_TEST_FAIL_IO)", io_step_name(step));
  return EIO;
}

}  // namespace majordome::datastore
