#include <gtest/gtest.h>

#include "majordome/core/error.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/fits_file.hpp"
#include "test_support.hpp"

namespace majordome::image {
namespace {

Catalog make_sources() {
  Schema s;
  s.add("id", ColumnType::kInt64, "unique source id");
  s.add("ra", ColumnType::kDouble, "right ascension (ICRS)", "deg");
  s.add("flux", ColumnType::kFloat, "PSF flux, it's calibrated", "nJy");
  s.add("n_pix", ColumnType::kInt32, "pixels in footprint", "pixel");
  s.add("is_star", ColumnType::kBool, "point source?");
  s.add("band", ColumnType::kString, "band of the detection");
  ColumnSpec ap;
  ap.name = "ap_flux";
  ap.type = ColumnType::kDouble;
  ap.count = 3;
  ap.unit = "count";
  ap.doc = "aperture fluxes in 3, 6 and 12 pixel radii";
  ap.display_format = "F12.3";
  s.add(ap);
  ColumnSpec stamp;
  stamp.name = "stamp";
  stamp.type = ColumnType::kFloat;
  stamp.count = 6;
  stamp.shape = {3, 2};
  s.add(stamp);
  Catalog cat(s, 4);
  for (std::size_t i = 0; i < 4; ++i) {
    cat.column<std::int64_t>("id")[i] = (std::int64_t{1} << 40) + static_cast<std::int64_t>(i);
    cat.column<double>("ra")[i] = 150.0 + 1e-9 * static_cast<double>(i);
    cat.column<float>("flux")[i] = 1000.5F * static_cast<float>(i);
    cat.column<std::int32_t>("n_pix")[i] = static_cast<std::int32_t>(10 * i);
    cat.column<bool>("is_star")[i] = i % 2 == 0;
    cat.strings("band")[i] = i == 3 ? "longer band name" : "r";
    for (std::size_t j = 0; j < 3; ++j) cat.column<double>("ap_flux")[i * 3 + j] = static_cast<double>(i * 10 + j);
    for (std::size_t j = 0; j < 6; ++j) cat.column<float>("stamp")[i * 6 + j] = static_cast<float>(j);
  }
  cat.metadata().set("TRACT", 9813);
  cat.metadata().add_comment("made by catalog_test");
  return cat;
}

TEST(Schema, ValidatesColumns) {
  Schema s;
  s.add("x", ColumnType::kDouble);
  EXPECT_THROW(s.add("x", ColumnType::kFloat), ConflictError);
  EXPECT_THROW(s.add("", ColumnType::kFloat), InvalidArgumentError);
  EXPECT_THROW(s.add("bad", ColumnType::kFloat, "", "", 0), InvalidArgumentError);
  ColumnSpec shaped{"m", ColumnType::kFloat, 6, {4, 2}, "", "", ""};
  EXPECT_THROW(s.add(shaped), InvalidArgumentError);
  EXPECT_EQ(s.find_index("x"), 0u);
  EXPECT_THROW(s.get("y"), NotFoundError);
}

TEST(Catalog, TypedColumnsAndResize) {
  Catalog cat = make_sources();
  EXPECT_EQ(cat.size(), 4u);
  EXPECT_EQ(cat.column<double>("ap_flux").size(), 12u);
  EXPECT_THROW(cat.column<float>("ra"), InvalidArgumentError);
  EXPECT_THROW(cat.column<double>("nope"), NotFoundError);
  EXPECT_THROW(cat.strings("ra"), InvalidArgumentError);
  cat.resize(6);
  EXPECT_EQ(cat.column<bool>("is_star").size(), 6u);
  EXPECT_TRUE(cat.column<bool>("is_star")[0]);
  EXPECT_FALSE(cat.column<bool>("is_star")[5]);
  EXPECT_EQ(cat.strings("band")[5], "");
  const Catalog copy = cat;  // deep copy
  cat.column<double>("ra")[0] = 0;
  EXPECT_EQ(copy.column<double>("ra")[0], 150.0);
}

TEST(Catalog, FitsRoundTrip) {
  testing::ScratchDir dir;
  const Catalog cat = make_sources();
  {
    FitsFile f(dir / "cat.fits", FitsMode::kCreate);
    f.write_empty_image();
    EXPECT_EQ(f.write_catalog(cat, "SOURCES"), 1);
  }
  FitsFile f(dir / "cat.fits", FitsMode::kRead);
  f.move_to_extname("SOURCES");
  const Header h = f.read_header();
  EXPECT_EQ(h.get_string("TFORM1"), "K");
  EXPECT_EQ(h.get_string("TUNIT2"), "deg");
  EXPECT_EQ(h.get_string("TDOC2"), "right ascension (ICRS)");
  EXPECT_EQ(h.get_string("TFORM6"), "16A");
  EXPECT_EQ(h.get_string("TFORM7"), "3D");
  EXPECT_EQ(h.get_string("TDISP7"), "F12.3");
  const Catalog back = f.read_catalog();
  ASSERT_EQ(back.schema().size(), cat.schema().size());
  for (std::size_t i = 0; i < cat.schema().size(); ++i) {
    const auto& a = cat.schema()[i];
    const auto& b = back.schema()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type) << a.name;
    EXPECT_EQ(a.unit, b.unit) << a.name;
    EXPECT_EQ(a.doc, b.doc) << a.name;
    EXPECT_EQ(a.display_format, b.display_format) << a.name;
    EXPECT_EQ(a.shape, b.shape) << a.name;
    if (a.type != ColumnType::kString) {
      EXPECT_EQ(a.count, b.count) << a.name;
    }
  }
  EXPECT_EQ(back.schema().get("band").count, 16);
  EXPECT_EQ(back.column<std::int64_t>("id")[3], (std::int64_t{1} << 40) + 3);
  EXPECT_EQ(back.column<double>("ra")[1], 150.0 + 1e-9);
  EXPECT_EQ(back.column<float>("flux")[2], 2001.0F);
  EXPECT_EQ(back.column<std::int32_t>("n_pix")[3], 30);
  EXPECT_TRUE(back.column<bool>("is_star")[2]);
  EXPECT_FALSE(back.column<bool>("is_star")[3]);
  EXPECT_EQ(back.strings("band")[0], "r");
  EXPECT_EQ(back.strings("band")[3], "longer band name");
  EXPECT_EQ(back.column<double>("ap_flux")[3 * 3 + 2], 32.0);
  EXPECT_EQ(back.metadata().get_int("TRACT"), 9813);
  int comments = 0;
  for (const auto& c : back.metadata()) comments += c.keyword == "COMMENT" ? 1 : 0;
  EXPECT_EQ(comments, 1);  // the astropy description block is not metadata
}

TEST(Catalog, StringsLongerThanTheirColumnAreRefused) {
  testing::ScratchDir dir;
  Schema s;
  s.add(ColumnSpec{"name", ColumnType::kString, 4, {}, "", "", ""});
  Catalog cat(s, 1);
  cat.strings("name")[0] = "too long";
  FitsFile f(dir / "s.fits", FitsMode::kCreate);
  EXPECT_THROW(f.write_catalog(cat), InvalidArgumentError);
}

// Strings end with NUL padding, not blanks: astropy's Table.read keeps blanks ('star  ' !=
// 'star') but stops at a NUL. Our reader strips trailing blanks, so files written before
// (blank-padded by cfitsio) read the same.
TEST(Catalog, StringsArePaddedWithNulAndOldBlankPaddedFilesStillRead) {
  testing::ScratchDir dir;
  Schema s;
  s.add("id", ColumnType::kInt32);
  s.add(ColumnSpec{"type", ColumnType::kString, 6, {}, "", "star or galaxy", ""});
  s.add("flag", ColumnType::kBool);
  s.add("name", ColumnType::kString);  // as wide as the longest value
  Catalog cat(s, 4);
  const std::vector<std::string> types = {"star", "galaxy", "", "st ar"};
  const std::vector<std::string> names = {"a", "", "bcd", "e"};
  for (std::size_t i = 0; i < 4; ++i) {
    cat.column<std::int32_t>("id")[i] = static_cast<std::int32_t>(i);
    cat.strings("type")[i] = types[i];
    cat.column<bool>("flag")[i] = i == 1;
    cat.strings("name")[i] = names[i];
  }
  {
    FitsFile f(dir / "t.fits", FitsMode::kCreate);
    f.write_empty_image();
    f.write_catalog(cat, "SOURCES");
  }
  using namespace std::string_literals;
  // Rows of 4 + 6 + 1 + 3 bytes: id, type, flag, name.
  const std::string rows = "\0\0\0\0star\0\0Fa\0\0"s + "\0\0\0\1galaxyT\0\0\0"s +
                           "\0\0\0\2\0\0\0\0\0\0Fbcd"s + "\0\0\0\3st ar\0Fe\0\0"s;
  std::string bytes = testing::read_bytes(dir / "t.fits");
  const auto at = bytes.find(rows);
  ASSERT_NE(at, std::string::npos) << "the rows are not NUL-padded as expected";
  auto read_back = [&](const std::filesystem::path& p) {
    FitsFile f(p, FitsMode::kRead);
    f.move_to_extname("SOURCES");
    return f.read_catalog();
  };
  const Catalog back = read_back(dir / "t.fits");
  EXPECT_EQ(back.strings("type"), types);
  EXPECT_EQ(back.strings("name"), names);
  EXPECT_EQ(back.schema().get("type").count, 6);
  EXPECT_EQ(back.schema().get("name").count, 3);
  EXPECT_TRUE(back.column<bool>("flag")[1]);
  EXPECT_EQ(back.column<std::int32_t>("id")[3], 3);

  // The same table as cfitsio wrote it before: blanks after each string.
  const std::string blank_rows = "\0\0\0\0star  Fa  "s + "\0\0\0\1galaxyT   "s +
                                 "\0\0\0\2      Fbcd"s + "\0\0\0\3st ar Fe  "s;
  bytes.replace(at, rows.size(), blank_rows);
  testing::write_bytes(dir / "old.fits", bytes);
  const Catalog old = read_back(dir / "old.fits");
  EXPECT_EQ(old.strings("type"), types);
  EXPECT_EQ(old.strings("name"), names);
}

TEST(Catalog, StringsWithANulAreRefused) {
  testing::ScratchDir dir;
  Schema s;
  s.add("name", ColumnType::kString);
  Catalog cat(s, 1);
  cat.strings("name")[0] = std::string("ab\0cd", 5);
  FitsFile f(dir / "s.fits", FitsMode::kCreate);
  EXPECT_THROW(f.write_catalog(cat), InvalidArgumentError);
}

TEST(Catalog, EmptyCatalogRoundTrips) {
  testing::ScratchDir dir;
  Schema s;
  s.add("x", ColumnType::kDouble, "", "pixel");
  {
    FitsFile f(dir / "e.fits", FitsMode::kCreate);
    f.write_empty_image();
    f.write_catalog(Catalog(s), "EMPTY");
  }
  FitsFile f(dir / "e.fits", FitsMode::kRead);
  f.move_to(1);
  const Catalog back = f.read_catalog();
  EXPECT_EQ(back.size(), 0u);
  EXPECT_EQ(back.schema().get("x").unit, "pixel");
}

TEST(Catalog, ReadsRealTables) {
  MAJORDOME_REQUIRE_SHARED_DATA();
  {
    FitsFile f(testing::shared_images() / "astrometrynet_test-source-list.fit", FitsMode::kRead);
    f.move_to(1);
    const Catalog c = f.read_catalog();
    EXPECT_EQ(c.size(), 1862u);
    ASSERT_EQ(c.schema().size(), 4u);
    EXPECT_EQ(c.schema()[0].name, "X");
    const auto x = c.column<float>("X");
    EXPECT_GT(*std::max_element(x.begin(), x.end()), 1000.0F);
  }
  {
    FitsFile f(testing::shared_images() / "galsim_DECam_00154912_12_psfcat.psf", FitsMode::kRead);
    f.move_to(1);
    const Catalog c = f.read_catalog();
    ASSERT_EQ(c.size(), 1u);
    const auto& spec = c.schema().get("PSF_MASK");
    EXPECT_EQ(spec.shape.size(), 3u);
    EXPECT_EQ(spec.shape[0], 25);
    EXPECT_EQ(spec.count, 25 * 25 * spec.shape[2]);
    EXPECT_NEAR(c.metadata().get_double("PSF_SAMP"), 0.976, 1e-3);
  }
  {
    FitsFile f(testing::shared_data() / "refcat" / "afw_ps1-refcat-v1.fits", FitsMode::kRead);
    f.move_to(1);
    const Catalog c = f.read_catalog();
    EXPECT_EQ(c.size(), 10u);
    EXPECT_EQ(c.schema().get("coord_ra").unit, "rad");
    EXPECT_EQ(c.schema().get("coord_ra").type, ColumnType::kDouble);
  }
}

}  // namespace
}  // namespace majordome::image
