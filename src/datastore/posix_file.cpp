#include "posix_file.hpp"

#include "majordome/core/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <mutex>
#include <thread>
#include <cstdio>
#include <random>
#include <system_error>
#include <vector>

namespace majordome::datastore::detail {
namespace {

constexpr std::size_t kCopyBlockBytes = std::size_t{8} << 20;
constexpr std::size_t kMaxFileNameBytes = 255;
constexpr int kCreateAttempts = 8;
// sync_all(): at most this many fsync calls in flight, and a thread only for every few
// paths (a thread costs about what an fsync of a file already written back does).
constexpr std::size_t kSyncThreads = 8;
constexpr std::size_t kSyncsPerThread = 4;

// 64 random bits per call. The generator is reseeded after fork() so that processes
// forked from one parent (the multi-process executor) do not repeat each other's names.
std::string random_hex16() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  thread_local pid_t owner = getpid();
  if (getpid() != owner) {
    owner = getpid();
    engine.seed(std::random_device{}() ^ (static_cast<std::uint64_t>(owner) << 32));
  }
  return fmt::format("{:016x}", engine());
}

}  // namespace

std::string errno_message(int err) { return std::generic_category().message(err); }

void throw_injected(int err, std::string_view action, const fs::path& path) {
  throw IoError(fmt::format("cannot {} '{}': {} (injected by MAJORDOME_TEST_FAIL_IO)", action, path.string(),
                            errno_message(err)));
}

void throw_io_error(int err, std::string_view action, const fs::path& path) {
  throw IoError(fmt::format("cannot {} '{}': {}", action, path.string(), errno_message(err)));
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

int FileDescriptor::release() noexcept {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void FileDescriptor::close(const fs::path& path) {
  int fd = release();
  // POSIX leaves the descriptor state unspecified after EINTR; Linux has closed it, so
  // retrying could close another thread's descriptor.
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) throw_io_error(errno, "close", path);
}

FileDescriptor open_for_reading(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw NotFoundError(fmt::format("file '{}' does not exist", path.string()));
    throw_io_error(err, "open", path);
  }
  return FileDescriptor(fd);
}

void write_all(int fd, std::string_view data, const fs::path& path) {
  if (int err = io_fault(IoStep::kWrite)) throw_injected(err, "write", path);
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io_error(errno, "write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void copy_contents(int in, int out, const fs::path& source, const fs::path& destination) {
  if (int err = io_fault(IoStep::kWrite)) throw_injected(err, "write", destination);
  // copy_file_range lets the filesystem share extents (reflink) or copy in the kernel.
  for (;;) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, kCopyBlockBytes, 0);
    if (n == 0) return;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == EPERM) break;
    throw IoError(fmt::format("cannot copy '{}' to '{}': {}", source.string(), destination.string(),
                              errno_message(errno)));
  }
  std::vector<char> buffer(kCopyBlockBytes);
  for (;;) {
    ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n == 0) return;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io_error(errno, "read", source);
    }
    write_all(out, std::string_view(buffer.data(), static_cast<std::size_t>(n)), destination);
  }
}

void sync_file(int fd, const fs::path& path) {
  if (int err = io_fault(IoStep::kSync)) throw_injected(err, "sync", path);
  if (::fsync(fd) != 0) throw_io_error(errno, "sync", path);
}

void sync_directory(const fs::path& directory) {
  if (int err = io_fault(IoStep::kSync)) throw_injected(err, "sync directory", directory);
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_io_error(errno, "open directory", directory);
  FileDescriptor owned(fd);
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) throw_io_error(errno, "sync directory", directory);
}

