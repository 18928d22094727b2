// Defects files: the FITS table we write, and Rubin's ECSV (defects.hpp).
#include "majordome/instrument/defects.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <fstream>
#include <sstream>

#include "majordome/core/error.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/fits_file.hpp"

namespace majordome::instrument {

namespace {

namespace fs = std::filesystem;
using image::Box2I;
using image::Header;

constexpr std::array<const char*, 4> kColumns{"x0", "y0", "width", "height"};
constexpr std::array<const char*, 4> kColumnDocs{"X coordinate of bottom left corner of box",
                                                 "Y coordinate of bottom left corner of box", "X extent of box",
                                                 "Y extent of box"};

// Cards that describe the file rather than the defects.
bool is_format_card(std::string_view keyword) {
  return keyword == "DEFECTS_SCHEMA" || keyword == "DEFECTS_SCHEMA_VERSION" || keyword == "MJDFMTV" ||
         keyword == "MJDKIND" || keyword == "EXTNAME";
}

void check_schema(const Header& h, const std::string& source) {
  const auto schema = h.find("DEFECTS_SCHEMA");
  if (schema && (!std::holds_alternative<std::string>(*schema) || std::get<std::string>(*schema) != "Simple"))
    throw CorruptFileError(fmt::format("{}: DEFECTS_SCHEMA {} is not 'Simple', the only defects schema read",
                                       source, image::format_header_value(*schema)));
}

image::HeaderValue yaml_value(const YAML::Node& node) {
  if (!node.IsScalar()) return std::string(YAML::Dump(node));
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return std::monostate{};
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i); ec == std::errc() && p == s.data() + s.size())
    return i;
  double d = 0;
  if (s.find_first_of("0123456789") != std::string::npos && s.find_first_not_of("+-0123456789.eE") == std::string::npos)
    if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        ec == std::errc() && p == s.data() + s.size())
      return d;
  return s;
}

}  // namespace

Defects Defects::from_ecsv(std::string_view text, const std::string& source) {
  std::string yaml_text;
  std::vector<std::pair<int, std::string>> data;
  int line_number = 0;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("#", 0) == 0) {
      if (line.rfind("# %ECSV", 0) == 0) continue;
      yaml_text += line.size() >= 2 ? line.substr(2) : std::string();
      yaml_text += '\n';
    } else if (line.find_first_not_of(" \t") != std::string::npos) {
      data.emplace_back(line_number, line);
    }
  }
  if (text.substr(0, 7) != "# %ECSV")
    throw CorruptFileError(fmt::format("{}: not an ECSV file (no '# %ECSV' first line)", source));
  Defects out;
  try {
    const YAML::Node header = YAML::Load(yaml_text);
    if (const auto meta = header["meta"]) {
      auto add = [&](const YAML::Node& key, const YAML::Node& value) {
        out.metadata.append({key.as<std::string>(), yaml_value(value), ""});
      };
      if (meta.IsSequence()) {  // !!omap: a list of one-entry maps
        for (const auto& item : meta)
          for (const auto& kv : item) add(kv.first, kv.second);
      } else if (meta.IsMap()) {
        for (const auto& kv : meta) add(kv.first, kv.second);
      }
    }
  } catch (const YAML::Exception& e) {
    throw CorruptFileError(fmt::format("{}: the ECSV header is not valid YAML: {}", source, e.what()));
  }
  check_schema(out.metadata, source);
  for (const char* key : {"DEFECTS_SCHEMA", "DEFECTS_SCHEMA_VERSION"}) out.metadata.erase(key);
  if (data.empty()) throw CorruptFileError(fmt::format("{}: no column names line", source));
  std::array<int, 4> index{-1, -1, -1, -1};
  {
    std::istringstream names(data.front().second);
    int i = 0;
    for (std::string name; names >> name; ++i)
      for (std::size_t k = 0; k < kColumns.size(); ++k)
        if (name == kColumns[k]) index[k] = i;
    for (std::size_t k = 0; k < kColumns.size(); ++k)
      if (index[k] < 0)
        throw CorruptFileError(fmt::format("{}, line {}: no column '{}' (a Simple defects table has x0 y0 width height)",
                                           source, data.front().first, kColumns[k]));
  }
  for (std::size_t r = 1; r < data.size(); ++r) {
    std::vector<int> values;
    std::istringstream row(data[r].second);
    for (std::string field; row >> field;) {
      int v = 0;
      auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
      if (ec != std::errc() || p != field.data() + field.size())
        throw CorruptFileError(fmt::format("{}, line {}: '{}' is not an integer", source, data[r].first,
                                           printable(field)));
      values.push_back(v);
    }
    auto at = [&](int k) {
      const auto i = static_cast<std::size_t>(index[static_cast<std::size_t>(k)]);
      if (i >= values.size())
        throw CorruptFileError(fmt::format("{}, line {}: too few values", source, data[r].first));
      return values[i];
    };
    out.boxes.push_back(Box2I({at(0), at(1)}, {at(2), at(3)}));
  }
  return out;
}

