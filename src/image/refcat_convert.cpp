// Reference catalog conversion (refcat_convert.hpp, docs/refcat.md).
#include "majordome/image/refcat_convert.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <erfa.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "majordome/core/error.hpp"
#include "majordome/core/rubin_config.hpp"
#include "majordome/core/time.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/image/refcat.hpp"

namespace majordome::image {

namespace {

using ConvertConfig = RefcatConvertConfig;
using Value = RefcatConfigValue;

namespace fs = std::filesystem;

constexpr double kRadPerDeg = std::numbers::pi / 180.0;
constexpr double kRadPerMas = kRadPerDeg / 3.6e6;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ------------------------------------------------------------------ configuration



std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string unquote(const std::string& s) {
  const std::string t = trim(s);
  if (t.size() >= 2 && (t.front() == '\'' || t.front() == '"') && t.back() == t.front()) return t.substr(1, t.size() - 2);
  return t;
}

// Splits at top-level `sep` (outside quotes and brackets).
std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  int depth = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if (c == ']' || c == '}' || c == ')') {
      --depth;
    } else if (c == sep && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!trim(cur).empty()) out.push_back(cur);
  return out;
}

// A Python literal as written in a Rubin config.py: None, 'text', 1.5, True, [..], {..}.
Value parse_python_value(const std::string& text, const std::string& where) {
  const std::string t = trim(text);
  Value v;
  if (t == "None") return v;
  if (t.size() >= 2 && t.front() == '[' && t.back() == ']') {
    v.kind = Value::Kind::kList;
    for (const auto& item : split_top(t.substr(1, t.size() - 2), ',')) v.list.push_back(unquote(item));
    return v;
  }
  if (t.size() >= 2 && t.front() == '{' && t.back() == '}') {
    v.kind = Value::Kind::kDict;
    for (const auto& item : split_top(t.substr(1, t.size() - 2), ',')) {
      const auto kv = split_top(item, ':');
      if (kv.size() != 2) throw InvalidConfigError(fmt::format("{}: '{}' is not a key: value pair", where, trim(item)));
      v.dict.emplace_back(unquote(kv[0]), unquote(kv[1]));
    }
    return v;
  }
  if (t.empty()) throw InvalidConfigError(fmt::format("{}: no value after '='", where));
  v.kind = Value::Kind::kScalar;
  v.scalar = unquote(t);
  return v;
}

// "a:b,c:d" (command line) → pairs; an entry without ':' maps to itself.
std::vector<std::pair<std::string, std::string>> parse_pairs(const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : items) {
    for (const auto& part : split_top(item, ',')) {
      const std::string p = trim(part);
      if (p.empty()) continue;
      const auto colon = p.find(':');
      if (colon == std::string::npos) {
        out.emplace_back(p, p);
      } else {
        out.emplace_back(trim(p.substr(0, colon)), trim(p.substr(colon + 1)));
      }
    }
  }
  return out;
}

double parse_number(const std::string& text, const std::string& where) {
  try {
    std::size_t used = 0;
    const double d = std::stod(text, &used);
    if (used == text.size()) return d;
  } catch (const std::exception&) {
  }
  throw InvalidConfigError(fmt::format("{}: '{}' is not a number", where, text));
}

const std::vector<std::string>& known_fields() {
  static const std::vector<std::string> fields = {
      "ra_name", "dec_name", "ra_err_name", "dec_err_name", "coord_err_unit", "mag_column_list",
      "mag_err_column_map", "flux_column_list", "flux_err_column_map", "flux_unit", "id_name", "pm_ra_name",
      "pm_dec_name", "pm_ra_err_name", "pm_dec_err_name", "pm_scale", "parallax_name", "parallax_err_name",
      "parallax_scale", "epoch_name", "epoch_format", "epoch_scale", "epoch", "extra_col_names",
      "is_photometric_name", "is_resolved_name", "is_variable_name", "dataset_config.ref_dataset_name",
      "dataset_config.indexer['HTM'].depth", "dataset_config.indexer.name", "dataset_config.format_version",
      "file_reader.format", "file_reader.delimiter", "file_reader.colnames", "file_reader.header_lines",
      "file_reader.hdu", "n_processes", "full_position_information"};
  return fields;
}

