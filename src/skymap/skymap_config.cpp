#include "majordome/skymap/skymap_config.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/core/rubin_config.hpp"
#include "majordome/core/suggest.hpp"

namespace majordome::skymap {

namespace {

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {
      "name",          "skyMap",     "projection",  "pixelScale",           "tractOverlap",
      "rotation",      "tractBuilder", "patchInnerDimensions", "patchBorder", "cellInnerDimensions",
      "cellBorder",    "numCellsPerPatchInner", "numCellsInPatchBorder", "numRings", "raStart",
      "raList",        "decList",    "radiusList"};
  return keys;
}


std::string closest_key(const std::string& key) {
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& k : known_keys()) {
    const auto d = edit_distance(key, k, CaseMatters::kNo);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  return best_distance <= std::max<std::size_t>(3, key.size() / 3) ? best : std::string();
}

// A double, also written as a fraction "1.0/60" (Rubin's configs write tractOverlap so).
double to_double(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) throw InvalidConfigError(fmt::format("{}: expected a number", where));
  const std::string text = node.Scalar();
  auto parse = [&](const std::string& s) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < s.size() && s[used] == ' ') ++used;
    if (used == 0 || used != s.size() || !std::isfinite(v))
      throw InvalidConfigError(fmt::format("{}: expected a number, got '{}'", where, text));
    return v;
  };
  const auto slash = text.find('/');
  if (slash != std::string::npos) {
    std::string num = text.substr(0, slash);
    std::string den = text.substr(slash + 1);
    num.erase(0, num.find_first_not_of(' '));
    den.erase(0, den.find_first_not_of(' '));
    while (!num.empty() && num.back() == ' ') num.pop_back();
    const double d = parse(den);
    if (d == 0) throw InvalidConfigError(fmt::format("{}: division by zero in '{}'", where, text));
    return parse(num) / d;
  }
  return parse(text);
}

int to_int(const YAML::Node& node, const std::string& where) {
  const double v = to_double(node, where);
  if (v != std::floor(v) || std::abs(v) > 2e9)
    throw InvalidConfigError(fmt::format("{}: expected an integer, got '{}'", where, node.Scalar()));
  return static_cast<int>(v);
}

std::string to_string(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) throw InvalidConfigError(fmt::format("{}: expected a string", where));
  return node.Scalar();
}

std::vector<double> to_doubles(const YAML::Node& node, const std::string& where) {
  if (!node.IsSequence()) throw InvalidConfigError(fmt::format("{}: expected a list of numbers, e.g. [1.0, 2.0]", where));
  std::vector<double> out;
  for (std::size_t i = 0; i < node.size(); ++i) out.push_back(to_double(node[i], fmt::format("{}[{}]", where, i)));
  return out;
}

std::array<int, 2> to_pair(const YAML::Node& node, const std::string& where) {
  if (!node.IsSequence() || node.size() != 2)
    throw InvalidConfigError(fmt::format("{}: expected two integers [x, y]", where));
  return {to_int(node[0], where + "[0]"), to_int(node[1], where + "[1]")};
}

std::string number(double v) { return fmt::format("{}", v); }  // shortest round-trip form

