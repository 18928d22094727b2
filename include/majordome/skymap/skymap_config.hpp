// SkyMapConfig: the definition of a skymap, read from YAML with Rubin's field names.
//
// A skymap tessellates the sky into tracts (each with its own tangent-plane WCS and pixel
// grid) and tracts into patches. Two kinds exist, as in lsst.skymap:
//
//   * rings (RingsSkyMap, e.g. hsc_rings_v1 and lsst_cells_v1): numRings declination rings
//     plus two polar caps; each ring is cut in RA into equal tracts;
//   * discrete (DiscreteSkyMap, e.g. discrete/ci_hsc): one square tract per (raList[i],
//     decList[i]) with half-size radiusList[i].
//
// The YAML file is a flat mapping (docs/skymap.md):
//
//   name: hsc_rings_v1        # the registry name (required)
//   skyMap: rings             # rings | discrete (required)
//   numRings: 120             # rings only (required there)
//   raStart: 0.0              # rings only, degrees
//   raList / decList / radiusList: [..]   # discrete only, degrees
//   projection: TAN           # FITS projection code (default STG, as Rubin)
//   pixelScale: 0.168         # arcsec/pixel (default 0.333)
//   tractOverlap: 0.0166667   # degrees (default 1.0)
//   rotation: 0.0             # degrees (default 0)
//   tractBuilder: legacy      # legacy | cells (default legacy)
//   patchInnerDimensions: [4000, 4000]    # legacy (default [4000, 4000])
//   patchBorder: 100                      # legacy (default 100)
//   cellInnerDimensions: [150, 150]       # cells (default [150, 150])
//   cellBorder: 50                        # cells (default 50)
//   numCellsPerPatchInner: 20             # cells (default 20)
//   numCellsInPatchBorder: 1              # cells (default 1)
//
// Value type.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::skymap {

enum class SkyMapKind { kRings, kDiscrete };
enum class TractBuilderKind { kLegacy, kCells };

std::string_view skymap_kind_name(SkyMapKind kind);             // "rings", "discrete"
std::string_view tract_builder_name(TractBuilderKind kind);     // "legacy", "cells"

struct SkyMapConfig {
  std::string name;
  SkyMapKind kind = SkyMapKind::kRings;

  // BaseSkyMapConfig (defaults as Rubin's).
  std::string projection = "STG";
  double pixel_scale_arcsec = 0.333;
  double tract_overlap_deg = 1.0;
  double rotation_deg = 0.0;

  TractBuilderKind tract_builder = TractBuilderKind::kLegacy;
  std::array<int, 2> patch_inner_dimensions{4000, 4000};  // legacy
  int patch_border = 100;                                  // legacy
  std::array<int, 2> cell_inner_dimensions{150, 150};     // cells
  int cell_border = 50;                                    // cells
  int num_cells_per_patch_inner = 20;                      // cells
  int num_cells_in_patch_border = 1;                       // cells

  // RingsSkyMapConfig.
  int num_rings = 0;
  double ra_start_deg = 0.0;
  // DiscreteSkyMapConfig.
  std::vector<double> ra_list_deg, dec_list_deg, radius_list_deg;

  // Parses YAML text. `source` names it in messages (a file name). Throws
  // InvalidConfigError naming the key and the fix: an unknown key (with the closest known
  // one), a missing required key, a wrong type or an invalid value.
  static SkyMapConfig from_yaml(std::string_view text, const std::string& source = "skymap config");
  // Reads a file (NotFoundError if it cannot be read): YAML, or a Rubin pex_config file
  // (see is_rubin_config), then as from_yaml.
  static SkyMapConfig from_file(const std::filesystem::path& path);

  // True when `text` is a Rubin makeSkyMap / register-skymap config (Python lines
  // `config.<field> = <literal>`, e.g. obs_lsst's makeSkyMap.py or a saved
  // `lsst_cells_v1.skymap.config`) rather than YAML.
  static bool is_rubin_config(std::string_view text);
  // Translates such a file to the YAML form: `config.name`, `config.skyMap.name` and the
  // fields of the chosen skymap kind, `config.skyMap["rings"].numRings = 120`,
  // `.tractBuilder.name`, `.tractBuilder["cells"].cellBorder`, …; settings of other kinds
  // and tract builders are ignored, imports, comments and asserts skipped, `None` values
  // left at their defaults. InvalidConfigError (file and line) for anything else.
  static std::string translate_rubin_config(std::string_view text, const std::string& source);

  // Checks the values (InvalidConfigError naming the field): positive sizes, a 3-letter
  // projection, matching discrete lists, numRings > 0, raStart in [0, 360), ….
  void validate() const;

  // The effective patch grid: inner dimensions and border in pixels (for cells,
  // numCellsPerPatchInner × cellInnerDimensions and numCellsInPatchBorder × cell + cellBorder).
  std::array<int, 2> effective_patch_inner_dimensions() const;
  int effective_patch_border() const;

  // Every field, defaults included, in a fixed order: what `register-skymap` stores as
  // the skyMap dataset, and what from_yaml reads back to an equal config.
  std::string canonical_yaml() const;

  // Rubin's BaseSkyMap.getSha1(): SHA-1 of the class name ("RingsSkyMap" or
  // "DiscreteSkyMap"), the tract builder's packed config and the subclass state — the
  // `hash` of the registry's skymap record, identical to Rubin's for the same config
  // (hsc_rings_v1 → e29fe9f1…, discrete/ci_hsc → 2adeecc1…).
  std::array<std::uint8_t, 20> sha1() const;

  friend bool operator==(const SkyMapConfig&, const SkyMapConfig&) = default;
};

}  // namespace majordome::skymap
