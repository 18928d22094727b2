// Converting an external catalog (FITS table, ECSV or CSV) into an HTM-sharded reference
// catalog: the job of Rubin's convertReferenceCatalog, configured with the field names of its
// ConvertReferenceCatalogConfig (docs/refcat.md). `majordome convert-refcat` is the shell.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace majordome::image {

// The fields of Rubin's ConvertReferenceCatalogConfig we implement (same names).
struct RefcatConvertConfig {
  std::string ra_name;
  std::string dec_name;
  std::string ra_err_name;
  std::string dec_err_name;
  std::string coord_err_unit;
  std::vector<std::pair<std::string, std::string>> mag_column_list;  // band, column
  std::map<std::string, std::string> mag_err_column_map;            // band or column → error column
  std::vector<std::pair<std::string, std::string>> flux_column_list;
  std::map<std::string, std::string> flux_err_column_map;
  std::string flux_unit = "nJy";
  std::string id_name;
  std::string pm_ra_name;
  std::string pm_dec_name;
  std::string pm_ra_err_name;
  std::string pm_dec_err_name;
  double pm_scale = 1.0;
  std::string parallax_name;
  std::string parallax_err_name;
  double parallax_scale = 1.0;
  std::string epoch_name;
  std::string epoch_format;
  std::string epoch_scale;
  std::optional<double> epoch;  // majordome: one epoch for every row (no column)
  std::vector<std::string> extra_col_names;
  std::string is_photometric_name;
  std::string is_resolved_name;
  std::string is_variable_name;
  std::string ref_dataset_name;
  int depth = 7;
  std::string format;  // fits, ecsv, csv; empty: from the file name
  char delimiter = 0;  // CSV delimiter; 0: ','
  std::vector<std::string> colnames;
  int header_lines = 0;
  int hdu = 1;
};

// A config value as written: None, a scalar, a list or a dict (all as text).
struct RefcatConfigValue {
  enum class Kind { kNone, kScalar, kList, kDict } kind = Kind::kNone;
  std::string scalar;
  std::vector<std::string> list;
  std::vector<std::pair<std::string, std::string>> dict;
};

// A value as Python writes it in a config.py ("'x'", "['a', 'b']", "{'g': 'g_err'}", "None").
RefcatConfigValue parse_refcat_config_value(const std::string& text, const std::string& where);
// "a:b,c:d" items (command line) → pairs; an entry without ':' maps to itself.
std::vector<std::pair<std::string, std::string>> parse_refcat_pairs(const std::vector<std::string>& items);
// Sets one field by its Rubin path without "config." ("mag_column_list",
// "dataset_config.ref_dataset_name"); InvalidConfigError naming `where` and the known fields.
void set_refcat_config_field(RefcatConvertConfig& config, const std::string& field, const RefcatConfigValue& value,
                             const std::string& where);
// Applies a config file: YAML (.yaml, .yml) or a Rubin config.py.
void load_refcat_config_file(RefcatConvertConfig& config, const std::filesystem::path& path);

struct RefcatConvertResult {
  std::size_t stars = 0;
  std::size_t shards = 0;
  std::filesystem::path index;  // <output>/index.ecsv, absolute
};
// Reads every input, converts the rows (positions in degrees, AB magnitudes or fluxes to
// nJy, epochs to MJD TAI) and writes the shards and index.ecsv under `output`, which must
// not exist or be empty (ConflictError). InvalidConfigError for an incomplete or
// contradictory config, InvalidArgumentError for bad rows, each naming the file and row.
RefcatConvertResult convert_refcat(const std::filesystem::path& output, const std::vector<std::string>& inputs,
                                   RefcatConvertConfig config);

}  // namespace majordome::image