// Sets one field; `field` is a Rubin field path without the leading "config.".
void set_field(ConvertConfig& c, std::string field, const Value& v, const std::string& where) {
  // YAML spelling of the indexer depth.
  if (field == "dataset_config.indexer.HTM.depth" || field == "dataset_config.indexer[\"HTM\"].depth" ||
      field == "depth")
    field = "dataset_config.indexer['HTM'].depth";
  auto scalar = [&]() -> std::string {
    if (v.kind == Value::Kind::kNone) return {};
    if (v.kind != Value::Kind::kScalar)
      throw InvalidConfigError(fmt::format("{}: {} takes a single value", where, field));
    return v.scalar;
  };
  auto list = [&]() -> std::vector<std::string> {
    if (v.kind == Value::Kind::kNone) return {};
    if (v.kind == Value::Kind::kScalar) return {v.scalar};
    if (v.kind != Value::Kind::kList) throw InvalidConfigError(fmt::format("{}: {} takes a list", where, field));
    return v.list;
  };
  auto dict = [&]() -> std::map<std::string, std::string> {
    if (v.kind == Value::Kind::kNone) return {};
    if (v.kind == Value::Kind::kDict) return {v.dict.begin(), v.dict.end()};
    std::map<std::string, std::string> m;
    for (const auto& [k, x] : parse_pairs(list())) m[k] = x;
    return m;
  };
  auto columns = [&]() {
    if (v.kind == Value::Kind::kDict) return v.dict;
    return parse_pairs(list());
  };
  std::map<std::string, std::string*> strings = {
      {"ra_name", &c.ra_name},
      {"dec_name", &c.dec_name},
      {"ra_err_name", &c.ra_err_name},
      {"dec_err_name", &c.dec_err_name},
      {"coord_err_unit", &c.coord_err_unit},
      {"flux_unit", &c.flux_unit},
      {"id_name", &c.id_name},
      {"pm_ra_name", &c.pm_ra_name},
      {"pm_dec_name", &c.pm_dec_name},
      {"pm_ra_err_name", &c.pm_ra_err_name},
      {"pm_dec_err_name", &c.pm_dec_err_name},
      {"parallax_name", &c.parallax_name},
      {"parallax_err_name", &c.parallax_err_name},
      {"epoch_name", &c.epoch_name},
      {"epoch_format", &c.epoch_format},
      {"epoch_scale", &c.epoch_scale},
      {"is_photometric_name", &c.is_photometric_name},
      {"is_resolved_name", &c.is_resolved_name},
      {"is_variable_name", &c.is_variable_name},
      {"dataset_config.ref_dataset_name", &c.ref_dataset_name},
      {"file_reader.format", &c.format},
  };
  if (auto it = strings.find(field); it != strings.end()) {
    *it->second = scalar();
  } else if (field == "mag_column_list") {
    c.mag_column_list = columns();
  } else if (field == "flux_column_list") {
    c.flux_column_list = columns();
  } else if (field == "mag_err_column_map") {
    c.mag_err_column_map = dict();
  } else if (field == "flux_err_column_map") {
    c.flux_err_column_map = dict();
  } else if (field == "extra_col_names") {
    c.extra_col_names = list();
  } else if (field == "file_reader.colnames") {
    c.colnames = list();
  } else if (field == "pm_scale") {
    c.pm_scale = parse_number(scalar(), where);
  } else if (field == "parallax_scale") {
    c.parallax_scale = parse_number(scalar(), where);
  } else if (field == "epoch") {
    const auto s = scalar();
    c.epoch = s.empty() ? std::nullopt : std::optional<double>(parse_number(s, where));
  } else if (field == "dataset_config.indexer['HTM'].depth") {
    c.depth = static_cast<int>(parse_number(scalar(), where));
  } else if (field == "file_reader.hdu") {
    c.hdu = static_cast<int>(parse_number(scalar(), where));
  } else if (field == "file_reader.header_lines") {
    c.header_lines = static_cast<int>(parse_number(scalar(), where));
  } else if (field == "file_reader.delimiter") {
    const auto s = scalar();
    if (s.size() != 1 && s != "\\t")
      throw InvalidConfigError(fmt::format("{}: file_reader.delimiter must be one character, not '{}'", where, s));
    c.delimiter = s == "\\t" ? '\t' : s[0];
  } else if (field == "dataset_config.indexer.name") {
    if (scalar() != "HTM")
      throw InvalidConfigError(fmt::format("{}: only the HTM indexer exists (got '{}')", where, scalar()));
  } else if (field == "dataset_config.format_version") {
    const auto s = scalar();
    if (!s.empty() && parse_number(s, where) != kRefcatFormatVersion)
      throw InvalidConfigError(fmt::format("{}: majordome writes format version {} (fluxes in nJy), not {}", where,
                                           kRefcatFormatVersion, s));
  } else if (field == "n_processes" || field == "full_position_information") {
    // Accepted for compatibility; no effect.
  } else {
    throw InvalidConfigError(fmt::format("{}: unknown field '{}'; known fields: {}", where, field,
                                         fmt::join(known_fields(), ", ")));
  }
}

