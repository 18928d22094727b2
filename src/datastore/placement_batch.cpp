#include "majordome/datastore/placement_batch.hpp"

#include "majordome/datastore/io_faults.hpp"
#include "majordome/datastore/resource.hpp"

#include "majordome/core/error.hpp"
#include "posix_file.hpp"
#include "staging.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

namespace majordome::datastore {

namespace fs = std::filesystem;

PlacementBatch::PlacementBatch(TransferOptions options)
    : options_(std::move(options)),
      root_(options_.root.empty() ? fs::path() : detail::absolute_normal(options_.root)),
      real_paths_(std::make_unique<detail::RealPathCache>()) {}

PlacementBatch::~PlacementBatch() {
  if (!placed_) roll_back();
}

void PlacementBatch::check_open(std::string_view what) const {
  if (placing_started_) throw InternalError(fmt::format("PlacementBatch::{} after place()", what));
}

void PlacementBatch::stage_directories(const std::vector<fs::path>& created) {
  for (const auto& d : created) directories_.insert(d);
}

TransferResult PlacementBatch::add(const fs::path& source, const fs::path& destination, TransferMode mode) {
  check_open("add");
  if (mode == TransferMode::kMove)
    throw InvalidArgumentError(fmt::format("a placement batch cannot move '{}': link or copy it, and remove the "
                                           "source once the batch is committed", source.string()));
  auto prepared = detail::prepare_transfer(source, destination, mode, options_, real_paths_.get());
  if (!prepared.creates_file) return prepared.result;
  const fs::path& dest = prepared.result.artifact;
  if (destinations_.count(dest)) throw ConflictError(detail::exists_message(dest));
  // Reserve before creating anything, so that a throwing emplace cannot orphan a temporary.
  staged_.reserve(staged_.size() + 1);
  std::vector<fs::path> created;
  auto temp = detail::stage_transfer(prepared, prepared.result.mode, detail::ContentSync::kDeferred, &created);
  prepared.result.mode = temp.mode;
  prepared.result.size_bytes = temp.size_bytes;
  staged_.push_back({temp.temporary, dest, temp.has_content});
  destinations_.insert(dest);
  directories_.insert(dest.parent_path());
  stage_directories(created);
  return prepared.result;
}

void PlacementBatch::add_bytes(const fs::path& destination, std::string_view bytes) {
  check_open("add_bytes");
  stage_content(destination, [&](int fd, const fs::path& temporary) { detail::write_all(fd, bytes, temporary); });
}

TransferResult PlacementBatch::add_download(const ResourcePath& source, const fs::path& destination) {
  check_open("add_download");
  const fs::path dest = stage_content(destination, [&](int, const fs::path& temporary) {
    if (int err = io_fault(IoStep::kWrite))
      throw IoError(fmt::format("writing {}: {} (injected I/O fault)", temporary.string(), detail::errno_message(err)));
    download_resource(source, temporary);
  });
  std::error_code ec;
  const auto size = static_cast<std::int64_t>(fs::file_size(staged_.back().temporary, ec));
  std::string stored = file_uri(dest);
  if (!root_.empty())
    if (auto rel = detail::relative_inside(dest, root_)) stored = rel->generic_string();
  return TransferResult{TransferMode::kCopy, dest, std::move(stored), size};
}

fs::path PlacementBatch::stage_content(const fs::path& destination,
                                       const std::function<void(int fd, const fs::path& temporary)>& write) {
  fs::path dest = destination.is_relative() && !root_.empty() ? root_ / destination : destination;
  dest = detail::absolute_normal(dest);
  if (!dest.has_filename() || !dest.has_relative_path())
    throw InvalidArgumentError(fmt::format("'{}' is not a file path", destination.string()));
  if (destinations_.count(dest)) throw ConflictError(detail::exists_message(dest));
  staged_.reserve(staged_.size() + 1);
  std::vector<fs::path> created;
  detail::make_directories(dest.parent_path(), &created);
  stage_directories(created);
  fs::path temporary;
  detail::FileDescriptor out;
  int err = detail::create_temporary(
      dest,
      [&](const fs::path& candidate) {
        int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) return errno;
        out = detail::FileDescriptor(fd);
        return 0;
      },
      temporary);
  if (err != 0) detail::throw_io_error(err, "create a temporary file for", dest);
  detail::TemporaryGuard guard(temporary);
  write(out.get(), temporary);
  detail::start_writeback(out.get());
  out.close(temporary);
  staged_.push_back({temporary, dest, true});
  guard.release();
  destinations_.insert(dest);
  directories_.insert(dest.parent_path());
  return dest;
}

void PlacementBatch::place() {
  check_open("place");
  placing_started_ = true;
  try {
    // Durability, in the order a crash needs: (1) the data of every temporary, so that no
    // destination can ever name a partial file; (2) the renames; (3) the directories, so
    // that the names are durable before the caller commits rows that point at them.
    //
    // Why fsync of each file, and not one syncfs(2) of the datastore's filesystem: syncfs
    // reports write-back errors only since Linux 5.8, does nothing on most FUSE
    // filesystems, must be repeated for every filesystem mounted inside the root, and
    // waits for every other writer's dirty data on a shared filesystem. fsync is the POSIX
    // durability call on every filesystem (NFS, FUSE, GPFS included) and reports the error
    // of the file it is given. What made per-file syncs slow was their order: one file's
    // sync, rename and directory sync after another, each waiting for its own journal
    // commit and disk cache flush (3 ms each on a busy disk). Here add() has started every
    // file's write-back as it was written, and sync_all() keeps several fsync calls in
    // flight, which the filesystem serves with one journal commit and the block layer with
    // merged cache flushes: as fast as one syncfs, and as strong as fsync.
    std::vector<fs::path> contents;
    for (const auto& s : staged_)
      if (s.has_content) contents.push_back(s.temporary);  // links: their only data is the directory entry
    detail::sync_all(contents, detail::SyncTarget::kFiles);
    for (auto& s : staged_) {
      if (options_.before_place) options_.before_place(s.temporary);
      struct stat st {};
      if (::lstat(s.temporary.c_str(), &st) != 0) detail::throw_io_error(errno, "inspect", s.temporary);
      detail::place(s.temporary, s.destination, options_.overwrite);
      s.placed = true;
      s.device = st.st_dev;
      s.inode = st.st_ino;
    }
    // One sync per directory however many files went into it: the renames (and the entries
    // of directories add() created) become durable here, before the caller commits.
    detail::sync_all({directories_.begin(), directories_.end()}, detail::SyncTarget::kDirectories);
  } catch (...) {
    roll_back();
    throw;
  }
  placed_ = true;
}

void PlacementBatch::roll_back() noexcept {
  for (auto& s : staged_) {
    if (!s.placed) {
      ::unlink(s.temporary.c_str());
      continue;
    }
    // Only the file this batch put there: with kRefuse nobody can have replaced it, but a
    // name is checked rather than trusted.
    struct stat st {};
    if (::lstat(s.destination.c_str(), &st) == 0 && st.st_dev == s.device && st.st_ino == s.inode)
      ::unlink(s.destination.c_str());
    s.placed = false;
  }
  staged_.clear();
  destinations_.clear();
}

}  // namespace majordome::datastore