void sync_all(const std::vector<fs::path>& paths, SyncTarget target) {
  auto sync_one = [target](const fs::path& path) {
    if (target == SyncTarget::kDirectories) {
      sync_directory(path);
      return;
    }
    FileDescriptor file = open_for_reading(path);
    sync_file(file.get(), path);
    file.close(path);
  };
  // The threads wait on the disk, not the CPU: more of them than cores is the point.
  const std::size_t threads = std::min(kSyncThreads, paths.size() / kSyncsPerThread);
  if (threads < 2) {
    for (const auto& p : paths) sync_one(p);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::exception_ptr first_error;
  auto work = [&] {
    for (std::size_t i; (i = next++) < paths.size();) {
      try {
        sync_one(paths[i]);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = std::current_exception();
        next = paths.size();
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  try {
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  } catch (...) {  // no more threads: the ones started and this one do the work
  }
  work();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

void start_writeback(int fd) noexcept { ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); }

void make_directories(const fs::path& directory, std::vector<fs::path>* unsynced_parents) {
  // Walk up to the deepest existing ancestor, then create downwards.
  std::vector<fs::path> missing;
  fs::path current = directory;
  for (;;) {
    struct stat st {};
    if (::stat(current.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        throw IoError(fmt::format("cannot create directory '{}': '{}' exists and is not a directory",
                                  directory.string(), current.string()));
      }
      break;
    }
    if (errno != ENOENT) throw_io_error(errno, "inspect", current);
    missing.push_back(current);
    if (!current.has_relative_path()) break;
    current = current.parent_path();
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    int attempts = 0;
    if (int err = io_fault(IoStep::kMkdir)) throw_injected(err, "create directory", *it);
    while (::mkdir(it->c_str(), 0777) != 0) {
      if (errno == EEXIST) {
        struct stat st {};
        if (::stat(it->c_str(), &st) == 0 && S_ISDIR(st.st_mode)) break;
        throw IoError(fmt::format("cannot create directory '{}': it exists and is not a directory", it->string()));
      }
      // A concurrent remove_artifact() may prune a parent we just created.
      if (errno == ENOENT && ++attempts < kCreateAttempts) {
        make_directories(it->parent_path(), unsynced_parents);
        continue;
      }
      throw_io_error(errno, "create directory", *it);
    }
    if (unsynced_parents) {
      unsynced_parents->push_back(it->parent_path());
    } else {
      sync_directory(it->parent_path());
    }
  }
}

fs::path temporary_path_for(const fs::path& destination) {
  std::string name = destination.filename().string();
  std::size_t budget = kMaxFileNameBytes - (1 + 5 + 16);  // ".", ".tmp-", 16 hex digits
  if (name.size() > budget) name.resize(budget);
  return destination.parent_path() / ("." + name + ".tmp-" + random_hex16());
}

int create_temporary(const fs::path& destination, const std::function<int(const fs::path&)>& create,
                     fs::path& temporary) {
  int err = 0;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    fs::path candidate = temporary_path_for(destination);
    err = create(candidate);
    if (err == 0) {
      temporary = std::move(candidate);
      return 0;
    }
    if (err == EEXIST) continue;
    struct stat st {};
    if (err == ENOENT && ::stat(destination.parent_path().c_str(), &st) != 0) {
      make_directories(destination.parent_path());
      continue;
    }
    return err;
  }
  return err;
}

TemporaryGuard::~TemporaryGuard() {
  if (active_) ::unlink(path_.c_str());
}

std::string exists_message(const fs::path& destination) {
  return fmt::format("destination '{}' already exists; refusing to overwrite it", destination.string());
}

void place(const fs::path& temporary, const fs::path& destination, Overwrite overwrite) {
  if (int err = io_fault(IoStep::kRename)) throw_injected(err, "rename into place", destination);
  if (overwrite == Overwrite::kReplace) {
    if (::rename(temporary.c_str(), destination.c_str()) == 0) return;
    int err = errno;
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
      throw ConflictError(fmt::format("destination '{}' is a directory; refusing to replace it", destination.string()));
    }
    throw_io_error(err, "rename into place", destination);
  }
  if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, destination.c_str(), RENAME_NOREPLACE) == 0) return;
  int err = errno;
  if (err == EEXIST) throw ConflictError(exists_message(destination));
  if (err != EINVAL && err != ENOSYS && err != EOPNOTSUPP) throw_io_error(err, "rename into place", destination);
  // No RENAME_NOREPLACE here (e.g. NFS): link() also refuses to replace, atomically.
  if (::linkat(AT_FDCWD, temporary.c_str(), AT_FDCWD, destination.c_str(), 0) == 0) {
    ::unlink(temporary.c_str());
    return;
  }
  err = errno;
  if (err == EEXIST) throw ConflictError(exists_message(destination));
  if (err != EPERM && err != EOPNOTSUPP && err != ENOSYS) throw_io_error(err, "link into place", destination);
  // Neither primitive exists: check then rename, which a concurrent writer could race.
  struct stat st {};
  if (::lstat(destination.c_str(), &st) == 0) throw ConflictError(exists_message(destination));
  if (::rename(temporary.c_str(), destination.c_str()) != 0) throw_io_error(errno, "rename into place", destination);
}

fs::path RealPathCache::canonical(const fs::path& path, std::error_code& ec) {
  ec.clear();
  struct stat st {};
  if (!path.has_filename() || !path.has_parent_path() || ::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode))
    return fs::canonical(path, ec);
  // realpath(folder/name) = realpath(folder)/name when name exists and is not a link.
  const fs::path folder = path.parent_path();
  auto it = folders_.find(folder.string());
  if (it == folders_.end()) {
    fs::path real = fs::canonical(folder, ec);
    if (ec) return {};
    it = folders_.emplace(folder.string(), std::move(real)).first;
  }
  return it->second / path.filename();
}

fs::path absolute_normal(const fs::path& path) {
  fs::path out = fs::absolute(path).lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) out = out.parent_path();
  return out;
}

std::optional<fs::path> relative_inside(const fs::path& path, const fs::path& root) {
  fs::path rel = path.lexically_relative(root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") return std::nullopt;
  return rel;
}

}  // namespace majordome::datastore::detail