// A Rubin config.py (statements read by majordome/core/rubin_config.hpp).
void load_python_config(ConvertConfig& c, const fs::path& path) {
  for (const auto& st : read_config_py(path)) {
    if (!st.value) {  // a method call: only the reader retargets Rubin's own configs use
      if (st.field.starts_with("file_reader.retarget(") && st.field.find("ReadFitsCatalogTask") != std::string::npos) {
        c.format = "fits";
        continue;
      }
      if (st.field.starts_with("file_reader.retarget(") && st.field.find("ReadTextCatalogTask") != std::string::npos)
        continue;
      throw InvalidConfigError(fmt::format("{}: '{}' is not supported: majordome converts magnitude "
                                           "(mag_column_list) or flux (flux_column_list) columns only",
                                           st.where, st.text));
    }
    set_field(c, st.field, parse_python_value(*st.value, st.where), st.where);
  }
}

Value yaml_value(const YAML::Node& node) {
  Value v;
  if (node.IsNull()) return v;
  if (node.IsScalar()) {
    v.kind = Value::Kind::kScalar;
    v.scalar = node.as<std::string>();
  } else if (node.IsSequence()) {
    v.kind = Value::Kind::kList;
    for (const auto& item : node) v.list.push_back(item.as<std::string>());
  } else {
    v.kind = Value::Kind::kDict;
    for (const auto& kv : node) v.dict.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
  }
  return v;
}

// The YAML form: the same field names, nested (dataset_config: {ref_dataset_name: …}) or
// dotted; the dict-valued fields (mag_err_column_map, …) are mappings.
void load_yaml_config(ConvertConfig& c, const fs::path& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw NotFoundError(fmt::format("config file {} does not exist or cannot be read", path.string()));
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("{}: not valid YAML: {}", path.string(), e.what()));
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw InvalidConfigError(fmt::format("{}: expected a mapping of field: value", path.string()));
  const std::set<std::string> dict_fields = {"mag_err_column_map", "flux_err_column_map", "mag_column_list",
                                             "flux_column_list"};
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& node,
                                                                         const std::string& prefix) {
    for (const auto& kv : node) {
      const std::string key = prefix + kv.first.as<std::string>();
      const std::string where = fmt::format("{} ({})", path.string(), key);
      try {
        if (kv.second.IsMap() && !dict_fields.contains(key)) {
          walk(kv.second, key + ".");
        } else {
          set_field(c, key, yaml_value(kv.second), where);
        }
      } catch (const YAML::Exception& e) {
        throw InvalidConfigError(fmt::format("{}: {}", where, e.what()));
      }
    }
  };
  walk(root, "");
}

// ------------------------------------------------------------------ input tables

// One input table, column by column. Text cells are parsed when used, so that an error
// names the file, line and column.
class InputTable {
 public:
  std::string file;
  std::vector<std::string> names;
  std::size_t rows = 0;
  // Text tables: cells[column][row] and the file line of each row.
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> lines;
  // FITS tables.
  std::optional<Catalog> catalog;

  std::optional<std::size_t> find(const std::string& name) const {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return std::nullopt;
    return static_cast<std::size_t>(it - names.begin());
  }
  std::size_t get(const std::string& name, const std::string& field) const {
    if (auto i = find(name)) return *i;
    throw NotFoundError(fmt::format("{} has no column '{}' (named by {}); its columns are: {}", file, name, field,
                                    fmt::join(names, ", ")));
  }
  std::string where(std::size_t row, std::size_t col) const {
    if (catalog) return fmt::format("{} row {}, column '{}'", file, row + 1, names[col]);
    return fmt::format("{} line {}, column '{}'", file, lines[row], names[col]);
  }
  // NaN for a missing value (empty cell, "nan", masked).
  double number(std::size_t col, std::size_t row) const {
    if (catalog) {
      const auto& spec = catalog->schema()[col];
      if (spec.count != 1 && spec.type != ColumnType::kString)
        throw InvalidArgumentError(fmt::format("{}: column '{}' holds arrays of {} values, not one number per row",
                                               file, spec.name, spec.count));
      switch (spec.type) {
        case ColumnType::kDouble: return catalog->column<double>(spec.name)[row];
        case ColumnType::kFloat: return catalog->column<float>(spec.name)[row];
        case ColumnType::kInt32: return catalog->column<std::int32_t>(spec.name)[row];
        case ColumnType::kInt64: return static_cast<double>(catalog->column<std::int64_t>(spec.name)[row]);
        case ColumnType::kBool: return catalog->column<bool>(spec.name)[row] ? 1.0 : 0.0;
        case ColumnType::kString: return parse_cell(catalog->strings(spec.name)[row], row, col);
      }
    }
    return parse_cell(cells[col][row], row, col);
  }
  std::optional<std::int64_t> integer(std::size_t col, std::size_t row) const {
    if (catalog) {
      const auto& spec = catalog->schema()[col];
      if (spec.type == ColumnType::kInt64) return catalog->column<std::int64_t>(spec.name)[row];
      if (spec.type == ColumnType::kInt32) return catalog->column<std::int32_t>(spec.name)[row];
    }
    const std::string text = catalog ? fmt::format("{}", number(col, row)) : trim(cells[col][row]);
    if (text.empty()) return std::nullopt;
    try {
      std::size_t used = 0;
      const long long v = std::stoll(text, &used);
      if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw InvalidArgumentError(fmt::format("{}: '{}' is not an integer", where(row, col), text));
  }
  std::string text(std::size_t col, std::size_t row) const {
    if (catalog) {
      const auto& spec = catalog->schema()[col];
      if (spec.type == ColumnType::kString) return catalog->strings(spec.name)[row];
      return fmt::format("{}", number(col, row));
    }
    return cells[col][row];
  }
  bool is_numeric(std::size_t col) const {
    if (catalog) return catalog->schema()[col].type != ColumnType::kString;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::string t = trim(cells[col][r]);
      if (t.empty()) continue;
      char* end = nullptr;
      std::strtod(t.c_str(), &end);
      if (end != t.c_str() + t.size()) return false;
    }
    return true;
  }

