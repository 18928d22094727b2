#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "majordome/core/error.hpp"
#include "majordome/image/describe.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/image/header.hpp"
#include "test_support.hpp"

namespace majordome::image {
namespace {

using testing::ScratchDir;

template <typename T>
Image<T> ramp(int w, int h) {
  Image<T> img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img(x, y) = static_cast<T>((x * 7 + y * 13) % 251);
  return img;
}

Image<float> noisy(int w, int h, unsigned seed, float sigma = 10.0F) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(1000.0F, sigma);
  Image<float> img(w, h);
  for (int y = 0; y < h; ++y)
    for (auto& p : img.row(y)) p = noise(rng);
  return img;
}

template <typename T>
void expect_equal(const Image<T>& a, const Image<T>& b) {
  ASSERT_EQ(a.bbox(), b.bbox());
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x) ASSERT_EQ(a(x, y), b(x, y)) << "at " << x << "," << y;
}

TEST(Header, TypedAccessAndOrder) {
  Header h;
  h.set("EXPTIME", 30.0, "seconds");
  h.set("NCOMBINE", 3);
  h.set("OBJECT", "M67");
  h.set("FLAT", true);
  h.add_comment("a comment");
  h.set("exptime", 45.5);  // case-insensitive: replaces, keeps the comment
  EXPECT_EQ(h.size(), 5u);
  EXPECT_DOUBLE_EQ(h.get_double("EXPTIME"), 45.5);
  EXPECT_EQ(h.find_card("EXPTIME")->comment, "seconds");
  EXPECT_EQ(h.get_int("NCOMBINE"), 3);
  EXPECT_DOUBLE_EQ(h.get_double("NCOMBINE"), 3.0);  // integers read as doubles
  EXPECT_EQ(h.get_string("OBJECT"), "M67");
  EXPECT_TRUE(h.get_bool("FLAT"));
  EXPECT_FALSE(h.find_double("MISSING").has_value());
  EXPECT_THROW(h.get_double("MISSING"), NotFoundError);
  EXPECT_THROW(h.get_double("OBJECT"), InvalidArgumentError);
  EXPECT_EQ(h.cards()[0].keyword, "EXPTIME");
  EXPECT_EQ(h.cards()[4].keyword, "COMMENT");
  EXPECT_EQ(h.erase("OBJECT"), 1u);
  EXPECT_FALSE(h.contains("OBJECT"));
  const std::string text = h.to_fits_cards();
  EXPECT_EQ(text.size() % 80, 0u);
  EXPECT_NE(text.find("EXPTIME =                 45.5 / seconds"), std::string::npos);
}

TEST(Header, RoundTripThroughAFileKeepsEverything) {
  ScratchDir dir;
  Header h;
  h.set("OBJECT", "it's a test", "quotes are doubled");
  h.set("ESO DET OUT1 PRSCX", 50, "HIERARCH keyword");
  h.set("LONGKEYWORDNAME", 1.25);
  const std::string long_value =
      "a long string value that certainly does not fit on one eighty-character card, "
      "so the CONTINUE convention has to be used, with 'quotes' too, and this goes on and on "
      "for more than two cards";
  h.set("HISTORY1", long_value, "long");
  h.set("PI", 3.141592653589793);
  h.set("TINY", 1e-300);
  h.set("BIGINT", std::int64_t{1} << 60);
  h.set("NOVALUE", HeaderValue{});
  h.add_history("processed by majordome");
  h.add_comment(std::string(100, 'x'));  // long commentary: split over cards
  {
    FitsFile f(dir / "h.fits", FitsMode::kCreate);
    f.write_empty_image(h);
  }
  FitsFile f(dir / "h.fits", FitsMode::kRead);
  const Header back = f.read_header();
  EXPECT_EQ(back.get_string("OBJECT"), "it's a test");
  EXPECT_EQ(back.find_card("OBJECT")->comment, "quotes are doubled");
  EXPECT_EQ(back.get_int("ESO DET OUT1 PRSCX"), 50);
  EXPECT_DOUBLE_EQ(back.get_double("LONGKEYWORDNAME"), 1.25);
  EXPECT_EQ(back.get_string("HISTORY1"), long_value);
  EXPECT_EQ(back.get_double("PI"), 3.141592653589793);  // exact: shortest round-trip digits
  EXPECT_EQ(back.get_double("TINY"), 1e-300);
  EXPECT_EQ(back.get_int("BIGINT"), std::int64_t{1} << 60);
  ASSERT_TRUE(back.contains("NOVALUE"));
  EXPECT_FALSE(back.find_int("NOVALUE").has_value());
  EXPECT_TRUE(back.contains("LONGSTRN"));
  int history = 0;
  std::string comment;
  for (const auto& c : back) {
    if (c.keyword == "HISTORY") ++history;
    if (c.keyword == "COMMENT" && c.comment.rfind("xx", 0) == 0) comment += c.comment;
  }
  EXPECT_EQ(history, 1);
  EXPECT_EQ(comment, std::string(100, 'x'));
  // Order is kept: OBJECT comes before PI.
  std::size_t i_object = 0, i_pi = 0;
  for (std::size_t i = 0; i < back.size(); ++i) {
    if (back.cards()[i].keyword == "OBJECT") i_object = i;
    if (back.cards()[i].keyword == "PI") i_pi = i;
  }
  EXPECT_LT(i_object, i_pi);
}

