// Defects: the bad pixels of one detector as a list of boxes, with the calibration's
// metadata (Rubin's ip_isr Defects; storage class `Defects`).
//
// Boxes are in the detector's pixel coordinates and keep their order. The metadata holds
// the calibration's cards as Rubin writes them (OBSTYPE, INSTRUME, DETECTOR, CALIBDATE,
// CALIB_ID, …); DEFECTS_SCHEMA and DEFECTS_SCHEMA_VERSION describe the file, not the
// defects, and are not kept in it.
//
// Files (docs/formats/storage_classes.md, "Defects"): a FITS binary table of the columns
// x0, y0, width, height (Rubin's "Simple" schema) with the metadata in its header, written
// and read; Rubin's ECSV text form of the same table (what curated calibrations ship),
// read. Value type; thread-compatible.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/header.hpp"

namespace majordome::instrument {

inline constexpr int kDefectsFormatVersion = 1;

struct Defects {
  std::vector<image::Box2I> boxes;
  image::Header metadata;

  // Parses Rubin's "Simple" defects ECSV (`# %ECSV` header with the columns and a `meta`
  // mapping, then `x0 y0 width height` rows). CorruptFileError naming `source` and the
  // line for anything else (another DEFECTS_SCHEMA, a missing column, a bad number).
  static Defects from_ecsv(std::string_view text, const std::string& source = "defects");

  friend bool operator==(const Defects&, const Defects&) = default;
};

// Writes `defects` to a new FITS file at `path` (not atomically: for a formatter writing
// to the datastore's temporary name). ConflictError if it exists, IoError.
void write_defects_file(const std::filesystem::path& path, const Defects& defects);
// Reads a defects file, FITS (ours or Rubin's "Simple" table) or ECSV, told apart by its
// first bytes. NotFoundError, CorruptFileError naming the file.
Defects read_defects(const std::filesystem::path& path);

}  // namespace majordome::instrument
