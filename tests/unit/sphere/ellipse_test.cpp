#include "majordome/sphere/ellipse.hpp"

#include <gtest/gtest.h>

#include <random>

#include "majordome/core/error.hpp"
#include "majordome/sphere/box.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::sphere {
namespace {

// The defining property: d(v, f1) + d(v, f2) ≤ 2α.
TEST(Ellipse, ContainsMatchesTheFocalDefinition) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n;
  const UnitVector3d f1 = point_from_degrees(40, 10), f2 = point_from_degrees(43, 11);
  for (double alpha_deg : {2.5, 10.0, 60.0, 100.0, 150.0}) {
    const Ellipse e(f1, f2, Angle::from_degrees(alpha_deg));
    ASSERT_FALSE(e.is_empty());
    const double two_alpha = 2 * Angle::from_degrees(alpha_deg).radians();
    int inside = 0;
    for (int i = 0; i < 4000; ++i) {
      const UnitVector3d v(n(rng), n(rng), n(rng));
      const double sum = v.angle_to(f1).radians() + v.angle_to(f2).radians();
      if (std::fabs(sum - two_alpha) < 1e-9) continue;  // too close to the boundary to judge
      ASSERT_EQ(e.contains(v), sum < two_alpha) << alpha_deg;
      inside += sum < two_alpha;
    }
    EXPECT_GT(inside, 0);
    EXPECT_NEAR(e.f1().angle_to(f1).radians(), 0.0, 1e-12);
    EXPECT_NEAR(e.f2().angle_to(f2).radians(), 0.0, 1e-12);
    EXPECT_NEAR(e.alpha().degrees(), alpha_deg, 1e-12);
  }
  EXPECT_TRUE(Ellipse(f1, f2, Angle::from_degrees(1)).is_empty());  // 2α < d(f1, f2)
  EXPECT_TRUE(Ellipse(f1, f2, Angle::from_degrees(179)).is_full());
}

TEST(Ellipse, CenterAxesOrientation) {
  const UnitVector3d c = point_from_degrees(120, -30);
  // Major axis 2° pointing north (position angle 0), minor 1° east-west.
  const Ellipse e(c, Angle::from_degrees(2), Angle::from_degrees(1), Angle(0));
  EXPECT_NEAR(e.center().angle_to(c).radians(), 0.0, 1e-15);
  EXPECT_TRUE(e.contains(point_from_degrees(120, -28.1)));
  EXPECT_FALSE(e.contains(point_from_degrees(120, -27.9)));
  const double cos_dec = std::cos(Angle::from_degrees(-30).radians());
  EXPECT_TRUE(e.contains(point_from_degrees(120 + 0.95 / cos_dec, -30)));
  EXPECT_FALSE(e.contains(point_from_degrees(120 + 1.05 / cos_dec, -30)));
  // Swapping the axes turns the ellipse by 90°.
  const Ellipse turned(c, Angle::from_degrees(1), Angle::from_degrees(2), Angle(0));
  EXPECT_TRUE(turned.contains(point_from_degrees(120 + 1.9 / cos_dec, -30)));
  EXPECT_FALSE(turned.contains(point_from_degrees(120, -28.1)));
  EXPECT_THROW(Ellipse(c, Angle::from_degrees(10), Angle::from_degrees(100), Angle(0)),
               InvalidArgumentError);
  // A circle as an ellipse.
  const Ellipse round(circle_from_degrees(10, 10, 3));
  EXPECT_TRUE(round.contains(point_from_degrees(10, 12.9)));
  EXPECT_FALSE(round.contains(point_from_degrees(10, 13.1)));
}

TEST(Ellipse, ComplementIsExact) {
  const Ellipse e(point_from_degrees(10, 20), Angle::from_degrees(5), Angle::from_degrees(3),
                  Angle(0.3));
  const Ellipse c = e.complemented();
  EXPECT_EQ(c.complemented().encode(), e.encode());
  EXPECT_TRUE(e.contains(point_from_degrees(10, 20)));
  EXPECT_FALSE(c.contains(point_from_degrees(10, 20)));
  EXPECT_TRUE(c.contains(point_from_degrees(190, -20)));
  EXPECT_TRUE(Ellipse::empty().is_empty());
  EXPECT_TRUE(Ellipse::full().is_full());
  EXPECT_TRUE(Ellipse::full().contains(UnitVector3d::X()));
  EXPECT_FALSE(Ellipse::empty().contains(UnitVector3d::X()));
}

TEST(Ellipse, RelationsAreConservative) {
  const Ellipse e(point_from_degrees(0, 0), Angle::from_degrees(2), Angle::from_degrees(1),
                  Angle(0));
  // Far away: disjoint. Around it: within. Small box at the centre: contained.
  EXPECT_EQ(e.relate(circle_from_degrees(10, 0, 1)), Relationship::kDisjoint);
  EXPECT_EQ(e.relate(circle_from_degrees(0, 0, 5)),
            Relationship::kWithin | Relationship::kIntersects);
  EXPECT_EQ(e.relate(Box::from_degrees(359.9, 0.1, -0.1, 0.1)),
            Relationship::kContains | Relationship::kIntersects);
  // Between the inscribed and bounding circles the overlap is undecided.
  const double tri[] = {1.0, 1.0, 1.2, 1.0, 1.1, 1.2};
  EXPECT_EQ(e.overlaps(polygon_from_degrees(tri)), std::nullopt);
  EXPECT_EQ(Ellipse::empty().relate(e), Relationship::kDisjoint | Relationship::kWithin);
  EXPECT_EQ(Ellipse::full().relate(e), Relationship::kContains | Relationship::kIntersects);
  // The bounding circle and box hold the ellipse.
  const Circle bc = e.bounding_circle();
  const Box bb = e.bounding_box();
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(-3, 3);
  for (int i = 0; i < 2000; ++i) {
    const UnitVector3d v = point_from_degrees(u(rng), u(rng));
    if (e.contains(v)) {
      ASSERT_TRUE(bc.contains(v));
      ASSERT_TRUE(bb.contains(v));
    }
  }
}

}  // namespace
}  // namespace majordome::sphere