TEST(Header, NonFiniteValuesBecomeUndefinedAndBadKeywordsThrow) {
  Header h;
  h.set("NANVAL", std::nan(""));
  EXPECT_NE(h.to_fits_cards().find("NANVAL  ="), std::string::npos);
  Header bad;
  bad.set("TAB\tKEY", 1);
  EXPECT_THROW(bad.to_fits_cards(), InvalidArgumentError);
  Header nonascii;
  nonascii.set("TEXT", "caf\xc3\xa9");
  EXPECT_THROW(nonascii.to_fits_cards(), InvalidArgumentError);
}

TEST(FitsFile, ImageRoundTripForEveryPixelType) {
  ScratchDir dir;
  const auto path = dir / "types.fits";
  {
    FitsFile f(path, FitsMode::kCreate);
    f.write_image(ramp<float>(17, 9));
    f.write_image(ramp<double>(17, 9));
    f.write_image(ramp<std::int32_t>(17, 9));
    Image<std::uint16_t> u = ramp<std::uint16_t>(17, 9);
    u(0, 0) = 65535;
    f.write_image(u);
    Image<std::uint32_t> m = ramp<std::uint32_t>(17, 9);
    m(1, 0) = 0x80000001u;
    f.write_image(m);
  }
  FitsFile f(path, FitsMode::kRead);
  EXPECT_EQ(f.hdu_count(), 5);
  f.move_to(0);
  EXPECT_EQ(f.image_info().bitpix, -32);
  expect_equal(f.read_image<float>(), ramp<float>(17, 9));
  f.move_to(1);
  expect_equal(f.read_image<double>(), ramp<double>(17, 9));
  f.move_to(2);
  expect_equal(f.read_image<std::int32_t>(), ramp<std::int32_t>(17, 9));
  f.move_to(3);
  EXPECT_EQ(f.image_info().bitpix, 16);
  EXPECT_EQ(f.image_info().equivalent_bitpix, 20);  // USHORT_IMG
  auto u = f.read_image<std::uint16_t>();
  EXPECT_EQ(u(0, 0), 65535);
  EXPECT_EQ(u(3, 2), ramp<std::uint16_t>(17, 9)(3, 2));
  f.move_to(4);
  EXPECT_EQ(f.read_image<std::uint32_t>()(1, 0), 0x80000001u);
  // Conversions on read: uint16 → float is exact.
  f.move_to(3);
  EXPECT_EQ(f.read_image<float>()(0, 0), 65535.0F);
  EXPECT_THROW(f.move_to(5), NotFoundError);
}

TEST(FitsFile, OverflowOnReadIsAClearError) {
  ScratchDir dir;
  Image<std::int32_t> img(4, 4, -5);
  {
    FitsFile f(dir / "neg.fits", FitsMode::kCreate);
    f.write_image(img);
  }
  FitsFile f(dir / "neg.fits", FitsMode::kRead);
  EXPECT_THROW(f.read_image<std::uint16_t>(), InvalidArgumentError);
}

