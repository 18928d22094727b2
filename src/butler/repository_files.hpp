// Private: the files that make a repository work, which no dataset may ever be.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
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

  // A phrase naming what `path` is ("the repository's registry database gen3.sqlite3"), or
  // nullopt if it is none of them. Compares the path as written, with links resolved, and
  // the file's identity (device and inode) when it exists.
  std::optional<std::string> identify(const std::filesystem::path& path) const;

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
