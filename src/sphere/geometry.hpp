// Geometry kernels shared by the region classes and the pixelization (private).
//
// Polygons are handled as spans of vertices so HTM triangles can be related to regions
// without building ConvexPolygon objects (no allocation in the envelope loop).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/relationship.hpp"
#include "majordome/sphere/unit_vector3d.hpp"

namespace majordome::sphere::detail {

using Vertices = std::span<const UnitVector3d>;

// orientation(a, b, ·) for a fixed directed edge, with a × b and the error-bound
// coefficients computed once. side() returns exactly what orientation() would.
class EdgePlane {
 public:
  EdgePlane() = default;
  EdgePlane(const Vector3d& a, const Vector3d& b);
  int side(const Vector3d& p) const;
  const Vector3d& a() const { return a_; }
  const Vector3d& b() const { return b_; }
  const Vector3d& normal() const { return n_; }  // a × b, not normalised

 private:
  Vector3d a_, b_, n_, m_;
};

// The edge planes of a polygon; inline storage for up to 16 edges.
class PolygonPlanes {
 public:
  explicit PolygonPlanes(Vertices v);
  std::size_t size() const { return n_; }
  const EdgePlane& operator[](std::size_t i) const { return n_ <= kInline ? inline_[i] : heap_[i]; }
  bool contains(const Vector3d& p) const;

 private:
  static constexpr std::size_t kInline = 16;
  std::size_t n_;
  std::array<EdgePlane, kInline> inline_;
  std::vector<EdgePlane> heap_;
};

// Exact closed point-in-polygon test (every edge: orientation ≥ 0).
bool polygon_contains(Vertices poly, const Vector3d& p);

// Squared chord distances (|p - q|² for the nearest q; 4·sin²(d/2) for angle d) from a
// unit vector p to: a great-circle arc (shorter than π), a polygon (0 inside), a
// polygon's boundary.
double sq_chord_to_arc(const Vector3d& p, const Vector3d& a, const Vector3d& b);
double sq_chord_to_polygon(Vertices poly, const Vector3d& p);
double sq_chord_to_polygon_boundary(Vertices poly, const Vector3d& p);

// The range of z over the great-circle arc from u to v.
void arc_z_range(const Vector3d& u, const Vector3d& v, double& z_min, double& z_max);

// Pairwise relations, from the first argument's point of view. REQUIRES: neither
// argument empty.
Relationship relate_polygon_polygon(Vertices a, Vertices b);
Relationship relate_polygon_circle(Vertices poly, const Circle& c);
Relationship relate_polygon_box(Vertices poly, const Box& b);
Relationship relate_circle_circle(const Circle& a, const Circle& b);
Relationship relate_circle_box(const Circle& c, const Box& b);
Relationship relate_box_box(const Box& a, const Box& b);

// Bounds of a polygon (padded).
Box polygon_bounding_box(Vertices poly);
Circle polygon_bounding_circle(Vertices poly);

// Squared chord distance from p to a box and to its boundary.
double sq_chord_to_box(const Box& b, const Vector3d& p);
double sq_chord_to_box_boundary(const Box& b, const Vector3d& p);

// Longitude-interval helpers on normalised endpoints: is `lon` ∈ [a, b] (counter-clockwise
// from a, wrapping when a > b)? Is [c, d] ⊆ [a, b]?
bool lon_interval_contains(double a, double b, double lon);
bool lon_interval_contains(double a, double b, double c, double d);
// Counter-clockwise length of [a, b] in [0, 2π).
double lon_interval_size(double a, double b);

}  // namespace majordome::sphere::detail