 private:
  double parse_cell(const std::string& cell, std::size_t row, std::size_t col) const {
    const std::string t = trim(cell);
    if (t.empty() || t == "--" || t == "nan" || t == "NaN" || t == "NAN") return kNaN;
    char* end = nullptr;
    const double d = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size())
      throw InvalidArgumentError(fmt::format("{}: '{}' is not a number", where(row, col), t));
    return d;
  }
};

// Cells of one text line: `delimiter` separated, "double quotes" group (and may be empty);
// a space delimiter also merges runs of spaces (ECSV).
std::vector<std::string> split_line(const std::string& line, char delimiter) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  bool started = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (ch == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
      started = true;
    } else if (ch == delimiter && !quoted) {
      if (delimiter != ' ' || started) cells.push_back(cell);
      cell.clear();
      started = false;
    } else if (ch == '\r') {
      continue;
    } else {
      cell += ch;
      started = true;
    }
  }
  if (started || delimiter != ' ') cells.push_back(cell);
  return cells;
}

// The positions (first, second) of the first name that appears twice, if any. A catalog's
// columns are found by name: a repeated one would make the second column unreachable.
std::optional<std::pair<std::size_t, std::size_t>> repeated_name(const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (names[j] == names[i]) return std::pair{j, i};
  return std::nullopt;
}

InputTable read_text_table(const fs::path& path, const ConvertConfig& c, bool ecsv) {
  std::ifstream in(path);
  if (!in) throw NotFoundError(fmt::format("input catalog {} does not exist or cannot be read", path.string()));
  InputTable t;
  t.file = path.string();
  char delimiter = c.delimiter ? c.delimiter : (ecsv ? ' ' : ',');
  bool have_header = !c.colnames.empty();
  if (const auto twice = repeated_name(c.colnames))
    throw InvalidConfigError(fmt::format("file_reader.colnames names column '{}' twice (entries {} and {})",
                                         c.colnames[twice->second], twice->first + 1, twice->second + 1));
  if (have_header) t.names = c.colnames;
  std::size_t line_number = 0;
  int skip = c.header_lines;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (skip > 0) {
      --skip;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (ecsv && line.rfind("# delimiter:", 0) == 0) {
        std::string d = trim(line.substr(12));
        d = unquote(d);
        if (!d.empty()) delimiter = d == "\\t" ? '\t' : d[0];
      }
      continue;
    }
    auto cells = split_line(line, delimiter);
    if (!have_header) {
      for (auto& name : cells) name = trim(name);
      if (const auto twice = repeated_name(cells))
        throw CorruptFileError(fmt::format("{} line {}: column '{}' appears twice in the header row (columns {} and "
                                           "{}); rename one, or name the columns with file_reader.colnames",
                                           path.string(), line_number, cells[twice->second], twice->first + 1,
                                           twice->second + 1));
      t.names = cells;
      t.cells.resize(t.names.size());
      have_header = true;
      continue;
    }
    if (t.cells.size() != t.names.size()) t.cells.resize(t.names.size());
    if (cells.size() != t.names.size())
      throw CorruptFileError(fmt::format("{} line {}: {} values for {} columns ({})", path.string(), line_number,
                                         cells.size(), t.names.size(), fmt::join(t.names, ", ")));
    for (std::size_t i = 0; i < cells.size(); ++i) t.cells[i].push_back(std::move(cells[i]));
    t.lines.push_back(line_number);
    ++t.rows;
  }
  if (!have_header) throw CorruptFileError(fmt::format("{} has no header row naming its columns", path.string()));
  return t;
}

