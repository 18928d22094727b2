#include "majordome/sphere/circle.hpp"

#include <algorithm>
#include <cmath>

#include "byte_io.hpp"
#include "majordome/sphere/box.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::sphere {
namespace {

constexpr double kHalfPi = 0.5 * kPi;
// Bounding boxes go through asin, whose error near 1 reaches ~1.5e-8 rad.
constexpr double kBoxMargin = 4e-8;
// Circle unions are computed from angles; pad them well above rounding.
constexpr double kCircleMargin = 1e-12;

}  // namespace

Circle::Circle(const UnitVector3d& center, Angle opening_angle) : center_(center) {
  const double a = opening_angle.radians();
  if (!(a >= 0.0)) {
    squared_chord_length_ = -1.0;
    opening_angle_ = -1.0;
  } else if (a >= kPi) {
    squared_chord_length_ = 4.0;
    opening_angle_ = kPi;
  } else {
    squared_chord_length_ = squared_chord_length_for(opening_angle);
    opening_angle_ = a;
  }
}

double Circle::squared_chord_length_for(Angle opening_angle) {
  const double a = opening_angle.radians();
  if (!(a >= 0.0)) return -1.0;
  if (a >= kPi) return 4.0;
  const double s = 2.0 * std::sin(0.5 * a);
  return s * s;
}

Angle Circle::opening_angle_for(double squared_chord_length) {
  if (!(squared_chord_length >= 0.0)) return Angle(-1.0);
  if (squared_chord_length >= 4.0) return Angle(kPi);
  return Angle(2.0 * std::asin(0.5 * std::sqrt(squared_chord_length)));
}

bool Circle::contains(const UnitVector3d& v) const {
  return is_full() || center_.squared_chord_to(v) <= squared_chord_length_;
}

Circle Circle::dilated_by(Angle margin) const {
  if (is_empty() || is_full()) return *this;
  return Circle(center_, Angle(opening_angle_) + margin);
}

Circle Circle::expanded_to(const Circle& other) const {
  if (other.is_empty() || is_full()) return *this;
  if (is_empty() || other.is_full()) return other;
  const double d = center_.angle_to(other.center_).radians();
  const double t1 = opening_angle_, t2 = other.opening_angle_;
  if (d + t2 <= t1) return *this;
  if (d + t1 <= t2) return other;
  const double r = 0.5 * (d + t1 + t2);
  if (r >= kPi) return full();
  // Slide the center from this circle's toward the other's by r - t1.
  const Vector3d w = other.center_.vec() - center_.vec() * center_.dot(other.center_);
  const double wn = w.norm();
  if (!(wn > 0.0)) return full();
  const double t = r - t1;
  const UnitVector3d c(center_.vec() * std::cos(t) + (w / wn) * std::sin(t));
  return Circle(c, Angle(r + kCircleMargin));
}

Box Circle::bounding_box() const {
  if (is_empty()) return Box::empty();
  if (is_full()) return Box::full();
  const LonLat c = LonLat::from_vector(center_);
  const double theta = opening_angle_ + kBoxMargin;
  const double lat = c.lat().radians();
  const double lat_lo = lat - theta, lat_hi = lat + theta;
  if (lat_hi >= kHalfPi || lat_lo <= -kHalfPi) {
    return Box::from_raw(0.0, 2.0 * kPi, std::max(lat_lo, -kHalfPi), std::min(lat_hi, kHalfPi));
  }
  // The widest longitude offset of a cap not holding a pole: sin w = sin θ / cos(lat).
  const double s = std::sin(theta) / std::cos(lat);
  if (s >= 1.0) return Box::from_raw(0.0, 2.0 * kPi, lat_lo, lat_hi);
  const double w = std::asin(s) + kBoxMargin;
  const double lon = c.lon().radians();
  return Box::from_radians(lon - w, lon + w, lat_lo, lat_hi);
}

std::unique_ptr<Region> Circle::clone() const { return std::make_unique<Circle>(*this); }

std::vector<std::uint8_t> Circle::encode() const {
  std::vector<std::uint8_t> out;
  out.reserve(41);
  out.push_back(kTypeCode);
  detail::put_f64(out, center_.x());
  detail::put_f64(out, center_.y());
  detail::put_f64(out, center_.z());
  detail::put_f64(out, squared_chord_length_);
  detail::put_f64(out, opening_angle_);
  return out;
}

Circle Circle::decode(std::span<const std::uint8_t> bytes) {
  detail::require_size(bytes, 41, "Circle");
  const UnitVector3d center = UnitVector3d::from_normalized(
      detail::get_f64(bytes, 1), detail::get_f64(bytes, 9), detail::get_f64(bytes, 17));
  return Circle(center, detail::get_f64(bytes, 25), detail::get_f64(bytes, 33));
}

}  // namespace majordome::sphere
