// Private state of a Butler.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <memory>
#include <vector>
#include <optional>
#include <string>
#include <vector>

#include "majordome/butler/butler.hpp"
#include "majordome/datastore/file_templates.hpp"
#include "majordome/datastore/transfer.hpp"
#include "write_token.hpp"

namespace majordome::butler {

// Places a file for ingest or import. A "move" must not lose the user's file if the write
// fails or the process dies before the registry commits (recovery deletes uncommitted
// artifacts): it is placed as a hard link (a copy across filesystems) and the source is
// recorded in `sources_to_remove`, to be removed by remove_moved_sources() after the commit.
datastore::TransferResult place_file(const std::filesystem::path& source, const std::filesystem::path& destination,
                                     datastore::TransferMode mode, const datastore::TransferOptions& options,
                                     std::vector<std::filesystem::path>& sources_to_remove);
// Removes the sources of committed moves; a failure only warns (the datasets are stored).
void remove_moved_sources(const std::vector<std::filesystem::path>& sources);

// Removes files a failed write placed, unless the registry references them (an ambiguous
// commit failure may have committed); never throws.
void discard_placed_files(Registry& registry, const std::filesystem::path& root,
                          const std::vector<std::filesystem::path>& placed);

struct Butler::Impl {
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
