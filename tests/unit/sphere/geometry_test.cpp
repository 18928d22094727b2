// Value types, polygons, circles and boxes: containment, relations, bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "majordome/core/error.hpp"
#include "majordome/sphere/angle.hpp"
#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/orientation.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::sphere {
namespace {

constexpr Relationship kDisjoint = Relationship::kDisjoint;
constexpr Relationship kIntersects = Relationship::kIntersects;
constexpr Relationship kContains = Relationship::kContains;
constexpr Relationship kWithin = Relationship::kWithin;

UnitVector3d p(double ra, double dec) { return point_from_degrees(ra, dec); }

ConvexPolygon rect(double ra0, double dec0, double ra1, double dec1) {
  const double c[] = {ra0, dec0, ra1, dec0, ra1, dec1, ra0, dec1};
  return polygon_from_degrees(c);
}

TEST(Angle, Conversions) {
  EXPECT_DOUBLE_EQ(Angle::from_degrees(180).radians(), kPi);
  EXPECT_DOUBLE_EQ(Angle(kPi / 2).degrees(), 90.0);
  EXPECT_DOUBLE_EQ(Angle::from_arcseconds(3600).degrees(), 1.0);
  EXPECT_DOUBLE_EQ(Angle::from_degrees(-90).normalized().degrees(), 270.0);
  EXPECT_NEAR(Angle::from_degrees(720 + 45).normalized().degrees(), 45.0, 1e-12);
  EXPECT_EQ(Angle(-1e-300).normalized().radians(), 0.0);
  EXPECT_LT(Angle(1), Angle(2));
}

TEST(LonLat, ValidatesAndNormalises) {
  EXPECT_THROW(LonLat::from_degrees(0, 91), InvalidArgumentError);
  EXPECT_THROW(LonLat::from_degrees(0, -90.0000001), InvalidArgumentError);
  try {
    LonLat::from_degrees(0.335, -91);
    FAIL();
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid latitude angle"), std::string::npos);
  }
  EXPECT_DOUBLE_EQ(LonLat::from_degrees(-10, 0).lon().degrees(), 350.0);
  EXPECT_NO_THROW(LonLat::from_degrees(10, 90));
  const LonLat pole = LonLat::from_vector(Vector3d(0, 0, 2));
  EXPECT_EQ(pole.lon().radians(), 0.0);
  EXPECT_DOUBLE_EQ(pole.lat().degrees(), 90.0);
  const LonLat q = LonLat::from_vector(UnitVector3d(LonLat::from_degrees(123.25, -45.5)));
  EXPECT_NEAR(q.lon().degrees(), 123.25, 1e-12);
  EXPECT_NEAR(q.lat().degrees(), -45.5, 1e-12);
}

TEST(UnitVector3d, NormalisesAndConverts) {
  const UnitVector3d v(3, 0, 4);
  EXPECT_DOUBLE_EQ(v.x(), 0.6);
  EXPECT_DOUBLE_EQ(v.z(), 0.8);
  EXPECT_THROW(UnitVector3d(0, 0, 0), InvalidArgumentError);
  EXPECT_THROW(UnitVector3d(NAN, 0, 0), InvalidArgumentError);
  const UnitVector3d w(LonLat::from_degrees(90, 0));
  EXPECT_NEAR(w.y(), 1.0, 1e-16);
  EXPECT_NEAR(UnitVector3d::X().angle_to(UnitVector3d::Y()).degrees(), 90.0, 1e-12);
  EXPECT_NEAR(UnitVector3d::orthogonal_to(w).dot(w), 0.0, 1e-16);
}

TEST(ConvexPolygon, HullOrdersVerticesAndDropsInteriorPoints) {
  const UnitVector3d pts[] = {p(1, 1), p(0, 0), p(1, 0), p(0, 1), p(0.5, 0.5), p(0, 0), p(0.5, 0)};
  const ConvexPolygon poly = ConvexPolygon::convex_hull(pts);
  ASSERT_EQ(poly.vertices().size(), 4u);  // centre, duplicate and edge point dropped
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& v = poly.vertices();
    EXPECT_EQ(orientation(v[i], v[(i + 1) % 4], v[(i + 2) % 4]), 1);
  }
  EXPECT_TRUE(poly.contains(p(0.5, 0.5)));
  EXPECT_THROW(ConvexPolygon::convex_hull(std::vector<UnitVector3d>{p(0, 0), p(1, 0)}),
               InvalidArgumentError);
  const UnitVector3d line[] = {p(0, 0), p(1, 0), p(2, 0)};
  EXPECT_THROW(ConvexPolygon::convex_hull(line), InvalidArgumentError);
  const UnitVector3d spread[] = {p(0, 0), p(120, 0), p(240, 0), p(0, 1)};
  EXPECT_THROW(ConvexPolygon::convex_hull(spread), InvalidArgumentError);
  EXPECT_THROW(ConvexPolygon::from_vertices({p(0, 0), p(1, 0)}), InvalidArgumentError);
}

