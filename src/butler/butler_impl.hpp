// Private state of a Butler.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <memory>
#include <vector>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/butler/butler.hpp"
#include "majordome/datastore/file_templates.hpp"
#include "majordome/datastore/placement_batch.hpp"
#include "majordome/datastore/transfer.hpp"
#include "repository_files.hpp"
#include "write_token.hpp"

namespace majordome::butler {

// Stages a file for ingest or import in `batch` (it is placed, durably, by batch.place()).
// A "move" must not lose the user's file if the write fails or the process dies before the
// registry commits (recovery deletes uncommitted artifacts): it is staged as a hard link (a
// copy across filesystems) and the source is recorded in `sources_to_remove`, to be removed
// by remove_moved_sources() after the commit.
datastore::TransferResult stage_file(datastore::PlacementBatch& batch, const std::filesystem::path& source,
                                     const std::filesystem::path& destination, datastore::TransferMode mode,
                                     std::vector<std::filesystem::path>& sources_to_remove);
// Removes the sources of committed moves; a failure only warns (the datasets are stored).
void remove_moved_sources(const std::vector<std::filesystem::path>& sources);

// Removes the datastore file at `relative` (a path relative to `root`) unless the registry
// references it. A path that breaks the datastore path rule or names one of the
// repository's own files is never removed: `purpose` ("an interrupted write") says in the
// warning who asked. Returns true if a file was removed; throws IoError if it cannot be.
bool remove_unreferenced(Registry& registry, const std::filesystem::path& root, const RepositoryFiles& files,
                         const std::string& relative, std::string_view purpose);
// True if a write would create `destination`: a path is given and nothing is there yet. Only
// such paths go into the write journal: recovery must never remove a file the writer did
// not create (a file already at the path, or a source used in place).
bool will_create(const std::filesystem::path& destination);

// The registry database a repository configuration names (registry.db, with <butlerRoot> as
// `root`): SQLite, or PostgreSQL with registry.namespace and db-auth credentials.
std::unique_ptr<registry::Database> open_database(const YAML::Node& config, const std::filesystem::path& root,
                                                  bool create);
// Removes files a failed write placed, unless the registry references them (an ambiguous
// commit failure may have committed); never throws.
void discard_placed_files(Registry& registry, const std::filesystem::path& root, const RepositoryFiles& files,
                          const std::vector<std::filesystem::path>& placed);

struct Butler::Impl {
  // Refuses a file to ingest or import that is one of the repository's own files, or, for a
  // move, a file already inside the datastore (it may be a stored dataset's, under any name).
  // `folders`: resolved folders shared by the checks of one operation (see RepositoryFiles).
  void check_source(const std::filesystem::path& source, datastore::TransferMode mode,
                    const std::filesystem::path& root, RepositoryFiles::FolderCache* folders = nullptr) const;
  // root / `template_path` + `extension`, after checking it against the datastore path
  // rule and the repository's own files; `what` names the dataset in the error.
  std::filesystem::path destination(const std::filesystem::path& root, const std::string& template_path,
                                    const std::string& extension, const std::string& what,
                                    RepositoryFiles::FolderCache* folders = nullptr) const;

  RepositoryFiles files;
  YAML::Node config;
  bool checksum = false;
  datastore::FileTemplates templates;
  std::map<std::string, std::optional<dimensions::DimensionRecord>> record_cache;
  // Writes done inside a WriteBatch keep their journal and placed files here until it ends.
  struct Deferred {
    std::unique_ptr<WriteToken> token;
    std::vector<std::filesystem::path> created, moved_sources;
  };
  int batch_depth = 0;
  std::vector<Deferred> deferred;
};

}  // namespace majordome::butler
