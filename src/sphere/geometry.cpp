#include "geometry.hpp"

#include <algorithm>
#include <cmath>

#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/orientation.hpp"

namespace majordome::sphere::detail {
namespace {

constexpr double kHalfPi = 0.5 * kPi;
constexpr double kTwoPi = 2.0 * kPi;

// Padding added to computed bounds. Latitudes and longitudes go through asin/atan2,
// whose error near ±1 reaches ~1.5e-8 rad; 4e-8 rad (8 mas) covers it.
constexpr double kBoundsMargin = 4e-8;

// Circle relations compare squared chord lengths computed with a few rounding errors
// (< 2.5e-15 for unit vectors). Within that band a circle counts as touching: disjoint
// is only claimed beyond it, contains/within only inside it. lsst.sphgeom draws the same
// line, which the Butler's POINT queries rely on: a point (zero-radius circle) within
// ~5e-8 rad of a polygon overlaps it.
constexpr double kSquaredChordTolerance = 2.5e-15;

double sq(double x) { return x * x; }

UnitVector3d lonlat_vector(double lon, double lat) {
  const double c = std::cos(lat);
  return UnitVector3d::from_normalized(std::cos(lon) * c, std::sin(lon) * c, std::sin(lat));
}

// Angular distance between two longitudes, in [0, π].
double lon_distance(double a, double b) {
  double d = std::fabs(a - b);
  d = std::fmod(d, kTwoPi);
  return d > kPi ? kTwoPi - d : d;
}

// Proper crossing of arcs (a0, a1) and (b0, b1): the interiors meet in one point with
// no endpoint on the other arc's great circle. Touching configurations are left to the
// callers' vertex-containment tests.
bool arcs_cross(const EdgePlane& ea, const EdgePlane& eb) {
  const int s1 = ea.side(eb.a());
  if (s1 == 0) return false;
  const int s2 = ea.side(eb.b());
  if (s2 != -s1) return false;
  const int s3 = eb.side(ea.a());
  if (s3 == 0) return false;
  const int s4 = eb.side(ea.b());
  if (s4 != -s3) return false;
  // -s1 == s2 == -s4 == s3 selects the crossing on the same side of the sphere rather
  // than at the antipode.
  return s2 == s3;
}

// The pieces of a box boundary. Meridian sides longer than π/2 are split at their middle
// (so each piece is a short great-circle arc), and the split point is listed as a point.
struct BoxBoundary {
  bool full_lon = false;
  double la = 0, lb = 0, fa = 0, fb = 0;
  int num_meridian_pieces = 0;
  std::array<std::array<UnitVector3d, 2>, 4> meridian_pieces;
  int num_points = 0;
  std::array<UnitVector3d, 6> points;  // corners, split points, parallel representatives
  int num_parallels = 0;
  std::array<double, 2> parallels;  // latitudes of the parallel sides

  explicit BoxBoundary(const Box& b) {
    la = b.lon_a().radians();
    lb = b.lon_b().radians();
    fa = std::max(b.lat_a().radians(), -kHalfPi);
    fb = std::min(b.lat_b().radians(), kHalfPi);
    full_lon = b.spans_all_longitudes();
    if (fa > -kHalfPi) parallels[num_parallels++] = fa;
    if (fb < kHalfPi) parallels[num_parallels++] = fb;
    if (!full_lon) {
      for (double lon : {la, lb}) {
        const UnitVector3d lo = lonlat_vector(lon, fa), hi = lonlat_vector(lon, fb);
        points[num_points++] = lo;
        points[num_points++] = hi;
        if (fb - fa > kHalfPi) {
          const UnitVector3d mid = lonlat_vector(lon, 0.5 * (fa + fb));
          meridian_pieces[num_meridian_pieces++] = {lo, mid};
          meridian_pieces[num_meridian_pieces++] = {mid, hi};
          points[num_points++] = mid;
        } else {
          meridian_pieces[num_meridian_pieces++] = {lo, hi};
        }
      }
    } else {
      // Each parallel is a separate boundary component; any of its points represents it.
      for (int i = 0; i < num_parallels; ++i)
        points[num_points++] = lonlat_vector(0.0, parallels[i]);
    }
  }