TEST(ConvexPolygon, ContainsIsClosedAndExact) {
  const ConvexPolygon sq = rect(10, 10, 11, 11);
  EXPECT_TRUE(sq.contains(p(10.5, 10.5)));
  EXPECT_FALSE(sq.contains(p(11.5, 10.5)));
  for (const auto& v : sq.vertices()) EXPECT_TRUE(sq.contains(v));
  // Points on an edge's great circle: the midpoint of two vertices, normalised.
  const auto& v = sq.vertices();
  EXPECT_TRUE(sq.contains(UnitVector3d(v[0].vec() + v[1].vec())));
  EXPECT_FALSE(sq.contains(-v[0]));
}

TEST(ConvexPolygon, WrapsAroundRaZeroAndHoldsPoles) {
  const ConvexPolygon wrap = rect(359.5, -0.5, 0.5, 0.5);
  EXPECT_TRUE(wrap.contains(p(0, 0)));
  EXPECT_TRUE(wrap.contains(p(359.8, 0.2)));
  EXPECT_TRUE(wrap.contains(p(0.2, -0.2)));
  EXPECT_FALSE(wrap.contains(p(180, 0)));
  EXPECT_FALSE(wrap.contains(p(1, 0)));
  const Box wb = wrap.bounding_box();
  EXPECT_TRUE(wb.wraps());
  EXPECT_LT(wb.width().degrees(), 1.01);
  EXPECT_TRUE(wb.contains(p(0, 0)));

  const double cap[] = {0, 89, 90, 89, 180, 89, 270, 89};
  const ConvexPolygon polar = polygon_from_degrees(cap);
  EXPECT_TRUE(polar.contains(UnitVector3d::Z()));
  EXPECT_FALSE(polar.contains(-UnitVector3d::Z()));
  const Box pb = polar.bounding_box();
  EXPECT_TRUE(pb.spans_all_longitudes());
  EXPECT_DOUBLE_EQ(pb.lat_b().degrees(), 90.0);
  EXPECT_LT(pb.lat_a().degrees(), 89.0);  // edges bulge poleward, but vertices are lowest
  EXPECT_GT(pb.lat_a().degrees(), 88.9);
}

TEST(ConvexPolygon, RelationsBetweenPolygons) {
  const ConvexPolygon a = rect(0, 0, 2, 2);
  EXPECT_EQ(a.relate(rect(0.5, 0.5, 1, 1)), kIntersects | kContains);
  EXPECT_EQ(rect(0.5, 0.5, 1, 1).relate(a), kIntersects | kWithin);
  EXPECT_EQ(a.relate(rect(3, 0, 4, 2)), kDisjoint);
  EXPECT_EQ(a.relate(rect(1, 1, 3, 3)), kIntersects);
  // A plus sign: the polygons cross, but neither holds a vertex of the other.
  const ConvexPolygon h = rect(-1, 0.9, 3, 1.1), v = rect(0.9, -1, 1.1, 3);
  EXPECT_EQ(h.relate(v), kIntersects);
  EXPECT_EQ(v.overlaps(h), true);
  // Shared edge and shared vertex count as overlapping (closed regions).
  const UnitVector3d a0 = p(0, 0), a1 = p(1, 0), a2 = p(1, 1), a3 = p(0, 1), b2 = p(2, 1),
                     b1 = p(2, 0);
  const ConvexPolygon left = ConvexPolygon::convex_hull(std::vector<UnitVector3d>{a0, a1, a2, a3});
  const ConvexPolygon right = ConvexPolygon::convex_hull(std::vector<UnitVector3d>{a1, b1, b2, a2});
  EXPECT_EQ(left.overlaps(right), true);
  const ConvexPolygon corner =
      ConvexPolygon::convex_hull(std::vector<UnitVector3d>{a2, p(2, 1.5), p(1.5, 2)});
  EXPECT_EQ(left.overlaps(corner), true);
  EXPECT_EQ(a.relate(a), kIntersects | kContains | kWithin);
}

