#include <gtest/gtest.h>

#include <numeric>

#include "majordome/core/error.hpp"
#include "majordome/image/box.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/image.hpp"
#include "majordome/image/mask.hpp"
#include "majordome/image/masked_image.hpp"

namespace majordome::image {
namespace {

TEST(Box2I, MinMaxAndBeginEndConventions) {
  const Box2I b({10, 20}, {5, 3});
  EXPECT_EQ(b.min_x(), 10);
  EXPECT_EQ(b.max_x(), 14);
  EXPECT_EQ(b.end_x(), 15);
  EXPECT_EQ(b.max_y(), 22);
  EXPECT_EQ(b.area(), 15);
  EXPECT_TRUE(b.contains(Point2I{14, 22}));
  EXPECT_FALSE(b.contains(Point2I{15, 22}));
  EXPECT_EQ(Box2I::from_min_max({10, 20}, {14, 22}), b);
  EXPECT_EQ(Box2I::from_begin_end(10, 20, 15, 23), b);
  EXPECT_TRUE(Box2I::from_min_max({5, 5}, {4, 9}).empty());
  EXPECT_THROW(Box2I({0, 0}, {-1, 2}), InvalidArgumentError);
}

TEST(Box2I, SetOperations) {
  const Box2I a({0, 0}, {10, 10});
  const Box2I b({5, 8}, {10, 10});
  EXPECT_EQ(a.intersection(b), Box2I::from_begin_end(5, 8, 10, 10));
  EXPECT_EQ(a.united(b), Box2I::from_begin_end(0, 0, 15, 18));
  EXPECT_TRUE(a.intersection(Box2I({20, 20}, {2, 2})).empty());
  EXPECT_EQ(a.grown(2), Box2I::from_begin_end(-2, -2, 12, 12));
  EXPECT_TRUE(a.grown(-5).empty());
  EXPECT_EQ(a.shifted(3, -1).min(), (Point2I{3, -1}));
  EXPECT_TRUE(a.contains(Box2I()));
}

TEST(Box2I, FitsSectionsAreOneBasedInclusive) {
  const Box2I trim = Box2I::from_fits_section("[17:528,1:520]");
  EXPECT_EQ(trim.min_x(), 16);
  EXPECT_EQ(trim.width(), 512);
  EXPECT_EQ(trim.height(), 520);
  EXPECT_EQ(trim.fits_section(), "[17:528,1:520]");
  EXPECT_EQ(Box2I::from_fits_section("[528:17, 1:520]"), trim);  // reversed ranges
  EXPECT_THROW(Box2I::from_fits_section("17:528,1:520"), InvalidArgumentError);
  EXPECT_THROW(Box2I::from_fits_section("[a:b,1:2]"), InvalidArgumentError);
}

TEST(Image, StorageIsRowMajorWithXy0) {
  Image<float> img(Box2I({100, 200}, {4, 3}), 1.5F);
  EXPECT_EQ(img.width(), 4);
  EXPECT_EQ(img.stride(), 4);
  EXPECT_TRUE(img.is_contiguous());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(img.data()) % 64, 0u);
  img(2, 1) = 7.0F;
  EXPECT_EQ(img.data()[1 * 4 + 2], 7.0F);
  EXPECT_EQ(img.at({102, 201}), 7.0F);
  EXPECT_THROW(img.at({0, 0}), InvalidArgumentError);
  EXPECT_EQ(img.row(0).size(), 4u);
  EXPECT_EQ(img.row(0)[0], 1.5F);
}

TEST(Image, SubimagesShareThePixels) {
  Image<std::int32_t> img(10, 8);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 10; ++x) img(x, y) = y * 100 + x;
  Image<std::int32_t> sub = img.subimage(Box2I({2, 3}, {4, 2}));
  EXPECT_EQ(sub.xy0(), (Point2I{2, 3}));
  EXPECT_EQ(sub(0, 0), 302);
  EXPECT_EQ(sub.stride(), 10);
  EXPECT_FALSE(sub.is_contiguous());
  EXPECT_TRUE(sub.shares_pixels_with(img));
  sub.fill(-1);
  EXPECT_EQ(img(2, 3), -1);
  EXPECT_EQ(img(6, 3), 306);  // outside the sub-image: untouched
  EXPECT_EQ(img(5, 4), -1);
  // A sub-image of a sub-image, in parent coordinates.
  Image<std::int32_t> subsub = sub.subimage(Box2I({3, 4}, {1, 1}));
  EXPECT_EQ(subsub(0, 0), -1);
  EXPECT_THROW(sub.subimage(Box2I({0, 0}, {3, 3})), InvalidArgumentError);
  // clone() is independent and contiguous.
  Image<std::int32_t> copy = sub.clone();
  EXPECT_TRUE(copy.is_contiguous());
  EXPECT_FALSE(copy.shares_pixels_with(img));
  copy.fill(5);
  EXPECT_EQ(img(2, 3), -1);
  EXPECT_EQ(copy.bbox(), sub.bbox());
}

TEST(Image, ArithmeticAndConversion) {
  Image<double> a(3, 2, 2.0);
  Image<double> b(3, 2, 0.5);
  a += b;
  a *= 2.0;
  EXPECT_DOUBLE_EQ(a(2, 1), 5.0);
  a -= b;
  a /= b;
  EXPECT_DOUBLE_EQ(a(0, 0), 9.0);
  Image<double> wrong(2, 2);
  EXPECT_THROW(a += wrong, InvalidArgumentError);
  Image<std::uint16_t> u = a.convert<std::uint16_t>();
  EXPECT_EQ(u(1, 1), 9);
  EXPECT_EQ(u.bbox(), a.bbox());
  Image<float> empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.clone().width(), 0);
}

