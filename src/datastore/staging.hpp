// The two halves of a file-creating transfer, shared by transfer_file() (one file, synced
// and placed at once) and PlacementBatch (many files, synced and placed together).
// Private to the module.
#pragma once

#include "majordome/datastore/transfer.hpp"
#include "posix_file.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <vector>

namespace majordome::datastore::detail {

// A transfer after its checks: what it will do, or that there is nothing to create.
struct PreparedTransfer {
  TransferResult result;            // result.mode: the mode asked (kAuto resolved), or kDirect/kNone when done
  std::filesystem::path real_source;  // links resolved; empty when nothing is to be created
  struct stat source_stat {};
  bool creates_file = false;  // false: result is final, nothing to stage
};

// The checks and decisions of transfer_file() (see transfer.hpp for the errors it throws),
// up to but excluding creating anything: the source exists and is a regular file, the root
// is given when the mode needs one, in-place and direct modes are resolved, and nothing but
// a same-inode file is at the destination (or overwrite is kReplace and it is no directory).
// `real_paths`, when given, resolves the source's folder once for many calls.
PreparedTransfer prepare_transfer(const std::filesystem::path& source, const std::filesystem::path& destination,
                                  TransferMode mode, const TransferOptions& options,
                                  RealPathCache* real_paths = nullptr);

// Whether a staged temporary's content is synced now or by the caller later.
enum class ContentSync {
  kNow,       // fsync before the temporary is closed (single-file writes)
  kDeferred,  // writeback is started but not waited for; the caller must sync the temporary
};

// What stage_transfer() made.
struct StagedTemporary {
  std::filesystem::path temporary;
  TransferMode mode = TransferMode::kNone;  // kCopy, kHardlink, kSymlink or kRelsymlink
  bool has_content = false;                 // a regular file we wrote (a copy): needs its data synced
  std::int64_t size_bytes = 0;              // of the content: the copy as written, else the source
};

// Creates the temporary beside `prepared.result.artifact` for a copy or link mode (kMove
// is the caller's business). Missing parent directories are created; their parents are
// synced at once, or, when `unsynced_directories` is given, appended to it for the caller
// to sync. On failure nothing of this transfer is left (only directories) and the error is
// thrown as transfer_file() would.
StagedTemporary stage_transfer(const PreparedTransfer& prepared, TransferMode mode, ContentSync sync,
                               std::vector<std::filesystem::path>* unsynced_directories);

}  // namespace majordome::datastore::detail
