// Registering a skymap: its skymap, tract and patch dimension records.
#pragma once

#include <cstdint>

#include "majordome/core/progress.hpp"
#include "majordome/registry/registry.hpp"
#include "majordome/skymap/skymap.hpp"

namespace majordome::skymap {

struct RegisterSkyMapResult {
  bool inserted = false;  // false: the same skymap was already registered (nothing written)
  int tracts = 0;
  std::int64_t patches = 0;
  int patch_nx_max = 0;
  int patch_ny_max = 0;
  std::array<std::uint8_t, 20> hash{};
};

// Writes the skymap record {name, hash = config.sha1(), tract_max = size(), patch_nx_max,
// patch_ny_max}, one tract record per tract (region = TractInfo::outer_polygon()) and one
// patch record per patch (id, cell_x, cell_y, region = patch_polygon()), all in one write
// transaction, patches inserted in batches. Registering an identical skymap again is a
// no-op (inserted = false, no tract or patch work); a different definition under the same
// name throws ConflictError naming both hashes. The caller's open transaction, if any,
// is joined (the records commit with it).
// `progress` (not owned, may be null): phase "registering tracts", one unit per tract;
// Progress::cancel() stops at the next tract with CancelledError, nothing written.
RegisterSkyMapResult register_skymap(registry::Registry& registry, const SkyMap& skymap,
                                     Progress* progress = nullptr);

// The registry's skymap record for this skymap (what register_skymap syncs).
registry::DimensionRecord skymap_record(const registry::Universe& universe, const SkyMap& skymap);

}  // namespace majordome::skymap