  bool lon_contains(double lon) const { return full_lon || lon_interval_contains(la, lb, lon); }
};

double sq_chord_to_parallel(const BoxBoundary& bb, double lat, const Vector3d& p) {
  double target;
  if (p.x() == 0.0 && p.y() == 0.0) {
    target = bb.full_lon ? 0.0 : bb.la;
  } else {
    const double lon = LonLat::from_vector(p).lon().radians();
    if (bb.lon_contains(lon)) {
      target = lon;
    } else {
      target = lon_distance(lon, bb.la) <= lon_distance(lon, bb.lb) ? bb.la : bb.lb;
    }
  }
  return (p - lonlat_vector(target, lat).vec()).squared_norm();
}

double sq_chord_to_boundary(const BoxBoundary& bb, const Vector3d& p) {
  double best = 4.0;
  for (int i = 0; i < bb.num_meridian_pieces; ++i) {
    best = std::min(best, sq_chord_to_arc(p, bb.meridian_pieces[i][0], bb.meridian_pieces[i][1]));
  }
  for (int i = 0; i < bb.num_parallels; ++i) {
    best = std::min(best, sq_chord_to_parallel(bb, bb.parallels[i], p));
  }
  return best;
}

// Does the great-circle arc u→v meet the parallel at latitude `lat` inside the box's
// longitude interval?
bool arc_meets_parallel(const Vector3d& u, const Vector3d& v, double lat, const BoxBoundary& bb) {
  const Vector3d w0 = v - u * u.dot(v);
  const double wn = w0.norm();
  if (wn == 0.0) return false;  // zero-length arc: its endpoint is tested as a vertex
  const Vector3d w = w0 / wn;
  const double arc_len = std::atan2(u.cross(v).norm(), u.dot(v));
  const double z0 = std::sin(lat);
  // Along the arc, z(t) = u_z·cos t + w_z·sin t = A·cos(t - t0).
  const double amp = std::hypot(u.z(), w.z());
  if (amp == 0.0) {
    // The arc lies in the equator plane.
    if (z0 != 0.0) return false;
    if (bb.full_lon) return true;
    const double lu = LonLat::from_vector(u).lon().radians();
    const double lv = LonLat::from_vector(v).lon().radians();
    const bool ccw = u.cross(v).z() > 0;
    const double s = ccw ? lu : lv, e = ccw ? lv : lu;
    return bb.lon_contains(lu) || bb.lon_contains(lv) || lon_interval_contains(s, e, bb.la);
  }
  if (std::fabs(z0) > amp) return false;
  const double t0 = std::atan2(w.z(), u.z());
  const double delta = std::acos(std::clamp(z0 / amp, -1.0, 1.0));
  for (double t : {t0 - delta, t0 + delta}) {
    t = std::fmod(t, kTwoPi);
    if (t < 0) t += kTwoPi;
    if (t > arc_len + 1e-15) continue;
    const Vector3d x = u * std::cos(t) + w * std::sin(t);
    if (bb.lon_contains(LonLat::from_vector(x).lon().radians())) return true;
  }
  return false;
}

// Is the arc u→v inside the box (longitude and latitude ranges)?
bool arc_within_box(const Vector3d& u, const Vector3d& v, const BoxBoundary& bb) {
  double z_min, z_max;
  arc_z_range(u, v, z_min, z_max);
  if (z_min < std::sin(bb.fa) || z_max > std::sin(bb.fb)) return false;
  if (bb.full_lon) return true;
  const Vector3d n = u.cross(v);
  const double lu = LonLat::from_vector(u).lon().radians();
  const double lv = LonLat::from_vector(v).lon().radians();
  // Longitude changes monotonically along an arc, in the direction of sign(n_z). An arc
  // in a meridian plane keeps one longitude (the pole end has none of its own); one that
  // passes a pole, or grazes it within rounding, is conservatively refused.
  if (std::fabs(n.z()) <= 1e-15 * n.norm()) {
    const bool u_pole = u.x() == 0.0 && u.y() == 0.0, v_pole = v.x() == 0.0 && v.y() == 0.0;
    if (u_pole || v_pole) return bb.lon_contains(u_pole ? lv : lu);
    return lon_distance(lu, lv) <= 1e-15 && bb.lon_contains(lu);
  }
  const double s = n.z() > 0 ? lu : lv, e = n.z() > 0 ? lv : lu;
  return lon_interval_contains(bb.la, bb.lb, s, e);
}

// Is the parallel side at latitude `lat` (over the box's longitudes) inside the
// half-space n·x ≥ 0?
bool parallel_in_halfspace(const BoxBoundary& bb, double lat, const Vector3d& n) {
  // n·x along the parallel is cos(lat)·r·cos(lon - lon_n) + n_z·sin(lat): its minimum
  // is at lon_n + π when that longitude is on the side, else at an end.
  const double cl = std::cos(lat), sl = std::sin(lat);
  const double r = std::hypot(n.x(), n.y());
  const double deepest = -cl * r + n.z() * sl;
  if (bb.full_lon) return deepest >= 0.0;
  auto f = [&](double lon) {
    return cl * (n.x() * std::cos(lon) + n.y() * std::sin(lon)) + n.z() * sl;
  };
  double lowest = std::min(f(bb.la), f(bb.lb));
  if (r > 0.0) {
    double lon = std::atan2(n.y(), n.x()) + kPi;
    if (lon >= kTwoPi) lon -= kTwoPi;
    if (bb.lon_contains(lon)) lowest = std::min(lowest, deepest);
  }
  return lowest >= 0.0;
}

}  // namespace

// --- edges and polygons ---------------------------------------------------------------

EdgePlane::EdgePlane(const Vector3d& a, const Vector3d& b)
    : a_(a),
      b_(b),
      n_(a.cross(b)),
      m_(std::fabs(a.y() * b.z()) + std::fabs(a.z() * b.y()),
         std::fabs(a.z() * b.x()) + std::fabs(a.x() * b.z()),
         std::fabs(a.x() * b.y()) + std::fabs(a.y() * b.x())) {}

int EdgePlane::side(const Vector3d& p) const {
  // Same evaluation and error bound as orientation(), with a × b precomputed.
  const double det = n_.dot(p);
  const double permanent =
      m_.x() * std::fabs(p.x()) + m_.y() * std::fabs(p.y()) + m_.z() * std::fabs(p.z());
  const double bound = 1e-15 * permanent;
  if (permanent > 1e-280 && permanent < 1e300) {
    if (det > bound) return 1;
    if (det < -bound) return -1;
  }
  return orientation(a_, b_, p);
}

PolygonPlanes::PolygonPlanes(Vertices v) : n_(v.size()) {
  if (n_ > kInline) heap_.resize(n_);
  EdgePlane* out = n_ <= kInline ? inline_.data() : heap_.data();
  for (std::size_t i = 0; i < n_; ++i) out[i] = EdgePlane(v[i], v[(i + 1) % n_]);
}

bool PolygonPlanes::contains(const Vector3d& p) const {
  for (std::size_t i = 0; i < n_; ++i) {
    if ((*this)[i].side(p) < 0) return false;
  }
  return true;
}

bool polygon_contains(Vertices poly, const Vector3d& p) {
  const std::size_t n = poly.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (orientation(poly[i], poly[(i + 1) % n], p) < 0) return false;
  }
  return true;
}

