// POSIX file primitives shared by the datastore's atomic writes, transfers, checksums
// and removals. Private to the module.
#pragma once

#include "majordome/datastore/atomic_file.hpp"
#include "majordome/datastore/io_faults.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace majordome::datastore::detail {

namespace fs = std::filesystem;

// The system's text for an errno value (thread-safe).
std::string errno_message(int err);

// Throws IoError "cannot <action> '<path>': <reason> (injected …)" for a fault from io_faults.hpp.
[[noreturn]] void throw_injected(int err, std::string_view action, const fs::path& path);

// Throws IoError "cannot <action> '<path>': <reason>".
[[noreturn]] void throw_io_error(int err, std::string_view action, const fs::path& path);

// Owns a file descriptor; closes it on destruction.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();

  int get() const { return fd_; }
  int release() noexcept;
  // Closes now, reporting a failure (a close error can be a lost write on NFS).
  void close(const fs::path& path);

 private:
  int fd_ = -1;
};

// Opens `path` for reading. Throws NotFoundError if it does not exist, IoError otherwise.
FileDescriptor open_for_reading(const fs::path& path);

// Writes all of `data`, retrying partial writes and EINTR. Throws IoError.
void write_all(int fd, std::string_view data, const fs::path& path);

// Copies the rest of `in` to `out` (copy_file_range when the kernel allows, else read and
// write in large blocks). Throws IoError naming the paths.
void copy_contents(int in, int out, const fs::path& source, const fs::path& destination);

// fsync of an open file; throws IoError.
void sync_file(int fd, const fs::path& path);
// Syncs a directory so that entries created or renamed in it are durable. Filesystems
// that cannot sync directories (EINVAL) are tolerated.
void sync_directory(const fs::path& directory);

// What sync_all() syncs.
enum class SyncTarget { kFiles, kDirectories };

// fsync of every path (files, or directories as sync_directory()), several at a time: a
// journalling filesystem then commits once and the block layer merges the cache flushes
// that the calls would each wait for in turn. Returns when every call has returned; throws
// the IoError of the first that failed (naming its path).
void sync_all(const std::vector<fs::path>& paths, SyncTarget target);

// Creates `directory` and any missing parents (mode 0777 minus umask), syncing the parent
// of each one created; or, when `unsynced_parents` is given, appending those parents to it
// for the caller to sync later (once each, however many files a batch places below them).
// Concurrent creation (and concurrent pruning by remove_artifact) is tolerated. Throws
// IoError, e.g. when a component exists and is not a directory.
void make_directories(const fs::path& directory, std::vector<fs::path>* unsynced_parents = nullptr);

// Asks the kernel to start writing `fd`'s dirty pages now, without waiting (Linux
// sync_file_range SYNC_FILE_RANGE_WRITE), so that a later fsync finds them on their way.
// Only a hint: it guarantees nothing and reports nothing.
void start_writeback(int fd) noexcept;

// A fresh temporary name for `destination`: its directory / ".<name>.tmp-<16 hex>".
fs::path temporary_path_for(const fs::path& destination);

// Creates a temporary for `destination` by calling `create(temporary)`, which returns 0
// or an errno value. Name collisions (EEXIST) are retried with a new name, and a parent
// directory that vanished (ENOENT, a concurrent prune) is recreated and retried. Returns
// 0 and sets `temporary`, or the errno of the last failure.
int create_temporary(const fs::path& destination, const std::function<int(const fs::path&)>& create,
                     fs::path& temporary);

// Removes a temporary file on destruction unless released.
class TemporaryGuard {
 public:
  explicit TemporaryGuard(fs::path path) : path_(std::move(path)) {}
  TemporaryGuard(const TemporaryGuard&) = delete;
  TemporaryGuard& operator=(const TemporaryGuard&) = delete;
  ~TemporaryGuard();
  void release() { active_ = false; }

 private:
  fs::path path_;
  bool active_ = true;
};

// Renames `temporary` to `destination`. With Overwrite::kRefuse the rename never replaces
// an existing entry (renameat2 RENAME_NOREPLACE, or link+unlink where that is not
// supported) and an existing destination is a ConflictError. Throws IoError otherwise.
void place(const fs::path& temporary, const fs::path& destination, Overwrite overwrite);

// The message of the ConflictError for an existing destination.
std::string exists_message(const fs::path& destination);

// Real paths (every link resolved) of many files, each folder resolved once: the sources of
// one batch share a few folders. Not thread-safe; one per batch.
class RealPathCache {
 public:
  // fs::canonical(`path`, ec) for an absolute, lexically normal `path`: from its folder's
  // real path when its last component is not a link, else resolved whole.
  fs::path canonical(const fs::path& path, std::error_code& ec);

 private:
  std::unordered_map<std::string, fs::path> folders_;
};

// fs::absolute + lexically_normal, without a trailing separator.
fs::path absolute_normal(const fs::path& path);

// `path` relative to `root` if it is strictly inside it (lexically, both absolute_normal).
std::optional<fs::path> relative_inside(const fs::path& path, const fs::path& root);

}  // namespace majordome::datastore::detail
