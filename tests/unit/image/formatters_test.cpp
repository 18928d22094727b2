// The image module's storage classes through Butler::put / get, on SQLite and PostgreSQL:
// every class round-trips, components and bbox/column parameters read only what they need.
#include "majordome/image/formatters.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "butler_repo_fixture.hpp"
#include "majordome/core/error.hpp"
#include "majordome/image/background.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/exposure_i.hpp"
#include "majordome/image/fits_file.hpp"
#include "test_support.hpp"

namespace majordome::image {
namespace {

namespace fs = std::filesystem;
using butler::Butler;
using butler::DataId;
using majordome::testing::Backend;

const DataId kDetector1{{"instrument", std::string("Cam1")}, {"detector", std::int64_t{1}}};

// Bytes this process has read through read(2) and friends so far (/proc/self/io rchar).
std::int64_t bytes_read() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::int64_t value = 0;
  while (io >> key >> value)
    if (key == "rchar:") return value;
  return -1;
}

Exposure make_exposure(Box2I bbox) {
  Exposure e(bbox);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(100.0F, 5.0F);
  for (int y = 0; y < e.height(); ++y) {
    for (auto& p : e.image().row(y)) p = noise(rng);
    for (auto& v : e.variance().row(y)) v = 25.0F + static_cast<float>(y);
  }
  e.mask().planes().add("STREAK");
  e.mask().set_bits(Box2I({bbox.min_x() + 3, bbox.min_y() + 4}, {5, 2}), e.mask().get_bitmask("SAT"));
  e.mask().set_bits(Box2I({bbox.min_x(), bbox.min_y()}, {2, 2}), e.mask().get_bitmask("STREAK"));
  e.set_wcs(std::make_shared<const Wcs>(make_tan({1000.0, 2000.0}, {150.0, 2.0}, {-5.0e-5, 0.0, 0.0, 5.0e-5})));
  e.set_psf(std::make_shared<GaussianPsf>(21, 21, 2.2));
  e.set_photo_calib(PhotoCalib{0.0575, 0.0002});
  e.set_filter(FilterLabel{"i", "HSC-I2"});
  VisitInfo v;
  v.id = 903334;
  v.exposure_time_s = 30.0;
  v.date = TaiTime::from_tai_iso("2013-06-17T13:29:20.123456789");
  v.boresight_ra_deg = 320.4;
  v.instrument = "HSC";
  e.set_visit_info(v);
  e.set_detector(DetectorInfo{26, "1_07", "", "HSC"});
  e.metadata().set("OBJECT", "STRIPE82L");
  return e;
}

class ImageFormattersTest : public majordome::testing::ButlerRepoTest {
 protected:
  std::unique_ptr<Butler> open_with_types() {
    auto formatters = std::make_shared<datastore::FormatterRegistry>();
    datastore::add_basic_formatters(*formatters);
    add_formatters(*formatters);
    auto b = open(formatters);
    auto& r = b->registry();
    auto group = r.universe().group({"instrument", "detector"});
    for (auto [name, sc] : std::vector<std::pair<const char*, const char*>>{
             {"calexp", "ExposureF"}, {"picture", "ImageF"}, {"counts", "ImageU"}, {"flags", "MaskX"},
             {"src", "SourceCatalog"}, {"table", "ArrowAstropy"}, {"solution", "Wcs"}, {"zp", "PhotoCalib"},
             {"info", "VisitInfo"}, {"model", "Psf"}, {"box", "Box2I"}, {"header", "PropertyList"},
             {"counts_exp", "ExposureI"}, {"generic", "Exposure"}, {"sky", "Background"}})
      r.register_dataset_type({name, group, sc, false});
    return b;
  }
};

TEST_P(ImageFormattersTest, ExposureRoundTripsWithEveryComponent) {
  auto b = open_with_types();
  const Exposure e = make_exposure(Box2I({900, 1900}, {64, 48}));
  auto ref = b->put(e, "calexp", kDetector1, "run");
  const Exposure r = b->get_as<Exposure>(ref);
  ASSERT_EQ(r.bbox(), e.bbox());
  for (int y = e.bbox().min_y(); y < e.bbox().min_y() + e.height(); ++y)
    for (int x = e.bbox().min_x(); x < e.bbox().min_x() + e.width(); ++x) {
      ASSERT_EQ(r.image().at({x, y}), e.image().at({x, y}));
      ASSERT_EQ(r.mask().at({x, y}), e.mask().at({x, y}));
      ASSERT_EQ(r.variance().at({x, y}), e.variance().at({x, y}));
    }
  EXPECT_EQ(r.photo_calib(), e.photo_calib());
  EXPECT_EQ(r.filter(), e.filter());
  EXPECT_EQ(r.detector(), e.detector());
  EXPECT_EQ(r.visit_info()->id, 903334);

  auto component = [&](const std::string& name) {
    return b->get("calexp." + name, kDetector1, {"run"});
  };
  EXPECT_EQ(std::move(component("bbox")).take<Box2I>(), e.bbox());
  auto wcs = std::move(component("wcs")).take<std::shared_ptr<const Wcs>>();
  auto sky = wcs->pixel_to_sky(950.0, 1920.0);
  auto want = e.wcs()->pixel_to_sky(950.0, 1920.0);
  EXPECT_NEAR(sky.ra_deg, want.ra_deg, 1e-10);
  EXPECT_NEAR(sky.dec_deg, want.dec_deg, 1e-10);
  auto psf = std::move(component("psf")).take<std::shared_ptr<const Psf>>();
  EXPECT_DOUBLE_EQ(psf->determinant_radius(0, 0), 2.2);
  EXPECT_EQ(std::move(component("photoCalib")).take<PhotoCalib>(), *e.photo_calib());
  EXPECT_EQ(std::move(component("filter")).take<FilterLabel>(), *e.filter());
  EXPECT_EQ(std::move(component("detector")).take<DetectorInfo>(), *e.detector());
  EXPECT_EQ(std::move(component("visitInfo")).take<VisitInfo>().exposure_time_s, 30.0);
  EXPECT_EQ(std::move(component("metadata")).take<Header>().get_string("OBJECT"), "STRIPE82L");
  Mask mask = std::move(component("mask")).take<Mask>();
  EXPECT_TRUE(mask.planes().contains("STREAK"));
  EXPECT_EQ(mask.at({900, 1900}), e.mask().at({900, 1900}));
  // A bbox reads that part only, as a whole exposure or one plane.
  const Box2I part({910, 1910}, {10, 7});
  const Exposure sub = b->get_as<Exposure>("calexp", kDetector1, {"run"}, {{"bbox", part}});
  EXPECT_EQ(sub.bbox(), part);
  EXPECT_EQ(sub.image().at({915, 1913}), e.image().at({915, 1913}));
  EXPECT_EQ(sub.variance().at({915, 1916}), e.variance().at({915, 1916}));
  const auto image = b->get_as<Image<float>>("calexp.image", kDetector1, {"run"}, {{"bbox", part}});
  EXPECT_EQ(image.bbox(), part);
  EXPECT_EQ(image.at({919, 1916}), e.image().at({919, 1916}));
  EXPECT_THROW(b->get("calexp", kDetector1, {"run"}, {{"bbox", Box2I({0, 0}, {5, 5})}}), InvalidArgumentError);
  EXPECT_THROW(b->get("calexp", kDetector1, {"run"}, {{"bbox", std::string("0,0,5,5")}}), InvalidArgumentError);
  EXPECT_THROW(b->get("calexp.nothing", kDetector1, {"run"}), InvalidArgumentError);
}

TEST_P(ImageFormattersTest, ComponentsAndBoxesReadOnlyWhatTheyNeed) {
  auto b = open_with_types();
  const Exposure e = make_exposure(Box2I({0, 0}, {1024, 1024}));
  auto ref = b->put(e, "calexp", kDetector1, "run");
  const auto file_size = static_cast<std::int64_t>(fs::file_size(b->get_uri(ref).substr(7)));
  ASSERT_GT(file_size, 12'000'000);
  auto cost = [&](const std::string& type, butler::ReadParameters parameters = {}) {
    auto before = bytes_read();
    butler::DatasetRef r = ref;
    r.dataset_type = type;
    b->get(r, parameters);
    return bytes_read() - before;
  };
  EXPECT_GE(cost("calexp"), file_size - 100'000);
  for (const char* small : {"calexp.wcs", "calexp.bbox", "calexp.photoCalib", "calexp.visitInfo", "calexp.psf"})
    EXPECT_LT(cost(small), 200'000) << small << " read too much of a " << file_size << "-byte file";
  EXPECT_LT(cost("calexp.image"), file_size / 3 + 200'000);
  EXPECT_LT(cost("calexp", {{"bbox", Box2I({500, 500}, {100, 100})}}), 1'700'000);  // 100 of 1024 rows × 3
}

TEST_P(ImageFormattersTest, ImagesAndMasksKeepTheirOriginAndPixelType) {
  auto b = open_with_types();
  Image<float> picture(Box2I({-5, 7}, {30, 20}), 1.5F);
  picture.at({0, 10}) = -3.25F;
  b->put(picture, "picture", kDetector1, "run");
  auto back = b->get_as<Image<float>>("picture", kDetector1, {"run"});
  EXPECT_EQ(back.bbox(), picture.bbox());
  EXPECT_EQ(back.at({0, 10}), -3.25F);
  Image<std::uint16_t> counts(Box2I({0, 0}, {40, 30}), 60000);
  counts.at({3, 4}) = 7;
  b->put(counts, "counts", kDetector1, "run");
  auto sub = b->get_as<Image<std::uint16_t>>("counts", kDetector1, {"run"}, {{"bbox", Box2I({2, 3}, {4, 4})}});
  EXPECT_EQ(sub.bbox(), Box2I({2, 3}, {4, 4}));
  EXPECT_EQ(sub.at({3, 4}), 7);
  EXPECT_EQ(sub.at({5, 6}), 60000);
  Mask flags(Box2I({1, 2}, {8, 8}));
  flags.planes().add("GHOST");
  flags.set_bits(Box2I({2, 3}, {2, 2}), flags.get_bitmask("GHOST"));
  b->put(flags, "flags", kDetector1, "run");
  auto mask = b->get_as<Mask>("flags", kDetector1, {"run"});
  EXPECT_EQ(mask.bbox(), flags.bbox());
  EXPECT_EQ(mask.at({2, 3}), flags.get_bitmask("GHOST"));
  EXPECT_EQ(mask.get_bitmask("GHOST"), flags.get_bitmask("GHOST"));
  // The storage class fixes the type: an ImageU dataset will not take floats.
  EXPECT_THROW(b->put(picture, "counts", kDetector1, "run2"), InvalidArgumentError);
}

TEST_P(ImageFormattersTest, CatalogsReadBackWholeOrByColumn) {
  auto b = open_with_types();
  Schema schema;
  schema.add("id", ColumnType::kInt64, "source id");
  schema.add("flux", ColumnType::kDouble, "flux", "nJy");
  schema.add("type", ColumnType::kString, "kind");
  Catalog catalog(schema, 3);
  for (std::size_t i = 0; i < 3; ++i) {
    catalog.column<std::int64_t>("id")[i] = static_cast<std::int64_t>(100 + i);
    catalog.column<double>("flux")[i] = 1.5 * static_cast<double>(i);
    catalog.strings("type")[i] = i == 1 ? "galaxy" : "star";
  }
  auto ref = b->put(catalog, "src", kDetector1, "run");
  auto back = b->get_as<Catalog>(ref);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back.strings("type")[1], "galaxy");
  EXPECT_EQ(back.strings("type")[0], "star");
  EXPECT_EQ(back.schema().get("flux").unit, "nJy");
  auto two = b->get_as<Catalog>(ref, {{"columns", std::vector<std::string>{"type", "id"}}});
  ASSERT_EQ(two.schema().size(), 2u);
  EXPECT_EQ(two.schema()[0].name, "type");
  EXPECT_EQ(two.column<std::int64_t>("id")[2], 102);
  EXPECT_THROW(b->get(ref, {{"columns", std::vector<std::string>{"nope"}}}), NotFoundError);
  EXPECT_EQ(b->get_as<std::vector<std::string>>("src.columns", kDetector1, {"run"}),
            (std::vector<std::string>{"id", "flux", "type"}));
  EXPECT_EQ(b->get_as<std::int64_t>("src.rowcount", kDetector1, {"run"}), 3);
  b->put(catalog, "table", kDetector1, "run");
  EXPECT_EQ(b->get_as<Catalog>("table", kDetector1, {"run"}).size(), 3u);
}

TEST_P(ImageFormattersTest, StandaloneComponentsRoundTrip) {
  auto b = open_with_types();
  const Exposure e = make_exposure(Box2I({0, 0}, {8, 8}));
  b->put(e.wcs(), "solution", kDetector1, "run");
  auto wcs = b->get_as<std::shared_ptr<const Wcs>>("solution", kDetector1, {"run"});
  EXPECT_NEAR(wcs->pixel_to_sky(3, 4).ra_deg, e.wcs()->pixel_to_sky(3, 4).ra_deg, 1e-10);
  b->put(*e.photo_calib(), "zp", kDetector1, "run");
  EXPECT_EQ(b->get_as<PhotoCalib>("zp", kDetector1, {"run"}), *e.photo_calib());
  b->put(*e.visit_info(), "info", kDetector1, "run");
  EXPECT_EQ(b->get_as<VisitInfo>("info", kDetector1, {"run"}).date, e.visit_info()->date);
  b->put(e.psf(), "model", kDetector1, "run");
  EXPECT_DOUBLE_EQ(b->get_as<std::shared_ptr<const Psf>>("model", kDetector1, {"run"})->determinant_radius(1, 1), 2.2);
  b->put(Box2I({3, 4}, {5, 6}), "box", kDetector1, "run");
  EXPECT_EQ(b->get_as<Box2I>("box", kDetector1, {"run"}), Box2I({3, 4}, {5, 6}));
  b->put(e.metadata(), "header", kDetector1, "run");
  EXPECT_EQ(b->get_as<Header>("header", kDetector1, {"run"}).get_string("OBJECT"), "STRIPE82L");
}

std::string file_bytes(Butler& b, const butler::DatasetRef& ref) {
  std::ifstream in(b.get_uri(ref).substr(7), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ExposureI make_exposure_i(Box2I bbox) {
  ExposureI e(bbox);
  for (int y = 0; y < e.height(); ++y)
    for (int x = 0; x < e.width(); ++x) {
      e.image()(x, y) = 2'000'000'000 - 40'000 * y + 17 * x;  // beyond float's 24-bit mantissa
      e.variance()(x, y) = 1.5F + static_cast<float>(x);
    }
  e.mask().set_bits(Box2I({bbox.min_x() + 1, bbox.min_y() + 2}, {3, 1}), e.mask().get_bitmask("BAD"));
  const Exposure with = make_exposure(bbox);
  e.components().set_wcs(with.wcs());
  e.components().set_photo_calib(with.photo_calib());
  e.components().set_filter(with.filter());
  e.components().metadata().set("OBJECT", "COUNTS");
  return e;
}

TEST_P(ImageFormattersTest, ExposureIKeepsIntegerPixelsAndComponents) {
  auto b = open_with_types();
  const ExposureI e = make_exposure_i(Box2I({-5, 10}, {12, 9}));
  auto ref = b->put(e, "counts_exp", kDetector1, "run");
  const ExposureI r = b->get_as<ExposureI>(ref);
  ASSERT_EQ(r.bbox(), e.bbox());
  for (int y = 0; y < e.height(); ++y)
    for (int x = 0; x < e.width(); ++x) {
      ASSERT_EQ(r.image()(x, y), e.image()(x, y));
      ASSERT_EQ(r.mask()(x, y), e.mask()(x, y));
      ASSERT_EQ(r.variance()(x, y), e.variance()(x, y));
    }
  EXPECT_EQ(r.components().photo_calib(), e.components().photo_calib());
  EXPECT_EQ(r.components().filter(), e.components().filter());
  EXPECT_EQ(r.components().metadata().get_string("OBJECT"), "COUNTS");
  ASSERT_TRUE(r.components().wcs());
  EXPECT_NEAR(r.components().wcs()->pixel_to_sky(1.0, 12.0).ra_deg, e.components().wcs()->pixel_to_sky(1.0, 12.0).ra_deg,
              1e-10);
  // The image component is an ImageI; a bbox reads part of it.
  const Box2I part({-3, 12}, {4, 3});
  const auto image = b->get_as<Image<std::int32_t>>("counts_exp.image", kDetector1, {"run"}, {{"bbox", part}});
  ASSERT_EQ(image.bbox(), part);
  EXPECT_EQ(image.at({-3, 12}), e.image().at({-3, 12}));
  EXPECT_EQ(b->get_as<Box2I>("counts_exp.bbox", kDetector1, {"run"}), e.bbox());
  // The file is an Exposure file whose IMAGE HDU holds 32-bit integers.
  FitsFile f(b->get_uri(ref).substr(7), FitsMode::kRead);
  f.move_to_extname("IMAGE");
  EXPECT_EQ(f.image_info().bitpix, 32);
  // Byte-stable: the same object put again makes the same file.
  EXPECT_EQ(file_bytes(*b, ref), file_bytes(*b, b->put(e, "counts_exp", kDetector1, "run2")));
}

TEST_P(ImageFormattersTest, ExposureIsRubinsNameForTheFloatExposure) {
  auto b = open_with_types();
  const Exposure e = make_exposure(Box2I({0, 0}, {10, 6}));
  auto ref = b->put(e, "generic", kDetector1, "run");
  const Exposure r = b->get_as<Exposure>(ref);
  EXPECT_EQ(r.image().at({4, 5}), e.image().at({4, 5}));
  EXPECT_EQ(b->get_as<FilterLabel>("generic.filter", kDetector1, {"run"}), *e.filter());
  // An ExposureI is not an Exposure.
  EXPECT_THROW(b->put(make_exposure_i(Box2I({0, 0}, {2, 2})), "generic", kDetector1, "run2"), InvalidArgumentError);
}

BackgroundList make_background() {
  BackgroundModel sky;
  sky.bbox = Box2I({100, 200}, {64, 48});
  sky.values = Image<float>(4, 3);
  sky.variance = Image<float>(4, 3);
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 4; ++i) {
      sky.values(i, j) = 1000.0F + 10.0F * static_cast<float>(i) + 3.0F * static_cast<float>(j * j);
      sky.variance(i, j) = 2.0F + static_cast<float>(i + j);
    }
  sky.interpolation = BackgroundInterpolation::kNaturalSpline;
  BackgroundModel offset;
  offset.bbox = sky.bbox;
  offset.values = Image<float>(1, 1, -12.5F);
  offset.interpolation = BackgroundInterpolation::kConstant;
  return BackgroundList({sky, offset});
}

TEST_P(ImageFormattersTest, BackgroundListRoundTripsAndEvaluatesTheSame) {
  auto b = open_with_types();
  const BackgroundList list = make_background();
  auto ref = b->put(list, "sky", kDetector1, "run");
  const BackgroundList r = b->get_as<BackgroundList>(ref);
  EXPECT_EQ(r, list);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r.models()[1].variance.empty());
  const Image<float> want = list.evaluate();
  const Image<float> got = r.evaluate();
  ASSERT_EQ(got.bbox(), Box2I({100, 200}, {64, 48}));
  for (int y = 0; y < got.height(); ++y)
    for (int x = 0; x < got.width(); ++x) ASSERT_EQ(got(x, y), want(x, y));
  EXPECT_EQ(file_bytes(*b, ref), file_bytes(*b, b->put(list, "sky", kDetector1, "run2")));
}

TEST(BackgroundModel, InterpolatesThroughTheBinCentres) {
  BackgroundModel m;
  m.bbox = Box2I({10, 20}, {60, 50});  // bins of 10 × 10 pixels, centres at 14.5, 24.5, …
  m.values = Image<float>(6, 5);
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 6; ++i) m.values(i, j) = static_cast<float>(5 * i + 7 * j);  // a plane
  EXPECT_EQ(m.bin_box(1, 2), Box2I({20, 40}, {10, 10}));
  for (auto style : {BackgroundInterpolation::kLinear, BackgroundInterpolation::kNaturalSpline,
                     BackgroundInterpolation::kAkimaSpline}) {
    m.interpolation = style;
    const Image<float> full = m.evaluate();
    ASSERT_EQ(full.bbox(), m.bbox);
    // A plane is reproduced exactly by every style, also beyond the outermost centres.
    for (int y = 20; y < 70; ++y)
      for (int x = 10; x < 70; ++x)
        ASSERT_NEAR(full.at({x, y}), 5.0 * (x - 14.5) / 10.0 + 7.0 * (y - 24.5) / 10.0, 1e-3)
            << background_interpolation_name(style) << " at " << x << ", " << y;
  }
  m.interpolation = BackgroundInterpolation::kConstant;
  const Image<float> steps = m.evaluate();
  EXPECT_EQ(steps.at({10, 20}), 0.0F);
  EXPECT_EQ(steps.at({29, 20}), 5.0F);
  EXPECT_EQ(steps.at({69, 69}), 25.0F + 28.0F);
  // A spline passes through every bin value at its centre.
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 6; ++i) m.values(i, j) = static_cast<float>((i * 37 + j * 11) % 9);
  m.bbox = Box2I({0, 0}, {66, 55});  // bins of 11 × 11: centres on whole pixels (5, 16, …)
  for (auto style : {BackgroundInterpolation::kNaturalSpline, BackgroundInterpolation::kAkimaSpline}) {
    m.interpolation = style;
    const Image<float> spline = m.evaluate();
    for (int j = 0; j < 5; ++j)
      for (int i = 0; i < 6; ++i) EXPECT_NEAR(spline.at({5 + 11 * i, 5 + 11 * j}), m.values(i, j), 1e-4);
  }
  EXPECT_EQ(background_interpolation_name(BackgroundInterpolation::kAkimaSpline), "AKIMA_SPLINE");
  EXPECT_EQ(find_background_interpolation("NATURAL_SPLINE"), BackgroundInterpolation::kNaturalSpline);
  EXPECT_FALSE(find_background_interpolation("CUBIC"));
  m.values = Image<float>();
  EXPECT_THROW(m.evaluate(), InvalidArgumentError);
}

INSTANTIATE_TEST_SUITE_P(Backends, ImageFormattersTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         majordome::testing::backend_name);

}  // namespace
}  // namespace majordome::image
