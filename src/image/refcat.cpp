#include "majordome/image/refcat.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "majordome/core/error.hpp"
#include "majordome/datastore/atomic_file.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/unit_vector3d.hpp"

namespace majordome::image {

namespace fs = std::filesystem;

namespace {

constexpr double kNanojanskyPerJansky = 1e9;

// The columns every shard has, whatever its bands (refcat.hpp lists them).
Schema base_schema() {
  Schema s;
  s.add("id", ColumnType::kInt64, "unique identifier");
  s.add("coord_ra", ColumnType::kDouble, "right ascension (ICRS)", "rad");
  s.add("coord_dec", ColumnType::kDouble, "declination (ICRS)", "rad");
  s.add("coord_raErr", ColumnType::kFloat, "1-sigma uncertainty in coord_ra", "rad");
  s.add("coord_decErr", ColumnType::kFloat, "1-sigma uncertainty in coord_dec", "rad");
  return s;
}

void add_astrometry(Schema& s) {
  s.add("epoch", ColumnType::kDouble, "epoch of the position (MJD, TAI)", "d");
  s.add("pm_ra", ColumnType::kFloat, "proper motion in the right ascension direction = dra/dt * cos(dec)",
        "rad/yr");
  s.add("pm_dec", ColumnType::kFloat, "proper motion in the declination direction", "rad/yr");
  s.add("pm_raErr", ColumnType::kFloat, "1-sigma uncertainty in pm_ra", "rad/yr");
  s.add("pm_decErr", ColumnType::kFloat, "1-sigma uncertainty in pm_dec", "rad/yr");
  s.add("pm_flag", ColumnType::kBool, "set if the proper motion is not usable");
  s.add("parallax", ColumnType::kFloat, "parallax", "rad");
  s.add("parallaxErr", ColumnType::kFloat, "1-sigma uncertainty in parallax", "rad");
  s.add("parallax_flag", ColumnType::kBool, "set if the parallax is not usable");
}

// Copies the rows `rows` (indices into `src`) into a new catalog of the same schema.
Catalog select_rows(const Catalog& src, const std::vector<std::size_t>& rows) {
  Catalog out(src.schema(), rows.size());
  out.metadata() = src.metadata();
  for (const auto& spec : src.schema().columns()) {
    const auto n = static_cast<std::size_t>(spec.count);
    auto copy = [&](auto tag) {
      using T = decltype(tag);
      auto from = src.column<T>(spec.name);
      auto to = out.column<T>(spec.name);
      for (std::size_t i = 0; i < rows.size(); ++i)
        std::copy_n(from.begin() + static_cast<std::ptrdiff_t>(rows[i] * n), n,
                    to.begin() + static_cast<std::ptrdiff_t>(i * n));
    };
    switch (spec.type) {
      case ColumnType::kBool: copy(bool{}); break;
      case ColumnType::kInt32: copy(std::int32_t{}); break;
      case ColumnType::kInt64: copy(std::int64_t{}); break;
      case ColumnType::kFloat: copy(float{}); break;
      case ColumnType::kDouble: copy(double{}); break;
      case ColumnType::kString: {
        const auto& from = src.strings(spec.name);
        auto& to = out.strings(spec.name);
        for (std::size_t i = 0; i < rows.size(); ++i) to[i] = from[rows[i]];
        break;
      }
    }
  }
  return out;
}

void write_shard(const Catalog& shard, const fs::path& target) {
  datastore::AtomicFile file(target, {datastore::Overwrite::kReplace});
  {
    FitsFile f(file.temporary_path(), FitsMode::kCreate);
    f.write_empty_image();
    f.write_catalog(shard);
    f.close();
  }
  file.commit();
}

void write_index(const std::vector<RefcatShard>& shards, int depth, const fs::path& target) {
  const std::string column = "htm" + std::to_string(depth);
  std::string text = "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: filename, datatype: string}\n# - {name: " + column +
                     ", datatype: int64}\n# schema: astropy-2.0\nfilename " + column + "\n";
  for (const auto& s : shards) text += s.path.filename().string() + ' ' + std::to_string(s.htm_id) + '\n';
  datastore::atomic_write(target, text, {datastore::Overwrite::kReplace});
}

void require_column(const Catalog& stars, const ColumnSpec& wanted) {
  const auto index = stars.schema().find_index(wanted.name);
  if (!index) {
    throw InvalidArgumentError("reference catalog has no column '" + wanted.name + "' (" +
                               std::string(column_type_name(wanted.type)) +
                               "); every shard needs the columns of refcat_schema()");
  }
  const auto& have = stars.schema()[*index];
  if (have.type != wanted.type || have.count != 1) {
    throw InvalidArgumentError("reference catalog column '" + wanted.name + "' is " +
                               std::string(column_type_name(have.type)) +
                               (have.count != 1 ? "[" + std::to_string(have.count) + "]" : std::string()) +
                               ", expected a scalar " + std::string(column_type_name(wanted.type)));
  }
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Format version 0 stored fluxes in Jy and called their errors `_fluxSigma`; readers
// want nJy and `_fluxErr`.
Catalog upgrade_from_version_0(const Catalog& old) {
  Schema schema;
  for (auto spec : old.schema().columns()) {
    if (ends_with(spec.name, "_fluxSigma")) spec.name = spec.name.substr(0, spec.name.size() - 5) + "Err";
    const bool flux = ends_with(spec.name, "_flux") || ends_with(spec.name, "_fluxErr");
    if (flux) spec.unit = "nJy";
    schema.add(spec);
  }
  Catalog out(schema, old.size());
  out.metadata() = old.metadata();
  for (std::size_t c = 0; c < schema.size(); ++c) {
    const auto& from_spec = old.schema()[c];
    const auto& to_spec = schema[c];
    const bool flux = ends_with(to_spec.name, "_flux") || ends_with(to_spec.name, "_fluxErr");
    auto copy = [&](auto tag) {
      using T = decltype(tag);
      auto from = old.column<T>(from_spec.name);
      auto to = out.column<T>(to_spec.name);
      std::copy(from.begin(), from.end(), to.begin());
      if constexpr (std::is_floating_point_v<T>) {
        if (flux)
          for (auto& v : to) v = static_cast<T>(v * kNanojanskyPerJansky);
      }
    };
    switch (from_spec.type) {
      case ColumnType::kBool: copy(bool{}); break;
      case ColumnType::kInt32: copy(std::int32_t{}); break;
      case ColumnType::kInt64: copy(std::int64_t{}); break;
      case ColumnType::kFloat: copy(float{}); break;
      case ColumnType::kDouble: copy(double{}); break;
      case ColumnType::kString: out.strings(to_spec.name) = old.strings(from_spec.name); break;
    }
  }
  out.metadata().set("REFCAT_FORMAT_VERSION", kRefcatFormatVersion);
  return out;
}

}  // namespace

Schema refcat_schema(const std::vector<std::string>& bands) {
  Schema s = base_schema();
  for (const auto& band : bands) {
    if (band.empty()) throw InvalidArgumentError("reference catalog band names must not be empty");
    s.add(band + "_flux", ColumnType::kDouble, "flux in band " + band, "nJy");
    s.add(band + "_fluxErr", ColumnType::kDouble, "1-sigma uncertainty in " + band + "_flux", "nJy");
  }
  add_astrometry(s);
  return s;
}

std::vector<RefcatShard> write_refcat_shards(const Catalog& stars, const fs::path& directory,
                                             const RefcatWriteOptions& options) {
  const Schema required = refcat_schema({});
  for (const auto& spec : required.columns()) require_column(stars, spec);
  for (const auto& spec : stars.schema().columns()) {
    if (ends_with(spec.name, "_flux") && !stars.schema().find_index(spec.name + "Err")) {
      throw InvalidArgumentError("reference catalog column '" + spec.name + "' has no error column '" + spec.name +
                                 "Err'");
    }
  }
  const sphere::HtmPixelization htm(options.htm_depth);

  const auto ra = stars.column<double>("coord_ra");
  const auto dec = stars.column<double>("coord_dec");
  std::map<std::uint64_t, std::vector<std::size_t>> rows_by_pixel;
  for (std::size_t i = 0; i < stars.size(); ++i) {
    if (!std::isfinite(ra[i]) || !std::isfinite(dec[i]) || std::abs(dec[i]) > std::numbers::pi / 2) {
      throw InvalidArgumentError("reference catalog row " + std::to_string(i) + " (id " +
                                 std::to_string(stars.column<std::int64_t>("id")[i]) +
                                 ") has no valid position: coord_ra = " + std::to_string(ra[i]) +
                                 " rad, coord_dec = " + std::to_string(dec[i]) + " rad");
    }
    const sphere::UnitVector3d v(sphere::LonLat::from_radians(ra[i], dec[i]));
    rows_by_pixel[htm.index(v)].push_back(i);
  }

  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) throw IoError("cannot create reference catalog directory " + directory.string() + ": " + ec.message());
  const fs::path root = fs::absolute(directory);

