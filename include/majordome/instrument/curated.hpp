// Curated calibrations (`butler write-curated-calibrations`): the calibrations an instrument
// ships as data files, written into a repository and certified with their validity ranges.
//
// Collections, named as Rubin names them (<I> = instrument, <L> = the labels joined by "/"):
//   <I>/calib/<L>                     CALIBRATION collection holding the certifications;
//   <I>/calib/<L>/unbounded           RUN of the `camera` dataset (certified over (-∞, ∞));
//   <I>/calib/<L>/curated/<T>         one RUN per validity start T (YYYYMMDDTHHMMSSZ) of the
//                                     curated files (defects, …), each certified over
//                                     [its start, the next start of the same detector).
// Data: the camera description data/instruments/<I>.yaml is the `camera` dataset;
// data/instruments/curated/<I>/<type>/<detector name, lower case>/<YYYYMMDDTHHMMSS>.ecsv are
// the curated files (type "defects" → storage class Defects).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/butler/butler.hpp"

namespace majordome::instrument {

struct CuratedOptions {
  std::vector<std::string> labels;  // at least one unless `collection` is given
  std::string collection;           // overrides the CALIBRATION collection name
  std::string prefix;               // replaces the instrument name at the start of the collection names
  std::string transfer = "copy";    // how the data files are put into the datastore
};

struct CuratedResult {
  std::string instrument;
  std::string calibration_collection;
  std::vector<std::string> runs;   // in the order written
  std::size_t datasets = 0;        // datasets written and certified
  std::vector<std::string> dataset_types;
};

// One curated calibration file found in the data directory.
struct CuratedFile {
  std::string dataset_type;   // "defects"
  std::string storage_class;  // "Defects"
  int detector = 0;
  std::string calib_date;     // "1970-01-01T00:00:00" (UTC, from the file name)
  std::filesystem::path path;
};

// The curated files of a camera, sorted by type, detector and date. NotFoundError for a
// detector directory that names no detector of the camera; empty when the instrument
// ships none.
std::vector<CuratedFile> find_curated_files(std::string_view instrument);

// "19700101T000000Z" for "1970-01-01T00:00:00" (Rubin's formatCollectionTimestamp).
std::string collection_timestamp(std::string_view calib_date);

// Writes the camera and curated calibrations of `instrument` (our name or Rubin class name;
// it must be registered). All-or-nothing. ConflictError if the CALIBRATION collection
// already exists (choose another label); InvalidArgumentError with no label.
CuratedResult write_curated_calibrations(butler::Butler& butler, std::string_view instrument,
                                         const CuratedOptions& options);

}  // namespace majordome::instrument
