#include "majordome/image/refcat.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <set>
#include <sstream>

#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/unit_vector3d.hpp"
#include "test_support.hpp"

namespace majordome::image {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

// n stars on a line crossing several HTM7 pixels near (ra, dec) = (135.6, 49.8) deg.
Catalog make_stars(std::size_t n) {
  Catalog cat(refcat_schema({"g", "r"}), n);
  for (std::size_t i = 0; i < n; ++i) {
    cat.column<std::int64_t>("id")[i] = static_cast<std::int64_t>(1000 + i);
    cat.column<double>("coord_ra")[i] = (135.0 + 0.05 * static_cast<double>(i)) * kDeg;
    cat.column<double>("coord_dec")[i] = (49.5 + 0.03 * static_cast<double>(i)) * kDeg;
    cat.column<double>("g_flux")[i] = 1000.0 * static_cast<double>(i + 1);
    cat.column<double>("g_fluxErr")[i] = 10.0;
    cat.column<double>("r_flux")[i] = 2000.0 * static_cast<double>(i + 1);
    cat.column<double>("r_fluxErr")[i] = 20.0;
    cat.column<double>("epoch")[i] = 57205.875;  // J2015.5
    cat.column<bool>("pm_flag")[i] = (i % 2) == 0;
  }
  return cat;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::uint64_t htm7(double ra_rad, double dec_rad) {
  return sphere::HtmPixelization(7).index(sphere::UnitVector3d(sphere::LonLat::from_radians(ra_rad, dec_rad)));
}

TEST(Refcat, SchemaHasRubinColumnsAndUnits) {
  const Schema s = refcat_schema({"g", "phot_g_mean"});
  EXPECT_EQ(s.get("id").type, ColumnType::kInt64);
  EXPECT_EQ(s.get("coord_ra").unit, "rad");
  EXPECT_EQ(s.get("coord_ra").type, ColumnType::kDouble);
  EXPECT_EQ(s.get("coord_decErr").type, ColumnType::kFloat);
  EXPECT_EQ(s.get("g_flux").unit, "nJy");
  EXPECT_EQ(s.get("phot_g_mean_fluxErr").unit, "nJy");
  EXPECT_EQ(s.get("pm_ra").unit, "rad/yr");
  EXPECT_EQ(s.get("parallax_flag").type, ColumnType::kBool);
  EXPECT_EQ(s.get("epoch").type, ColumnType::kDouble);
  EXPECT_THROW(refcat_schema({""}), InvalidArgumentError);
}

TEST(Refcat, WritesOneShardPerHtmPixelAndAnIndex) {
  testing::ScratchDir dir;
  const Catalog stars = make_stars(40);
  const auto out = dir.path() / "gaia" / "shards";  // created
  const auto shards = write_refcat_shards(stars, out);
  ASSERT_GT(shards.size(), 1U) << "the test stars should span several HTM7 pixels";

  std::set<std::int64_t> seen;
  std::size_t total = 0;
  for (std::size_t k = 0; k < shards.size(); ++k) {
    const auto& s = shards[k];
    if (k > 0) {
      EXPECT_LT(shards[k - 1].htm_id, s.htm_id);
    }
    EXPECT_EQ(sphere::HtmPixelization::level_of(s.htm_id), 7);
    EXPECT_TRUE(s.path.is_absolute());
    EXPECT_EQ(s.path.filename().string(), std::to_string(s.htm_id) + ".fits");
    const Catalog back = read_refcat_shard(s.path);
    ASSERT_EQ(back.size(), s.rows);
    EXPECT_EQ(back.metadata().get_int("REFCAT_FORMAT_VERSION"), 1);
    EXPECT_EQ(back.metadata().get_int("HTM_DEPTH"), 7);
    EXPECT_EQ(back.schema().get("g_flux").unit, "nJy");
    for (std::size_t i = 0; i < back.size(); ++i) {
      const auto id = back.column<std::int64_t>("id")[i];
      seen.insert(id);
      const auto src = static_cast<std::size_t>(id - 1000);
      EXPECT_EQ(htm7(back.column<double>("coord_ra")[i], back.column<double>("coord_dec")[i]), s.htm_id);
      EXPECT_EQ(back.column<double>("coord_ra")[i], stars.column<double>("coord_ra")[src]);
      EXPECT_EQ(back.column<double>("r_flux")[i], 2000.0 * static_cast<double>(src + 1));
      EXPECT_EQ(back.column<bool>("pm_flag")[i], (src % 2) == 0);
    }
    total += s.rows;
  }
  EXPECT_EQ(total, stars.size());
  EXPECT_EQ(seen.size(), stars.size());

  const std::string index = read_text(out / "index.ecsv");
  EXPECT_EQ(index.rfind("# %ECSV 1.0\n", 0), 0U);
  EXPECT_NE(index.find("# - {name: htm7, datatype: int64}"), std::string::npos);
  EXPECT_NE(index.find("\nfilename htm7\n"), std::string::npos);
  for (const auto& s : shards) {
    const std::string line = "\n" + std::to_string(s.htm_id) + ".fits " + std::to_string(s.htm_id) + "\n";
    EXPECT_NE(index.find(line), std::string::npos) << line;
  }
  // Nothing but the shards and the index: no temporary files left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(out)) ++files;
  EXPECT_EQ(files, shards.size() + 1);
}

TEST(Refcat, OtherDepthNamesTheIndexColumn) {
  testing::ScratchDir dir;
  RefcatWriteOptions options;
  options.htm_depth = 5;
  const auto shards = write_refcat_shards(make_stars(5), dir.path(), options);
  for (const auto& s : shards) EXPECT_EQ(sphere::HtmPixelization::level_of(s.htm_id), 5);
  EXPECT_NE(read_text(dir / "index.ecsv").find("\nfilename htm5\n"), std::string::npos);
}

TEST(Refcat, ExistingShardIsAConflictUnlessOverwriting) {
  testing::ScratchDir dir;
  const Catalog stars = make_stars(10);
  const auto first = write_refcat_shards(stars, dir.path());
  const auto before = std::filesystem::last_write_time(first.front().path);
  try {
    write_refcat_shards(stars, dir.path());
    FAIL() << "expected ConflictError";
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find(first.front().path.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::filesystem::last_write_time(first.front().path), before);

  Catalog brighter = stars;
  for (auto& f : brighter.column<double>("g_flux")) f *= 2.0;
  RefcatWriteOptions options;
  options.overwrite = true;
  const auto second = write_refcat_shards(brighter, dir.path(), options);
  ASSERT_EQ(second.size(), first.size());
  const Catalog back = read_refcat_shard(second.front().path);
  const auto id = back.column<std::int64_t>("id")[0];
  EXPECT_EQ(back.column<double>("g_flux")[0], 2000.0 * static_cast<double>(id - 1000 + 1));
}

TEST(Refcat, MissingColumnIsNamed) {
  testing::ScratchDir dir;
  Schema s;
  s.add("id", ColumnType::kInt64);
  s.add("coord_ra", ColumnType::kDouble, "", "rad");
  s.add("coord_dec", ColumnType::kDouble, "", "rad");
  try {
    write_refcat_shards(Catalog(s, 1), dir.path());
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("'coord_raErr'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "index.ecsv"));
}

TEST(Refcat, WrongColumnTypeAndFluxWithoutErrorAreRefused) {
  testing::ScratchDir dir;
  Schema s = refcat_schema({});
  Schema wrong;
  for (auto spec : s.columns()) {
    if (spec.name == "coord_ra") spec.type = ColumnType::kFloat;
    wrong.add(spec);
  }
  EXPECT_THROW(write_refcat_shards(Catalog(wrong, 1), dir.path()), InvalidArgumentError);

  Schema no_err = refcat_schema({});
  no_err.add("g_flux", ColumnType::kDouble, "", "nJy");
  try {
    write_refcat_shards(Catalog(no_err, 1), dir.path());
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("g_fluxErr"), std::string::npos) << e.what();
  }
}

TEST(Refcat, NonFinitePositionNamesTheRow) {
  testing::ScratchDir dir;
  Catalog stars = make_stars(3);
  stars.column<double>("coord_dec")[2] = std::nan("");
  try {
    write_refcat_shards(stars, dir.path());
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("row 2 (id 1002)"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Refcat, EmptyCatalogWritesAnEmptyIndex) {
  testing::ScratchDir dir;
  const auto shards = write_refcat_shards(Catalog(refcat_schema({"g"})), dir.path());
  EXPECT_TRUE(shards.empty());
  EXPECT_NE(read_text(dir / "index.ecsv").find("filename htm7\n"), std::string::npos);
}

// A version-0 shard (fluxes in Jy, errors named _fluxSigma, no version card).
void write_version_0(const std::filesystem::path& path, std::int64_t version_card) {
  Schema s;
  s.add("id", ColumnType::kInt64);
  s.add("coord_ra", ColumnType::kDouble, "", "rad");
  s.add("coord_dec", ColumnType::kDouble, "", "rad");
  s.add("g_flux", ColumnType::kDouble);
  s.add("g_fluxSigma", ColumnType::kDouble);
  Catalog cat(s, 1);
  cat.column<double>("g_flux")[0] = 3.631e-6;  // 20 mag AB in Jy
  cat.column<double>("g_fluxSigma")[0] = 1e-8;
  if (version_card >= 0) cat.metadata().set("REFCAT_FORMAT_VERSION", version_card);
  FitsFile f(path, FitsMode::kCreate);
  f.write_empty_image();
  f.write_catalog(cat);
}

TEST(Refcat, ReadsVersion0AsNanojansky) {
  testing::ScratchDir dir;
  write_version_0(dir / "old.fits", -1);
  const Catalog back = read_refcat_shard(dir / "old.fits");
  EXPECT_NEAR(back.column<double>("g_flux")[0], 3631.0, 1e-9);
  EXPECT_NEAR(back.column<double>("g_fluxErr")[0], 10.0, 1e-12);
  EXPECT_EQ(back.schema().get("g_fluxErr").unit, "nJy");
  EXPECT_EQ(back.metadata().get_int("REFCAT_FORMAT_VERSION"), 1);
}

TEST(Refcat, UnknownVersionAndNonShardsAreRefused) {
  testing::ScratchDir dir;
  write_version_0(dir / "future.fits", 9);
  try {
    read_refcat_shard(dir / "future.fits");
    FAIL() << "expected UnsupportedError";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("format version 9"), std::string::npos) << e.what();
  }
  {
    FitsFile f(dir / "image.fits", FitsMode::kCreate);
    f.write_empty_image();
  }
  EXPECT_THROW(read_refcat_shard(dir / "image.fits"), CorruptFileError);
  EXPECT_THROW(read_refcat_shard(dir / "absent.fits"), NotFoundError);
}

TEST(Refcat, ReadsRubinShard) {
  const auto path = testing::shared_data() / "refcat" / "afw_ps1-refcat-v1.fits";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not present: " << path;
  const Catalog cat = read_refcat_shard(path);
  FitsFile f(path, FitsMode::kRead);
  f.move_to(1);
  const Catalog raw = f.read_catalog();
  ASSERT_EQ(cat.size(), 10U);
  // No REFCAT_FORMAT_VERSION card: version 0, so Jy → nJy and _fluxSigma → _fluxErr.
  EXPECT_FALSE(raw.metadata().contains("REFCAT_FORMAT_VERSION"));
  EXPECT_EQ(cat.metadata().get_int("REFCAT_FORMAT_VERSION"), 1);
  for (const char* band : {"g", "r", "i", "z", "y"}) {
    const std::string flux = std::string(band) + "_flux";
    ASSERT_TRUE(cat.schema().find_index(flux + "Err")) << band;
    EXPECT_FALSE(cat.schema().find_index(flux + "Sigma")) << band;
    EXPECT_EQ(cat.schema().get(flux).unit, "nJy");
    for (std::size_t i = 0; i < cat.size(); ++i) {
      const auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
      EXPECT_TRUE(same(cat.column<double>(flux)[i], raw.column<double>(flux)[i] * 1e9)) << flux << " row " << i;
      EXPECT_TRUE(same(cat.column<double>(flux + "Err")[i], raw.column<double>(flux + "Sigma")[i] * 1e9));
    }
  }
  EXPECT_EQ(cat.schema().get("coord_ra").unit, "rad");
  EXPECT_EQ(cat.column<double>("coord_dec")[3], raw.column<double>("coord_dec")[3]);
}

}  // namespace
}  // namespace majordome::image
