#include "majordome/skymap/skymap.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/image/header.hpp"
#include "majordome/sphere/orientation.hpp"
#include "majordome/sphere/unit_vector3d.hpp"

namespace majordome::skymap {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kRadPerDeg = kPi / 180.0;

// The tract WCS: `projection` centred on `center`, reference pixel `crpix` (0-based),
// CD matrix from lsst.geom's makeCdMatrix(scale, rotation, flipX=false).
image::Wcs make_wcs(const SkyMapConfig& c, const sphere::LonLat& center, image::Point2D crpix) {
  const double scale_deg = c.pixel_scale_arcsec / 3600.0;
  const double rot = c.rotation_deg * kRadPerDeg;
  image::Header h;
  h.set("NAXIS", 2);
  h.set("CTYPE1", "RA---" + c.projection);
  h.set("CTYPE2", "DEC--" + c.projection);
  h.set("CRPIX1", crpix.x + 1.0);
  h.set("CRPIX2", crpix.y + 1.0);
  h.set("CRVAL1", center.lon().degrees());
  h.set("CRVAL2", center.lat().degrees());
  h.set("CD1_1", -std::cos(rot) * scale_deg);
  h.set("CD1_2", std::sin(rot) * scale_deg);
  h.set("CD2_1", std::sin(rot) * scale_deg);
  h.set("CD2_2", std::cos(rot) * scale_deg);
  h.set("RADESYS", "ICRS");
  return image::Wcs::from_header(h);
}

// lsst.geom SpherePoint::offset: move `amount` radians along the great circle leaving
// `p` at `bearing` radians (0 = east, π/2 = north).
sphere::LonLat offset(const sphere::LonLat& p, double lon, double bearing, double amount) {
  const sphere::UnitVector3d r(p);
  const sphere::Vector3d u(-std::sin(lon), std::cos(lon), 0.0);
  const sphere::Vector3d w = r.cross(u);
  const sphere::Vector3d v = u * std::cos(bearing) + w * std::sin(bearing);
  return sphere::LonLat::from_vector(r.vec() * std::cos(amount) + v * std::sin(amount));
}

// The convex polygon of `points` with lsst.sphgeom's vertex order (the order of
// ConvexPolygon(points): a starting triangle made counter-clockwise by swapping its first
// two points, then each further point inserted where the hull is visible from it), so
// that encoded regions compare byte for byte with Rubin's. Falls back to convex_hull for
// degenerate (collinear) inputs, which a tract or patch never produces.
sphere::ConvexPolygon sphgeom_ordered_polygon(const std::array<sphere::UnitVector3d, 4>& points) {
  std::vector<sphere::UnitVector3d> hull{points[0], points[1], points[2]};
  const int first = sphere::orientation(hull[0], hull[1], hull[2]);
  if (first == 0 || points[0] == points[1]) return sphere::ConvexPolygon::convex_hull(points);
  if (first < 0) std::swap(hull[0], hull[1]);
  for (std::size_t p = 3; p < points.size(); ++p) {
    const auto& v = points[p];
    const std::size_t n = hull.size();
    // Edge (i, j) is "counter-clockwise" when v lies on its inner side. Find where that
    // stops (from) and starts again (to) going round the hull.
    const bool first_ccw = sphere::orientation(v, hull[n - 1], hull[0]) > 0;
    bool prev = first_ccw;
    std::size_t to = n;
    std::size_t from = n;
    for (std::size_t j = 1; j < n; ++j) {
      if (sphere::orientation(v, hull[j - 1], hull[j]) > 0) {
        if (!prev) {
          to = j - 1;
          prev = true;
        }
      } else if (prev) {
        from = j;
        prev = false;
      }
    }
    if (first_ccw) {
      if (!prev) to = n - 1;
    } else if (prev) {
      from = 0;
    }
    if (to == n) {
      if (first_ccw) continue;  // inside
      return sphere::ConvexPolygon::convex_hull(points);
    }
    std::vector<sphere::UnitVector3d> next;
    if (to < from) {
      next.assign(hull.begin() + static_cast<std::ptrdiff_t>(to), hull.begin() + static_cast<std::ptrdiff_t>(from));
      next.push_back(v);
    } else if (to > from) {
      next.assign(hull.begin(), hull.begin() + static_cast<std::ptrdiff_t>(from));
      next.push_back(v);
      next.insert(next.end(), hull.begin() + static_cast<std::ptrdiff_t>(to), hull.end());
    } else {
      next = hull;
      if (from == 0) {
        next.push_back(v);
      } else {
        next.insert(next.begin() + static_cast<std::ptrdiff_t>(from), v);
      }
    }
    hull = std::move(next);
  }
  return sphere::ConvexPolygon::from_vertices(std::move(hull));
}

}  // namespace

