// Reference catalogs in Rubin's HTM-sharded layout (format version 1).
//
// A reference catalog is a directory of FITS binary tables, one per HTM pixel (depth 7 by
// default) named `<htm_id>.fits`, each holding the stars whose position falls in that pixel,
// plus `index.ecsv`: the table `butler ingest-files` takes (columns `filename` and `htm7`),
// as in RTN-103 (`register-dataset-type REPO NAME SimpleCatalog htm7`, then
// `ingest-files REPO NAME RUN index.ecsv --prefix DIR --transfer direct`).
//
// Columns of a shard (Rubin's format version 1; fluxes in nJy):
//   id (int64), coord_ra, coord_dec (double, rad), coord_raErr, coord_decErr (float, rad),
//   <band>_flux, <band>_fluxErr (double, nJy) for each band,
//   epoch (double, MJD TAI), pm_ra, pm_dec, pm_raErr, pm_decErr (float, rad/yr), pm_flag (bool),
//   parallax, parallaxErr (float, rad), parallax_flag (bool).
// The table header carries REFCAT_FORMAT_VERSION = 1 and HTM_DEPTH.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "majordome/image/catalog.hpp"

namespace majordome::image {

inline constexpr int kRefcatFormatVersion = 1;

// The schema of a shard for these bands (e.g. {"g", "r", "i"}: g_flux, g_fluxErr, …).
Schema refcat_schema(const std::vector<std::string>& bands);

struct RefcatWriteOptions {
  int htm_depth = 7;
  bool overwrite = false;  // false: an existing shard file is a ConflictError
};

struct RefcatShard {
  std::uint64_t htm_id = 0;
  std::filesystem::path path;  // absolute
  std::size_t rows = 0;
};

// Splits `stars` (a catalog with at least the columns of refcat_schema for some bands) by
// HTM pixel of (coord_ra, coord_dec), writes one shard per pixel under `directory` (created
// if absent; each file written atomically) and `directory/index.ecsv`. Returns the shards
// sorted by id. Throws InvalidArgumentError naming a missing column or a non-finite position.
std::vector<RefcatShard> write_refcat_shards(const Catalog& stars, const std::filesystem::path& directory,
                                             const RefcatWriteOptions& options = {});

// Reads one shard (any of its columns; the format version checked).
Catalog read_refcat_shard(const std::filesystem::path& path);

}  // namespace majordome::image
