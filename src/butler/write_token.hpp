// Private: the lock and journal a writing command holds (see butler.hpp on crash safety).
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/core/uuid.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;

// Holds an exclusive flock on <root>/.majordome/locks/<token>.lock while a write runs, and
// journals (in <token>.pending beside it, synced before any file is created) the datastore
// paths the write may create, so recovery can tell a live writer from a dead one and knows
// what a dead one may have left.
class WriteToken {
 public:
  explicit WriteToken(const fs::path& root) : root_(root) {
    token_ = Uuid::v4().hex();
    fs::path dir = root / ".majordome" / "locks";
    fs::create_directories(dir);
    path_ = dir / (token_ + ".lock");
    fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
      throw IoError(fmt::format("cannot create the write lock {}: {}", path_.string(), std::strerror(errno)));
  }
  ~WriteToken() {
    std::error_code ec;
    fs::remove(journal(), ec);
    fs::remove(path_, ec);
    if (fd_ >= 0) ::close(fd_);
  }
  WriteToken(const WriteToken&) = delete;
  WriteToken& operator=(const WriteToken&) = delete;

  // Records paths (relative to the root) the writer is about to create.
  void announce(const std::vector<std::string>& paths) {
    std::string text;
    for (const auto& p : paths) text += p + "\n";
    int fd = ::open(journal().c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw IoError(fmt::format("cannot write {}: {}", journal().string(), std::strerror(errno)));
    ssize_t written = ::write(fd, text.data(), text.size());
    bool ok = written == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw IoError(fmt::format("cannot write {}: {}", journal().string(), std::strerror(errno)));
  }

 private:
  fs::path journal() const { return path_.parent_path() / (token_ + ".pending"); }
  fs::path root_;
  std::string token_;
  fs::path path_;
  int fd_ = -1;
};

// True if the writer owning `lock` still runs (its flock is held).
inline bool writer_is_alive(const fs::path& lock) {
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  bool alive = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return alive;
}

}  // namespace majordome::butler