TractInfo::TractInfo(int id, sphere::LonLat center, image::Wcs wcs, image::Extent2I dimensions, int nx, int ny,
                     const SkyMapConfig& config)
    : id_(id),
      center_(center),
      wcs_(std::move(wcs)),
      dims_(dimensions),
      nx_(nx),
      ny_(ny),
      inner_(config.effective_patch_inner_dimensions()),
      border_(config.effective_patch_border()),
      clip_outer_(config.tract_builder == TractBuilderKind::kLegacy) {}

PatchInfo TractInfo::patch(int x, int y) const {
  if (x < 0 || x >= nx_ || y < 0 || y >= ny_)
    throw InvalidArgumentError(fmt::format("patch ({}, {}) is not in tract {}: x must be in [0, {}) and y in [0, {})",
                                           x, y, id_, nx_, ny_));
  PatchInfo p;
  p.x = x;
  p.y = y;
  p.id = static_cast<std::int64_t>(nx_) * y + x;
  p.inner_bbox = image::Box2I({x * inner_[0], y * inner_[1]}, {inner_[0], inner_[1]});
  image::Box2I outer({p.inner_bbox.min_x() - border_, p.inner_bbox.min_y() - border_},
                     {inner_[0] + 2 * border_, inner_[1] + 2 * border_});
  p.outer_bbox = clip_outer_ ? outer.intersection(bbox()) : outer;
  return p;
}

PatchInfo TractInfo::patch(std::int64_t id) const {
  if (id < 0 || id >= num_patches())
    throw InvalidArgumentError(fmt::format("patch {} is not in tract {} (which has patches 0..{})", id, id_,
                                           num_patches() - 1));
  return patch(static_cast<int>(id % nx_), static_cast<int>(id / nx_));
}

std::vector<sphere::ConvexPolygon> TractInfo::box_polygons(std::span<const image::Box2I> boxes) const {
  // geom's Box2D(Box2I) corners, in getCorners() order; one vectorized WCS call.
  std::vector<double> x, y;
  x.reserve(4 * boxes.size());
  y.reserve(4 * boxes.size());
  for (const auto& box : boxes) {
    const double x0 = box.min_x() - 0.5;
    const double y0 = box.min_y() - 0.5;
    const double x1 = box.max_x() + 0.5;
    const double y1 = box.max_y() + 0.5;
    x.insert(x.end(), {x0, x1, x1, x0});
    y.insert(y.end(), {y0, y0, y1, y1});
  }
  std::vector<double> ra(x.size()), dec(x.size());
  wcs_.pixel_to_sky(x, y, ra, dec);
  std::vector<sphere::ConvexPolygon> out;
  out.reserve(boxes.size());
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    std::array<sphere::UnitVector3d, 4> points;
    for (std::size_t i = 0; i < 4; ++i)
      points[i] = sphere::UnitVector3d(sphere::LonLat::from_degrees(ra[4 * b + i], dec[4 * b + i]));
    out.push_back(sphgeom_ordered_polygon(points));
  }
  return out;
}

sphere::ConvexPolygon TractInfo::box_polygon(const image::Box2I& box) const {
  return box_polygons(std::span<const image::Box2I>(&box, 1)).front();
}

std::vector<PatchInfo> TractInfo::patches() const {
  std::vector<PatchInfo> out;
  out.reserve(static_cast<std::size_t>(num_patches()));
  for (int y = 0; y < ny_; ++y)
    for (int x = 0; x < nx_; ++x) out.push_back(patch(x, y));
  return out;
}

sphere::ConvexPolygon TractInfo::outer_polygon() const { return box_polygon(bbox()); }

sphere::ConvexPolygon TractInfo::patch_polygon(const PatchInfo& patch) const { return box_polygon(patch.outer_bbox); }

SkyMap::SkyMap(SkyMapConfig config) : config_(std::move(config)) {
  config_.validate();
  if (config_.kind == SkyMapKind::kRings) {
    ring_size_rad_ = kPi / (config_.num_rings + 1);
    int total = 2;
    for (int i = 0; i < config_.num_rings; ++i) {
      const double start = ring_size_rad_ * (i + 0.5) - 0.5 * kPi;
      const double stop = start + ring_size_rad_;
      const double dec = std::min(std::fabs(start), std::fabs(stop));
      const int n = static_cast<int>(2 * kPi * std::cos(dec) / ring_size_rad_) + 1;
      ring_sizes_.push_back(n);
      total += n;
    }
    num_tracts_ = total;
  } else {
    num_tracts_ = static_cast<int>(config_.ra_list_deg.size());
  }
}

