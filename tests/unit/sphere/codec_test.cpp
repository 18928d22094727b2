// Byte encodings (sphgeom-compatible) and their text forms.
#include "majordome/sphere/codec.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "majordome/core/error.hpp"
#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/compound_region.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/ellipse.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::sphere {
namespace {

using Bytes = std::vector<std::uint8_t>;

double f64_at(const Bytes& b, std::size_t offset) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(b[offset + i]) << (8 * i);
  return std::bit_cast<double>(v);
}

void expect_round_trip(const Region& r) {
  const Bytes bytes = r.encode();
  const auto back = Region::decode(bytes);
  EXPECT_EQ(back->type(), r.type());
  EXPECT_EQ(back->encode(), bytes);
  EXPECT_EQ(Region::decode_hex(r.encode_hex())->encode(), bytes);
  EXPECT_EQ(Region::decode_base64(r.encode_base64())->encode(), bytes);
  EXPECT_EQ(r.clone()->encode(), bytes);
}

template <typename F>
std::string corrupt_message(F&& f) {
  try {
    f();
  } catch (const CorruptFileError& e) {
    return e.what();
  }
  return "(no CorruptFileError)";
}

TEST(Codec, CircleLayout) {
  const Circle c(UnitVector3d::Z(), Angle(kPi / 2));
  const Bytes b = c.encode();
  ASSERT_EQ(b.size(), 41u);
  EXPECT_EQ(b[0], 'c');
  EXPECT_EQ(f64_at(b, 1), 0.0);
  EXPECT_EQ(f64_at(b, 17), 1.0);
  EXPECT_EQ(f64_at(b, 25), c.squared_chord_length());
  EXPECT_EQ(f64_at(b, 33), kPi / 2);
  // Little-endian: the last byte of z = 1.0 (0x3ff0000000000000) is 0x3f.
  EXPECT_EQ(b[24], 0x3f);
  EXPECT_EQ(b[23], 0xf0);
  expect_round_trip(c);
  expect_round_trip(Circle::empty());
  expect_round_trip(Circle::full());
}

TEST(Codec, BoxPolygonEllipseLayouts) {
  const Box box = Box::from_degrees(350, 10, -5, 5);
  const Bytes bb = box.encode();
  ASSERT_EQ(bb.size(), 33u);
  EXPECT_EQ(bb[0], 'b');
  EXPECT_EQ(f64_at(bb, 1), box.lon_a().radians());
  EXPECT_EQ(f64_at(bb, 25), box.lat_b().radians());
  expect_round_trip(box);
  expect_round_trip(Box::empty());  // NaN longitudes survive bit for bit
  expect_round_trip(Box::full());

  const double c[] = {0, 0, 1, 0, 1, 1, 0, 1, 0.5, 1.5};
  const ConvexPolygon poly = polygon_from_degrees(c);
  const Bytes pb = poly.encode();
  ASSERT_EQ(pb.size(), 1 + 24 * poly.vertices().size());
  EXPECT_EQ(pb[0], 'p');
  EXPECT_EQ(f64_at(pb, 1), poly.vertices()[0].x());
  EXPECT_EQ(f64_at(pb, 1 + 24 + 16), poly.vertices()[1].z());
  expect_round_trip(poly);

  const Ellipse e(point_from_degrees(30, 40), Angle::from_degrees(2), Angle::from_degrees(1),
                  Angle::from_degrees(30));
  const Bytes eb = e.encode();
  ASSERT_EQ(eb.size(), 113u);
  EXPECT_EQ(eb[0], 'e');
  EXPECT_EQ(f64_at(eb, 1 + 8 * 6), e.center().x());  // row 2 of S is the centre
  EXPECT_NEAR(f64_at(eb, 73), Angle::from_degrees(2).radians() - kPi / 2, 1e-15);
  expect_round_trip(e);
  expect_round_trip(Ellipse::empty());
  expect_round_trip(Ellipse::full());
}

TEST(Codec, DecodeKeepsNonNormalisedDoubles) {
  // Stored vertices are kept verbatim, even when not exactly of unit length.
  Bytes b = {'p'};
  const double v[] = {1.0000000000000002, 0, 0, 0, 1, 0, 0, 0, 0.9999999999999999};
  for (double d : v) {
    const auto bits = std::bit_cast<std::uint64_t>(d);
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  }
  const auto r = Region::decode(b);
  EXPECT_EQ(r->encode(), b);
  EXPECT_EQ(static_cast<const ConvexPolygon&>(*r).vertices()[0].x(), 1.0000000000000002);
}

TEST(Codec, CompoundRegionsNestAndRoundTrip) {
  const Circle c = circle_from_degrees(10, 10, 1);
  const Box b = Box::from_degrees(0, 20, 0, 20);
  const UnionRegion u(c, b);
  const Bytes ub = u.encode();
  ASSERT_EQ(ub[0], 'u');
  ASSERT_EQ(ub.size(), 1 + 8 + 41 + 8 + 33);
  EXPECT_EQ(ub[1], 41);  // u64 length, little-endian
  EXPECT_EQ(ub[1 + 8], 'c');
  EXPECT_EQ(ub[1 + 8 + 41], 33);
  expect_round_trip(u);
  const IntersectionRegion i(u, circle_from_degrees(5, 5, 3));
  EXPECT_EQ(i.encode()[0], 'i');
  expect_round_trip(i);
  expect_round_trip(UnionRegion(std::vector<std::unique_ptr<Region>>{}));
  const auto back = Region::decode(i.encode());
  const auto& ib = static_cast<const IntersectionRegion&>(*back);
  ASSERT_EQ(ib.num_operands(), 2u);
  EXPECT_EQ(ib.operand(0).type(), RegionType::kUnion);
}