TEST(Circle, EmptyFullAndContains) {
  const Circle e = Circle::empty(), f = Circle::full();
  EXPECT_TRUE(e.is_empty());
  EXPECT_FALSE(e.contains(UnitVector3d::Z()));
  EXPECT_TRUE(f.is_full());
  EXPECT_TRUE(f.contains(-UnitVector3d::Z()));
  EXPECT_TRUE(Circle(UnitVector3d::X(), Angle(-1)).is_empty());
  EXPECT_TRUE(Circle(UnitVector3d::X(), Angle(4)).is_full());
  EXPECT_EQ(e.relate(f), kDisjoint | kWithin);
  EXPECT_EQ(f.relate(e), kDisjoint | kContains);
  EXPECT_EQ(e.relate(e), kDisjoint | kWithin | kContains);
  EXPECT_EQ(f.relate(rect(0, 0, 1, 1)), kIntersects | kContains);
  EXPECT_EQ(rect(0, 0, 1, 1).relate(e), kDisjoint | kContains);
  EXPECT_EQ(f.overlaps(f), true);

  const Circle c = circle_from_degrees(359.9, 0, 0.5);  // straddles RA 0
  EXPECT_TRUE(c.contains(p(0.2, 0)));
  EXPECT_TRUE(c.contains(p(359.5, 0.1)));
  EXPECT_FALSE(c.contains(p(0.5, 0)));
  EXPECT_DOUBLE_EQ(Circle::squared_chord_length_for(Angle(kPi / 2)), 2.0);
  EXPECT_NEAR(Circle::opening_angle_for(2.0).degrees(), 90.0, 1e-12);
}

TEST(Circle, RelationsWithPolygonsAndCircles) {
  const ConvexPolygon sq = rect(10, 10, 12, 12);
  EXPECT_EQ(sq.relate(circle_from_degrees(11, 11, 0.1)), kIntersects | kContains);
  EXPECT_EQ(sq.relate(circle_from_degrees(11, 11, 5)), kIntersects | kWithin);
  EXPECT_EQ(sq.relate(circle_from_degrees(12.5, 11, 0.6)), kIntersects);
  EXPECT_EQ(sq.relate(circle_from_degrees(12.5, 11, 0.4)), kDisjoint);
  // Near a corner: the circle misses the corner although its bounding box would not.
  EXPECT_EQ(sq.relate(circle_from_degrees(12.3, 12.3, 0.35)), kDisjoint);
  EXPECT_EQ(sq.relate(circle_from_degrees(12.3, 12.3, 0.45)), kIntersects);
  // Caps larger than a hemisphere.
  // (the square's corners are 1.4° from its centre).
  EXPECT_EQ(sq.relate(Circle(-p(11, 11), Angle::from_degrees(170))), kDisjoint);
  EXPECT_EQ(sq.relate(Circle(-p(11, 11), Angle::from_degrees(178.5))), kDisjoint);
  EXPECT_EQ(sq.relate(Circle(-p(11, 11), Angle::from_degrees(179))), kIntersects);
  EXPECT_EQ(sq.relate(Circle(-p(20, 20), Angle::from_degrees(179))), kIntersects | kWithin);

  const Circle a = circle_from_degrees(0, 0, 1);
  EXPECT_EQ(a.relate(circle_from_degrees(1.5, 0, 1)), kIntersects);
  EXPECT_EQ(a.relate(circle_from_degrees(2.5, 0, 1)), kDisjoint);
  EXPECT_EQ(a.relate(circle_from_degrees(0.2, 0, 0.5)), kIntersects | kContains);
  EXPECT_EQ(circle_from_degrees(0.2, 0, 0.5).relate(a), kIntersects | kWithin);
  EXPECT_EQ(circle_from_degrees(0, 90, 1).relate(circle_from_degrees(180, 89.5, 0.6)), kIntersects);
}