std::string doubles(const std::vector<double>& v) {
  std::vector<std::string> parts;
  for (double x : v) parts.push_back(number(x));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

void append_le(std::string& out, std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

void append_le(std::string& out, double v) {
  const auto u = std::bit_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

}  // namespace

std::string_view skymap_kind_name(SkyMapKind kind) { return kind == SkyMapKind::kRings ? "rings" : "discrete"; }

std::string_view tract_builder_name(TractBuilderKind kind) {
  return kind == TractBuilderKind::kLegacy ? "legacy" : "cells";
}

SkyMapConfig SkyMapConfig::from_yaml(std::string_view text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("{}: not valid YAML: {}", source, e.what()));
  }
  if (!root.IsMap())
    throw InvalidConfigError(fmt::format("{}: expected a mapping of skymap fields (name: …, skyMap: rings, …)", source));
  SkyMapConfig c;
  std::set<std::string> seen;
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    const std::string where = fmt::format("{}: {}", source, key);
    seen.insert(key);
    try {
      if (key == "name") {
        c.name = to_string(v, where);
      } else if (key == "skyMap") {
        const std::string kind = to_string(v, where);
        if (kind == "rings") c.kind = SkyMapKind::kRings;
        else if (kind == "discrete") c.kind = SkyMapKind::kDiscrete;
        else throw InvalidConfigError(fmt::format("{}: '{}' is not a skymap kind; use rings or discrete", where, kind));
      } else if (key == "projection") {
        c.projection = to_string(v, where);
      } else if (key == "pixelScale") {
        c.pixel_scale_arcsec = to_double(v, where);
      } else if (key == "tractOverlap") {
        c.tract_overlap_deg = to_double(v, where);
      } else if (key == "rotation") {
        c.rotation_deg = to_double(v, where);
      } else if (key == "tractBuilder") {
        const std::string b = to_string(v, where);
        if (b == "legacy") c.tract_builder = TractBuilderKind::kLegacy;
        else if (b == "cells") c.tract_builder = TractBuilderKind::kCells;
        else throw InvalidConfigError(fmt::format("{}: '{}' is not a tract builder; use legacy or cells", where, b));
      } else if (key == "patchInnerDimensions") {
        c.patch_inner_dimensions = to_pair(v, where);
      } else if (key == "patchBorder") {
        c.patch_border = to_int(v, where);
      } else if (key == "cellInnerDimensions") {
        c.cell_inner_dimensions = to_pair(v, where);
      } else if (key == "cellBorder") {
        c.cell_border = to_int(v, where);
      } else if (key == "numCellsPerPatchInner") {
        c.num_cells_per_patch_inner = to_int(v, where);
      } else if (key == "numCellsInPatchBorder") {
        c.num_cells_in_patch_border = to_int(v, where);
      } else if (key == "numRings") {
        c.num_rings = to_int(v, where);
      } else if (key == "raStart") {
        c.ra_start_deg = to_double(v, where);
      } else if (key == "raList") {
        c.ra_list_deg = to_doubles(v, where);
      } else if (key == "decList") {
        c.dec_list_deg = to_doubles(v, where);
      } else if (key == "radiusList") {
        c.radius_list_deg = to_doubles(v, where);
      } else {
        const std::string suggestion = closest_key(key);
        throw InvalidConfigError(fmt::format("{}: unknown skymap field '{}'{}; known fields: {}", source, key,
                                             suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)", suggestion),
                                             fmt::join(known_keys(), ", ")));
      }
    } catch (const YAML::Exception& e) {
      throw InvalidConfigError(fmt::format("{}: {}", where, e.what()));
    }
  }
  if (!seen.contains("name")) throw InvalidConfigError(fmt::format("{}: missing 'name' (the skymap's registry name, e.g. hsc_rings_v1)", source));
  if (!seen.contains("skyMap")) throw InvalidConfigError(fmt::format("{}: missing 'skyMap' (rings or discrete)", source));
  if (c.kind == SkyMapKind::kRings && !seen.contains("numRings"))
    throw InvalidConfigError(fmt::format("{}: a rings skymap needs 'numRings' (e.g. 120 for hsc_rings_v1)", source));
  auto wrong_kind = [&](const char* key, const char* kind) {
    if (seen.contains(key))
      throw InvalidConfigError(fmt::format("{}: '{}' is a {} skymap field, but skyMap is {}", source, key, kind,
                                           skymap_kind_name(c.kind)));
  };
  if (c.kind == SkyMapKind::kRings) {
    for (const char* k : {"raList", "decList", "radiusList"}) wrong_kind(k, "discrete");
  } else {
    for (const char* k : {"numRings", "raStart"}) wrong_kind(k, "rings");
  }
  auto wrong_builder = [&](const char* key, const char* builder) {
    if (seen.contains(key))
      throw InvalidConfigError(fmt::format("{}: '{}' applies to tractBuilder {}, but tractBuilder is {}", source, key,
                                           builder, tract_builder_name(c.tract_builder)));
  };
  if (c.tract_builder == TractBuilderKind::kLegacy) {
    for (const char* k : {"cellInnerDimensions", "cellBorder", "numCellsPerPatchInner", "numCellsInPatchBorder"})
      wrong_builder(k, "cells");
  } else {
    for (const char* k : {"patchInnerDimensions", "patchBorder"}) wrong_builder(k, "legacy");
  }
  try {
    c.validate();
  } catch (const InvalidConfigError& e) {
    throw InvalidConfigError(fmt::format("{}: {}", source, e.what()));
  }
  return c;
}