TEST(Codec, BadBytesAreCorruptFileErrors) {
  EXPECT_NE(corrupt_message([] { Region::decode(Bytes{}); }).find("empty"), std::string::npos);
  EXPECT_NE(corrupt_message([] {
              Region::decode(Bytes{'x', 1, 2});
            }).find("0x78"),
            std::string::npos);
  Bytes circle = Circle::full().encode();
  circle.pop_back();
  EXPECT_NE(
      corrupt_message([&] { Region::decode(circle); }).find("Circle has 40 bytes; expected 41"),
      std::string::npos);
  Bytes box = Box::full().encode();
  box.push_back(0);
  EXPECT_NE(corrupt_message([&] { Region::decode(box); }).find("Box"), std::string::npos);
  Bytes ell = Ellipse::full().encode();
  ell.resize(100);
  EXPECT_NE(corrupt_message([&] { Region::decode(ell); }).find("Ellipse"), std::string::npos);
  Bytes two(1 + 48, 0);
  two[0] = 'p';
  EXPECT_NE(corrupt_message([&] { Region::decode(two); }).find("2 vertices"), std::string::npos);
  Bytes ragged(1 + 80, 0);
  ragged[0] = 'p';
  EXPECT_NE(corrupt_message([&] { Region::decode(ragged); }).find("24 per vertex"),
            std::string::npos);
  Bytes truncated = {'u', 41, 0, 0};
  EXPECT_NE(corrupt_message([&] { Region::decode(truncated); }).find("truncated"),
            std::string::npos);
  Bytes overlong = {'u', 200, 0, 0, 0, 0, 0, 0, 0, 'c'};
  EXPECT_NE(corrupt_message([&] { Region::decode(overlong); }).find("claims 200 bytes"),
            std::string::npos);
  Bytes bad_operand = {'i', 3, 0, 0, 0, 0, 0, 0, 0, 'c', 0, 0};
  EXPECT_NE(corrupt_message([&] { Region::decode(bad_operand); }).find("Circle"),
            std::string::npos);
  // Deep nesting is refused rather than overflowing the stack.
  Bytes deep = Circle::full().encode();
  for (int k = 0; k < 100; ++k) {
    Bytes outer = {'u'};
    for (int i = 0; i < 8; ++i) outer.push_back(static_cast<std::uint8_t>(deep.size() >> (8 * i)));
    outer.insert(outer.end(), deep.begin(), deep.end());
    deep = std::move(outer);
  }
  EXPECT_NE(corrupt_message([&] { Region::decode(deep); }).find("deep"), std::string::npos);
}

TEST(Codec, HexAndBase64) {
  const Bytes foobar = {'f', 'o', 'o', 'b', 'a', 'r'};
  EXPECT_EQ(to_base64(foobar), "Zm9vYmFy");
  EXPECT_EQ(to_base64(Bytes(foobar.begin(), foobar.begin() + 2)), "Zm8=");
  EXPECT_EQ(to_base64(Bytes(foobar.begin(), foobar.begin() + 1)), "Zg==");
  EXPECT_EQ(to_base64(Bytes{}), "");
  EXPECT_EQ(from_base64("Zm9v\nYmFy"), foobar);
  EXPECT_EQ(from_base64("Zm8"), Bytes(foobar.begin(), foobar.begin() + 2));
  // The skymap hash in spatial.yaml.
  const Bytes hash = from_base64("bm90cmVhbGx5YWhhc2hvZmFueXRoaW5nIQ==");
  EXPECT_EQ(std::string(hash.begin(), hash.end()), "notreallyahashofanything!");
  EXPECT_THROW(from_base64("Zm9v*"), CorruptFileError);
  EXPECT_THROW(from_base64("Z"), CorruptFileError);
  EXPECT_THROW(from_base64("Zm=v"), CorruptFileError);
  EXPECT_EQ(to_hex(Bytes{0x70, 0x0a, 0xff}), "700aff");
  EXPECT_EQ(from_hex("700AfF"), (Bytes{0x70, 0x0a, 0xff}));
  EXPECT_THROW(from_hex("700"), CorruptFileError);
  EXPECT_THROW(from_hex("7g"), CorruptFileError);
}

TEST(Codec, Base64AggregatesAndOverlapStrings) {
  const Circle a = circle_from_degrees(10, 10, 1), b = circle_from_degrees(10.5, 10, 1),
               far = circle_from_degrees(100, 10, 1);
  const auto u = Region::decode_base64(a.encode_base64() + ":" + far.encode_base64());
  ASSERT_EQ(u->type(), RegionType::kUnion);
  EXPECT_EQ(static_cast<const UnionRegion&>(*u).num_operands(), 2u);
  EXPECT_TRUE(u->contains(point_from_degrees(100, 10)));
  const auto none = Region::decode_base64("");
  EXPECT_TRUE(none->is_empty());
  EXPECT_EQ(Region::decode_overlaps_base64(a.encode_base64() + "&" + b.encode_base64()), true);
  EXPECT_EQ(Region::decode_overlaps_base64(a.encode_base64() + "&" + far.encode_base64()), false);
  EXPECT_EQ(Region::decode_overlaps_base64(a.encode_base64() + "&" + far.encode_base64() + "|" +
                                           b.encode_base64() + "&" + a.encode_base64()),
            true);
  EXPECT_EQ(Region::decode_overlaps_base64(""), false);
  EXPECT_THROW(Region::decode_overlaps_base64(a.encode_base64()), CorruptFileError);
}

}  // namespace
}  // namespace majordome::sphere
