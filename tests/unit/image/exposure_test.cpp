#include <gtest/gtest.h>

#include <random>

#include "majordome/core/error.hpp"
#include "majordome/image/exposure_fits.hpp"
#include "majordome/image/fits_file.hpp"
#include "test_support.hpp"

namespace majordome::image {
namespace {

Exposure make_exposure(Box2I bbox) {
  Exposure e(bbox);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(100.0F, 5.0F);
  for (int y = 0; y < e.height(); ++y) {
    for (auto& p : e.image().row(y)) p = noise(rng);
    for (auto& v : e.variance().row(y)) v = 25.0F;
  }
  e.mask().planes().add("STREAK");
  e.mask().set_bits(Box2I({bbox.min_x() + 3, bbox.min_y() + 4}, {5, 2}), e.mask().get_bitmask("SAT"));
  e.mask().set_bits(Box2I({bbox.min_x(), bbox.min_y()}, {2, 2}), e.mask().get_bitmask("STREAK"));
  // The WCS maps parent pixels: its reference pixel lies inside the parent grid.
  e.set_wcs(std::make_shared<const Wcs>(
      make_tan({1000.0, 2000.0}, {150.0, 2.0}, {-5.0e-5, 0.0, 0.0, 5.0e-5})));
  e.set_psf(std::make_shared<GaussianPsf>(21, 21, 2.2));
  e.set_photo_calib(PhotoCalib{0.0575, 0.0002});
  e.set_filter(FilterLabel{"i", "HSC-I2"});
  VisitInfo v;
  v.id = 903334;
  v.exposure_time_s = 30.0;
  v.date = TaiTime::from_tai_iso("2013-06-17T13:29:20.123456789");
  v.boresight_ra_deg = 320.4;
  v.boresight_dec_deg = -0.3;
  v.boresight_rotation_deg = 90.0;
  v.boresight_airmass = 1.1;
  v.instrument = "HSC";
  v.observation_type = "science";
  e.set_visit_info(v);
  e.set_detector(DetectorInfo{26, "1_07", "", "HSC"});
  e.metadata().set("OBJECT", "STRIPE82L");
  e.metadata().set("ESO DET OUT1 PRSCX", 50);
  e.metadata().set("MJDFMTV", 99);  // reserved: the writer's own value wins
  e.metadata().add_history("made by exposure_test");
  return e;
}

TEST(ExposureFits, RoundTripKeepsPixelsComponentsAndMetadata) {
  testing::ScratchDir dir;
  const Exposure e = make_exposure(Box2I({900, 1900}, {64, 48}));
  write_exposure(dir / "calexp.fits", e);
  const Exposure r = read_exposure(dir / "calexp.fits");
  ASSERT_EQ(r.bbox(), e.bbox());
  for (int y = 0; y < e.height(); ++y)
    for (int x = 0; x < e.width(); ++x) {
      ASSERT_EQ(r.image()(x, y), e.image()(x, y));
      ASSERT_EQ(r.mask()(x, y), e.mask()(x, y));
      ASSERT_EQ(r.variance()(x, y), e.variance()(x, y));
    }
  EXPECT_EQ(r.mask().planes(), e.mask().planes());
  ASSERT_TRUE(r.wcs());
  for (const auto& p : {Point2D{900, 1900}, Point2D{963, 1947}, Point2D{1000, 2000}}) {
    const SkyCoord a = e.wcs()->pixel_to_sky(p.x, p.y);
    const SkyCoord b = r.wcs()->pixel_to_sky(p.x, p.y);
    EXPECT_NEAR(a.ra_deg, b.ra_deg, 1e-11);
    EXPECT_NEAR(a.dec_deg, b.dec_deg, 1e-11);
  }
  ASSERT_TRUE(r.psf());
  EXPECT_DOUBLE_EQ(r.psf()->determinant_radius(0, 0), 2.2);
  EXPECT_EQ(r.photo_calib(), e.photo_calib());
  EXPECT_EQ(r.filter(), e.filter());
  EXPECT_EQ(r.visit_info(), e.visit_info());
  EXPECT_EQ(r.detector(), e.detector());
  EXPECT_EQ(r.metadata().get_string("OBJECT"), "STRIPE82L");
  EXPECT_EQ(r.metadata().get_int("ESO DET OUT1 PRSCX"), 50);
  EXPECT_FALSE(r.metadata().contains("MJDFMTV"));
  EXPECT_FALSE(r.metadata().contains("VI_EXPT"));
  EXPECT_FALSE(r.metadata().contains("BITPIX"));
  // Reading and writing again does not grow the metadata.
  write_exposure(dir / "again.fits", r);
  EXPECT_EQ(read_exposure(dir / "again.fits").metadata(), r.metadata());
}

TEST(ExposureFits, LayoutIsPlainFits) {
  testing::ScratchDir dir;
  const Exposure e = make_exposure(Box2I({10, 20}, {16, 8}));
  write_exposure(dir / "e.fits", e);
  FitsFile f(dir / "e.fits", FitsMode::kRead);
  EXPECT_EQ(f.hdu_count(), 5);
  const Header primary = f.read_header();
  EXPECT_EQ(primary.get_int("MJDFMTV"), kExposureFormatVersion);
  EXPECT_EQ(primary.get_string("MJDKIND"), "EXPOSURE");
  EXPECT_DOUBLE_EQ(primary.get_double("VI_EXPT"), 30.0);
  EXPECT_EQ(primary.get_string("FLT_PHYS"), "HSC-I2");
  f.move_to(1);
  Header h = f.read_header();
  EXPECT_EQ(h.get_string("EXTNAME"), "IMAGE");
  EXPECT_EQ(h.get_int("BITPIX"), -32);
  EXPECT_EQ(h.get_int("LTV1"), -10);
  EXPECT_EQ(h.get_int("CRVAL2A"), 20);
  // The file's WCS is for the file's own pixel grid (FITS CRPIX = parent CRPIX - xy0 + 1).
  EXPECT_DOUBLE_EQ(h.get_double("CRPIX1"), 1000.0 - 10 + 1);
  f.move_to(2);
  h = f.read_header();
  EXPECT_EQ(h.get_string("EXTNAME"), "MASK");
  EXPECT_EQ(h.get_int("MP_SAT"), 1);
  EXPECT_EQ(h.get_int("MP_STREAK"), 11);
  EXPECT_EQ(f.image_info().equivalent_bitpix, 40);  // uint32
  f.move_to_extname("VARIANCE");
  f.move_to_extname("PSF");
  EXPECT_EQ(f.read_catalog().metadata().get_string("PSFTYPE"), "GaussianPsf");
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(ExposureFits, CompressedAndSubRegionReads) {
  testing::ScratchDir dir;
  const Exposure e = make_exposure(Box2I({0, 0}, {200, 100}));
  write_exposure(dir / "lossless.fits", e, ExposureWriteOptions::lossless());
  ExposureWriteOptions lossy = ExposureWriteOptions::lossless();
  lossy.image = CompressionOptions::quantized_float(16);
  write_exposure(dir / "lossy.fits", e, lossy);
  const Exposure l = read_exposure(dir / "lossless.fits");
  const Exposure q = read_exposure(dir / "lossy.fits");
  double max_err = 0;
  for (int y = 0; y < e.height(); ++y)
    for (int x = 0; x < e.width(); ++x) {
      ASSERT_EQ(l.image()(x, y), e.image()(x, y));
      ASSERT_EQ(q.mask()(x, y), e.mask()(x, y));
      max_err = std::max(max_err, static_cast<double>(std::fabs(q.image()(x, y) - e.image()(x, y))));
    }
  EXPECT_GT(max_err, 0.0);
  EXPECT_LT(max_err, 5.0 / 16.0);
  ExposureReadOptions options;
  options.bbox = Box2I({150, 60}, {30, 20});
  const Exposure part = read_exposure(dir / "lossless.fits", options);
  EXPECT_EQ(part.bbox(), *options.bbox);
  EXPECT_EQ(part.image()(0, 0), e.image().at({150, 60}));
  EXPECT_EQ(part.mask().planes(), e.mask().planes());
  EXPECT_EQ(part.wcs()->pixel_to_sky(150, 60), read_exposure(dir / "lossless.fits").wcs()->pixel_to_sky(150, 60));
  options.bbox = Box2I({190, 60}, {30, 20});
  EXPECT_THROW(read_exposure(dir / "lossless.fits", options), InvalidArgumentError);
}

TEST(ExposureFits, SubimageKeepsItsParentCoordinates) {
  testing::ScratchDir dir;
  const Exposure e = make_exposure(Box2I({0, 0}, {100, 100}));
  const Exposure sub = e.subimage(Box2I({40, 30}, {20, 10}));
  write_exposure(dir / "sub.fits", sub);
  const Exposure r = read_exposure(dir / "sub.fits");
  EXPECT_EQ(r.bbox(), sub.bbox());
  EXPECT_EQ(r.image().at({45, 35}), e.image().at({45, 35}));
  const SkyCoord a = e.wcs()->pixel_to_sky(45, 35);
  const SkyCoord b = r.wcs()->pixel_to_sky(45, 35);
  EXPECT_NEAR(a.ra_deg, b.ra_deg, 1e-11);
  EXPECT_NEAR(a.dec_deg, b.dec_deg, 1e-11);
}

TEST(ExposureFits, MinimalExposureAndUnsupportedPsf) {
  testing::ScratchDir dir;
  Exposure bare(5, 4, MaskPlanes());
  write_exposure(dir / "bare.fits", bare);
  const Exposure r = read_exposure(dir / "bare.fits");
  EXPECT_FALSE(r.wcs());
  EXPECT_FALSE(r.psf());
  EXPECT_FALSE(r.filter().has_value());
  EXPECT_FALSE(r.visit_info().has_value());
  EXPECT_EQ(r.mask().planes().size(), 0);
  // An empty component survives as present-but-empty.
  bare.set_visit_info(VisitInfo{});
  write_exposure(dir / "bare.fits", bare);  // overwrites atomically
  EXPECT_TRUE(read_exposure(dir / "bare.fits").visit_info().has_value());

  class Opaque : public Psf {
   public:
    Image<double> kernel_image(double, double) const override { return Image<double>(1, 1, 1.0); }
    double determinant_radius(double, double) const override { return 1.0; }
  };
  bare.set_psf(std::make_shared<Opaque>());
  EXPECT_THROW(write_exposure(dir / "opaque.fits", bare), UnsupportedError);
  EXPECT_FALSE(std::filesystem::exists(dir / "opaque.fits"));
}

TEST(ExposureFits, CustomPsfReaders) {
  testing::ScratchDir dir;
  Exposure e = make_exposure(Box2I({0, 0}, {8, 8}));
  write_exposure(dir / "p.fits", e);
  ExposureReadOptions options;
  int calls = 0;
  options.psf_readers["GaussianPsf"] = [&calls](const Catalog& table) {
    ++calls;
    return std::make_shared<GaussianPsf>(3, 3, table.column<double>("sigma")[0] * 2);
  };
  const Exposure r = read_exposure(dir / "p.fits", options);
  EXPECT_EQ(calls, 1);
  EXPECT_DOUBLE_EQ(r.psf()->determinant_radius(0, 0), 4.4);
}

TEST(ExposureFits, RejectsNewerVersionsAndNonExposures) {
  testing::ScratchDir dir;
  write_exposure(dir / "e.fits", make_exposure(Box2I({0, 0}, {4, 4})));
  {
    FitsFile f(dir / "e.fits", FitsMode::kReadWrite);
    Header h;
    h.set("MJDFMTV", kExposureFormatVersion + 1);
    f.write_keys(h);
  }
  try {
    read_exposure(dir / "e.fits");
    ADD_FAILURE() << "a newer format was accepted";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  {
    FitsFile f(dir / "single.fits", FitsMode::kCreate);
    f.write_image(Image<float>(4, 4));
  }
  EXPECT_THROW(read_exposure(dir / "single.fits"), CorruptFileError);
  EXPECT_THROW(read_exposure(dir / "missing.fits"), NotFoundError);
}

TEST(ExposureFits, ReadsAfwExposureFiles) {
  MAJORDOME_REQUIRE_SHARED_DATA();
  const Exposure e = read_exposure(testing::shared_images() / "afw_HSC-0908120-056-small.fits");
  EXPECT_EQ(e.bbox(), Box2I({100, 100}, {200, 200}));  // xy0 from CRVAL1A/LTV1
  EXPECT_EQ(e.mask().planes().get_bit("SAT"), 1);
  EXPECT_EQ(e.mask().planes().get_bit("INTRP"), 2);
  ASSERT_TRUE(e.wcs());
  EXPECT_NEAR(e.wcs()->pixel_scale_arcsec(200, 200), 0.168, 0.005);
  // The parent WCS at parent pixel (100, 100) is the file WCS at its first pixel.
  FitsFile f(testing::shared_images() / "afw_HSC-0908120-056-small.fits", FitsMode::kRead);
  f.move_to(1);
  const Wcs file_wcs = Wcs::from_header(f.read_header());
  const SkyCoord a = e.wcs()->pixel_to_sky(100, 100);
  const SkyCoord b = file_wcs.pixel_to_sky(0, 0);
  EXPECT_NEAR(a.ra_deg, b.ra_deg, 1e-12);
  EXPECT_EQ(e.metadata().get_string("FILTER"), "_unknown_");
  std::int64_t nonzero = 0;
  for (int y = 0; y < e.height(); ++y)
    for (float v : e.variance().row(y)) nonzero += v > 0 ? 1 : 0;
  EXPECT_GT(nonzero, 30000);
}

}  // namespace
}  // namespace majordome::image
