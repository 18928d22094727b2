#include "majordome/sphere/ellipse.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "byte_io.hpp"
#include "majordome/core/error.hpp"
#include "majordome/sphere/box.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::sphere {
namespace {

constexpr double kHalfPi = 0.5 * kPi;
// Bounding circles use semi-axis angles derived through acos; pad generously.
constexpr double kMargin = 1e-9;

}  // namespace

Ellipse::Ellipse() = default;

void Ellipse::set_axes(const Vector3d& b0, const Vector3d& b1, const Vector3d& b2, double alpha,
                       double beta, double gamma) {
  s_ = {b0.x(), b0.y(), b0.z(), b1.x(), b1.y(), b1.z(), b2.x(), b2.y(), b2.z()};
  a_ = alpha - kHalfPi;
  b_ = beta - kHalfPi;
  gamma_ = gamma;
  tan_a_ = std::fabs(std::tan(a_));
  tan_b_ = std::fabs(std::tan(b_));
}

Ellipse::Ellipse(const UnitVector3d& f1, const UnitVector3d& f2, Angle alpha) {
  const double a = alpha.radians();
  const double gamma = 0.5 * f1.angle_to(f2).radians();
  if (!(a >= gamma)) return;  // 2α < d(f1, f2): empty
  if (kPi - a <= gamma) {
    *this = full();
    return;
  }
  const Vector3d sum = f1.vec() + f2.vec();
  const UnitVector3d b2(sum);
  Vector3d b0, b1;
  const Vector3d diff = f1.vec() - f2.vec();
  const Vector3d cross = f1.cross(f2);
  if (gamma == 0.0 || cross.norm() == 0.0) {
    b0 = UnitVector3d::orthogonal_to(b2).vec();
    b1 = b0.cross(b2.vec());
  } else {
    b0 = UnitVector3d(diff).vec();
    b1 = UnitVector3d(cross).vec();
  }
  // cos β = cos α / cos γ (the second semi-axis of a spherical ellipse).
  const double cos_beta = std::cos(a) / std::cos(gamma);
  set_axes(b0, b1, b2.vec(), a, std::acos(std::clamp(cos_beta, -1.0, 1.0)), gamma);
}

Ellipse::Ellipse(const UnitVector3d& center, Angle alpha, Angle beta, Angle orientation) {
  double a = alpha.radians(), b = beta.radians(), pa = orientation.radians();
  if (!(a >= 0.0 && b >= 0.0 && a <= kPi && b <= kPi)) {
    throw InvalidArgumentError("ellipse semi-axis angles must lie in [0, 180] degrees");
  }
  if ((a < kHalfPi && b > kHalfPi) || (a > kHalfPi && b < kHalfPi)) {
    throw InvalidArgumentError(
        "ellipse semi-axis angles must both be at most, or both at least, 90 degrees");
  }
  // The focal axis is the longer one below π/2 (the shorter one above).
  if ((a < kHalfPi && a < b) || (a > kHalfPi && a > b)) {
    std::swap(a, b);
    pa += kHalfPi;
  }
  // Tangent directions at the center: north and east.
  const LonLat c = LonLat::from_vector(center);
  const double lon = c.lon().radians(), lat = c.lat().radians();
  Vector3d north(-std::sin(lat) * std::cos(lon), -std::sin(lat) * std::sin(lon), std::cos(lat));
  Vector3d east(-std::sin(lon), std::cos(lon), 0.0);
  const Vector3d b0 = north * std::cos(pa) + east * std::sin(pa);
  const Vector3d b2 = center.vec();
  const Vector3d b1 = b0.cross(b2);
  double gamma = 0.0;
  if (std::cos(b) != 0.0) gamma = std::acos(std::clamp(std::cos(a) / std::cos(b), -1.0, 1.0));
  set_axes(b0, b1, b2, a, b, gamma);
}

Ellipse::Ellipse(const Circle& circle) {
  if (circle.is_empty()) return;
  *this = Ellipse(circle.center(), circle.center(), circle.opening_angle());
}

