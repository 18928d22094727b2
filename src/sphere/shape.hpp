// A non-owning view of a region for relation tests (private). Polygons are seen as
// vertex spans so HTM triangles need no ConvexPolygon object.
#pragma once

#include "geometry.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::sphere::detail {

struct Shape {
  RegionType type;
  const Region* region = nullptr;  // null only for bare vertex spans
  Vertices vertices;               // set for convex polygons

  static Shape of(const Region& r);
  static Shape polygon(Vertices v) { return Shape{RegionType::kConvexPolygon, nullptr, v}; }
};

// Region::relate() on views.
Relationship relate(const Shape& a, const Shape& b);

}  // namespace majordome::sphere::detail