TEST(Box, ConstructionContainsAndWrap) {
  EXPECT_TRUE(Box::empty().is_empty());
  EXPECT_TRUE(Box::full().is_full());
  const Box b = box_from_degrees(0, 0, 2, 2);  // lon [359, 1], lat [-1, 1]
  EXPECT_TRUE(b.wraps());
  EXPECT_NEAR(b.width().degrees(), 2.0, 1e-12);
  EXPECT_TRUE(b.contains(p(0, 0)));
  EXPECT_TRUE(b.contains(p(359.5, 0.5)));
  EXPECT_FALSE(b.contains(p(1.5, 0)));
  EXPECT_FALSE(b.contains(p(0, 1.5)));
  const Box range = Box::from_degrees(350, 10, -5, 5);
  EXPECT_TRUE(range.wraps());
  EXPECT_TRUE(range.contains(p(355, 0)));
  EXPECT_FALSE(range.contains(p(180, 0)));
  EXPECT_TRUE(Box::from_degrees(0, 360, -90, 90).is_full());
  EXPECT_TRUE(Box::from_degrees(-10, 10, 0, 1).contains(p(355, 0.5)));
  EXPECT_THROW(Box::from_degrees(10, -10, 0, 1), InvalidArgumentError);
  EXPECT_TRUE(Box::from_degrees(0, 1, 2, 1).is_empty());
  // A box reaching a pole holds it whatever its longitudes; clipped beyond.
  const Box cap = box_from_degrees(45, 89, 10, 10);
  EXPECT_DOUBLE_EQ(cap.lat_b().degrees(), 90.0);
  EXPECT_TRUE(cap.contains(UnitVector3d::Z()));
  EXPECT_TRUE(box_from_degrees(0, 0, 400, 10).spans_all_longitudes());
}

TEST(Box, Relations) {
  const Box a = Box::from_degrees(350, 10, -5, 5);
  EXPECT_EQ(a.relate(Box::from_degrees(355, 5, -1, 1)), kIntersects | kContains);
  EXPECT_EQ(a.relate(Box::from_degrees(5, 20, 0, 10)), kIntersects);
  EXPECT_EQ(a.relate(Box::from_degrees(20, 340, -5, 5)), kDisjoint);
  EXPECT_EQ(a.relate(Box::from_degrees(0, 360, -90, 90)), kIntersects | kWithin);
  // Two boxes touching the north pole share it.
  EXPECT_EQ(Box::from_degrees(0, 10, 80, 90).overlaps(Box::from_degrees(100, 110, 85, 90)), true);
  EXPECT_EQ(Box::from_degrees(0, 10, 80, 89).overlaps(Box::from_degrees(100, 110, 85, 89)), false);

  // Against polygons: containment, crossing without vertices inside, parallels that bulge.
  EXPECT_EQ(a.relate(rect(0, 0, 1, 1)), kIntersects | kContains);
  EXPECT_EQ(a.relate(rect(20, 0, 21, 1)), kDisjoint);
  EXPECT_EQ(a.relate(rect(-20, -1, 20, 1)), kIntersects);
  EXPECT_EQ(Box::from_degrees(0.5, 0.6, -10, 10).relate(rect(0, 0, 1, 1)), kIntersects);
  EXPECT_EQ(Box::from_degrees(-1, 2, -1, 2).relate(rect(0, 0, 1, 1)), kIntersects | kContains);
  EXPECT_EQ(Box::from_degrees(0.2, 0.4, 0.2, 0.4).relate(rect(0, 0, 1, 1)), kIntersects | kWithin);
  // The great-circle edge between (0, 60) and (20, 60) peaks at atan(tan 60° / cos 10°)
  // = 60.38°: a box with its top at 60.2 does not contain that polygon, one at 60.5 does.
  const ConvexPolygon high = rect(0, 59, 20, 60);
  EXPECT_EQ(Box::from_degrees(-1, 21, 58, 60.2).relate(high), kIntersects);
  EXPECT_EQ(Box::from_degrees(-1, 21, 58, 60.5).relate(high), kIntersects | kContains);
  EXPECT_EQ(Box::from_degrees(-1, 21, 58, 62).relate(high), kIntersects | kContains);
  EXPECT_EQ(Box::from_degrees(0, 20, 60.8, 70).relate(high), kDisjoint);
  EXPECT_EQ(Box::from_degrees(5, 15, 60.3, 70).relate(high), kIntersects);
  // A polar cap box against a polygon around the pole.
  const double around[] = {0, 85, 90, 85, 180, 85, 270, 85};
  const ConvexPolygon polar = polygon_from_degrees(around);
  EXPECT_EQ(Box::from_degrees(0, 360, 88, 90).relate(polar), kIntersects | kWithin);
  EXPECT_EQ(Box::from_degrees(0, 360, 80, 90).relate(polar), kIntersects | kContains);
  EXPECT_EQ(Box::from_degrees(0, 360, 70, 80).relate(polar), kDisjoint);
  EXPECT_EQ(Box::from_degrees(0, 360, 80, 87).relate(polar), kIntersects);  // annulus
}