TEST(FitsFile, MultiExtensionByExtnameAndSubimageWrite) {
  ScratchDir dir;
  const auto path = dir / "mef.fits";
  Image<float> big = ramp<float>(40, 30);
  {
    FitsFile f(path, FitsMode::kCreate);
    Header primary;
    primary.set("ORIGIN", "majordome test");
    EXPECT_EQ(f.write_empty_image(primary), 0);
    Header h1;
    h1.set("EXTNAME", "SCI");
    EXPECT_EQ(f.write_image(big, h1), 1);
    Header h2;
    h2.set("EXTNAME", "CUT");
    h2.set("BITPIX", 8);  // structural: ignored, the writer decides
    EXPECT_EQ(f.write_image(big.subimage(Box2I({5, 6}, {7, 8})), h2), 2);
  }
  EXPECT_THROW(FitsFile(path, FitsMode::kCreate), ConflictError);
  FitsFile f(path, FitsMode::kRead);
  EXPECT_EQ(f.find_extname("CUT"), 2);
  EXPECT_FALSE(f.find_extname("NOPE").has_value());
  f.move_to_extname("CUT");
  EXPECT_EQ(f.current_hdu(), 2);
  EXPECT_EQ(f.image_info().bitpix, -32);
  Image<float> back = f.read_image<float>();
  EXPECT_EQ(back.xy0(), (Point2I{0, 0}));  // FITS does not record xy0
  back.set_xy0({5, 6});
  expect_equal(back, big.subimage(Box2I({5, 6}, {7, 8})));
}

TEST(FitsFile, ReadsASubRegion) {
  ScratchDir dir;
  const auto path = dir / "sub.fits";
  Image<float> img = ramp<float>(300, 200);
  {
    FitsFile f(path, FitsMode::kCreate);
    f.write_image(img);
  }
  FitsFile f(path, FitsMode::kRead);
  const Box2I region({250, 120}, {50, 80});
  Image<float> part = f.read_image<float>(region);
  EXPECT_EQ(part.bbox(), region);
  expect_equal(part, img.subimage(region));
  EXPECT_THROW(f.read_image<float>(Box2I({250, 120}, {51, 80})), InvalidArgumentError);
}

struct CompressionCase {
  const char* name;
  CompressionOptions options;
  bool lossless;
};

class FitsCompression : public ::testing::TestWithParam<CompressionCase> {};

