// Private: the files that make a repository work, which no dataset may ever be.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace majordome::butler {

// butler.yaml, the SQLite registry with its -wal, -shm and -journal companions, and the
// private folder .majordome (locks, write journals). No transfer mode may take one of them
// as a dataset's file or place a dataset there, and the datastore never removes them,
// whatever path, symbolic link or hard link names them (docs/names_and_paths.md).
class RepositoryFiles {
 public:
  RepositoryFiles() = default;
  // `registry_file`: the SQLite database, if the registry is one (it may be outside `root`).
  RepositoryFiles(const std::filesystem::path& root, const std::optional<std::filesystem::path>& registry_file);

  // Folders with their links resolved, remembered for the identify() calls of one operation
  // (an ingest checks thousands of files in a few folders). Resolving a folder once rather
  // than per file only moves the moment of the check, which already comes before the
  // transfer it guards. Not thread-safe; one per operation.
  class FolderCache {
   public:
    // fs::weakly_canonical(`path`) (an absolute, lexically normal path), from its resolved
    // folder when its last component is not a link; nullopt where weakly_canonical fails.
    std::optional<std::filesystem::path> resolve(const std::filesystem::path& path);

   private:
    std::unordered_map<std::string, std::optional<std::filesystem::path>> folders_;
  };

  // A phrase naming what `path` is ("the repository's registry database gen3.sqlite3"), or
  // nullopt if it is none of them. Compares the path as written, with links resolved
  // (through `folders` when given), and the file's identity (device and inode) when it exists.
  std::optional<std::string> identify(const std::filesystem::path& path, FolderCache* folders = nullptr) const;

 private:
  struct File {
    std::filesystem::path path;       // absolute, normalised
    std::filesystem::path real_path;  // links resolved
    std::string what;
  };
  std::vector<File> files_;
  std::filesystem::path private_dir_, real_private_dir_;
};

}  // namespace majordome::butler