SkyMapConfig SkyMapConfig::from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw NotFoundError(fmt::format("skymap config {} does not exist or cannot be read", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (is_rubin_config(text)) return from_yaml(translate_rubin_config(text, path.string()), path.string());
  return from_yaml(text, path.string());
}

namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// A Python literal as YAML text: quoted strings re-quoted, True/False lowered, the rest
// (numbers, a/b fractions, lists of numbers) as written. nullopt for None.
std::optional<std::string> yaml_value(const std::string& literal, const std::string& where) {
  const std::string v = trim(literal);
  if (v.empty()) throw InvalidConfigError(fmt::format("{}: no value after '='", where));
  if (v == "None") return std::nullopt;
  if (v == "True") return "true";
  if (v == "False") return "false";
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    std::string inner = v.substr(1, v.size() - 2);
    std::string out = "'";
    for (char c : inner) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  if (v.front() == '(' && v.back() == ')') return "[" + v.substr(1, v.size() - 2) + "]";  // tuple
  return v;
}

// Sets `field` in an ordered list of settings, a later setting replacing an earlier one.
void set_field(std::vector<std::pair<std::string, std::string>>& fields, const std::string& field,
               const std::string& value) {
  std::erase_if(fields, [&](const auto& f) { return f.first == field; });
  fields.emplace_back(field, value);
}

}  // namespace

bool SkyMapConfig::is_rubin_config(std::string_view text) {
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    const std::string t = trim(line);
    if (t.rfind("config.", 0) == 0) return true;
  }
  return false;
}

std::string SkyMapConfig::translate_rubin_config(std::string_view text, const std::string& source) {
  std::optional<std::string> name, kind;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> kind_fields;      // kind → fields
  std::map<std::string, std::string> builder_of;                                            // kind → builder
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::string, std::string>>> builder_fields;
  for (const auto& st : parse_config_py(text, source)) {
    const std::string& where = st.where;
    if (!st.value)
      throw InvalidConfigError(fmt::format("{}: expected 'config.<field> = <value>', got '{}'", where, st.text));
    const auto path = split_config_field(st.field, where);
    const auto value = yaml_value(*st.value, where);
    auto is_key = [](const std::string& p) { return p.size() >= 2 && p.front() == '['; };
    auto key = [](const std::string& p) { return p.substr(1, p.size() - 2); };
    if (path.size() == 1 && path[0] == "name") {
      if (value) name = *value;
    } else if (path.size() == 2 && path[0] == "skyMap" && path[1] == "name") {
      if (value) kind = *value;
    } else if (path.size() >= 3 && path[0] == "skyMap" && is_key(path[1])) {
      const std::string k = key(path[1]);
      if (path.size() == 3) {
        if (!value) continue;
        // Rubin's backward-compatible properties set the legacy builder's fields.
        if (path[2] == "patchInnerDimensions" || path[2] == "patchBorder")
          set_field(builder_fields[{k, "legacy"}], path[2], *value);
        else
          set_field(kind_fields[k], path[2], *value);
      } else if (path.size() == 4 && path[2] == "tractBuilder" && path[3] == "name") {
        if (value) builder_of[k] = *value;
      } else if (path.size() == 5 && path[2] == "tractBuilder" && is_key(path[3])) {
        if (value) set_field(builder_fields[{k, key(path[3])}], path[4], *value);
      } else {
        throw InvalidConfigError(
            fmt::format("{}: 'config.{}' is not a skymap setting majordome knows", where, st.field));
      }
    } else {
      throw InvalidConfigError(fmt::format("{}: 'config.{}' is not a skymap setting majordome knows (expected "
                                           "config.name, config.skyMap.name or config.skyMap[\"rings\"].<field>)",
                                           where, st.field));
    }
  }
  auto unquote = [](std::string v) {
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    return v;
  };
  if (!kind)
    throw InvalidConfigError(fmt::format("{}: config.skyMap.name is not set (Rubin's default, dodeca, is not "
                                         "implemented); set config.skyMap.name = \"rings\" or \"discrete\"",
                                         source));
  const std::string k = unquote(*kind);
  std::string out;
  if (name) out += fmt::format("name: {}\n", *name);
  out += fmt::format("skyMap: {}\n", k);
  for (const auto& [field, value] : kind_fields[k]) out += fmt::format("{}: {}\n", field, value);
  const std::string b = builder_of.contains(k) ? unquote(builder_of[k]) : std::string("legacy");
  if (builder_of.contains(k)) out += fmt::format("tractBuilder: {}\n", b);
  for (const auto& [field, value] : builder_fields[{k, b}]) out += fmt::format("{}: {}\n", field, value);
  return out;
}

