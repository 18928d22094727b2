// Placing an existing file into a POSIX datastore (ingest, import): Rubin's transfer modes
// (spec/butler.md §6, docs/datastore.md).
#pragma once

#include "majordome/datastore/atomic_file.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace majordome::datastore {

enum class TransferMode {
  kAuto,        // "auto": source inside the root → used in place (kNone), outside → kCopy
  kCopy,        // "copy"
  kMove,        // "move": rename; across filesystems copy then remove the source
  kLink,        // "link": hard link, or a symbolic link when a hard link is impossible
  kHardlink,    // "hardlink"
  kSymlink,     // "symlink": absolute link to the source's real path
  kRelsymlink,  // "relsymlink": relative link from the destination's directory
  kDirect,      // "direct": nothing moves; the record holds the source's absolute URI
  kSplit,       // "split": inside the root → kNone, outside → kDirect
  kNone,        // Rubin's None: the source must already be inside the root; used in place
};

// The CLI name ("auto", "copy", …, "split"; "none" for kNone).
std::string_view transfer_mode_name(TransferMode mode);
// The mode named `name` (exactly one of the nine CLI names; kNone has no CLI name).
std::optional<TransferMode> find_transfer_mode(std::string_view name);
// As find_transfer_mode(), but throws InvalidArgumentError listing the valid names.
TransferMode parse_transfer_mode(std::string_view name);

struct TransferOptions {
  // The datastore root. Required by kAuto, kSplit and kNone (to tell inside from
  // outside); a relative destination is taken relative to it.
  std::filesystem::path root;
  Overwrite overwrite = Overwrite::kRefuse;
  BeforePlaceHook before_place = {};  // test hook, see atomic_file.hpp
};

struct TransferResult {
  // What was done: kCopy, kMove, kHardlink, kSymlink, kRelsymlink (kLink resolves to one
  // of the last two), kDirect, or kNone (nothing moved: the source was used in place, or
  // the destination already was the same file as the source).
  TransferMode mode = TransferMode::kNone;
  // Absolute path of the file the datastore now reads.
  std::filesystem::path artifact;
  // The value for the datastore record's path: `artifact` relative to the root with '/'
  // separators when it is inside the root, otherwise its absolute "file://" URI.
  std::string stored_path;
  // Size in bytes of the artifact's content (links followed): of the copy as written, else
  // of the source when it was checked. What artifact_info() would read, without opening it.
  std::int64_t size_bytes = 0;
};

// Places `source` at `destination` (usually root / template path + extension) in `mode`.
//
// Symbolic links in `source` are resolved first, for every mode (a "move" moves the file
// the link points to). Every file-creating mode is atomic: the copy or link is made under
// a temporary name beside the destination, synced, then renamed into place without ever
// replacing an existing file unless options.overwrite is kReplace; the directory is then
// synced. A same-filesystem move is a single rename. A failed transfer leaves neither
// the destination nor a temporary, only directories it created (a cross-filesystem move
// that cannot remove its source removes the destination again); a crash can leave only
// a temporary (see cleanup_temporaries).
//
// Throws NotFoundError naming a missing source; InvalidArgumentError if the source is not
// a regular file, if kAuto/kSplit/kNone is given no root, or if kNone's source is outside
// the root; ConflictError naming an existing destination; IoError with the system's
// reason otherwise (permission denied, a hard link across filesystems, disk full…).
// Safe to call concurrently for different destinations; for the same destination exactly
// one concurrent call succeeds.
TransferResult transfer_file(const std::filesystem::path& source, const std::filesystem::path& destination,
                             TransferMode mode, const TransferOptions& options = {});

// The file that a name in an export (`path:`) or an ingest table stands for
// (docs/names_and_paths.md): a "file://" URI or an absolute path as given; a relative path
// inside `folder` (made absolute), which it must not leave lexically ("../x", "a/../../x").
// Throws InvalidArgumentError naming the path, the folder and the fix.
std::filesystem::path resolve_source(std::string_view name, const std::filesystem::path& folder);
// A move deletes its source, so it takes only a file that lies inside `folder` once links
// are resolved (a link in the folder that points outside is refused). Throws
// InvalidArgumentError naming the file, the folder and the fix.
void check_move_source(const std::filesystem::path& source, const std::filesystem::path& folder);

// `path` relative to `root` if it lies inside it. Symbolic links are resolved first, so a
// path that reaches the root through a link (or leaves it through one) is judged by where
// the file really is, and two spellings of one file give one relative path; lexically
// otherwise (a path whose folders do not exist yet).
std::optional<std::filesystem::path> inside_root(const std::filesystem::path& path, const std::filesystem::path& root);

// "file://" + the absolute, normalised path, percent-encoded except letters, digits,
// "_.-~" and '/' (as Python's urllib.parse.quote): "/data/a b.fits" → "file:///data/a%20b.fits".
std::string file_uri(const std::filesystem::path& path);
// The path of a "file:///…" or "file://localhost/…" URI, percent-decoded. Throws
// InvalidArgumentError for another scheme or host, or a malformed escape.
std::filesystem::path path_from_file_uri(std::string_view uri);

}  // namespace majordome::datastore
