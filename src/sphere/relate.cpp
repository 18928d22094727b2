#include <optional>

#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/compound_region.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/ellipse.hpp"
#include "shape.hpp"

namespace majordome::sphere {
namespace detail {
namespace {

bool is_empty(const Shape& s) { return s.region != nullptr && s.region->is_empty(); }

bool is_full(const Shape& s) {
  if (s.region == nullptr) return false;
  switch (s.type) {
    case RegionType::kCircle:
      return static_cast<const Circle*>(s.region)->is_full();
    case RegionType::kBox:
      return static_cast<const Box*>(s.region)->is_full();
    case RegionType::kEllipse:
      return static_cast<const Ellipse*>(s.region)->is_full();
    default:
      return false;
  }
}

Relationship relate_union(const CompoundRegion& u, const Shape& other) {
  bool all_disjoint = true, all_within = true, any_contains = false, any_intersects = false;
  for (const auto& op : u.operands()) {
    const Relationship r = relate(Shape::of(*op), other);
    all_disjoint = all_disjoint && has(r, Relationship::kDisjoint);
    all_within = all_within && has(r, Relationship::kWithin);
    any_contains = any_contains || has(r, Relationship::kContains);
    any_intersects = any_intersects || has(r, Relationship::kIntersects);
  }
  Relationship out = Relationship::kNone;
  if (all_disjoint) out |= Relationship::kDisjoint;
  if (all_within) out |= Relationship::kWithin;
  if (any_contains) out |= Relationship::kContains;
  if (any_intersects) out |= Relationship::kIntersects;
  return out;
}

Relationship relate_intersection(const CompoundRegion& x, const Shape& other) {
  bool any_disjoint = false, any_within = false, all_contain = true;
  for (const auto& op : x.operands()) {
    const Relationship r = relate(Shape::of(*op), other);
    any_disjoint = any_disjoint || has(r, Relationship::kDisjoint);
    any_within = any_within || has(r, Relationship::kWithin);
    all_contain = all_contain && has(r, Relationship::kContains);
  }
  Relationship out = Relationship::kNone;
  if (any_disjoint) out |= Relationship::kDisjoint;
  if (any_within) out |= Relationship::kWithin;
  if (all_contain) {
    out |= Relationship::kContains;
    if (!is_empty(other) && !any_disjoint) out |= Relationship::kIntersects;
  }
  return out;
}

// Ellipses are related through two circles: the inscribed one (every point of it is in
// the ellipse) proves containment and overlap, the bounding one proves disjointness and
// being within.
Relationship relate_ellipse(const Ellipse& e, const Shape& other) {
  if (e.is_full()) {
    Relationship r = Relationship::kContains | Relationship::kIntersects;
    if (is_full(other)) r |= Relationship::kWithin;
    return r;
  }
  const Circle outer = e.bounding_circle();
  const Circle inner = e.inscribed_circle();
  const Relationship ro = relate(Shape::of(outer), other);
  const Relationship ri = relate(Shape::of(inner), other);
  Relationship out = Relationship::kNone;
  if (has(ro, Relationship::kDisjoint)) out |= Relationship::kDisjoint;
  if (has(ro, Relationship::kWithin)) out |= Relationship::kWithin;
  if (!inner.is_empty()) {
    if (has(ri, Relationship::kContains)) out |= Relationship::kContains;
    if (has(ri, Relationship::kIntersects)) out |= Relationship::kIntersects;
  }
  return out;
}

const Circle& as_circle(const Shape& s) { return *static_cast<const Circle*>(s.region); }
const Box& as_box(const Shape& s) { return *static_cast<const Box*>(s.region); }

}  // namespace

Shape Shape::of(const Region& r) {
  Shape s{r.type(), &r, {}};
  if (s.type == RegionType::kConvexPolygon) {
    s.vertices = static_cast<const ConvexPolygon&>(r).vertices();
  }
  return s;
}

Relationship relate(const Shape& a, const Shape& b) {
  if (a.type == RegionType::kUnion)
    return relate_union(*static_cast<const CompoundRegion*>(a.region), b);
  if (a.type == RegionType::kIntersection) {
    return relate_intersection(*static_cast<const CompoundRegion*>(a.region), b);
  }
  if (b.type == RegionType::kUnion || b.type == RegionType::kIntersection)
    return invert(relate(b, a));

  const bool a_empty = is_empty(a), b_empty = is_empty(b);
  if (a_empty || b_empty) {
    Relationship r = Relationship::kDisjoint;
    if (a_empty) r |= Relationship::kWithin;
    if (b_empty) r |= Relationship::kContains;
    return r;
  }
  if (a.type == RegionType::kEllipse)
    return relate_ellipse(*static_cast<const Ellipse*>(a.region), b);
  if (b.type == RegionType::kEllipse)
    return invert(relate_ellipse(*static_cast<const Ellipse*>(b.region), a));

  switch (a.type) {
    case RegionType::kConvexPolygon:
      switch (b.type) {
        case RegionType::kConvexPolygon:
          return relate_polygon_polygon(a.vertices, b.vertices);
        case RegionType::kCircle:
          return relate_polygon_circle(a.vertices, as_circle(b));
        case RegionType::kBox:
          return relate_polygon_box(a.vertices, as_box(b));
        default:
          break;
      }
      break;
    case RegionType::kCircle:
      switch (b.type) {
        case RegionType::kConvexPolygon:
          return invert(relate_polygon_circle(b.vertices, as_circle(a)));
        case RegionType::kCircle:
          return relate_circle_circle(as_circle(a), as_circle(b));
        case RegionType::kBox:
          return relate_circle_box(as_circle(a), as_box(b));
        default:
          break;
      }
      break;
    case RegionType::kBox:
      switch (b.type) {
        case RegionType::kConvexPolygon:
          return invert(relate_polygon_box(b.vertices, as_box(a)));
        case RegionType::kCircle:
          return invert(relate_circle_box(as_circle(b), as_box(a)));
        case RegionType::kBox:
          return relate_box_box(as_box(a), as_box(b));
        default:
          break;
      }
      break;
    default:
      break;
  }
  return Relationship::kNone;  // unreachable: the region set is closed
}

}  // namespace detail

Relationship Region::relate(const Region& other) const {
  return detail::relate(detail::Shape::of(*this), detail::Shape::of(other));
}

std::optional<bool> Region::overlaps(const Region& other) const {
  const Relationship r = relate(other);
  if (has(r, Relationship::kIntersects)) return true;
  if (has(r, Relationship::kDisjoint)) return false;
  return std::nullopt;
}

}  // namespace majordome::sphere