TEST_P(FitsCompression, RoundTripAndSubsetReads) {
  ScratchDir dir;
  const auto& param = GetParam();
  const auto path = dir / "c.fits";
  const Image<float> img = noisy(256, 128, 42);
  const Image<std::int32_t> ints = ramp<std::int32_t>(256, 128);
  {
    FitsFile f(path, FitsMode::kCreate);
    Header h;
    h.set("EXTNAME", "FLOATS");
    h.set("GAIN", 1.5);
    EXPECT_EQ(f.write_image(img, h, param.options), 1);  // compressed HDUs are extensions
    CompressionOptions int_options = param.options;
    int_options.quantize_level = 0;
    f.write_image(ints, {}, int_options);
  }
  FitsFile f(path, FitsMode::kRead);
  EXPECT_EQ(f.hdu_count(), 3);
  f.move_to(1);
  const ImageHduInfo info = f.image_info();
  EXPECT_EQ(info.compression, param.options.algorithm);
  EXPECT_EQ(info.bitpix, -32);
  EXPECT_EQ(info.shape, (std::vector<long>{256, 128}));
  const Header h = f.read_header();
  EXPECT_EQ(h.get_string("EXTNAME"), "FLOATS");
  EXPECT_DOUBLE_EQ(h.get_double("GAIN"), 1.5);
  EXPECT_EQ(h.get_int("BITPIX"), -32);  // the uncompressed image's header
  const Image<float> back = f.read_image<float>();
  double max_err = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      max_err = std::max(max_err, static_cast<double>(std::fabs(back(x, y) - img(x, y))));
  if (param.lossless) {
    EXPECT_EQ(max_err, 0.0);
  } else {
    // Quantized at sigma / q: the error stays well below the noise (sigma = 10).
    EXPECT_GT(max_err, 0.0);
    EXPECT_LT(max_err, 10.0 / param.options.quantize_level);
  }
  const Box2I region({100, 50}, {60, 40});
  const Image<float> part = f.read_image<float>(region);
  for (int y = 0; y < region.height(); ++y)
    for (int x = 0; x < region.width(); ++x)
      ASSERT_EQ(part(x, y), back(x + 100, y + 50));
  f.move_to(2);
  expect_equal(f.read_image<std::int32_t>(), ints);  // integers are always lossless
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, FitsCompression,
    ::testing::Values(CompressionCase{"gzip2", CompressionOptions::lossless_float(), true},
                      CompressionCase{"gzip1", CompressionOptions{Compression::kGzip}, true},
                      CompressionCase{"rice_q16", CompressionOptions::quantized_float(16), false},
                      CompressionCase{"rice_q4_tiles",
                                      [] {
                                        auto o = CompressionOptions::quantized_float(4);
                                        o.tile_width = 64;
                                        o.tile_height = 32;
                                        o.dither = Dither::kSubtractive2;
                                        return o;
                                      }(),
                                      false}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(FitsFile, QuantizedHduReadsCorrectlyAfterALosslessOne) {
  // cfitsio 4.2 keeps the last HDU's quantize level; FitsFile works around it.
  ScratchDir dir;
  const Image<float> img = noisy(64, 32, 9);
  {
    FitsFile f(dir / "mixed.fits", FitsMode::kCreate);
    f.write_image(img, {}, CompressionOptions::quantized_float(16));
    f.write_image(img, {}, CompressionOptions::lossless_float());
  }
  FitsFile f(dir / "mixed.fits", FitsMode::kRead);
  f.move_to(2);
  expect_equal(f.read_image<float>(), img);
  f.move_to(1);
  const Image<float> q = f.read_image<float>();
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) ASSERT_NEAR(q(x, y), img(x, y), 10.0 / 16);
}

TEST(FitsFile, CompressedIntegerRawsAreSmallAndExact) {
  ScratchDir dir;
  Image<std::uint16_t> raw(512, 512);
  std::mt19937 rng(3);
  std::poisson_distribution<int> counts(1200);
  for (int y = 0; y < 512; ++y)
    for (auto& p : raw.row(y)) p = static_cast<std::uint16_t>(counts(rng));
  {
    FitsFile f(dir / "plain.fits", FitsMode::kCreate);
    f.write_image(raw);
    FitsFile g(dir / "rice.fits", FitsMode::kCreate);
    g.write_image(raw, {}, CompressionOptions::lossless_integer());
  }
  EXPECT_LT(std::filesystem::file_size(dir / "rice.fits"),
            std::filesystem::file_size(dir / "plain.fits") * 6 / 10);
  FitsFile g(dir / "rice.fits", FitsMode::kRead);
  g.move_to(1);
  expect_equal(g.read_image<std::uint16_t>(), raw);
}

TEST(FitsFile, RejectsImpossibleCompressionSettings) {
  ScratchDir dir;
  FitsFile f(dir / "x.fits", FitsMode::kCreate);
  EXPECT_THROW(f.write_image(Image<float>(8, 8), {}, CompressionOptions{Compression::kRice}),
               InvalidArgumentError);
  CompressionOptions bad_seed = CompressionOptions::quantized_float(4);
  bad_seed.dither_seed = 0;
  EXPECT_THROW(f.write_image(Image<float>(8, 8), {}, bad_seed), InvalidArgumentError);
}

TEST(FitsFile, ReadOnlyAndClosedFilesRefuseWrites) {
  ScratchDir dir;
  {
    FitsFile f(dir / "a.fits", FitsMode::kCreate);
    f.write_image(Image<float>(2, 2));
    f.close();
    EXPECT_THROW(f.write_image(Image<float>(2, 2)), InvalidArgumentError);
  }
  {
    FitsFile r(dir / "a.fits", FitsMode::kRead);
    EXPECT_THROW(r.write_image(Image<float>(2, 2)), InvalidArgumentError);
  }
  FitsFile rw(dir / "a.fits", FitsMode::kReadWrite);
  Header extra;
  extra.set("ADDED", 7);
  rw.write_keys(extra);
  rw.write_image(Image<float>(3, 3, 1.0F));
  rw.close();
  FitsFile again(dir / "a.fits", FitsMode::kRead);
  EXPECT_EQ(again.hdu_count(), 2);
  EXPECT_EQ(again.read_header().get_int("ADDED"), 7);
}

// ---- corrupt files ------------------------------------------------------------------

class CorruptFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = dir_ / "good.fits";
    FitsFile f(good_, FitsMode::kCreate);
    Header h;
    h.set("OBJECT", "test");
    f.write_image(ramp<float>(100, 100), h);
  }
  // Opening and reading the whole file must fail with CorruptFileError naming it.
  void expect_corrupt(const std::filesystem::path& p, const std::string& words) {
    try {
      FitsFile f(p, FitsMode::kRead);
      const int n = f.hdu_count();
      for (int i = 0; i < n; ++i) {
        f.move_to(i);
        f.read_header();
        if (f.hdu_type() == HduType::kImage && !f.image_info().shape.empty()) {
          f.read_image<float>();
        }
      }
      ADD_FAILURE() << p << " was read without error";
    } catch (const CorruptFileError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(p.string()), std::string::npos) << what;
      EXPECT_NE(what.find(words), std::string::npos) << what;
    }
  }
  testing::ScratchDir dir_;
  std::filesystem::path good_;
};

