// Convex spherical polygons: visit, detector, tract and patch footprints.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::sphere {

// A convex polygon whose edges are great-circle arcs, given by its vertices in
// counter-clockwise order (seen from outside the sphere). The region is closed and is,
// by definition, the set of points v with orientation(v_i, v_i+1, v) ≥ 0 for every edge
// — the same definition lsst.sphgeom uses, so stored footprints with repeated or nearly
// collinear vertices behave the same here as there.
//
// Exactness: contains() and relate()/overlaps() against another ConvexPolygon use only
// the exact orientation() predicate, so they are exact on the stored doubles (no
// tolerance, no bounding-circle shortcut). Against Circle and Box they are decided
// geometrically (distances to edges, edge/parallel crossings) in double precision; see
// Circle for the touching tolerance.
//
// Encoding: 'p' then N × (x, y, z) little-endian doubles, N ≥ 3 (1 + 24·N bytes).
class ConvexPolygon final : public Region {
 public:
  static constexpr std::uint8_t kTypeCode = 'p';

  // The convex hull of `points` (duplicates and collinear points dropped; order free).
  // Throws InvalidArgumentError unless the points span a proper polygon inside an open
  // hemisphere (at least 3 non-collinear distinct points).
  static ConvexPolygon convex_hull(std::span<const UnitVector3d> points);

  // Trusts `vertices` to be a counter-clockwise convex polygon; only requires ≥ 3
  // (InvalidArgumentError otherwise). The vertices are stored exactly as given.
  static ConvexPolygon from_vertices(std::vector<UnitVector3d> vertices);

  const std::vector<UnitVector3d>& vertices() const { return vertices_; }
  // The normalised sum of the vertices (a point inside any proper convex polygon).
  UnitVector3d centroid() const;

  // Region interface.
  RegionType type() const override { return RegionType::kConvexPolygon; }
  std::unique_ptr<Region> clone() const override;
  bool is_empty() const override { return false; }
  bool contains(const UnitVector3d& v) const override;
  Box bounding_box() const override;
  Circle bounding_circle() const override;
  std::vector<std::uint8_t> encode() const override;

  // REQUIRES: bytes[0] == 'p'. Throws CorruptFileError on a bad length or N < 3.
  static ConvexPolygon decode(std::span<const std::uint8_t> bytes);

 private:
  explicit ConvexPolygon(std::vector<UnitVector3d> vertices) : vertices_(std::move(vertices)) {}
  std::vector<UnitVector3d> vertices_;
};

}  // namespace majordome::sphere
