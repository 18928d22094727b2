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
#include "majordome/datastore/resource.hpp"
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
// With `remote` (a repository on a server), the file removed is remote->join(relative).
bool remove_unreferenced(Registry& registry, const std::filesystem::path& root, const RepositoryFiles& files,
                         const std::string& relative, std::string_view purpose,
                         const std::optional<datastore::ResourcePath>& remote = std::nullopt);
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
// (With `remote`, `placed` holds root / relative for each file placed on the server.)
void discard_placed_files(Registry& registry, const std::filesystem::path& root, const RepositoryFiles& files,
                          const std::vector<std::filesystem::path>& placed,
                          const std::optional<datastore::ResourcePath>& remote = std::nullopt);

// One file to place in a datastore on a server: a local file, or another remote one.
struct RemoteUpload {
  std::string relative;                         // its datastore path
  std::filesystem::path local;                  // the local file to send, or
  std::optional<datastore::ResourcePath> from;  // the remote file to copy
};
// Places each upload at root.join(relative), several at once: PUT to a temporary name,
// then MOVE into place (an existing file is never replaced). The temporaries are journalled
// in `token` before the first PUT, and each destination right after its MOVE made it this
// writer's (never before: a writer killed before its MOVE must not have recovery delete the
// file another writer put there). `placed` receives local_root / relative for each file
// placed, even when a later one fails (for discard_placed_files); the first failure is
// rethrown once the others have ended. Returns the sizes and, with `checksums`, the BLAKE2b
// of the bytes sent.
struct Uploaded {
  std::int64_t size = 0;
  std::optional<std::string> checksum;
};
std::vector<Uploaded> upload_files(const datastore::ResourcePath& root, const std::filesystem::path& local_root,
                                   const std::vector<RemoteUpload>& uploads, WriteToken& token, bool checksums,
                                   std::vector<std::filesystem::path>& placed);
// Refuses (ConflictError naming the file and the fix) datastore paths of a write that are
// in the trash still (their old file may not be deleted yet) or hold a file on the server.
void check_remote_destinations(Registry& registry, const datastore::ResourcePath& root,
                               const std::vector<std::string>& relative);
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
  // The datastore root of a repository on a server; the Butler's root() is then the local
  // folder that holds its write journals and locks (remote_state_root in butler.cpp).
  std::optional<datastore::ResourcePath> remote;
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
