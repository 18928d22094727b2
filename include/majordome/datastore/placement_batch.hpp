// Many files placed into a datastore with one durability barrier for all of them, for
// writers that commit a registry transaction per batch (ingest, import).
//
// transfer_file() and AtomicFile make each file durable on its own: fsync of the file,
// rename, fsync of its directory, once per file. A batch does the same steps per phase:
//
//   PlacementBatch batch({.root = root});
//   for (…) results.push_back(batch.add(source, destination, TransferMode::kCopy));
//   batch.place();   // every staged file is now durable at its destination
//   txn.commit();    // only now may the registry point at them
//
// add() creates each file's content under a temporary name beside its destination (as
// transfer_file() does) without waiting for the disk; place() then syncs every temporary
// that holds data we wrote, renames each into place, and syncs every directory it renamed
// into or created once. A crash at any point leaves only temporaries and complete files at
// their destinations (never a partial one: data is synced before any rename), which the
// caller must have journalled so that recovery removes them (see butler's write journal).
#pragma once

#include "majordome/datastore/resource.hpp"
#include "majordome/datastore/transfer.hpp"

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string_view>
#include <vector>

namespace majordome::datastore {

namespace detail {
class RealPathCache;
}  // namespace detail

// A batch of transfers and atomic writes whose syncs are deferred to place(). Not
// thread-safe; one writer per batch. Different batches may run concurrently: for one
// destination, exactly one of them places its file (the others get a ConflictError).
class PlacementBatch {
 public:
  // `options.root` is needed by the modes that need one (see transfer.hpp);
  // `options.before_place` (test hook) is called for each temporary just before its rename,
  // once every temporary of the batch is synced.
  explicit PlacementBatch(TransferOptions options = {});
  // Unless place() returned normally: removes every temporary the batch still holds and
  // every destination it had already placed (directories it created stay). Never throws.
  ~PlacementBatch();
  PlacementBatch(const PlacementBatch&) = delete;
  PlacementBatch& operator=(const PlacementBatch&) = delete;

  // Stages `source` for `destination` as transfer_file() would place it, with the same
  // checks, results and errors; nothing appears at the destination before place().
  // Modes that create nothing (kDirect, kSplit, kNone, kAuto with a source inside the root,
  // or a destination that already is the source) return their result and stage nothing.
  // kMove is an InvalidArgumentError: a rename cannot wait for the batch, and a failed batch
  // could not give the file back (hard-link or copy it, then remove the source after the
  // registry commits). A destination already staged in this batch is a ConflictError.
  // If add() throws, nothing of that transfer is left; what was staged before stays.
  // REQUIRES: place() not called before.
  TransferResult add(const std::filesystem::path& source, const std::filesystem::path& destination,
                     TransferMode mode);

  // Stages `bytes` as the content of `destination` (as atomic_write(), mode 0666 minus the
  // umask); a relative destination is taken relative to the root. Errors as add().
  // REQUIRES: place() not called before.
  void add_bytes(const std::filesystem::path& destination, std::string_view bytes);

  // Stages the content of the (local or remote) file `source`, downloaded now, as the
  // content of `destination` (as add_bytes). Returns the result of a kCopy.
  // REQUIRES: place() not called before.
  TransferResult add_download(const ResourcePath& source, const std::filesystem::path& destination);

  // Number of files staged (and, after place(), placed).
  std::size_t size() const { return staged_.size(); }

  // Makes the batch durable at its destinations: fsync of every temporary holding data
  // written by this batch, then each rename (never replacing an existing entry unless
  // options.overwrite is kReplace; of two concurrent writers exactly one wins), then one
  // fsync per distinct directory renamed into or created (and per parent of a directory
  // created). When it returns, every staged file is durable under its final name.
  // Throws ConflictError naming a destination that appeared since add(), IoError for a
  // system error; the batch is then rolled back as by the destructor, so a failed place()
  // leaves no file at any destination and no temporary. An empty batch does nothing.
  // REQUIRES: place() not called before.
  void place();

 private:
  struct Staged {
    std::filesystem::path temporary, destination;
    bool has_content = false;  // a regular file the batch wrote: its data needs a sync
    bool placed = false;
    dev_t device = 0;  // identity of the placed file, so a roll-back removes only it
    ino_t inode = 0;
  };
  void check_open(std::string_view what) const;
  // Creates a temporary for `destination`, lets `write` fill it, stages it; returns the
  // absolute destination.
  std::filesystem::path stage_content(const std::filesystem::path& destination,
                                      const std::function<void(int fd, const std::filesystem::path& temporary)>& write);
  void stage_directories(const std::vector<std::filesystem::path>& created);
  void roll_back() noexcept;

  TransferOptions options_;
  std::filesystem::path root_;
  std::unique_ptr<detail::RealPathCache> real_paths_;  // the sources' folders, resolved once
  std::vector<Staged> staged_;
  std::set<std::filesystem::path> destinations_;
  std::set<std::filesystem::path> directories_;  // to sync once after the renames
  bool placing_started_ = false;
  bool placed_ = false;
};

}  // namespace majordome::datastore
