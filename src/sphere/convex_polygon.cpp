#include "majordome/sphere/convex_polygon.hpp"

#include <algorithm>
#include <string>

#include "byte_io.hpp"
#include "geometry.hpp"
#include "majordome/core/error.hpp"
#include "majordome/sphere/orientation.hpp"

namespace majordome::sphere {

ConvexPolygon ConvexPolygon::from_vertices(std::vector<UnitVector3d> vertices) {
  if (vertices.size() < 3) {
    throw InvalidArgumentError("a convex polygon needs at least 3 vertices, got " +
                               std::to_string(vertices.size()));
  }
  return ConvexPolygon(std::move(vertices));
}

ConvexPolygon ConvexPolygon::convex_hull(std::span<const UnitVector3d> input) {
  std::vector<UnitVector3d> points;
  points.reserve(input.size());
  for (const auto& p : input) {
    if (std::find(points.begin(), points.end(), p) == points.end()) points.push_back(p);
  }
  if (points.size() < 3) {
    throw InvalidArgumentError("a convex polygon needs at least 3 distinct points, got " +
                               std::to_string(points.size()));
  }
  Vector3d sum;
  for (const auto& p : points) sum = sum + p.vec();
  if (!(sum.norm() > 0.0)) {
    throw InvalidArgumentError("the polygon points do not lie in a hemisphere");
  }
  // Gift wrapping with the exact predicate. The point farthest from the mean direction
  // is a hull vertex (points sharing a hemisphere lie in a cap where it is extreme).
  const UnitVector3d mean(sum);
  std::size_t start = 0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    if (points[i].dot(mean) < points[start].dot(mean)) start = i;
  }
  std::vector<UnitVector3d> hull;
  std::size_t current = start;
  for (std::size_t step = 0; step <= points.size(); ++step) {
    hull.push_back(points[current]);
    std::size_t next = current == 0 ? 1 : 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (i == current || i == next) continue;
      const int o = orientation(points[current], points[next], points[i]);
      if (o < 0) {
        next = i;
      } else if (o == 0) {
        // Collinear: keep the farther point ahead of `current`, so middle points drop out.
        const Vector3d ahead = points[current].cross(points[next]);
        const Vector3d to_i = points[current].cross(points[i]);
        if (ahead.dot(to_i) > 0.0 &&
            points[current].dot(points[i]) < points[current].dot(points[next]))
          next = i;
      }
    }
    current = next;
    if (current == start) break;
  }
  const std::size_t n = hull.size();
  bool ok = current == start && n >= 3;
  for (std::size_t i = 0; ok && i < n; ++i) {
    ok = orientation(hull[i], hull[(i + 1) % n], hull[(i + 2) % n]) > 0;
  }
  for (std::size_t i = 0; ok && i < points.size(); ++i)
    ok = detail::polygon_contains(hull, points[i]);
  if (!ok) {
    throw InvalidArgumentError(
        "the polygon points do not form a convex polygon within a hemisphere (are they collinear, "
        "or spread "
        "over more than half the sky?)");
  }
  return ConvexPolygon(std::move(hull));
}

UnitVector3d ConvexPolygon::centroid() const {
  Vector3d sum;
  for (const auto& v : vertices_) sum = sum + v.vec();
  return UnitVector3d(sum);
}

bool ConvexPolygon::contains(const UnitVector3d& v) const {
  return detail::polygon_contains(vertices_, v);
}

Box ConvexPolygon::bounding_box() const { return detail::polygon_bounding_box(vertices_); }

Circle ConvexPolygon::bounding_circle() const { return detail::polygon_bounding_circle(vertices_); }

std::unique_ptr<Region> ConvexPolygon::clone() const {
  return std::make_unique<ConvexPolygon>(*this);
}

std::vector<std::uint8_t> ConvexPolygon::encode() const {
  std::vector<std::uint8_t> out;
  out.reserve(1 + 24 * vertices_.size());
  out.push_back(kTypeCode);
  for (const auto& v : vertices_) {
    detail::put_f64(out, v.x());
    detail::put_f64(out, v.y());
    detail::put_f64(out, v.z());
  }
  return out;
}

ConvexPolygon ConvexPolygon::decode(std::span<const std::uint8_t> bytes) {
  if (bytes.empty() || (bytes.size() - 1) % 24 != 0) {
    throw CorruptFileError("encoded ConvexPolygon has " + std::to_string(bytes.size()) +
                           " bytes; expected 1 + 24 per vertex");
  }
  const std::size_t n = (bytes.size() - 1) / 24;
  if (n < 3) {
    throw CorruptFileError("encoded ConvexPolygon has " + std::to_string(n) +
                           " vertices; at least 3 are needed");
  }
  std::vector<UnitVector3d> vertices;
  vertices.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t o = 1 + 24 * i;
    vertices.push_back(UnitVector3d::from_normalized(
        detail::get_f64(bytes, o), detail::get_f64(bytes, o + 8), detail::get_f64(bytes, o + 16)));
  }
  return ConvexPolygon(std::move(vertices));
}

}  // namespace majordome::sphere
