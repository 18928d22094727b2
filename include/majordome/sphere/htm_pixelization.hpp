// The Hierarchical Triangular Mesh (HTM) pixelization of the sphere.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/range_set.hpp"
#include "majordome/sphere/region.hpp"
#include "majordome/sphere/unit_vector3d.hpp"

namespace majordome::sphere {

// HTM (Kunszt, Szalay & Thakar) with the numbering used by lsst.sphgeom and the Butler
// (`htm7` is the registry's common skypix dimension):
//
//  * level 0: the 8 faces of the octahedron with vertices ±X, ±Y, ±Z —
//    S0..S3 = ids 8..11 and N0..N3 = ids 12..15 (docs/sphere.md lists their vertices);
//  * each triangle (v0, v1, v2) splits at the normalised edge midpoints
//    w0 = mid(v1, v2), w1 = mid(v0, v2), w2 = mid(v0, v1) into children
//    4·id + 0 = (v0, w2, w1), +1 = (v1, w0, w2), +2 = (v2, w1, w0), +3 = (w0, w1, w2);
//  * so a level-L id lies in [8·4^L, 16·4^L) and level() can be read from its bit length.
//
// Points on a shared edge or vertex go to exactly one pixel (the same choices as
// sphgeom: the first child in the order 0, 1, 2, 3 whose closed triangle holds the point;
// z ≥ 0 goes north). Thread-safe; index() neither allocates nor loops more than level+1
// times.
class HtmPixelization {
 public:
  static constexpr int kMaxLevel = 24;

  // Throws InvalidArgumentError unless 0 ≤ level ≤ kMaxLevel.
  explicit HtmPixelization(int level);
  int level() const { return level_; }

  // The level of a pixel id, or -1 if `id` is not a valid HTM id (levels 0..24).
  static int level_of(std::uint64_t id);
  // "S0".."N3" followed by one child digit per level, e.g. "N312" for id 0b1111'01'10.
  // Throws InvalidArgumentError for an invalid id.
  static std::string as_string(std::uint64_t id);
  // The three vertices of pixel `id`, counter-clockwise (InvalidArgumentError if invalid).
  static std::array<UnitVector3d, 3> triangle_vertices(std::uint64_t id);
  static ConvexPolygon triangle(std::uint64_t id);

  // The id of the level-`level()` pixel containing v.
  std::uint64_t index(const UnitVector3d& v) const;

  // All pixel ids of this level: [8·4^L, 16·4^L).
  RangeSet universe() const;

  // Pixels whose triangle overlaps `region` (a superset when the region's relation to a
  // triangle is not decided, e.g. an Ellipse). With max_ranges > 0 the result is coarsened
  // to at most that many ranges by filling the smallest gaps (still an envelope).
  RangeSet envelope(const Region& region, std::size_t max_ranges = 0) const;
  // Pixels whose triangle is certainly inside `region`. With max_ranges > 0 the smallest
  // ranges are dropped until at most that many remain (still an interior).
  RangeSet interior(const Region& region, std::size_t max_ranges = 0) const;

  friend bool operator==(const HtmPixelization&, const HtmPixelization&) = default;

 private:
  int level_;
};

}  // namespace majordome::sphere
