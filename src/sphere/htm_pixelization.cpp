#include "majordome/sphere/htm_pixelization.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "geometry.hpp"
#include "majordome/core/error.hpp"
#include "majordome/sphere/orientation.hpp"
#include "shape.hpp"

namespace majordome::sphere {
namespace {

using Triangle = std::array<UnitVector3d, 3>;

// The octahedron vertices and the root triangles S0..S3, N0..N3 (ids 8..15), each
// counter-clockwise, as defined by Kunszt, Szalay & Thakar.
constexpr UnitVector3d kOctahedron[6] = {
    UnitVector3d::from_normalized(0, 0, 1),  UnitVector3d::from_normalized(1, 0, 0),
    UnitVector3d::from_normalized(0, 1, 0),  UnitVector3d::from_normalized(-1, 0, 0),
    UnitVector3d::from_normalized(0, -1, 0), UnitVector3d::from_normalized(0, 0, -1),
};
constexpr int kRootVertices[8][3] = {
    {1, 5, 2}, {2, 5, 3}, {3, 5, 4}, {4, 5, 1},  // S0..S3
    {1, 0, 4}, {4, 0, 3}, {3, 0, 2}, {2, 0, 1},  // N0..N3
};

Triangle root_triangle(int root) {
  return {kOctahedron[kRootVertices[root][0]], kOctahedron[kRootVertices[root][1]],
          kOctahedron[kRootVertices[root][2]]};
}

UnitVector3d midpoint(const UnitVector3d& a, const UnitVector3d& b) {
  const Vector3d s = a.vec() + b.vec();
  const double n = s.norm();
  return UnitVector3d::from_normalized(s.x() / n, s.y() / n, s.z() / n);
}

Triangle child(const Triangle& t, const UnitVector3d& w0, const UnitVector3d& w1,
               const UnitVector3d& w2, int k) {
  switch (k) {
    case 0:
      return {t[0], w2, w1};
    case 1:
      return {t[1], w0, w2};
    case 2:
      return {t[2], w1, w0};
    default:
      return {w0, w1, w2};
  }
}

// Points with z ≥ 0 are northern; within a hemisphere the quadrant decides, with points
// on a meridian x = 0 or y = 0 going to the root listed first for them (matches sphgeom).
int root_of(const Vector3d& v) {
  const double x = v.x(), y = v.y();
  if (v.z() >= 0.0) {
    if (y > 0.0) return x > 0.0 ? 7 : 6;
    if (y == 0.0) return x >= 0.0 ? 7 : 5;
    return x < 0.0 ? 5 : 4;
  }
  if (y > 0.0) return x > 0.0 ? 0 : 1;
  if (y == 0.0) return x >= 0.0 ? 0 : 2;
  return x < 0.0 ? 2 : 3;
}

struct Search {
  const detail::Shape& region;
  const Circle& bound;  // region.bounding_circle()
  int level;
  bool interior;
  RangeSet& out;