TractInfo SkyMap::tract(int id) const {
  if (id < 0 || id >= num_tracts_)
    throw InvalidArgumentError(fmt::format("tract {} is not in skymap '{}' (tracts 0..{})", id, config_.name,
                                           num_tracts_ - 1));
  double ra = 0;
  double dec = 0;
  double radius = 0;
  if (config_.kind == SkyMapKind::kRings) {
    radius = 0.5 * ring_size_rad_;
    if (id == 0) {
      dec = -0.5 * kPi;
    } else if (id == num_tracts_ - 1) {
      dec = 0.5 * kPi;
    } else {
      int ring = 0;
      int n = id - 1;
      while (ring < config_.num_rings && n >= ring_sizes_[ring]) n -= ring_sizes_[ring++];
      dec = ring_size_rad_ * (ring + 1) - 0.5 * kPi;
      ra = 2 * kPi * n / ring_sizes_[ring] + config_.ra_start_deg * kRadPerDeg;
      ra = std::fmod(ra, 2 * kPi);
      if (ra < 0) ra += 2 * kPi;
    }
  } else {
    const auto i = static_cast<std::size_t>(id);
    ra = config_.ra_list_deg[i] * kRadPerDeg;
    dec = config_.dec_list_deg[i] * kRadPerDeg;
    radius = config_.radius_list_deg[i] * kRadPerDeg;
  }
  const auto center = sphere::LonLat::from_radians(ra, dec);
  const image::Wcs initial = make_wcs(config_, center, {0.0, 0.0});

  // ExplicitTractInfo._minimumBoundingBox: the four points at radius + overlap in the
  // directions east, north, west and south of the centre.
  const double reach = radius + config_.tract_overlap_deg * kRadPerDeg;
  std::array<double, 4> corner_ra{}, corner_dec{}, px{}, py{};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto corner = offset(center, ra, (static_cast<int>(i) * 90) * kRadPerDeg, reach);
    corner_ra[i] = corner.lon().degrees();
    corner_dec[i] = corner.lat().degrees();
  }
  initial.sky_to_pixel(corner_ra, corner_dec, px, py);
  double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
  for (std::size_t i = 0; i < 4; ++i) {
    if (!std::isfinite(px[i]) || !std::isfinite(py[i]))
      throw InvalidConfigError(fmt::format("skymap '{}': tract {} does not fit its {} projection (radius {} deg); "
                                           "use smaller tracts or a TAN projection",
                                           config_.name, id, config_.projection, reach / kRadPerDeg));
    min_x = std::min(min_x, px[i]);
    min_y = std::min(min_y, py[i]);
    max_x = std::max(max_x, px[i]);
    max_y = std::max(max_y, py[i]);
  }
  // geom's Box2I(Box2D, EXPAND), then setupPatches: grow to whole patches, keeping the
  // centre (the extra pixels split with floor division).
  std::array<int, 2> bmin{static_cast<int>(std::floor(min_x + 0.5)), static_cast<int>(std::floor(min_y + 0.5))};
  std::array<int, 2> dims{static_cast<int>(std::ceil(max_x - 0.5)) + 1 - bmin[0],
                          static_cast<int>(std::ceil(max_y - 0.5)) + 1 - bmin[1]};
  const auto inner = config_.effective_patch_inner_dimensions();
  std::array<int, 2> num{};
  for (int i = 0; i < 2; ++i) {
    num[i] = (dims[i] + inner[i] - 1) / inner[i];
    const int delta = inner[i] * num[i] - dims[i];
    if (delta > 0) {
      dims[i] = inner[i] * num[i];
      bmin[i] -= delta / 2;
    }
  }
  image::Wcs wcs = make_wcs(config_, center, {-static_cast<double>(bmin[0]), -static_cast<double>(bmin[1])});
  return TractInfo(id, center, std::move(wcs), {dims[0], dims[1]}, num[0], num[1], config_);
}

SkyMap::PatchCounts SkyMap::patch_counts() const {
  PatchCounts counts;
  for (int id = 0; id < num_tracts_; ++id) {
    const TractInfo t = tract(id);
    counts.nx_max = std::max(counts.nx_max, t.num_patches_x());
    counts.ny_max = std::max(counts.ny_max, t.num_patches_y());
    counts.total += t.num_patches();
  }
  return counts;
}

std::pair<int, int> SkyMap::max_patches() const {
  const auto c = patch_counts();
  return {c.nx_max, c.ny_max};
}

}  // namespace majordome::skymap
