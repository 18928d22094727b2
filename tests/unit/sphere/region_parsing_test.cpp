#include "majordome/sphere/region_parsing.hpp"

#include <gtest/gtest.h>

#include "majordome/core/error.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::sphere {
namespace {

UnitVector3d p(double ra, double dec) { return point_from_degrees(ra, dec); }

TEST(RegionParsing, Helpers) {
  const Circle c = circle_from_degrees(12, 34, 0.5);
  EXPECT_DOUBLE_EQ(c.opening_angle().degrees(), 0.5);
  EXPECT_TRUE(c.contains(p(12, 34.49)));
  EXPECT_FALSE(c.contains(p(12, 34.51)));
  EXPECT_THROW(circle_from_degrees(0, 95, 1), InvalidArgumentError);
  EXPECT_THROW(circle_from_degrees(0, 0, -1), InvalidArgumentError);

  const Box b = box_from_degrees(320, -0.25, 5, 5);  // Box(center, w/2, h/2)
  EXPECT_NEAR(b.lon_a().degrees(), 317.5, 1e-12);
  EXPECT_NEAR(b.lon_b().degrees(), 322.5, 1e-12);
  EXPECT_NEAR(b.lat_a().degrees(), -2.75, 1e-12);
  EXPECT_NEAR(b.lat_b().degrees(), 2.25, 1e-12);
  EXPECT_THROW(box_from_degrees(0, 0, -1, 1), InvalidArgumentError);

  const double square[] = {0, 0, 1, 0, 1, 1, 0, 1};
  EXPECT_EQ(polygon_from_degrees(square).vertices().size(), 4u);
  const double too_few[] = {0, 0, 1, 1};
  EXPECT_THROW(polygon_from_degrees(too_few), InvalidArgumentError);
  const double odd[] = {0, 0, 1, 0, 1, 1, 2};
  EXPECT_THROW(polygon_from_degrees(odd), InvalidArgumentError);
  EXPECT_EQ(point_region_from_degrees(10, 20).opening_angle().radians(), 0.0);
}

// The IVOA SIAv2 POS examples (valid and invalid) used by lsst.sphgeom's tests.
TEST(RegionParsing, IvoaPosStrings) {
  for (const char* ok : {"CIRCLE 12.0 34.0 0.5", "RANGE 12.0 12.5 34.0 36.0",
                         "POLYGON 12.0 34.0 14.0 35.0 14. 36.0 12.0 35.0", "RANGE 0 360.0 -2.0 2.0",
                         "RANGE 0 360.0 89.0 +Inf", "RANGE -Inf +Inf -Inf +Inf",
                         "POLYGON 12 34 14 34 14 36 12 36", "RANGE 0 360 89 90"}) {
    EXPECT_NO_THROW(parse_ivoa_pos(ok)) << ok;
  }
  for (const char* bad :
       {"circle 12 34 0.5", "CIRCLE 12 34 1 1", "RANGE 0 360", "POLYGON 0 1 2 3",
        "POLYGON 0 1 2 3 4 5 6", "CONVEXPOLYGON 0 1 2 3 4 5", "", "CIRCLE 1 2 x"}) {
    EXPECT_THROW(parse_ivoa_pos(bad), InvalidArgumentError) << bad;
  }
  const auto circle = parse_ivoa_pos("CIRCLE 12.0 34.0 5");
  EXPECT_EQ(circle->type(), RegionType::kCircle);
  EXPECT_TRUE(circle->contains(p(13, 33)));
  EXPECT_FALSE(circle->contains(p(12, 40)));

  const auto box = parse_ivoa_pos("RANGE 1 2 5 6");
  EXPECT_EQ(box->type(), RegionType::kBox);
  EXPECT_TRUE(box->contains(p(1.5, 5.4)));
  EXPECT_FALSE(box->contains(p(4, 10)));
  EXPECT_TRUE(parse_ivoa_pos("RANGE 1 2 20 +Inf")->contains(p(1.7, 80)));
  EXPECT_FALSE(parse_ivoa_pos("RANGE 1 2 20 +Inf")->contains(p(1.7, 10)));
  EXPECT_TRUE(parse_ivoa_pos("RANGE 50 +Inf 20 30")->contains(p(60, 25)));
  EXPECT_FALSE(parse_ivoa_pos("RANGE 50 +Inf 20 30")->contains(p(49, 21)));
  EXPECT_TRUE(parse_ivoa_pos("RANGE -Inf +50 20 30")->contains(p(40, 25)));
  EXPECT_FALSE(parse_ivoa_pos("RANGE -Inf +50 20 30")->contains(p(60, 21)));
  const auto band = parse_ivoa_pos("RANGE -Inf +Inf 20 30");
  EXPECT_TRUE(band->contains(p(10, 25)));
  EXPECT_TRUE(band->contains(p(359, 25)));
  EXPECT_FALSE(band->contains(p(49, 19)));
  EXPECT_TRUE(parse_ivoa_pos("RANGE -Inf +Inf -Inf +Inf")->relate(*circle) ==
              (Relationship::kContains | Relationship::kIntersects));

  const auto poly = parse_ivoa_pos("POLYGON 12.0 34.0 14.0 35.0 14. 36.0 12.0 35.0");
  EXPECT_EQ(poly->type(), RegionType::kConvexPolygon);
  EXPECT_TRUE(poly->contains(p(13, 35)));
  EXPECT_FALSE(poly->contains(p(14, 34)));
}

}  // namespace
}  // namespace majordome::sphere