double sq_chord_to_arc(const Vector3d& p, const Vector3d& a, const Vector3d& b) {
  const Vector3d n = a.cross(b);
  const double nn = n.squared_norm();
  const double to_ends = std::min((p - a).squared_norm(), (p - b).squared_norm());
  if (nn == 0.0) return to_ends;
  // The nearest point of the great circle is the projection of p on its plane; it is on
  // the arc when it lies between a and b (tests unchanged by the projection).
  if (a.cross(p).dot(n) >= 0.0 && p.cross(b).dot(n) >= 0.0) {
    const double s2 = std::min(1.0, sq(p.dot(n)) / nn);  // sin² of the distance
    // 2 - 2·cos d, written to stay accurate for small d.
    return std::min(to_ends, 2.0 * s2 / (1.0 + std::sqrt(1.0 - s2)));
  }
  return to_ends;
}

double sq_chord_to_polygon_boundary(Vertices poly, const Vector3d& p) {
  double best = 4.0;
  const std::size_t n = poly.size();
  for (std::size_t i = 0; i < n; ++i)
    best = std::min(best, sq_chord_to_arc(p, poly[i], poly[(i + 1) % n]));
  return best;
}

double sq_chord_to_polygon(Vertices poly, const Vector3d& p) {
  return polygon_contains(poly, p) ? 0.0 : sq_chord_to_polygon_boundary(poly, p);
}

