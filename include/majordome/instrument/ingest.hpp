// Raw ingest (`butler ingest-raws`): reads raw files' headers (in parallel), translates them,
// records day_obs, group and exposure dimension records and ingests each file as a `raw`
// dataset {instrument, exposure, detector} with a reproducible ID (DATAID_TYPE_RUN).
//
// Files are handled one by one: a file that cannot be used (not FITS, empty, truncated, a
// header cfitsio cannot parse safely, unknown instrument, header missing required keys,
// instrument or detector not registered, a conflicting exposure record, a record made from
// its header that the database refuses, another file already holding its data ID, a
// transfer that fails) is reported with the reason and skipped; the others are ingested. Writes go in batches, each one
// transaction that either commits its records, datasets and files together or leaves
// nothing behind. Re-ingesting a file that is already there is a no-op.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/core/executor.hpp"
#include "majordome/core/progress.hpp"
#include "majordome/image/header.hpp"
#include "majordome/instrument/observation_info.hpp"

namespace majordome::instrument {

inline constexpr const char* kRawDatasetType = "raw";
inline constexpr const char* kRawStorageClass = "Exposure";

// "<instrument>/raw/all", Rubin's default raw run.
std::string default_raw_run(std::string_view instrument);

// Rubin's default pattern of raw file names: .fits, .fit, .fits.gz, .fits.fz.
inline const std::string kRawFileRegex = R"(\.fit[s]?\b)";

// Files to ingest from files and directories (searched recursively). In directories only
// names in which `regex` is found are taken, sorted; files named explicitly are always taken.
// NotFoundError for a location that does not exist; InvalidArgumentError for a bad regex.
std::vector<std::filesystem::path> find_raw_files(const std::vector<std::filesystem::path>& locations,
                                                  const std::string& regex = kRawFileRegex);

// Per-file metadata from Rubin's metadata index files (`_index.json` beside the files, as
// written by `astrometadata write-index`; content "metadata"). Index files with other
// content ("translated") or unreadable ones are ignored (with a message in `warnings`).
// Each index is parsed once; its "__COMMON__" cards are converted once for all its files.
struct MetadataIndex {
  struct Directory;  // one parsed index (private)
  struct Entry {
    std::shared_ptr<const Directory> directory;
    std::string name;  // the file's name in the index
  };
  // Lexically normal absolute file path → its entry.
  std::unordered_map<std::string, Entry> files;
  std::vector<std::string> warnings;

  // The header the index gives `file` (lexically normal absolute path): the "__COMMON__"
  // cards and the file's own, the file's winning, in key order (as the JSON object they
  // merge into); nullopt when no index names the file. Throws CorruptFileError naming the
  // file and the index when a value is not a header value. Thread-safe.
  std::optional<image::Header> header(const std::filesystem::path& file) const;
};
// The indexes of the files' directories, parsed in parallel by `executor`.
MetadataIndex read_metadata_indexes(const std::vector<std::filesystem::path>& files, Executor& executor);
// The same with an executor of `jobs` threads.
MetadataIndex read_metadata_indexes(const std::vector<std::filesystem::path>& files, int jobs = 1);

struct RawIngestOptions {
  std::string transfer = "auto";   // datastore transfer mode (auto, direct, symlink, copy, …)
  std::string regex = kRawFileRegex;  // names of the files taken from directories (ECMAScript)
  int jobs = 1;                    // threads reading headers (an Executor of that many; < 1 means 1)
  bool fail_fast = false;          // stop at the first bad file (throws its error)
  std::string output_run;          // empty: <INSTRUMENT>/raw/all for each instrument
  bool use_index_files = true;     // read _index.json metadata instead of headers when present
  std::size_t batch_size = 2000;   // files per write transaction
  // Not owned; may be null. Two phases: "reading headers" (one unit per file) and "ingesting"
  // (one unit per file placed in the datastore). Progress::cancel() stops the work at the
  // next file: ingest_raws throws CancelledError, and the batch being written is rolled back
  // (its files removed) while the batches committed before it stay.
  Progress* progress = nullptr;
};

struct RawIngestFailure {
  std::filesystem::path file;
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;
};

struct RawIngestResult {
  std::size_t files = 0;             // files considered
  std::size_t ingested = 0;          // new raw datasets
  std::size_t already_present = 0;   // files whose dataset was already there (same file)
  std::size_t from_index = 0;        // files whose metadata came from an _index.json
  std::size_t new_exposures = 0;     // exposure records written
  std::vector<std::string> runs;     // the runs written to or holding the files already present, sorted
  std::vector<RawIngestFailure> failures;  // in file order
  std::vector<std::string> warnings;
};

// Ingests the raw files found at `locations` into the repository. REQUIRES: the butler is
// open for writing. Per-file problems are collected in `failures` (or, with fail_fast,
// thrown as the file's error with the file named); repository-wide problems (the run
// exists with another type, the database fails) are thrown, as is CancelledError.
RawIngestResult ingest_raws(butler::Butler& butler, const std::vector<std::filesystem::path>& locations,
                            const RawIngestOptions& options = {});

// Rubin's `butler update-exposures-from-raws`: the exposure records of already-ingested raws
// made again from their headers (one raw per exposure; local or on a server), replacing those
// that differ, in one transaction. For raws fixed up since they were ingested (a new header
// translation, a corrected header). Files that cannot be read are reported (or, with
// fail_fast, the first one is thrown); an exposure whose new record the database refuses
// (e.g. a physical filter not registered) is reported and left as it was.
struct UpdateExposuresOptions {
  std::vector<std::string> collections;  // where the raws are; empty: <INSTRUMENT>/raw/all
  std::string where;                     // a query expression selecting the raws (required, as Rubin's)
  int jobs = 1;                          // threads reading headers
  bool fail_fast = false;
  Progress* progress = nullptr;          // one unit per exposure read
};
struct UpdateExposuresResult {
  std::size_t exposures = 0, updated = 0, unchanged = 0;
  std::vector<RawIngestFailure> failures;
};
UpdateExposuresResult update_exposures_from_raws(butler::Butler& butler, std::string_view instrument,
                                                 const UpdateExposuresOptions& options = {});

}  // namespace majordome::instrument
