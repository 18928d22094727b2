#include "majordome/sphere/box.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "byte_io.hpp"
#include "geometry.hpp"
#include "majordome/core/error.hpp"
#include "majordome/sphere/circle.hpp"

namespace majordome::sphere {
namespace {

constexpr double kHalfPi = 0.5 * kPi;
constexpr double kTwoPi = 2.0 * kPi;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool in_range(double x) { return x >= 0.0 && x < kTwoPi; }

}  // namespace

Box::Box() : lon_a_(kNaN), lon_b_(kNaN), lat_a_(1.0), lat_b_(0.0) {}

Box Box::from_radians(double lon_a, double lon_b, double lat_a, double lat_b) {
  if (std::isnan(lon_a) || std::isnan(lon_b) || std::isnan(lat_a) || std::isnan(lat_b) ||
      lat_a > lat_b) {
    return empty();
  }
  lat_a = std::max(lat_a, -kHalfPi);
  lat_b = std::min(lat_b, kHalfPi);
  if (lat_a > lat_b) return empty();
  if (!(in_range(lon_a) && in_range(lon_b))) {
    if (lon_a > lon_b) {
      throw InvalidArgumentError(
          "invalid longitude interval [" + std::to_string(lon_a * kDegPerRad) + ", " +
          std::to_string(lon_b * kDegPerRad) +
          "] degrees: outside [0, 360) the first longitude must not exceed the second");
    }
    if (lon_b - lon_a >= kTwoPi) {
      lon_a = 0.0;
      lon_b = kTwoPi;
    } else {
      lon_a = Angle(lon_a).normalized().radians();
      lon_b = Angle(lon_b).normalized().radians();
    }
  }
  return Box(lon_a, lon_b, lat_a, lat_b);
}

Box Box::from_degrees(double lon_a, double lon_b, double lat_a, double lat_b) {
  return from_radians(lon_a * kRadPerDeg, lon_b * kRadPerDeg, lat_a * kRadPerDeg,
                      lat_b * kRadPerDeg);
}

Box::Box(const LonLat& center, Angle half_width, Angle half_height) : Box() {
  const double w = half_width.radians(), h = half_height.radians();
  if (!(w >= 0.0) || !(h >= 0.0)) return;
  const double lon = center.lon().radians(), lat = center.lat().radians();
  const double lat_a = std::max(lat - h, -kHalfPi), lat_b = std::min(lat + h, kHalfPi);
  if (w >= kPi) {
    *this = Box(0.0, kTwoPi, lat_a, lat_b);
  } else {
    *this = Box(Angle(lon - w).normalized().radians(), Angle(lon + w).normalized().radians(), lat_a,
                lat_b);
  }
}

bool Box::is_empty() const {
  return std::isnan(lon_a_) || std::isnan(lon_b_) || !(lat_a_ <= lat_b_);
}

bool Box::spans_all_longitudes() const { return lon_b_ - lon_a_ >= kTwoPi; }

bool Box::is_full() const {
  return !is_empty() && spans_all_longitudes() && lat_a_ <= -kHalfPi && lat_b_ >= kHalfPi;
}

Angle Box::width() const {
  if (is_empty()) return Angle(kNaN);
  return Angle(detail::lon_interval_size(lon_a_, lon_b_));
}

bool Box::contains_lon(Angle lon) const {
  if (is_empty()) return false;
  return detail::lon_interval_contains(lon_a_, lon_b_, lon.normalized().radians());
}

bool Box::contains(const LonLat& p) const {
  if (is_empty()) return false;
  const double lat = p.lat().radians();
  if (lat < lat_a_ || lat > lat_b_) return false;
  // The poles belong to a box reaching them whatever its longitudes.
  if (lat >= kHalfPi || lat <= -kHalfPi) return true;
  return detail::lon_interval_contains(lon_a_, lon_b_, p.lon().radians());
}

bool Box::contains(const UnitVector3d& v) const {
  if (is_empty()) return false;
  if (v.x() == 0.0 && v.y() == 0.0) {
    return v.z() > 0.0 ? lat_b_ >= kHalfPi : lat_a_ <= -kHalfPi;
  }
  return contains(LonLat::from_vector(v));
}

Box Box::expanded_to(const Box& other) const {
  if (other.is_empty()) return *this;
  if (is_empty()) return other;
  const double lat_a = std::min(lat_a_, other.lat_a_), lat_b = std::max(lat_b_, other.lat_b_);
  const double a1 = lon_a_, b1 = lon_b_, a2 = other.lon_a_, b2 = other.lon_b_;
  if (spans_all_longitudes() || other.spans_all_longitudes()) return Box(0.0, kTwoPi, lat_a, lat_b);
  double la, lb;
  if (detail::lon_interval_contains(a1, b1, a2, b2)) {
    la = a1, lb = b1;
  } else if (detail::lon_interval_contains(a2, b2, a1, b1)) {
    la = a2, lb = b2;
  } else if (detail::lon_interval_contains(a1, b1, a2) &&
             detail::lon_interval_contains(a2, b2, a1)) {
    return Box(0.0, kTwoPi, lat_a, lat_b);  // together they go all the way round
  } else if (detail::lon_interval_contains(a1, b1, a2)) {
    la = a1, lb = b2;  // overlapping, the other one continues past b1
  } else if (detail::lon_interval_contains(a2, b2, a1)) {
    la = a2, lb = b1;
  } else {
    // Disjoint: bridge the smaller of the two gaps.
    const double gap12 = detail::lon_interval_size(b1, a2),
                 gap21 = detail::lon_interval_size(b2, a1);
    if (gap12 <= gap21) {
      la = a1, lb = b2;
    } else {
      la = a2, lb = b1;
    }
  }
  if (detail::lon_interval_size(la, lb) >= kTwoPi) return Box(0.0, kTwoPi, lat_a, lat_b);
  return Box(la, lb, lat_a, lat_b);
}

Box Box::dilated_by(Angle margin) const {
  if (is_empty() || is_full()) return *this;
  const double m = margin.radians();
  const double lat_a = std::max(lat_a_ - m, -kHalfPi), lat_b = std::min(lat_b_ + m, kHalfPi);
  if (spans_all_longitudes() || detail::lon_interval_size(lon_a_, lon_b_) + 2.0 * m >= kTwoPi) {
    return Box(0.0, kTwoPi, lat_a, lat_b);
  }
  return Box(Angle(lon_a_ - m).normalized().radians(), Angle(lon_b_ + m).normalized().radians(),
             lat_a, lat_b);
}

Circle Box::bounding_circle() const {
  if (is_empty()) return Circle::empty();
  if (is_full()) return Circle::full();
  const double lat_a = std::max(lat_a_, -kHalfPi), lat_b = std::min(lat_b_, kHalfPi);
  const double size = detail::lon_interval_size(lon_a_, lon_b_);
  if (spans_all_longitudes() || size > kPi) {
    // Centre on the nearer pole.
    const double north = kHalfPi - lat_a, south = lat_b + kHalfPi;
    if (north <= south) return Circle(UnitVector3d::Z(), Angle(north + 1e-12));
    return Circle(-UnitVector3d::Z(), Angle(south + 1e-12));
  }
  // With at most π of longitude, the farthest points from the centre are corners.
  const double lon_c = Angle(lon_a_ + 0.5 * size).normalized().radians();
  const UnitVector3d c(LonLat::from_radians(lon_c, 0.5 * (lat_a + lat_b)));
  double s = 0.0;
  for (double lon : {lon_a_, lon_b_}) {
    for (double lat : {lat_a, lat_b}) {
      s = std::max(s, c.squared_chord_to(UnitVector3d(
                          LonLat::from_radians(Angle(lon).normalized().radians(), lat))));
    }
  }
  return Circle(c, Circle::opening_angle_for(s)).dilated_by(Angle(1e-12));
}

std::unique_ptr<Region> Box::clone() const { return std::make_unique<Box>(*this); }

std::vector<std::uint8_t> Box::encode() const {
  std::vector<std::uint8_t> out;
  out.reserve(33);
  out.push_back(kTypeCode);
  detail::put_f64(out, lon_a_);
  detail::put_f64(out, lon_b_);
  detail::put_f64(out, lat_a_);
  detail::put_f64(out, lat_b_);
  return out;
}

Box Box::decode(std::span<const std::uint8_t> bytes) {
  detail::require_size(bytes, 33, "Box");
  return Box(detail::get_f64(bytes, 1), detail::get_f64(bytes, 9), detail::get_f64(bytes, 17),
             detail::get_f64(bytes, 25));
}

}  // namespace majordome::sphere