void arc_z_range(const Vector3d& u, const Vector3d& v, double& z_min, double& z_max) {
  z_min = std::min(u.z(), v.z());
  z_max = std::max(u.z(), v.z());
  const Vector3d n = u.cross(v);
  const double nn = n.squared_norm();
  if (nn == 0.0) return;
  const double c2 = sq(n.z()) / nn;
  if (c2 >= 1.0) return;  // the equator: z ≡ 0
  const double extreme = std::sqrt(1.0 - c2);
  const Vector3d z(0, 0, 1);
  // The highest point of the great circle lies between u and v when Z does (as seen
  // around n); the lowest when -Z does.
  const double uz = u.cross(z).dot(n), zv = z.cross(v).dot(n);
  if (uz >= 0.0 && zv >= 0.0) z_max = std::max(z_max, extreme);
  if (uz <= 0.0 && zv <= 0.0) z_min = std::min(z_min, -extreme);
}

// --- relations ---------------------------------------------------------------------

Relationship relate_polygon_polygon(Vertices a, Vertices b) {
  const PolygonPlanes pa(a), pb(b);
  bool all_b_in_a = true, any_b_in_a = false;
  for (const auto& v : b) {
    const bool in = pa.contains(v);
    all_b_in_a = all_b_in_a && in;
    any_b_in_a = any_b_in_a || in;
  }
  bool all_a_in_b = true, any_a_in_b = false;
  for (const auto& v : a) {
    const bool in = pb.contains(v);
    all_a_in_b = all_a_in_b && in;
    any_a_in_b = any_a_in_b || in;
  }
  // A convex region holds the hull of any of its points, so vertex tests settle
  // containment exactly.
  Relationship r = Relationship::kNone;
  if (all_b_in_a) r |= Relationship::kContains;
  if (all_a_in_b) r |= Relationship::kWithin;
  if (any_a_in_b || any_b_in_a) return r | Relationship::kIntersects;
  // No vertex inside the other polygon: they meet only if two edges cross properly.
  for (std::size_t i = 0; i < pa.size(); ++i) {
    for (std::size_t j = 0; j < pb.size(); ++j) {
      if (arcs_cross(pa[i], pb[j])) return Relationship::kIntersects;
    }
  }
  return Relationship::kDisjoint;
}

Relationship relate_polygon_circle(Vertices poly, const Circle& c) {
  if (c.is_full()) return Relationship::kWithin | Relationship::kIntersects;
  const double s = c.squared_chord_length();
  const Vector3d& center = c.center();
  const bool center_inside = polygon_contains(poly, center);
  const double to_boundary = sq_chord_to_polygon_boundary(poly, center);
  if (!center_inside && to_boundary > s + kSquaredChordTolerance) return Relationship::kDisjoint;
  Relationship r = Relationship::kIntersects;
  // The farthest point of the polygon from the center is the nearest to its antipode.
  if (sq_chord_to_polygon(poly, -center) >= 4.0 - s + kSquaredChordTolerance)
    r |= Relationship::kWithin;
  // A cap whose center is inside and which does not reach the boundary is inside.
  if (center_inside && to_boundary >= s + kSquaredChordTolerance) r |= Relationship::kContains;
  return r;
}

Relationship relate_circle_circle(const Circle& a, const Circle& b) {
  const bool fa = a.is_full(), fb = b.is_full();
  if (fa || fb) {
    Relationship r = Relationship::kIntersects;
    if (fa) r |= Relationship::kContains;
    if (fb) r |= Relationship::kWithin;
    return r;
  }
  const double d2 = a.center().squared_chord_to(b.center());
  const Angle ta = a.opening_angle(), tb = b.opening_angle();
  if (d2 > Circle::squared_chord_length_for(ta + tb) + kSquaredChordTolerance)
    return Relationship::kDisjoint;
  Relationship r = Relationship::kIntersects;
  if (ta >= tb && d2 + kSquaredChordTolerance <= Circle::squared_chord_length_for(ta - tb)) {
    r |= Relationship::kContains;
  }
  if (tb >= ta && d2 + kSquaredChordTolerance <= Circle::squared_chord_length_for(tb - ta)) {
    r |= Relationship::kWithin;
  }
  return r;
}

