// The storage class the skymap module owns and its formatter:
//
//   storage class   C++ type          file
//   SkyMap          skymap::SkyMap    the skymap's definition as YAML: a version comment line,
//                                     then SkyMapConfig::canonical_yaml()
//                                     (docs/formats/storage_classes.md, "SkyMap")
//
// Rubin stores skymaps as Python pickles; majordome neither writes nor reads those.
#pragma once

#include "majordome/datastore/formatter.hpp"

namespace majordome::skymap {

inline constexpr int kSkyMapFormatVersion = 1;

// Adds the storage class above and its formatter to `registry`.
void add_formatters(datastore::FormatterRegistry& registry);

}  // namespace majordome::skymap
