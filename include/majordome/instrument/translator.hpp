// Header translators: raw FITS header → ObservationInfo, one translator per instrument
// (the role of astro_metadata_translator and obs_lsst's translators).
//
// Registered translators (name → instrument): LSST_LATISS (LATISS), LSSTCam,
// LSSTComCam, LSSTComCamSim, LSSTCamSim, LSSTCam-imSim, LSSTCam-PhoSim, TestCam (our
// simulator's camera, LSST keyword conventions plus an integer DETECTOR keyword), HSC,
// SuprimeCam, MegaPrime, DECam, SDSS and VisitInfo (never auto-detected: it must be
// forced by name), and the Rubin test stands LSST-TS3, LSST-TS8 and LSST-UCDCam (detectors
// looked up by CCD serial in data/instruments/serials/).
//
// Header fix-ups run before translation (fix_header): first a correction file
// `<instrument>-<observation_id>.yaml` (a YAML mapping KEY: new value) found in the
// caller's search path or in data/instruments/corrections/<instrument>/, then the
// translator's built-in rules. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/image/header.hpp"
#include "majordome/instrument/observation_info.hpp"

namespace majordome::instrument {

enum class TranslationMode {
  kLenient,   // a property that cannot be translated is left empty (recorded in `failures`)
  kPedantic,  // any property that cannot be translated throws NotFoundError
};

struct TranslateOptions {
  TranslationMode mode = TranslationMode::kLenient;
  // Use this translator (registered name) instead of detecting one.
  std::string translator;
  // Apply header fix-ups (correction files and built-in rules) before translating.
  bool fix_header = true;
  // Extra directories searched first for correction files.
  std::vector<std::filesystem::path> correction_search_path;
  // Names the header in messages (usually the file path).
  std::string source;
};

// Registered translator names, in detection order.
std::vector<std::string> translator_names();

// The name of the translator that recognises `header`, or nullopt.
std::optional<std::string> find_translator(const image::Header& header);
// As find_translator, but throws NotFoundError naming `source` and the identifying
// keywords seen (INSTRUME, TELESCOP, ...) when none matches.
std::string get_translator(const image::Header& header, const std::string& source = {});

// Translates a header (fix-ups applied to a copy first unless options say otherwise).
ObservationInfo translate(const image::Header& header, const TranslateOptions& options = {});
// Reads `path` (see header_source.hpp) and translates it; options.source defaults to path.
ObservationInfo translate_file(const std::filesystem::path& path, TranslateOptions options = {});

struct FixHeaderResult {
  bool modified = false;
  // The correction file applied, if any.
  std::optional<std::filesystem::path> correction_file;
  // Correction files that were found but could not be used (not a YAML mapping), with
  // the reason; they are skipped, not fatal.
  std::vector<std::string> warnings;
};

struct FixHeaderOptions {
  std::string translator;  // forced translator; empty = detect (no translator → no fix)
  bool builtin_fixes = true;
  bool default_search_path = true;  // also data/instruments/corrections/<instrument>/
  std::vector<std::filesystem::path> search_path;
  std::string source;
};

// Applies the header fix-ups in place. A fixed header carries the provenance keywords
// "ASTRO METADATA FIX FILE" (when a file was used), "ASTRO METADATA FIX DATE" and
// "ASTRO METADATA FIX VERSION"; fixing it again changes nothing but still reports
// modified = true and keeps the original date.
FixHeaderResult fix_header(image::Header& header, const FixHeaderOptions& options = {});

// Rubin's exposure id: YYYYMMDD * 100000 + seq_num, with the leading "2" of the year
// replaced for controllers C (3; until day_obs 2023-10-04), H (4), P (5), Q (6), S (7)
// (P/Q/S until 2025-04-17). `day_obs` is "YYYYMMDD", "YYYY-MM-DD" or an ISO date-time.
// InvalidArgumentError for a malformed day_obs, seq_num >= 100000 or unknown controller.
std::int64_t lsst_exposure_id(std::string_view day_obs, std::int64_t seq_num,
                              std::optional<char> controller = std::nullopt);

// Rubin's detector exposure id (RubinDimensionPacker with controllers): packs day_obs,
// seq_num, controller and detector (0..255) decoded from `exposure_id`.
std::int64_t lsst_detector_exposure_id(std::int64_t exposure_id, int detector);

// Detector number of an LSST camera detector: "R22_S01" → 1 for LSSTComCam, 97 for
// R22_S21 of LSSTCam (189 science sensors R01..R43 × S00..S22, then the corner rafts
// R00, R04, R40, R44 × SG0, SG1, SW0, SW1 = 189..204), LATISS "RXX_S00" → 0. nullopt for
// an unknown name or camera.
std::optional<int> lsst_detector_number(std::string_view camera, std::string_view raft,
                                        std::string_view sensor);

}  // namespace majordome::instrument