InputTable read_fits_table(const fs::path& path, int hdu) {
  FitsFile f(path, FitsMode::kRead);
  if (hdu >= f.hdu_count())
    throw NotFoundError(fmt::format("{} has no HDU {} (it has {}); set file_reader.hdu", path.string(), hdu,
                                    f.hdu_count()));
  f.move_to(hdu);
  InputTable t;
  t.file = path.string();
  t.catalog = f.read_catalog();
  t.rows = t.catalog->size();
  for (const auto& spec : t.catalog->schema().columns()) t.names.push_back(spec.name);
  return t;
}

InputTable read_table(const fs::path& path, const ConvertConfig& c) {
  std::string format = c.format;
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (format.empty()) {
    if (ext == ".fits" || ext == ".fit" || ext == ".fits.gz") format = "fits";
    else if (ext == ".ecsv") format = "ecsv";
    else format = "csv";
  }
  if (format == "fits") return read_fits_table(path, c.hdu);
  if (format == "ecsv" || format == "ascii.ecsv") return read_text_table(path, c, true);
  if (format == "csv" || format == "ascii.csv" || format == "ascii") return read_text_table(path, c, false);
  throw InvalidConfigError(fmt::format("file_reader.format '{}' is not one of fits, ecsv, csv", format));
}

// ------------------------------------------------------------------ units and time

double angle_unit_in_rad(const std::string& unit, const std::string& field) {
  if (unit == "rad") return 1.0;
  if (unit == "deg") return kRadPerDeg;
  if (unit == "arcmin") return kRadPerDeg / 60.0;
  if (unit == "arcsec") return kRadPerDeg / 3600.0;
  if (unit == "mas" || unit == "milliarcsecond") return kRadPerMas;
  throw InvalidConfigError(fmt::format("{} '{}' is not one of rad, deg, arcmin, arcsec, mas", field, unit));
}

double flux_unit_in_njy(const std::string& unit) {
  if (unit == "nJy") return 1.0;
  if (unit == "uJy") return 1e3;
  if (unit == "mJy") return 1e6;
  if (unit == "Jy") return 1e9;
  throw InvalidConfigError(fmt::format("flux_unit '{}' is not one of nJy, uJy, mJy, Jy", unit));
}

// An epoch as MJD on the TAI scale (what the shards store), from a number in `format` (mjd,
// jd, jyear) on `scale` (tai, tt, tdb, tcb, utc), through ERFA's time-scale transforms
// (TDB − TT at the geocentre from eraDtdb; leap seconds from ERFA's table).
double epoch_to_mjd_tai(double value, const std::string& format, const std::string& scale) {
  if (std::isnan(value)) return kNaN;
  double jd1 = 2400000.5, jd2 = 0;
  if (format == "mjd") jd2 = value;
  else if (format == "jd") jd1 = value, jd2 = 0;
  else if (format == "jyear") eraEpj2jd(value, &jd1, &jd2);
  else throw InvalidConfigError(fmt::format("epoch_format '{}' is not one of mjd, jd, jyear, iso, isot", format));
  double tai1 = jd1, tai2 = jd2;
  auto tt_to_tai = [&](double t1, double t2) { eraTttai(t1, t2, &tai1, &tai2); };
  auto tdb_to_tai = [&](double b1, double b2) {
    double t1 = 0, t2 = 0;
    eraTdbtt(b1, b2, eraDtdb(b1, b2, 0.0, 0.0, 0.0, 0.0), &t1, &t2);
    tt_to_tai(t1, t2);
  };
  if (scale == "tai") {
  } else if (scale == "tt") {
    tt_to_tai(jd1, jd2);
  } else if (scale == "tdb") {
    tdb_to_tai(jd1, jd2);
  } else if (scale == "tcb") {
    double b1 = 0, b2 = 0;
    eraTcbtdb(jd1, jd2, &b1, &b2);
    tdb_to_tai(b1, b2);
  } else if (scale == "utc") {
    if (eraUtctai(jd1, jd2, &tai1, &tai2) < 0)
      throw InvalidArgumentError(fmt::format("epoch {} (utc) is outside the range ERFA converts", value));
  } else {
    throw InvalidConfigError(fmt::format("epoch_scale '{}' is not one of tai, tt, tdb, tcb, utc", scale));
  }
  return (tai1 - 2400000.5) + tai2;
}

double iso_epoch_to_mjd_tai(const std::string& text, const std::string& scale, const std::string& where) {
  if (scale == "utc") {
    auto t = TaiTime::parse_utc_iso(text);
    if (!t) throw InvalidArgumentError(fmt::format("{}: '{}' is not an ISO date", where, text));
    return t->mjd_tai();
  }
  if (scale != "tai" && scale != "tt" && scale != "tdb" && scale != "tcb")
    throw InvalidConfigError(fmt::format("epoch_scale '{}' is not one of tai, tt, tdb, tcb, utc", scale));
  // The calendar date read as if it were TAI gives the MJD in its own scale.
  auto t = TaiTime::parse_tai_iso(text);
  if (!t) throw InvalidArgumentError(fmt::format("{}: '{}' is not an ISO date", where, text));
  return epoch_to_mjd_tai(t->mjd_tai(), "mjd", scale);
}