Ellipse Ellipse::from_raw(const std::array<double, 9>& s, double a, double b, double gamma,
                          double tan_a, double tan_b) {
  Ellipse e;
  e.s_ = s;
  e.a_ = a;
  e.b_ = b;
  e.gamma_ = gamma;
  e.tan_a_ = tan_a;
  e.tan_b_ = tan_b;
  return e;
}

UnitVector3d Ellipse::center() const { return UnitVector3d::from_normalized(s_[6], s_[7], s_[8]); }

UnitVector3d Ellipse::f1() const {
  const Vector3d c(s_[6], s_[7], s_[8]), b0(s_[0], s_[1], s_[2]);
  return UnitVector3d(c * std::cos(gamma_) + b0 * std::sin(gamma_));
}

UnitVector3d Ellipse::f2() const {
  const Vector3d c(s_[6], s_[7], s_[8]), b0(s_[0], s_[1], s_[2]);
  return UnitVector3d(c * std::cos(gamma_) - b0 * std::sin(gamma_));
}

bool Ellipse::is_empty() const { return kHalfPi + a_ < gamma_; }

bool Ellipse::is_full() const { return kHalfPi - a_ <= gamma_; }

Ellipse Ellipse::complemented() const {
  Ellipse e = *this;
  for (int i : {0, 1, 2, 6, 7, 8}) e.s_[i] = -e.s_[i];
  e.a_ = -a_;
  e.b_ = -b_;
  return e;
}

bool Ellipse::contains(const UnitVector3d& v) const {
  if (is_empty()) return false;
  if (is_full()) return true;
  const double x = s_[0] * v.x() + s_[1] * v.y() + s_[2] * v.z();
  const double y = s_[3] * v.x() + s_[4] * v.y() + s_[5] * v.z();
  const double z = s_[6] * v.x() + s_[7] * v.y() + s_[8] * v.z();
  const double xt = x * tan_a_, yt = y * tan_b_;
  const double q = xt * xt + yt * yt - z * z;
  // Inside the cone around +z; above π/2 the closure of the outside of the cone around -z.
  if (a_ < 0.0) return z >= 0.0 && q <= 0.0;
  return z >= 0.0 || q >= 0.0;
}

Circle Ellipse::bounding_circle() const {
  if (is_empty()) return Circle::empty();
  if (is_full()) return Circle::full();
  return Circle(center(), Angle(kHalfPi + std::max(a_, b_) + kMargin));
}

Circle Ellipse::inscribed_circle() const {
  if (is_empty()) return Circle::empty();
  if (is_full()) return Circle::full();
  const double r = kHalfPi + std::min(a_, b_) - kMargin;
  if (r < 0.0) return Circle::empty();
  return Circle(center(), Angle(r));
}

Box Ellipse::bounding_box() const { return bounding_circle().bounding_box(); }

std::unique_ptr<Region> Ellipse::clone() const { return std::make_unique<Ellipse>(*this); }

std::vector<std::uint8_t> Ellipse::encode() const {
  std::vector<std::uint8_t> out;
  out.reserve(113);
  out.push_back(kTypeCode);
  for (double v : s_) detail::put_f64(out, v);
  for (double v : {a_, b_, gamma_, tan_a_, tan_b_}) detail::put_f64(out, v);
  return out;
}

Ellipse Ellipse::decode(std::span<const std::uint8_t> bytes) {
  detail::require_size(bytes, 113, "Ellipse");
  std::array<double, 9> s;
  for (int i = 0; i < 9; ++i) s[i] = detail::get_f64(bytes, 1 + 8 * i);
  return from_raw(s, detail::get_f64(bytes, 73), detail::get_f64(bytes, 81),
                  detail::get_f64(bytes, 89), detail::get_f64(bytes, 97),
                  detail::get_f64(bytes, 105));
}

}  // namespace majordome::sphere