TEST_F(CorruptFiles, Truncated) {
  const std::string bytes = testing::read_bytes(good_);
  testing::write_bytes(dir_ / "trunc_data.fits", bytes.substr(0, 2880 + 5000));
  expect_corrupt(dir_ / "trunc_data.fits", "reading the pixels");
  testing::write_bytes(dir_ / "trunc_header.fits", bytes.substr(0, 1000));
  expect_corrupt(dir_ / "trunc_header.fits", "truncated");
}

TEST_F(CorruptFiles, TruncatedExtensionHeader) {
  {
    FitsFile f(dir_ / "mef.fits", FitsMode::kCreate);
    f.write_empty_image();
    f.write_image(ramp<float>(10, 10));
  }
  const std::string bytes = testing::read_bytes(dir_ / "mef.fits");
  testing::write_bytes(dir_ / "mef_cut.fits", bytes.substr(0, 2880 + 1200));
  expect_corrupt(dir_ / "mef_cut.fits", "HDU");
}

TEST_F(CorruptFiles, MissingEnd) {
  std::string bytes = testing::read_bytes(good_);
  const auto end = bytes.find("END     ");
  ASSERT_NE(end, std::string::npos);
  bytes.replace(end, 3, "XND");
  testing::write_bytes(dir_ / "noend.fits", bytes);
  expect_corrupt(dir_ / "noend.fits", "END");
}

TEST_F(CorruptFiles, WrongBitpix) {
  std::string bytes = testing::read_bytes(good_);
  const auto pos = bytes.find("BITPIX  =                  -32");
  ASSERT_NE(pos, std::string::npos);
  bytes.replace(pos, 30, "BITPIX  =                   17");
  testing::write_bytes(dir_ / "bitpix.fits", bytes);
  expect_corrupt(dir_ / "bitpix.fits", "BITPIX");
}

TEST_F(CorruptFiles, NotFitsEmptyAndMissing) {
  testing::write_bytes(dir_ / "text.fits", std::string(5000, 'a'));
  expect_corrupt(dir_ / "text.fits", "not a FITS file");
  testing::write_bytes(dir_ / "empty.fits", "");
  expect_corrupt(dir_ / "empty.fits", "empty");
  EXPECT_THROW(FitsFile(dir_ / "missing.fits", FitsMode::kRead), NotFoundError);
  EXPECT_THROW(FitsFile(dir_.path(), FitsMode::kRead), IoError);
}

TEST_F(CorruptFiles, GarbageInsteadOfAHeaderCard) {
  std::string bytes = testing::read_bytes(good_);
  const auto pos = bytes.find("NAXIS1  =");
  bytes.replace(pos, 20, "NAXIS1  = 'notanum'");
  testing::write_bytes(dir_ / "naxis.fits", bytes);
  expect_corrupt(dir_ / "naxis.fits", "NAXIS");
}

// ---- real files ----------------------------------------------------------------------

TEST(RealFiles, EveryFitsFileInSharedImagesReads) {
  MAJORDOME_REQUIRE_SHARED_DATA();
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::shared_images())) {
    const auto name = entry.path().filename().string();
    if (name.find(".fit") == std::string::npos && name.find(".psf") == std::string::npos) continue;
    SCOPED_TRACE(name);
    ++files;
    FitsFile f(entry.path(), FitsMode::kRead);
    const int n = f.hdu_count();
    EXPECT_GE(n, 1);
    for (int i = 0; i < n; ++i) {
      f.move_to(i);
      const Header h = f.read_header();
      EXPECT_FALSE(h.empty());
      if (f.hdu_type() == HduType::kImage) {
        const auto info = f.image_info();
        if (info.shape.size() >= 2 && info.shape[0] > 0) {
          const Image<float> img = f.read_image<float>();
          EXPECT_EQ(img.width(), info.shape[0]);
          EXPECT_EQ(img.height(), info.shape[1]);
        }
      } else {
        const Catalog cat = f.read_catalog();
        EXPECT_EQ(static_cast<std::int64_t>(cat.size()), h.get_int("NAXIS2"));
      }
    }
    EXPECT_FALSE(describe_fits(entry.path()).empty());
  }
  EXPECT_GE(files, 12);
}