void write_defects_file(const fs::path& path, const Defects& defects) {
  image::Schema schema;
  for (std::size_t k = 0; k < kColumns.size(); ++k)
    schema.add(kColumns[k], image::ColumnType::kInt32, kColumnDocs[k], "pix");
  image::Catalog table(schema, defects.boxes.size());
  auto x0 = table.column<std::int32_t>("x0");
  auto y0 = table.column<std::int32_t>("y0");
  auto width = table.column<std::int32_t>("width");
  auto height = table.column<std::int32_t>("height");
  for (std::size_t i = 0; i < defects.boxes.size(); ++i) {
    const Box2I& b = defects.boxes[i];
    x0[i] = b.begin_x();
    y0[i] = b.begin_y();
    width[i] = b.width();
    height[i] = b.height();
  }
  for (const auto& card : defects.metadata)
    if (!card.is_commentary() && !is_format_card(card.keyword) && !image::is_structural_keyword(card.keyword))
      table.metadata().append(card);
  table.metadata().set("DEFECTS_SCHEMA", "Simple", "Rubin defects table schema");
  table.metadata().set("DEFECTS_SCHEMA_VERSION", 1, "Rubin defects table schema version");
  Header primary;
  primary.set("MJDFMTV", kDefectsFormatVersion, "majordome Defects format version");
  primary.set("MJDKIND", "DEFECTS", "majordome file kind");
  image::FitsFile file(path, image::FitsMode::kCreate);
  file.write_empty_image(primary);
  file.write_catalog(table, "DEFECTS");
  file.close();
}

Defects read_defects(const fs::path& path) {
  std::array<char, 9> start{};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw NotFoundError(fmt::format("cannot open {}", path.string()));
    in.read(start.data(), start.size());
  }
  if (std::string_view(start.data(), start.size()) != "SIMPLE  =") {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return Defects::from_ecsv(text.str(), path.string());
  }
  image::FitsFile file(path, image::FitsMode::kRead);
  const Header primary = file.read_header();
  if (const auto version = primary.find_int("MJDFMTV"); version && *version > kDefectsFormatVersion)
    throw CorruptFileError(fmt::format("{}: Defects format version {} is newer than this majordome reads ({}); "
                                       "upgrade majordome",
                                       path.string(), *version, kDefectsFormatVersion));
  std::optional<int> table;
  for (int i = 1, n = file.hdu_count(); i < n && !table; ++i) {
    file.move_to(i);
    if (file.hdu_type() == image::HduType::kBinaryTable) table = i;
  }
  if (!table) throw CorruptFileError(fmt::format("{} holds no defects table", path.string()));
  file.move_to(*table);
  const image::Catalog catalog = file.read_catalog();
  Defects out;
  check_schema(catalog.metadata(), path.string());
  for (const auto& card : catalog.metadata())
    if (!card.is_commentary() && !is_format_card(card.keyword)) out.metadata.append(card);
  std::array<std::vector<std::int64_t>, 4> columns;
  for (std::size_t k = 0; k < kColumns.size(); ++k) {
    const auto index = catalog.schema().find_index(kColumns[k]);
    if (!index)
      throw CorruptFileError(fmt::format("{}: the defects table has no column '{}' (a Simple defects table has x0, "
                                         "y0, width, height)",
                                         path.string(), kColumns[k]));
    const auto type = catalog.schema()[*index].type;
    if (type == image::ColumnType::kInt32) {
      const auto values = catalog.column<std::int32_t>(kColumns[k]);
      columns[k].assign(values.begin(), values.end());
    } else if (type == image::ColumnType::kInt64) {
      const auto values = catalog.column<std::int64_t>(kColumns[k]);
      columns[k].assign(values.begin(), values.end());
    } else {
      throw CorruptFileError(fmt::format("{}: the defects column '{}' is not an integer column", path.string(),
                                         kColumns[k]));
    }
  }
  for (std::size_t i = 0; i < catalog.size(); ++i)
    out.boxes.push_back(Box2I({static_cast<int>(columns[0][i]), static_cast<int>(columns[1][i])},
                              {static_cast<int>(columns[2][i]), static_cast<int>(columns[3][i])}));
  return out;
}

}  // namespace majordome::instrument
