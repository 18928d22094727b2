// majordome convert-refcat: the shell over image::convert_refcat (refcat_convert.hpp):
// options and config files in Rubin's ConvertReferenceCatalogConfig field names. docs/refcat.md.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "majordome/core/rubin_config.hpp"
#include "majordome/image/refcat_convert.hpp"

namespace majordome::cli {

void add_refcat_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "convert-refcat",
      "Convert a catalog (FITS table, ECSV or CSV) into an HTM-sharded reference catalog (Rubin's\n"
      "convertReferenceCatalog): one FITS shard per HTM pixel plus index.ecsv for `butler ingest-files`.\n"
      "Positions in degrees; magnitudes are AB and become nJy fluxes. Fields take Rubin's\n"
      "ConvertReferenceCatalogConfig names, from options, -C config.py (config.<field>=value) or a YAML file.");
  auto output = std::make_shared<std::string>();
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto config_files = std::make_shared<std::vector<std::string>>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  struct Options {
    std::map<std::string, std::string> strings;
    std::vector<std::string> mag_columns, mag_errs, flux_columns, flux_errs, extras;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("OUTPUT_DIR", *output, "Directory to create (must not exist, or be empty)")->required();
  cmd->add_option("INPUT", *inputs, "Input catalog files (.fits, .ecsv, .csv); all are merged")->required();
  cmd->add_option("-C,--config-file", *config_files,
                  "Config file: Rubin config.py (config.<field>=value lines) or YAML (field: value); repeatable");
  cmd->add_option("-c,--config", *overrides, "FIELD=VALUE override, Rubin field names (e.g. pm_scale=1.0)");
  const std::vector<std::pair<std::string, std::string>> string_options = {
      {"ra_name", "Right ascension column (degrees)"},
      {"dec_name", "Declination column (degrees)"},
      {"ra_err_name", "Right ascension error column (coord_err_unit)"},
      {"dec_err_name", "Declination error column (coord_err_unit)"},
      {"coord_err_unit", "Unit of the position errors: rad, deg, arcmin, arcsec, mas"},
      {"id_name", "Integer id column (default: the row number)"},
      {"pm_ra_name", "Proper motion in RA (times cos dec) column; times pm_scale gives mas/yr"},
      {"pm_dec_name", "Proper motion in Dec column; times pm_scale gives mas/yr"},
      {"pm_ra_err_name", "Proper motion RA error column"},
      {"pm_dec_err_name", "Proper motion Dec error column"},
      {"pm_scale", "Factor from the proper motion columns to mas/yr (default 1)"},
      {"parallax_name", "Parallax column; times parallax_scale gives mas"},
      {"parallax_err_name", "Parallax error column"},
      {"parallax_scale", "Factor from the parallax columns to mas (default 1)"},
      {"epoch_name", "Epoch column of the positions"},
      {"epoch_format", "Epoch format: mjd, jd, jyear, iso, isot"},
      {"epoch_scale", "Epoch time scale: tai, tt, tdb, tcb, utc"},
      {"epoch", "One epoch for every row, in epoch_format/epoch_scale (when there is no epoch column)"},
      {"flux_unit", "Unit of flux_column_list columns: nJy (default), uJy, mJy, Jy"},
      {"is_photometric_name", "Column copied to the bool column 'photometric'"},
      {"is_resolved_name", "Column copied to the bool column 'resolved'"},
      {"is_variable_name", "Column copied to the bool column 'variable'"},
      {"dataset_config.ref_dataset_name", "Dataset type name, used in the printed ingest commands"},
      {"dataset_config.indexer['HTM'].depth", "HTM depth of the shards (default 7)"},
      {"file_reader.format", "Input format: fits, ecsv, csv (default: from the file name)"},
      {"file_reader.delimiter", "CSV delimiter (default ',')"},
      {"file_reader.hdu", "FITS HDU of the table (default 1)"},
  };
  for (const auto& [field, help] : string_options) {
    std::string flag = field;
    if (flag == "dataset_config.ref_dataset_name") flag = "dataset_name";
    if (flag == "dataset_config.indexer['HTM'].depth") flag = "depth";
    if (flag.rfind("file_reader.", 0) == 0) flag = flag.substr(12);
    std::replace(flag.begin(), flag.end(), '_', '-');
    const std::string f = field;
    cmd->add_option_function<std::string>("--" + flag, [o, f](const std::string& v) { o->strings[f] = v; }, help);
  }
  cmd->add_option("--mag-column-list", o->mag_columns,
                  "AB magnitude columns, comma separated: COLUMN (band named after it) or BAND:COLUMN");
  cmd->add_option("--mag-err-column-map", o->mag_errs, "Magnitude errors: BAND:ERROR_COLUMN (or COLUMN:ERROR_COLUMN)");
  cmd->add_option("--flux-column-list", o->flux_columns, "Flux columns (flux_unit): COLUMN or BAND:COLUMN");
  cmd->add_option("--flux-err-column-map", o->flux_errs, "Flux errors: BAND:ERROR_COLUMN");
  cmd->add_option("--extra-col-names", o->extras, "Input columns copied to the shards under their own names");
  on_run(cmd, [=] {
    using image::RefcatConfigValue;
    image::RefcatConvertConfig c;
    for (const auto& file : *config_files) image::load_refcat_config_file(c, file);
    auto list_value = [](const std::vector<std::string>& items) {
      RefcatConfigValue v;
      v.kind = RefcatConfigValue::Kind::kList;
      for (const auto& [a, b] : image::parse_refcat_pairs(items)) v.list.push_back(a == b ? a : a + ":" + b);
      return v;
    };
    auto set_field = [](image::RefcatConvertConfig& config, const std::string& field, const RefcatConfigValue& v,
                        const std::string& where) { image::set_refcat_config_field(config, field, v, where); };
    for (const auto& [field, value] : o->strings) {
      RefcatConfigValue v;
      v.kind = RefcatConfigValue::Kind::kScalar;
      v.scalar = value;
      set_field(c, field, v, "--" + field);
    }
    if (!o->mag_columns.empty()) set_field(c, "mag_column_list", list_value(o->mag_columns), "--mag-column-list");
    if (!o->mag_errs.empty()) set_field(c, "mag_err_column_map", list_value(o->mag_errs), "--mag-err-column-map");
    if (!o->flux_columns.empty()) set_field(c, "flux_column_list", list_value(o->flux_columns), "--flux-column-list");
    if (!o->flux_errs.empty()) set_field(c, "flux_err_column_map", list_value(o->flux_errs), "--flux-err-column-map");
    if (!o->extras.empty()) set_field(c, "extra_col_names", list_value(o->extras), "--extra-col-names");
    for (const auto& item : *overrides) {
      const auto st = parse_config_override(item, "-c " + item);
      set_field(c, st.field, image::parse_refcat_config_value(*st.value, st.where), st.where);
    }
    const auto result = image::convert_refcat(*output, *inputs, c);
    const std::string name = c.ref_dataset_name.empty() ? "REFCAT_NAME" : c.ref_dataset_name;
    const auto dir = result.index.parent_path();
    std::cout << fmt::format("Wrote {} star(s) into {} shard(s) (htm{}) and {}.\n", result.stars, result.shards,
                             c.depth, result.index.string());
    std::cout << fmt::format(
        "Ingest with:\n  butler register-dataset-type REPO {} SimpleCatalog htm{}\n"
        "  butler ingest-files REPO {} refcats {} --prefix {} --transfer direct\n",
        name, c.depth, name, result.index.string(), dir.string());
  });
}

}  // namespace majordome::cli