// ------------------------------------------------------------------ conversion

void validate(const ConvertConfig& c) {
  if (c.ra_name.empty() || c.dec_name.empty())
    throw InvalidConfigError("ra_name and dec_name are required (--ra-name, --dec-name): the columns of the "
                             "positions in degrees");
  if (c.mag_column_list.empty() && c.flux_column_list.empty())
    throw InvalidConfigError("give at least one photometric column: mag_column_list (--mag-column-list, AB "
                             "magnitudes) or flux_column_list (--flux-column-list)");
  if (c.ra_err_name.empty() != c.dec_err_name.empty())
    throw InvalidConfigError("ra_err_name and dec_err_name go together: set both or neither");
  if (!c.ra_err_name.empty() && c.coord_err_unit.empty())
    throw InvalidConfigError("coord_err_unit (--coord-err-unit) is required with ra_err_name, e.g. mas or arcsec");
  if (c.pm_ra_name.empty() != c.pm_dec_name.empty())
    throw InvalidConfigError("pm_ra_name and pm_dec_name go together: set both or neither");
  if ((!c.epoch_name.empty() || c.epoch) && (c.epoch_format.empty() || c.epoch_scale.empty()))
    throw InvalidConfigError("an epoch (epoch_name or --epoch) needs epoch_format and epoch_scale, e.g. "
                             "--epoch-format jyear --epoch-scale tcb for Gaia");
  if (!c.pm_ra_name.empty() && c.epoch_name.empty() && !c.epoch)
    throw InvalidConfigError("proper motions need the epoch of the positions: set epoch_name (--epoch-name) or "
                             "--epoch");
  if (!c.epoch_name.empty() && c.epoch)
    throw InvalidConfigError("set epoch_name or --epoch, not both");
  if (c.depth < 0 || c.depth > 24) throw InvalidConfigError(fmt::format("HTM depth {} is not in 0..24", c.depth));
}

struct Band {
  std::string name;
  std::string column;
  std::string err_column;
  bool magnitude = true;
};

std::vector<Band> bands_of(const ConvertConfig& c) {
  std::vector<Band> bands;
  std::set<std::string> names;
  auto err_for = [](const std::map<std::string, std::string>& map, const std::string& band,
                    const std::string& column) -> std::string {
    if (auto it = map.find(band); it != map.end()) return it->second;
    if (auto it = map.find(column); it != map.end()) return it->second;
    return {};
  };
  for (const auto& [band, column] : c.mag_column_list)
    bands.push_back({band, column, err_for(c.mag_err_column_map, band, column), true});
  for (const auto& [band, column] : c.flux_column_list)
    bands.push_back({band, column, err_for(c.flux_err_column_map, band, column), false});
  for (const auto& b : bands)
    if (!names.insert(b.name).second)
      throw InvalidConfigError(fmt::format("band '{}' is given twice in mag_column_list/flux_column_list", b.name));
  for (const auto& [key, err] : c.mag_err_column_map) {
    const bool used = std::any_of(bands.begin(), bands.end(), [&](const Band& b) {
      return b.magnitude && (b.name == key || b.column == key);
    });
    if (!used)
      throw InvalidConfigError(fmt::format("mag_err_column_map names '{}', which is not in mag_column_list", key));
  }
  return bands;
}

