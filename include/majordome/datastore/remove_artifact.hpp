// Removing a datastore artifact once the registry no longer refers to it (the trash
// table is emptied after the deleting transaction commits; DESIGN.md §4).
#pragma once

#include <filesystem>

namespace majordome::datastore {

// Removes the file or symbolic link at `path` (a link is removed, never its target), then
// removes each parent directory that is now empty, up to but not including `root`.
// Returns true if a file was removed. Idempotent: a missing file is not an error, and
// empty parents are still pruned (finishing a removal that a crash interrupted).
// A directory that another process fills meanwhile is simply kept.
// Throws InvalidArgumentError if `path` is not strictly inside `root` (compared after
// making both absolute and normalised, without resolving links), IoError if the file
// exists but cannot be removed (e.g. permission denied, or it is a directory).
// Thread-safe.
bool remove_artifact(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace majordome::datastore