void SkyMapConfig::validate() const {
  if (name.empty()) throw InvalidConfigError("name must not be empty");
  if (name.size() > 64) throw InvalidConfigError(fmt::format("name '{}' is longer than 64 characters", name));
  if (projection.size() != 3)
    throw InvalidConfigError(fmt::format("projection '{}' must be a 3-letter FITS code such as TAN or STG", projection));
  if (!(pixel_scale_arcsec > 0)) throw InvalidConfigError(fmt::format("pixelScale {} must be > 0", pixel_scale_arcsec));
  if (!(tract_overlap_deg >= 0)) throw InvalidConfigError(fmt::format("tractOverlap {} must be >= 0", tract_overlap_deg));
  if (tract_builder == TractBuilderKind::kLegacy) {
    if (patch_inner_dimensions[0] <= 0 || patch_inner_dimensions[1] <= 0)
      throw InvalidConfigError("patchInnerDimensions must be positive");
    if (patch_border < 0) throw InvalidConfigError("patchBorder must be >= 0");
  } else {
    if (cell_inner_dimensions[0] <= 0 || cell_inner_dimensions[0] != cell_inner_dimensions[1])
      throw InvalidConfigError("cellInnerDimensions must be two equal positive integers (square cells)");
    if (cell_border < 0 || num_cells_per_patch_inner <= 0 || num_cells_in_patch_border < 0)
      throw InvalidConfigError("cellBorder and numCellsInPatchBorder must be >= 0, numCellsPerPatchInner > 0");
  }
  if (kind == SkyMapKind::kRings) {
    if (num_rings <= 0) throw InvalidConfigError(fmt::format("numRings {} must be > 0", num_rings));
    if (!(ra_start_deg >= 0.0 && ra_start_deg < 360.0))
      throw InvalidConfigError(fmt::format("raStart {} must be in [0, 360)", ra_start_deg));
  } else {
    if (ra_list_deg.empty()) throw InvalidConfigError("a discrete skymap needs raList, decList and radiusList (one entry per tract)");
    if (ra_list_deg.size() != dec_list_deg.size() || ra_list_deg.size() != radius_list_deg.size())
      throw InvalidConfigError(fmt::format("raList, decList and radiusList must have the same length (got {}, {}, {})",
                                           ra_list_deg.size(), dec_list_deg.size(), radius_list_deg.size()));
    for (std::size_t i = 0; i < ra_list_deg.size(); ++i) {
      if (std::abs(dec_list_deg[i]) > 90) throw InvalidConfigError(fmt::format("decList[{}] = {} is not in [-90, 90]", i, dec_list_deg[i]));
      if (!(radius_list_deg[i] > 0 && radius_list_deg[i] < 45))
        throw InvalidConfigError(fmt::format("radiusList[{}] = {} must be in (0, 45) degrees", i, radius_list_deg[i]));
    }
  }
}

