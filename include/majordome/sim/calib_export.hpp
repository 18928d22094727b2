// The simulator's calibrations as a Rubin calibration archive: calib/export.yaml describes every
// combined bias, dark, flat and defects file under calib/ (dataset types, one RUN, CALIBRATION
// collections per type with validity ranges, chained under one name), so that
//
//   butler import REPO DIR/calib --export-file DIR/calib/export.yaml --transfer direct
//
// brings them in as RTN-103 imports the calibrations of the USDF archive (docs/sim.md).
#pragma once

#include <filesystem>
#include <string>

#include "majordome/instrument/camera.hpp"

namespace majordome::sim {

struct CalibExportOptions {
  // Collections <instrument>/calib/<label> (CHAINED) of <instrument>/calib/<label>/<type>.<yyyymmdd>a
  // (CALIBRATION; flats per band: flat-<band>.<yyyymmdd>a), files in <instrument>/calib/<label>/run (RUN).
  std::string label = "sim";
};

struct CalibExportSummary {
  std::filesystem::path file;  // the export.yaml written
  int datasets = 0;
  std::string calibration_collection;  // the CHAINED one
  std::string run;
};

// Reads the headers of the files under `calib_dir` (as simulate() writes them) and writes
// `calib_dir`/export.yaml atomically. Dataset IDs are UUIDv5 of the instrument, type, data ID
// and label: the same files give the same IDs. Throws NotFoundError when there is no
// calibration file, CorruptFileError naming a file whose header lacks what is needed.
CalibExportSummary write_calib_export(const std::filesystem::path& calib_dir, const instrument::Camera& camera,
                                      const CalibExportOptions& options = {});

}  // namespace majordome::sim
