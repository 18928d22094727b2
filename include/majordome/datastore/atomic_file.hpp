// Atomic file creation in a datastore: content is written under a temporary name in the
// destination directory, synced, then renamed into place, and the directory is synced.
// A reader (or a crash) sees either no destination file or the complete one; a crash
// can leave only a temporary file, which cleanup_temporaries() removes.
//
// Temporary names are ".<file name>.tmp-<16 hex digits>", beside the destination.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string_view>

namespace majordome::datastore {

// Whether an existing destination may be replaced.
enum class Overwrite {
  kRefuse,   // an existing destination (file, link or directory) is a ConflictError
  kReplace,  // an existing file or link is atomically replaced; a directory is still refused
};

// Test hook, called with the temporary path once the temporary file or link is complete
// and synced, just before it is renamed into place. It may throw (the temporary is then
// removed and the exception propagates) or end the process (simulating a crash).
using BeforePlaceHook = std::function<void(const std::filesystem::path& temporary)>;

struct WriteOptions {
  Overwrite overwrite = Overwrite::kRefuse;
  BeforePlaceHook before_place = {};  // empty: no hook
};

// A file being written atomically, for writers that need a path (cfitsio, Parquet…):
//
//   AtomicFile file(root / "run/calexp/….fits");
//   write_fits(file.temporary_path());   // the writer creates the file
//   file.commit();
//
// The constructor creates missing parent directories but not the temporary file. If the
// object is destroyed before commit() (an exception in the writer), the temporary file
// is removed. Not thread-safe; one writer per object.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path destination, WriteOptions options = {});
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& destination() const { return destination_; }
  const std::filesystem::path& temporary_path() const { return temporary_; }

  // Syncs the temporary file, renames it to the destination and syncs the directory.
  // Throws IoError if nothing was written to temporary_path(), ConflictError if the
  // destination exists and overwrite is kRefuse (checked atomically at rename time, so
  // of two concurrent writers exactly one wins), IoError for system errors.
  // REQUIRES: commit() not called before.
  void commit();

 private:
  friend void atomic_write(const std::filesystem::path& path, std::string_view bytes, WriteOptions options);
  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  WriteOptions options_;
  bool committed_ = false;
  // Whether the bytes came from the caller's writer (cfitsio, a formatter) rather than our
  // own write primitive: commit() then counts them as one write step for io_faults.hpp.
  bool written_by_caller_ = true;
};

// Writes `bytes` to `path` atomically (see AtomicFile), creating parent directories.
// File mode 0666 minus the umask. Throws as AtomicFile::commit().
void atomic_write(const std::filesystem::path& path, std::string_view bytes, WriteOptions options = {});

// True if `file_name` (no directory) has the form of one of our temporary names.
bool is_temporary_name(std::string_view file_name);

// Removes leftover temporary files (names for which is_temporary_name() holds) anywhere
// under `directory`, not following symbolic links to directories, and returns how many
// it removed. Only files whose status changed at least `min_age` ago are removed: with
// the default of zero, run it only when no writer is active (e.g. at repository
// check/repair). A missing directory has nothing to clean (returns 0). Thread-safe.
std::size_t cleanup_temporaries(const std::filesystem::path& directory,
                                std::chrono::seconds min_age = std::chrono::seconds(0));

}  // namespace majordome::datastore