std::array<int, 2> SkyMapConfig::effective_patch_inner_dimensions() const {
  if (tract_builder == TractBuilderKind::kLegacy) return patch_inner_dimensions;
  return {cell_inner_dimensions[0] * num_cells_per_patch_inner, cell_inner_dimensions[1] * num_cells_per_patch_inner};
}

int SkyMapConfig::effective_patch_border() const {
  if (tract_builder == TractBuilderKind::kLegacy) return patch_border;
  return num_cells_in_patch_border * cell_inner_dimensions[0] + cell_border;
}

std::string SkyMapConfig::canonical_yaml() const {
  std::string out;
  out += "# majordome skymap definition (docs/skymap.md)\n";
  out += fmt::format("name: '{}'\n", name);
  out += fmt::format("skyMap: {}\n", skymap_kind_name(kind));
  if (kind == SkyMapKind::kRings) {
    out += fmt::format("numRings: {}\n", num_rings);
    out += fmt::format("raStart: {}\n", number(ra_start_deg));
  } else {
    out += fmt::format("raList: {}\n", doubles(ra_list_deg));
    out += fmt::format("decList: {}\n", doubles(dec_list_deg));
    out += fmt::format("radiusList: {}\n", doubles(radius_list_deg));
  }
  out += fmt::format("projection: {}\n", projection);
  out += fmt::format("pixelScale: {}\n", number(pixel_scale_arcsec));
  out += fmt::format("tractOverlap: {}\n", number(tract_overlap_deg));
  out += fmt::format("rotation: {}\n", number(rotation_deg));
  out += fmt::format("tractBuilder: {}\n", tract_builder_name(tract_builder));
  if (tract_builder == TractBuilderKind::kLegacy) {
    out += fmt::format("patchInnerDimensions: [{}, {}]\n", patch_inner_dimensions[0], patch_inner_dimensions[1]);
    out += fmt::format("patchBorder: {}\n", patch_border);
  } else {
    out += fmt::format("cellInnerDimensions: [{}, {}]\n", cell_inner_dimensions[0], cell_inner_dimensions[1]);
    out += fmt::format("cellBorder: {}\n", cell_border);
    out += fmt::format("numCellsPerPatchInner: {}\n", num_cells_per_patch_inner);
    out += fmt::format("numCellsInPatchBorder: {}\n", num_cells_in_patch_border);
  }
  return out;
}

std::array<std::uint8_t, 20> SkyMapConfig::sha1() const {
  // The bytes Rubin hashes: struct.pack with '<' (little-endian, no padding).
  std::string bytes = kind == SkyMapKind::kRings ? "RingsSkyMap" : "DiscreteSkyMap";
  std::string projection3 = projection.substr(0, 3);
  projection3.resize(3, '\0');
  if (tract_builder == TractBuilderKind::kLegacy) {
    append_le(bytes, patch_inner_dimensions[0]);
    append_le(bytes, patch_inner_dimensions[1]);
    append_le(bytes, patch_border);
  } else {
    append_le(bytes, cell_inner_dimensions[0]);
    append_le(bytes, cell_inner_dimensions[1]);
    append_le(bytes, cell_border);
    append_le(bytes, num_cells_per_patch_inner);
    append_le(bytes, num_cells_in_patch_border);
  }
  append_le(bytes, tract_overlap_deg);
  append_le(bytes, pixel_scale_arcsec);
  bytes += projection3;
  append_le(bytes, rotation_deg);
  if (kind == SkyMapKind::kRings) {
    append_le(bytes, num_rings);
    append_le(bytes, ra_start_deg);
  } else {
    for (const auto* list : {&ra_list_deg, &dec_list_deg, &radius_list_deg})
      for (double v : *list) append_le(bytes, v);
  }
  std::array<std::uint8_t, 20> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1 || length != 20)
    throw InternalError("SHA-1 of the skymap config failed");
  return digest;
}

}  // namespace majordome::skymap