Relationship relate_circle_box(const Circle& c, const Box& b) {
  const bool fc = c.is_full(), fb = b.is_full();
  if (fc || fb) {
    Relationship r = Relationship::kIntersects;
    if (fc) r |= Relationship::kContains;
    if (fb) r |= Relationship::kWithin;
    return r;
  }
  const BoxBoundary bb(b);
  const double s = c.squared_chord_length();
  const Vector3d& center = c.center();
  const bool center_inside = b.contains(c.center());
  const double to_boundary = sq_chord_to_boundary(bb, center);
  if (!center_inside && to_boundary > s + kSquaredChordTolerance) return Relationship::kDisjoint;
  Relationship r = Relationship::kIntersects;
  const UnitVector3d anti = -c.center();
  const double far = b.contains(anti) ? 0.0 : sq_chord_to_boundary(bb, anti);
  if (far >= 4.0 - s + kSquaredChordTolerance) r |= Relationship::kContains;
  if (center_inside && to_boundary >= s + kSquaredChordTolerance) r |= Relationship::kWithin;
  return r;
}

Relationship relate_box_box(const Box& a, const Box& b) {
  const double aa = a.lon_a().radians(), ab = a.lon_b().radians();
  const double ba = b.lon_a().radians(), bb = b.lon_b().radians();
  const double a_lo = a.lat_a().radians(), a_hi = a.lat_b().radians();
  const double b_lo = b.lat_a().radians(), b_hi = b.lat_b().radians();
  const bool a_full = a.spans_all_longitudes(), b_full = b.spans_all_longitudes();
  const bool lat_meet = a_lo <= b_hi && b_lo <= a_hi;
  const bool lon_meet =
      a_full || b_full || lon_interval_contains(aa, ab, ba) || lon_interval_contains(ba, bb, aa);
  // Boxes reaching the same pole share it whatever their longitudes.
  const bool share_pole =
      (a_hi >= kHalfPi && b_hi >= kHalfPi) || (a_lo <= -kHalfPi && b_lo <= -kHalfPi);
  if (!(lat_meet && lon_meet) && !share_pole) return Relationship::kDisjoint;
  Relationship r = Relationship::kIntersects;
  if (a_lo <= b_lo && b_hi <= a_hi &&
      (a_full || (!b_full && lon_interval_contains(aa, ab, ba, bb)))) {
    r |= Relationship::kContains;
  }
  if (b_lo <= a_lo && a_hi <= b_hi &&
      (b_full || (!a_full && lon_interval_contains(ba, bb, aa, ab)))) {
    r |= Relationship::kWithin;
  }
  return r;
}

Relationship relate_polygon_box(Vertices poly, const Box& b) {
  if (b.is_full()) return Relationship::kWithin | Relationship::kIntersects;
  const BoxBoundary bb(b);
  const PolygonPlanes planes(poly);
  bool any_vertex_in = false, all_vertices_in = true;
  for (const auto& v : poly) {
    const bool in = b.contains(v);
    any_vertex_in = any_vertex_in || in;
    all_vertices_in = all_vertices_in && in;
  }
  bool any_boundary_point_in = false;
  for (int i = 0; i < bb.num_points && !any_boundary_point_in; ++i) {
    any_boundary_point_in = planes.contains(bb.points[i]);
  }
  bool meet = any_vertex_in || any_boundary_point_in;
  const std::size_t n = poly.size();
  for (std::size_t i = 0; i < n && !meet; ++i) {
    const EdgePlane& e = planes[i];
    for (int j = 0; j < bb.num_meridian_pieces && !meet; ++j) {
      meet = arcs_cross(e, EdgePlane(bb.meridian_pieces[j][0], bb.meridian_pieces[j][1]));
    }
    for (int j = 0; j < bb.num_parallels && !meet; ++j) {
      meet = arc_meets_parallel(e.a(), e.b(), bb.parallels[j], bb);
    }
  }
  if (!meet) return Relationship::kDisjoint;
  Relationship r = Relationship::kIntersects;

  // Polygon within box: every edge stays in the box's longitude and latitude ranges, and
  // a box spanning all longitudes must not leave out a pole the polygon holds.
  bool within = all_vertices_in;
  for (std::size_t i = 0; i < n && within; ++i)
    within = arc_within_box(poly[i], poly[(i + 1) % n], bb);
  if (within && bb.full_lon) {
    if (bb.fb < kHalfPi && planes.contains(Vector3d(0, 0, 1))) within = false;
    if (bb.fa > -kHalfPi && planes.contains(Vector3d(0, 0, -1))) within = false;
  }
  if (within) r |= Relationship::kWithin;

  // Box within polygon: its whole boundary is inside, and the outside of the polygon
  // (which holds the antipode of any vertex) is not inside the box.
  bool contains = !b.contains(-poly[0]);
  for (int i = 0; i < bb.num_points && contains; ++i) contains = planes.contains(bb.points[i]);
  for (int i = 0; i < bb.num_meridian_pieces && contains; ++i) {
    contains =
        planes.contains(bb.meridian_pieces[i][0]) && planes.contains(bb.meridian_pieces[i][1]);
  }
  for (int j = 0; j < bb.num_parallels && contains; ++j) {
    for (std::size_t i = 0; i < n && contains; ++i)
      contains = parallel_in_halfspace(bb, bb.parallels[j], planes[i].normal());
  }
  if (contains) r |= Relationship::kContains;
  return r;
}

