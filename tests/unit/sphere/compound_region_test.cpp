#include "majordome/sphere/compound_region.hpp"

#include <gtest/gtest.h>

#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::sphere {
namespace {

constexpr Relationship kDisjoint = Relationship::kDisjoint;
constexpr Relationship kIntersects = Relationship::kIntersects;
constexpr Relationship kContains = Relationship::kContains;
constexpr Relationship kWithin = Relationship::kWithin;

TEST(CompoundRegion, UnionContainsAndRelates) {
  const Circle a = circle_from_degrees(10, 0, 1), b = circle_from_degrees(20, 0, 1);
  const UnionRegion u(a, b);
  EXPECT_TRUE(u.contains(point_from_degrees(10, 0)));
  EXPECT_TRUE(u.contains(point_from_degrees(20, 0.5)));
  EXPECT_FALSE(u.contains(point_from_degrees(15, 0)));
  EXPECT_EQ(u.relate(circle_from_degrees(15, 0, 1)), kDisjoint);
  EXPECT_EQ(u.relate(circle_from_degrees(10, 0, 0.1)), kIntersects | kContains);
  EXPECT_EQ(u.relate(circle_from_degrees(15, 0, 10)), kIntersects | kWithin);
  EXPECT_EQ(circle_from_degrees(15, 0, 10).relate(u), kIntersects | kContains);
  EXPECT_EQ(u.overlaps(circle_from_degrees(19, 0, 0.5)), true);
  EXPECT_TRUE(UnionRegion(std::vector<std::unique_ptr<Region>>{}).is_empty());
  EXPECT_EQ(UnionRegion(std::vector<std::unique_ptr<Region>>{}).relate(a), kDisjoint | kWithin);
  // Bounds cover both operands.
  const Circle bc = u.bounding_circle();
  EXPECT_TRUE(bc.contains(point_from_degrees(9.01, 0)));
  EXPECT_TRUE(bc.contains(point_from_degrees(20.99, 0)));
  EXPECT_LT(bc.opening_angle().degrees(), 6.01);
  const Box bb = u.bounding_box();
  EXPECT_TRUE(bb.contains(point_from_degrees(9.01, 0)));
  EXPECT_TRUE(bb.contains(point_from_degrees(20.99, 0)));
  EXPECT_FALSE(bb.contains(point_from_degrees(22, 0)));
}

TEST(CompoundRegion, IntersectionIsConservative) {
  const Circle a = circle_from_degrees(10, 0, 2), b = circle_from_degrees(12, 0, 2);
  const IntersectionRegion x(a, b);
  EXPECT_TRUE(x.contains(point_from_degrees(11, 0)));
  EXPECT_FALSE(x.contains(point_from_degrees(9, 0)));
  EXPECT_EQ(x.relate(circle_from_degrees(30, 0, 1)), kDisjoint);
  EXPECT_EQ(x.relate(circle_from_degrees(11, 0, 0.2)), kIntersects | kContains);
  EXPECT_EQ(x.relate(circle_from_degrees(11, 0, 10)), kWithin);  // overlap not proven
  // Each operand meets the probe strip, their lens (which tops out at dec 1.73) does not:
  // not provable from the operands, so unknown.
  const double strip[] = {9, 1.85, 13, 1.85, 13, 1.95, 9, 1.95};
  EXPECT_EQ(x.overlaps(polygon_from_degrees(strip)), std::nullopt);
  EXPECT_TRUE(IntersectionRegion(a, Circle::empty()).is_empty());
  EXPECT_EQ(IntersectionRegion(std::vector<std::unique_ptr<Region>>{}).relate(a),
            kContains | kIntersects);
  EXPECT_LE(x.bounding_circle().opening_angle().degrees(), 2.0 + 1e-9);
}

TEST(CompoundRegion, CopiesAreDeep) {
  const UnionRegion u(circle_from_degrees(0, 0, 1), Box::from_degrees(0, 1, 0, 1));
  const auto copy = u.clone();
  EXPECT_EQ(copy->encode(), u.encode());
  EXPECT_NE(&static_cast<const UnionRegion&>(*copy).operand(0), &u.operand(0));
}

TEST(CompoundRegion, HtmEnvelopeOfUnionCoversOperands) {
  const HtmPixelization h(6);
  const Circle a = circle_from_degrees(10, 0, 1), b = circle_from_degrees(200, 40, 1);
  const RangeSet env = h.envelope(UnionRegion(a, b));
  RangeSet both = h.envelope(a);
  both.insert(h.envelope(b));
  EXPECT_EQ(env, both);
  EXPECT_TRUE(h.envelope(IntersectionRegion(a, b)).empty() ||
              h.envelope(a).contains(h.envelope(IntersectionRegion(a, b))));
}

}  // namespace
}  // namespace majordome::sphere
