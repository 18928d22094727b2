// The storage classes the instrument module owns and their formatters:
//
//   storage class   C++ type              file
//   Camera          instrument::Camera    the camera description YAML (docs/formats/camera.md)
//   Defects         instrument::Defects   FITS table x0, y0, width, height (defects.hpp); Rubin's
//                                         ECSV read too (curated calibrations are recorded with
//                                         majordome.instrument.CuratedEcsvFormatter, an alias)
#pragma once

#include "majordome/datastore/formatter.hpp"

namespace majordome::instrument {

// Adds the storage classes above and their formatters to `registry`.
void add_formatters(datastore::FormatterRegistry& registry);

}  // namespace majordome::instrument