// Appends the rows of `t` to `out` (a catalog of refcat_schema(bands) + extras).
void convert_rows(const InputTable& t, const ConvertConfig& c, const std::vector<Band>& bands, Catalog& out,
                  std::int64_t& next_id) {
  const std::size_t first = out.size();
  out.resize(first + t.rows);
  const auto ra_col = t.get(c.ra_name, "ra_name");
  const auto dec_col = t.get(c.dec_name, "dec_name");
  auto optional_col = [&](const std::string& name, const char* field) -> std::optional<std::size_t> {
    if (name.empty()) return std::nullopt;
    return t.get(name, field);
  };
  const auto id_col = optional_col(c.id_name, "id_name");
  const auto ra_err = optional_col(c.ra_err_name, "ra_err_name");
  const auto dec_err = optional_col(c.dec_err_name, "dec_err_name");
  const auto pm_ra = optional_col(c.pm_ra_name, "pm_ra_name");
  const auto pm_dec = optional_col(c.pm_dec_name, "pm_dec_name");
  const auto pm_ra_err = optional_col(c.pm_ra_err_name, "pm_ra_err_name");
  const auto pm_dec_err = optional_col(c.pm_dec_err_name, "pm_dec_err_name");
  const auto plx = optional_col(c.parallax_name, "parallax_name");
  const auto plx_err = optional_col(c.parallax_err_name, "parallax_err_name");
  const auto epoch = optional_col(c.epoch_name, "epoch_name");
  std::vector<std::pair<std::size_t, std::size_t>> band_cols;  // value, error (npos = none)
  for (const auto& b : bands) {
    const auto v = t.get(b.column, b.magnitude ? "mag_column_list" : "flux_column_list");
    const auto e = b.err_column.empty()
                       ? std::string::npos
                       : t.get(b.err_column, b.magnitude ? "mag_err_column_map" : "flux_err_column_map");
    band_cols.emplace_back(v, e);
  }
  std::vector<std::size_t> extra_cols;
  for (const auto& name : c.extra_col_names) extra_cols.push_back(t.get(name, "extra_col_names"));
  std::vector<std::pair<std::string, std::size_t>> flags;
  if (!c.is_photometric_name.empty()) flags.emplace_back("photometric", t.get(c.is_photometric_name, "is_photometric_name"));
  if (!c.is_resolved_name.empty()) flags.emplace_back("resolved", t.get(c.is_resolved_name, "is_resolved_name"));
  if (!c.is_variable_name.empty()) flags.emplace_back("variable", t.get(c.is_variable_name, "is_variable_name"));

  const double coord_err_scale = c.coord_err_unit.empty() ? 1.0 : angle_unit_in_rad(c.coord_err_unit, "coord_err_unit");
  const double pm_to_rad = c.pm_scale * kRadPerMas;
  const double plx_to_rad = c.parallax_scale * kRadPerMas;
  const double flux_scale = flux_unit_in_njy(c.flux_unit);
  const double fixed_epoch = c.epoch ? epoch_to_mjd_tai(*c.epoch, c.epoch_format, c.epoch_scale) : kNaN;
  const bool iso_epoch = c.epoch_format == "iso" || c.epoch_format == "isot";

  for (std::size_t r = 0; r < t.rows; ++r) {
    const std::size_t o = first + r;
    const double ra = t.number(ra_col, r);
    const double dec = t.number(dec_col, r);
    if (!std::isfinite(ra)) throw InvalidArgumentError(fmt::format("{}: no right ascension", t.where(r, ra_col)));
    if (!std::isfinite(dec) || std::abs(dec) > 90.0)
      throw InvalidArgumentError(
          fmt::format("{}: declination {} is not in [-90, 90] degrees", t.where(r, dec_col), t.text(dec_col, r)));
    if (id_col) {
      const auto id = t.integer(*id_col, r);
      if (!id) throw InvalidArgumentError(fmt::format("{}: no id", t.where(r, *id_col)));
      out.column<std::int64_t>("id")[o] = *id;
    } else {
      out.column<std::int64_t>("id")[o] = next_id++;
    }
    out.column<double>("coord_ra")[o] = ra * kRadPerDeg;
    out.column<double>("coord_dec")[o] = dec * kRadPerDeg;
    out.column<float>("coord_raErr")[o] =
        ra_err ? static_cast<float>(t.number(*ra_err, r) * coord_err_scale) : static_cast<float>(kNaN);
    out.column<float>("coord_decErr")[o] =
        dec_err ? static_cast<float>(t.number(*dec_err, r) * coord_err_scale) : static_cast<float>(kNaN);
    for (std::size_t b = 0; b < bands.size(); ++b) {
      const auto [vcol, ecol] = band_cols[b];
      const double v = t.number(vcol, r);
      const double e = ecol == std::string::npos ? kNaN : t.number(ecol, r);
      double flux = 0;
      double flux_err = 0;
      if (bands[b].magnitude) {
        // AB: f = 10^((8.9 − m)/2.5) Jy; σ_f = f · ln(10)/2.5 · σ_m.
        flux = std::pow(10.0, (8.9 - v) / 2.5) * 1e9;
        flux_err = flux * std::numbers::ln10 / 2.5 * e;
      } else {
        flux = v * flux_scale;
        flux_err = e * flux_scale;
      }
      out.column<double>(bands[b].name + "_flux")[o] = flux;
      out.column<double>(bands[b].name + "_fluxErr")[o] = flux_err;
    }
    double epoch_mjd = fixed_epoch;
    if (epoch) {
      if (iso_epoch) {
        const std::string text = trim(t.text(*epoch, r));
        epoch_mjd = text.empty() ? kNaN : iso_epoch_to_mjd_tai(text, c.epoch_scale, t.where(r, *epoch));
      } else {
        epoch_mjd = epoch_to_mjd_tai(t.number(*epoch, r), c.epoch_format, c.epoch_scale);
      }
    }
    out.column<double>("epoch")[o] = epoch_mjd;
    const double pmr = pm_ra ? t.number(*pm_ra, r) * pm_to_rad : kNaN;
    const double pmd = pm_dec ? t.number(*pm_dec, r) * pm_to_rad : kNaN;
    out.column<float>("pm_ra")[o] = static_cast<float>(pmr);
    out.column<float>("pm_dec")[o] = static_cast<float>(pmd);
    out.column<float>("pm_raErr")[o] = static_cast<float>(pm_ra_err ? t.number(*pm_ra_err, r) * pm_to_rad : kNaN);
    out.column<float>("pm_decErr")[o] = static_cast<float>(pm_dec_err ? t.number(*pm_dec_err, r) * pm_to_rad : kNaN);
    out.column<bool>("pm_flag")[o] = !std::isfinite(pmr) || !std::isfinite(pmd);
    const double p = plx ? t.number(*plx, r) * plx_to_rad : kNaN;
    out.column<float>("parallax")[o] = static_cast<float>(p);
    out.column<float>("parallaxErr")[o] = static_cast<float>(plx_err ? t.number(*plx_err, r) * plx_to_rad : kNaN);
    out.column<bool>("parallax_flag")[o] = !std::isfinite(p);
    for (std::size_t k = 0; k < extra_cols.size(); ++k) {
      const auto& name = c.extra_col_names[k];
      if (out.schema().get(name).type == ColumnType::kString) {
        out.strings(name)[o] = t.text(extra_cols[k], r);
      } else {
        out.column<double>(name)[o] = t.number(extra_cols[k], r);
      }
    }
    for (const auto& [name, col] : flags) {
      const std::string text = trim(t.text(col, r));
      out.column<bool>(name)[o] = !(text.empty() || text == "0" || text == "False" || text == "false" ||
                                    text == "F" || text == "f" || text == "0.0");
    }
  }
}