  void visit(std::uint64_t id, int l, const Triangle& t) {
    if (!bound.is_full()) {
      // Cheap rejection: the triangle's vertices bound it (its circumcircle is smaller
      // than a hemisphere), so a cap around its centroid through the farthest vertex
      // contains it.
      const UnitVector3d c(t[0].vec() + t[1].vec() + t[2].vec());
      double s = 0.0;
      for (const auto& v : t) s = std::max(s, c.squared_chord_to(v));
      const double r = Circle::opening_angle_for(s).radians() + 1e-12;
      if (c.angle_to(bound.center()).radians() > r + bound.opening_angle().radians()) return;
    }
    const Relationship rel = detail::relate(region, detail::Shape::polygon(t));
    if (has(rel, Relationship::kDisjoint)) return;
    const int shift = 2 * (level - l);
    if (has(rel, Relationship::kContains)) {
      out.insert(id << shift, (id + 1) << shift);
      return;
    }
    if (l == level) {
      if (!interior) out.insert(id);
      return;
    }
    const UnitVector3d w0 = midpoint(t[1], t[2]), w1 = midpoint(t[0], t[2]),
                       w2 = midpoint(t[0], t[1]);
    for (int k = 0; k < 4; ++k) visit(4 * id + k, l + 1, child(t, w0, w1, w2, k));
  }
};

RangeSet search(const Region& region, int level, bool interior, std::size_t max_ranges) {
  RangeSet out;
  if (region.is_empty()) return out;
  const detail::Shape shape = detail::Shape::of(region);
  const Circle bound = region.bounding_circle();
  Search s{shape, bound, level, interior, out};
  for (int root = 0; root < 8; ++root) s.visit(8 + root, 0, root_triangle(root));
  out.limit_ranges(max_ranges,
                   interior ? RangeSet::Coarsening::kShrink : RangeSet::Coarsening::kExpand);
  return out;
}

}  // namespace

HtmPixelization::HtmPixelization(int level) : level_(level) {
  if (level < 0 || level > kMaxLevel) {
    throw InvalidArgumentError("HTM level " + std::to_string(level) + " is outside [0, " +
                               std::to_string(kMaxLevel) + "]");
  }
}

int HtmPixelization::level_of(std::uint64_t id) {
  if (id < 8) return -1;
  const int bits = std::bit_width(id);  // 4 + 2·level for a valid id
  if (bits % 2 != 0) return -1;
  const int level = (bits - 4) / 2;
  return level <= kMaxLevel ? level : -1;
}

std::string HtmPixelization::as_string(std::uint64_t id) {
  const int level = level_of(id);
  if (level < 0) throw InvalidArgumentError("invalid HTM pixel id " + std::to_string(id));
  std::string s;
  const std::uint64_t root = id >> (2 * level);
  s += root < 12 ? 'S' : 'N';
  s += static_cast<char>('0' + (root & 3));
  for (int l = level - 1; l >= 0; --l) s += static_cast<char>('0' + ((id >> (2 * l)) & 3));
  return s;
}

std::array<UnitVector3d, 3> HtmPixelization::triangle_vertices(std::uint64_t id) {
  const int level = level_of(id);
  if (level < 0) throw InvalidArgumentError("invalid HTM pixel id " + std::to_string(id));
  Triangle t = root_triangle(static_cast<int>((id >> (2 * level)) - 8));
  for (int l = level - 1; l >= 0; --l) {
    const int k = static_cast<int>((id >> (2 * l)) & 3);
    const UnitVector3d w0 = midpoint(t[1], t[2]), w1 = midpoint(t[0], t[2]),
                       w2 = midpoint(t[0], t[1]);
    t = child(t, w0, w1, w2, k);
  }
  return t;
}

ConvexPolygon HtmPixelization::triangle(std::uint64_t id) {
  const Triangle t = triangle_vertices(id);
  return ConvexPolygon::from_vertices({t[0], t[1], t[2]});
}

std::uint64_t HtmPixelization::index(const UnitVector3d& v) const {
  const int root = root_of(v);
  Triangle t = root_triangle(root);
  std::uint64_t id = 8 + static_cast<std::uint64_t>(root);
  for (int l = 0; l < level_; ++l) {
    const UnitVector3d w0 = midpoint(t[1], t[2]), w1 = midpoint(t[0], t[2]),
                       w2 = midpoint(t[0], t[1]);
    // Child k is on the inner side of the edge opposite its corner; the first match wins.
    int k = 3;
    if (orientation(w2, w1, v) >= 0) {
      k = 0;
    } else if (orientation(w0, w2, v) >= 0) {
      k = 1;
    } else if (orientation(w1, w0, v) >= 0) {
      k = 2;
    }
    t = child(t, w0, w1, w2, k);
    id = 4 * id + static_cast<std::uint64_t>(k);
  }
  return id;
}

RangeSet HtmPixelization::universe() const {
  RangeSet s;
  s.insert(std::uint64_t{8} << (2 * level_), std::uint64_t{16} << (2 * level_));
  return s;
}

RangeSet HtmPixelization::envelope(const Region& region, std::size_t max_ranges) const {
  return search(region, level_, false, max_ranges);
}

RangeSet HtmPixelization::interior(const Region& region, std::size_t max_ranges) const {
  return search(region, level_, true, max_ranges);
}

}  // namespace majordome::sphere