TEST(MaskPlanes, StandardPlanesAndLookups) {
  MaskPlanes p = MaskPlanes::standard();
  EXPECT_EQ(p.size(), 11);
  EXPECT_EQ(p.get_bit("BAD"), 0);
  EXPECT_EQ(p.get_bit("NO_DATA"), 8);
  EXPECT_EQ(p.get_bit("UNMASKEDNAN"), 10);
  EXPECT_EQ(p.get_bitmask({"SAT", "CR"}), (1u << 1) | (1u << 3));
  EXPECT_EQ(p.add("STREAK"), 11);
  EXPECT_EQ(p.add("STREAK"), 11);  // idempotent
  EXPECT_FALSE(p.find_bit("streak").has_value());  // case-sensitive
  EXPECT_THROW(p.get_bit("NOPE"), NotFoundError);
  EXPECT_THROW(p.add("bad name"), InvalidArgumentError);
  EXPECT_THROW(p.add("OTHER", 0), ConflictError);
  EXPECT_TRUE(p.remove("STREAK"));
  EXPECT_EQ(p.add("VIGNETTED"), 11);
  EXPECT_EQ(p.names_in((1u << 0) | (1u << 5) | (1u << 31)),
            (std::vector<std::string>{"BAD", "DETECTED"}));
  for (int i = p.size(); i < 32; ++i) p.add("P" + std::to_string(i));
  EXPECT_THROW(p.add("ONE_TOO_MANY"), InvalidArgumentError);
}

TEST(Mask, SubMasksSharePixelsAndPlanes) {
  Mask mask(8, 8);
  Mask sub = mask.subimage(Box2I({2, 2}, {3, 3}));
  const int bit = sub.planes().add("GHOST");
  EXPECT_TRUE(mask.planes().contains("GHOST"));  // planes are shared, no global registry
  sub.set_bits(Box2I({0, 0}, {4, 4}), MaskPixel{1} << bit);  // clipped to the sub-mask
  EXPECT_EQ(mask.count(MaskPixel{1} << bit), 4);
  EXPECT_EQ(mask(2, 2), MaskPixel{1} << bit);
  Mask other(8, 8);
  EXPECT_FALSE(other.planes().contains("GHOST"));
  Mask copy = mask.clone();
  copy.planes().add("ONLY_IN_COPY");
  EXPECT_FALSE(mask.planes().contains("ONLY_IN_COPY"));
  mask.clear_bits(MaskPixel{1} << bit);
  EXPECT_EQ(mask.count(~MaskPixel{0}), 0);
}

TEST(MaskedImage, ThreePlanesStayAligned) {
  MaskedImage<float> mi(Box2I({10, 10}, {6, 5}));
  EXPECT_EQ(mi.mask().bbox(), mi.bbox());
  EXPECT_EQ(mi.variance().bbox(), mi.bbox());
  const auto sub = mi.subimage(Box2I({12, 11}, {2, 2}));
  sub.image().fill(3.0F);
  sub.variance().fill(9.0F);
  sub.mask().set_bits(sub.bbox(), sub.mask().get_bitmask("SAT"));
  EXPECT_EQ(mi.image().at({12, 11}), 3.0F);
  EXPECT_EQ(mi.variance().at({13, 12}), 9.0F);
  EXPECT_EQ(mi.mask().count(mi.mask().get_bitmask("SAT")), 4);
  mi.set_xy0({0, 0});
  EXPECT_EQ(mi.mask().xy0(), (Point2I{0, 0}));
  EXPECT_THROW(MaskedImage<float>(Image<float>(3, 3), Mask(3, 4), Image<float>(3, 3)),
               InvalidArgumentError);
}

TEST(Exposure, ComponentsAreSeparateValues) {
  Exposure e(Box2I({0, 0}, {20, 10}));
  e.set_filter(FilterLabel{"r", "HSC-R2"});
  e.set_photo_calib(PhotoCalib::from_zero_point(27.0));
  e.set_psf(std::make_shared<GaussianPsf>(11, 11, 2.0));
  e.metadata().set("OBJECT", "M67");
  EXPECT_NEAR(e.photo_calib()->zero_point(), 27.0, 1e-12);
  EXPECT_NEAR(e.photo_calib()->instflux_to_magnitude(1.0), 27.0, 1e-12);
  Exposure sub = e.subimage(Box2I({5, 5}, {3, 3}));
  EXPECT_EQ(sub.filter()->physical, "HSC-R2");
  EXPECT_EQ(sub.psf(), e.psf());
  EXPECT_TRUE(sub.image().shares_pixels_with(e.image()));
  Exposure deep = e.clone();
  EXPECT_FALSE(deep.image().shares_pixels_with(e.image()));
  EXPECT_EQ(deep.metadata().get_string("OBJECT"), "M67");
}

TEST(GaussianPsf, KernelIsNormalizedAndCentred) {
  GaussianPsf psf(15, 15, 1.7);
  const Image<double> k = psf.kernel_image(100.3, 50.0);
  EXPECT_EQ(k.bbox(), Box2I({93, 43}, {15, 15}));
  double sum = 0, mx = 0;
  for (int y = 0; y < k.height(); ++y)
    for (int x = 0; x < k.width(); ++x) {
      sum += k(x, y);
      mx += k(x, y) * (k.xy0().x + x);
    }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_NEAR(mx, 100.3, 1e-3);  // the window truncates the tails asymmetrically
  EXPECT_THROW(GaussianPsf(4, 5, 1.0), InvalidArgumentError);
}

}  // namespace
}  // namespace majordome::image