TEST(Box, RelationsWithCircles) {
  const Box b = Box::from_degrees(10, 20, 10, 20);
  EXPECT_EQ(b.relate(circle_from_degrees(15, 15, 1)), kIntersects | kContains);
  EXPECT_EQ(b.relate(circle_from_degrees(15, 15, 30)), kIntersects | kWithin);
  EXPECT_EQ(b.relate(circle_from_degrees(25, 15, 4)), kDisjoint);
  EXPECT_EQ(b.relate(circle_from_degrees(21, 15, 2)), kIntersects);
  // The corner (20, 20) is 1.37° from (21, 21).
  EXPECT_EQ(b.relate(circle_from_degrees(21, 21, 1.45)), kIntersects);
  EXPECT_EQ(b.relate(circle_from_degrees(21, 21, 1.3)), kDisjoint);
  EXPECT_EQ(Box::from_degrees(0, 360, 80, 90).relate(circle_from_degrees(0, 90, 5)),
            kIntersects | kContains);
}

// Random regions: every set relation bit must agree with sampled points, and relate()
// must be symmetric under invert().
std::unique_ptr<Region> random_region(std::mt19937_64& rng, int kind) {
  std::uniform_real_distribution<double> ra(0, 360), dec(-60, 60), size(0.5, 20);
  const double r0 = ra(rng), d0 = dec(rng), s = size(rng);
  switch (kind) {
    case 0:
      return std::make_unique<Circle>(circle_from_degrees(r0, d0, s));
    case 1:
      return std::make_unique<Box>(box_from_degrees(r0, d0, 2 * s, s));
    default: {
      std::vector<double> c;
      std::uniform_real_distribution<double> off(-1, 1);
      for (int i = 0; i < 6; ++i) {
        c.push_back(r0 + s * off(rng));
        c.push_back(std::clamp(d0 + s * off(rng), -89.0, 89.0));
      }
      return std::make_unique<ConvexPolygon>(polygon_from_degrees(c));
    }
  }
}

TEST(Relations, AgreeWithSampledPointsAndAreSymmetric) {
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> n;
  int decided = 0;
  for (int trial = 0; trial < 600; ++trial) {
    std::unique_ptr<Region> a, b;
    try {
      a = random_region(rng, trial % 3);
      b = random_region(rng, (trial / 3) % 3);
    } catch (const InvalidArgumentError&) {
      continue;  // degenerate random polygon
    }
    // Place b near a half of the time so all relations occur.
    const Relationship r = a->relate(*b);
    ASSERT_EQ(b->relate(*a), invert(r));
    ASSERT_TRUE(has(r, kDisjoint) != has(r, kIntersects));
    decided++;
    const Circle bound = a->bounding_circle().expanded_to(b->bounding_circle());
    for (int k = 0; k < 400; ++k) {
      const UnitVector3d q(bound.center().vec() +
                           Vector3d(n(rng), n(rng), n(rng)) *
                               std::min(1.0, bound.opening_angle().radians()));
      const bool in_a = a->contains(q), in_b = b->contains(q);
      ASSERT_TRUE(a->bounding_circle().contains(q) || !in_a);
      ASSERT_TRUE(a->bounding_box().contains(q) || !in_a);
      ASSERT_FALSE(has(r, kDisjoint) && in_a && in_b);
      ASSERT_FALSE(has(r, kContains) && in_b && !in_a);
      ASSERT_FALSE(has(r, kWithin) && in_a && !in_b);
    }
  }
  EXPECT_GT(decided, 500);
}

}  // namespace
}  // namespace majordome::sphere