  std::vector<RefcatShard> shards;
  for (const auto& [id, rows] : rows_by_pixel)
    shards.push_back({id, root / (std::to_string(id) + ".fits"), rows.size()});
  const fs::path index_path = root / "index.ecsv";
  if (!options.overwrite) {
    // Check everything before writing anything, so a refusal leaves the directory as it was.
    for (const auto& s : shards) {
      if (fs::exists(s.path))
        throw ConflictError("reference catalog shard " + s.path.string() +
                            " already exists; write into an empty directory or allow overwriting");
    }
    if (fs::exists(index_path))
      throw ConflictError("reference catalog index " + index_path.string() +
                          " already exists; write into an empty directory or allow overwriting");
  }

  for (const auto& s : shards) {
    Catalog shard = select_rows(stars, rows_by_pixel.at(s.htm_id));
    shard.metadata().set("REFCAT_FORMAT_VERSION", kRefcatFormatVersion, "fluxes in nJy, angles in radians");
    shard.metadata().set("HTM_DEPTH", options.htm_depth, "HTM level of the shard pixelization");
    shard.metadata().set("HTM_ID", static_cast<std::int64_t>(s.htm_id), "HTM pixel of this shard");
    write_shard(shard, s.path);
  }
  write_index(shards, options.htm_depth, index_path);
  return shards;
}

Catalog read_refcat_shard(const fs::path& path) {
  FitsFile f(path, FitsMode::kRead);
  const int n = f.hdu_count();
  int table_hdu = -1;
  for (int i = 1; i < n && table_hdu < 0; ++i) {
    f.move_to(i);
    if (f.hdu_type() == HduType::kBinaryTable) table_hdu = i;
  }
  if (table_hdu < 0) throw CorruptFileError(path.string() + " has no binary table: not a reference catalog shard");
  f.move_to(table_hdu);
  Catalog cat = f.read_catalog();
  for (const char* required : {"coord_ra", "coord_dec"}) {
    if (!cat.schema().find_index(required))
      throw CorruptFileError(path.string() + " has no column '" + required + "': not a reference catalog shard");
  }
  const std::int64_t version = cat.metadata().find_int("REFCAT_FORMAT_VERSION").value_or(0);
  if (version == 0) return upgrade_from_version_0(cat);
  if (version != kRefcatFormatVersion) {
    throw UnsupportedError(path.string() + " is a reference catalog of format version " + std::to_string(version) +
                           "; this reader knows versions 0 and " + std::to_string(kRefcatFormatVersion));
  }
  return cat;
}

}  // namespace majordome::image