TEST(RealFiles, EsoFileWithTrailingGarbageBlockReads) {
  MAJORDOME_REQUIRE_SHARED_DATA();
  const auto path = testing::shared_images() / "eso_ntt_susi_bias_nttexample.fits";
  FitsFile f(path, FitsMode::kRead);
  EXPECT_EQ(f.hdu_count(), 1);
  const Header h = f.read_header();
  EXPECT_EQ(h.get_int("ESO DET OUT1 PRSCX"), 50);
  EXPECT_EQ(h.get_string("ESO DET ID"), "ccdsusi#42");
  const auto img = f.read_image<std::uint16_t>();
  EXPECT_EQ(img.width(), 1124);
  EXPECT_EQ(img.height(), 1024);
  double sum = 0;
  for (int y = 0; y < img.height(); ++y)
    for (auto v : img.row(y)) sum += v;
  const double mean = sum / static_cast<double>(img.bbox().area());
  EXPECT_GT(mean, 100.0);  // a bias level, not zeros
  EXPECT_LT(mean, 2000.0);
  const std::string d = describe_fits(path);
  EXPECT_NE(d.find("1124 x 1024"), std::string::npos) << d;
}

TEST(RealFiles, RawRegionsMatchTheFullRead) {
  MAJORDOME_REQUIRE_SHARED_DATA();
  FitsFile f(testing::shared_images() / "saao1m_ste3_raw_a8280271.fits", FitsMode::kRead);
  const Header h = f.read_header();
  const Box2I trim = Box2I::from_fits_section(h.get_string("TRIMSEC"));
  const Box2I bias = Box2I::from_fits_section(h.get_string("BIASSEC"));
  EXPECT_EQ(trim, Box2I::from_fits_section("[17:528,1:520]"));
  const auto full = f.read_image<std::uint16_t>();
  expect_equal(f.read_image<std::uint16_t>(bias), full.subimage(bias).clone());
  EXPECT_EQ(f.image_info().equivalent_bitpix, 20);
}

TEST(RealFiles, GzipAndTileCompressedRawsRead) {
  MAJORDOME_REQUIRE_SHARED_DATA();
  const auto dir = testing::shared_data() / "headers" / "obs_lsst" / "raw_header_only_fits";
  FitsFile f(dir / "CC_S_20240404_000780_R22_S01.fits", FitsMode::kRead);
  EXPECT_EQ(f.hdu_count(), 19);
  f.move_to_extname("Segment10");
  EXPECT_EQ(f.image_info().compression, Compression::kRice);
  EXPECT_EQ(f.image_info().shape, (std::vector<long>{576, 2048}));
  const auto seg = f.read_image<std::int32_t>(Box2I({0, 0}, {576, 100}));
  EXPECT_EQ(seg(10, 10), 0);  // upstream zeroed the pixels
  const Header h = f.read_header();
  EXPECT_TRUE(h.contains("DATASEC"));
  FitsFile latiss(dir / "3018092000065-det000.fits", FitsMode::kRead);  // gzip named .fits
  EXPECT_EQ(latiss.hdu_count(), 19);
}

TEST(Describe, SummarizesStructureAndWcs) {
  MAJORDOME_REQUIRE_SHARED_DATA();
  const std::string d = describe_fits(testing::shared_images() / "fitsregistry_tpv.fits");
  EXPECT_NE(d.find("HDU 0"), std::string::npos) << d;
  EXPECT_NE(d.find("512 x 512"), std::string::npos) << d;
  EXPECT_NE(d.find("float32"), std::string::npos) << d;
  EXPECT_NE(d.find("WCS: TPV"), std::string::npos) << d;
  const std::string t = describe_fits(testing::shared_images() / "astrometrynet_test-source-list.fit");
  EXPECT_NE(t.find("1862 rows x 4 columns"), std::string::npos) << t;
  EXPECT_THROW(describe_fits(testing::shared_images() / "nope.fits"), NotFoundError);
}

}  // namespace
}  // namespace majordome::image
