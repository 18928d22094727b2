// Building regions from the numbers users type (degrees), for the query language.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::sphere {

// All angles below are in degrees. Invalid input throws InvalidArgumentError with a
// message fit for the user ("invalid latitude angle 95" …); the query layer wraps it.

// The unit vector of (ra, dec). |dec| > 90 → "invalid latitude angle".
UnitVector3d point_from_degrees(double ra, double dec);

// POINT(ra, dec) as a region: the zero-radius Circle at (ra, dec), which is how the
// Butler evaluates `region OVERLAPS POINT(…)`. Its overlaps() with a polygon is true
// also for points within ~5e-8 rad (10 mas) outside the polygon (see Circle), whereas
// region.contains(point_from_degrees(…)) is the exact point-in-region test.
Circle point_region_from_degrees(double ra, double dec);

// The cap of opening angle `radius` around (ra, dec). NOTE: the Butler expression
// language's CIRCLE(ra, dec, r) historically builds an opening angle of 2·r; the query
// layer must pass 2·r here to reproduce that (docs/sphere.md).
Circle circle_from_degrees(double ra, double dec, double radius);

// sphgeom's Box(center, width/2, height/2): longitudes ra ± width/2 (in longitude angle,
// not on-sky arc), latitudes dec ± height/2 clipped at the poles.
Box box_from_degrees(double ra, double dec, double width, double height);

// The convex hull of the (ra, dec) pairs, given flat as ra1, dec1, ra2, dec2, …
// Needs an even count of at least 6 numbers.
ConvexPolygon polygon_from_degrees(std::span<const double> ra_dec);

// An IVOA SIAv2 POS string (keywords upper case, numbers separated by blanks):
//   "CIRCLE ra dec radius"              → Circle (opening angle = radius)
//   "RANGE lon1 lon2 lat1 lat2"         → Box (±Inf allowed: -Inf/+Inf longitudes mean
//                                          0/360, latitudes -90/+90)
//   "POLYGON ra1 dec1 ra2 dec2 ra3 dec3 …" → ConvexPolygon (convex hull)
std::unique_ptr<Region> parse_ivoa_pos(std::string_view pos);

}  // namespace majordome::sphere