// --- bounds ------------------------------------------------------------------------

Box polygon_bounding_box(Vertices poly) {
  const std::size_t n = poly.size();
  double z_min = 1.0, z_max = -1.0;
  for (std::size_t i = 0; i < n; ++i) {
    double lo, hi;
    arc_z_range(poly[i], poly[(i + 1) % n], lo, hi);
    z_min = std::min(z_min, lo);
    z_max = std::max(z_max, hi);
  }
  double lat_lo = std::asin(std::clamp(z_min, -1.0, 1.0)) - kBoundsMargin;
  double lat_hi = std::asin(std::clamp(z_max, -1.0, 1.0)) + kBoundsMargin;
  const bool north = polygon_contains(poly, Vector3d(0, 0, 1));
  const bool south = polygon_contains(poly, Vector3d(0, 0, -1));
  if (north) lat_hi = kHalfPi;
  if (south) lat_lo = -kHalfPi;
  lat_lo = std::max(lat_lo, -kHalfPi);
  lat_hi = std::min(lat_hi, kHalfPi);
  if (north || south) return Box::from_raw(0.0, kTwoPi, lat_lo, lat_hi);
  // Without a pole the polygon spans less than π in longitude: its longitudes are the
  // complement of the largest gap between vertex longitudes.
  std::vector<double> lons;
  lons.reserve(n);
  for (const auto& v : poly) lons.push_back(LonLat::from_vector(v).lon().radians());
  std::sort(lons.begin(), lons.end());
  double gap = lons.front() + kTwoPi - lons.back();
  double start = lons.front(), end = lons.back();
  for (std::size_t i = 1; i < lons.size(); ++i) {
    if (lons[i] - lons[i - 1] > gap) {
      gap = lons[i] - lons[i - 1];
      start = lons[i];
      end = lons[i - 1];
    }
  }
  return Box::from_raw(start, end, lat_lo, lat_hi).dilated_by(Angle(kBoundsMargin));
}

Circle polygon_bounding_circle(Vertices poly) {
  Vector3d sum;
  for (const auto& v : poly) sum = sum + v.vec();
  if (!(sum.norm() > 0.0)) return Circle::full();
  const UnitVector3d center(sum);
  double s = 0.0;
  for (const auto& v : poly) s = std::max(s, center.squared_chord_to(v));
  // Caps wider than a hemisphere are not convex: edges may bulge past the vertices.
  if (s > 2.0) s = std::max(s, 4.0 - sq_chord_to_polygon(poly, -center));
  return Circle(center, Circle::opening_angle_for(s)).dilated_by(Angle(1e-12));
}

double sq_chord_to_box_boundary(const Box& b, const Vector3d& p) {
  return sq_chord_to_boundary(BoxBoundary(b), p);
}

double sq_chord_to_box(const Box& b, const Vector3d& p) {
  if (b.contains(UnitVector3d::from_normalized(p.x(), p.y(), p.z()))) return 0.0;
  return sq_chord_to_box_boundary(b, p);
}

// --- longitude intervals ---------------------------------------------------------------

double lon_interval_size(double a, double b) {
  if (b - a >= kTwoPi) return kTwoPi;
  return b >= a ? b - a : b - a + kTwoPi;
}

bool lon_interval_contains(double a, double b, double lon) {
  if (b - a >= kTwoPi) return true;
  if (a <= b) return (a <= lon && lon <= b) || (b >= kTwoPi && lon <= b - kTwoPi);
  return lon >= a || lon <= b;
}

bool lon_interval_contains(double a, double b, double c, double d) {
  if (b - a >= kTwoPi) return true;
  if (d - c >= kTwoPi) return false;
  if (c >= kTwoPi) c -= kTwoPi;
  const double offset = c >= a ? c - a : c - a + kTwoPi;
  return offset + lon_interval_size(c, d) <= lon_interval_size(a, b);
}

}  // namespace majordome::sphere::detail