RefcatConvertResult run_convert(const fs::path& output, const std::vector<std::string>& inputs, ConvertConfig c) {
  validate(c);
  const auto bands = bands_of(c);
  if (fs::exists(output) && !(fs::is_directory(output) && fs::is_empty(output)))
    throw ConflictError(fmt::format("output directory {} already exists and is not empty; choose a new directory "
                                    "(or remove the old one)",
                                    output.string()));
  std::vector<InputTable> tables;
  for (const auto& input : inputs) tables.push_back(read_table(input, c));

  std::vector<std::string> band_names;
  for (const auto& b : bands) band_names.push_back(b.name);
  Schema schema = refcat_schema(band_names);
  for (const auto& name : c.extra_col_names) {
    if (schema.find_index(name))
      throw InvalidConfigError(fmt::format("extra_col_names: '{}' is already a reference catalog column", name));
    const auto& first = tables.front();
    const auto col = first.get(name, "extra_col_names");
    if (first.is_numeric(col)) {
      schema.add(name, ColumnType::kDouble, "copied from the input column " + name);
    } else {
      schema.add(ColumnSpec{name, ColumnType::kString, 0, {}, {}, "copied from the input column " + name, {}});
    }
  }
  for (const auto& [field, name] : {std::pair{&c.is_photometric_name, "photometric"},
                                    std::pair{&c.is_resolved_name, "resolved"},
                                    std::pair{&c.is_variable_name, "variable"}}) {
    if (!field->empty()) schema.add(name, ColumnType::kBool, fmt::format("set if the input column {} is true", *field));
  }
  Catalog stars(schema);
  std::int64_t next_id = 0;
  for (const auto& t : tables) convert_rows(t, c, bands, stars, next_id);
  if (!c.id_name.empty()) {
    std::set<std::int64_t> ids;
    const auto id = stars.column<std::int64_t>("id");
    for (std::size_t i = 0; i < stars.size(); ++i)
      if (!ids.insert(id[i]).second)
        throw InvalidArgumentError(fmt::format("id {} (column '{}') appears twice; ids must be unique", id[i],
                                               c.id_name));
  }

  RefcatWriteOptions options;
  options.htm_depth = c.depth;
  const auto shards = write_refcat_shards(stars, output, options);
  return {stars.size(), shards.size(), fs::absolute(output) / "index.ecsv"};
}

}  // namespace

RefcatConfigValue parse_refcat_config_value(const std::string& text, const std::string& where) {
  return parse_python_value(text, where);
}

std::vector<std::pair<std::string, std::string>> parse_refcat_pairs(const std::vector<std::string>& items) {
  return parse_pairs(items);
}

void set_refcat_config_field(RefcatConvertConfig& config, const std::string& field, const RefcatConfigValue& value,
                             const std::string& where) {
  set_field(config, field, value, where);
}

void load_refcat_config_file(RefcatConvertConfig& config, const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".yaml" || ext == ".yml") {
    load_yaml_config(config, path);
  } else {
    load_python_config(config, path);
  }
}

RefcatConvertResult convert_refcat(const std::filesystem::path& output, const std::vector<std::string>& inputs,
                                   RefcatConvertConfig config) {
  return run_convert(output, inputs, std::move(config));
}

}  // namespace majordome::image
