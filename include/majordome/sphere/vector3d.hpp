// A 3-vector of doubles: the working type of all spherical geometry.
#pragma once

#include <cmath>

namespace majordome::sphere {

// A plain Cartesian 3-vector (any length). Points on the sphere are UnitVector3d;
// Vector3d holds intermediate results (sums, cross products, plane normals).
class Vector3d {
 public:
  constexpr Vector3d() = default;
  constexpr Vector3d(double x, double y, double z) : x_(x), y_(y), z_(z) {}

  constexpr double x() const { return x_; }
  constexpr double y() const { return y_; }
  constexpr double z() const { return z_; }

  constexpr double dot(const Vector3d& o) const { return x_ * o.x_ + y_ * o.y_ + z_ * o.z_; }
  constexpr Vector3d cross(const Vector3d& o) const {
    return {y_ * o.z_ - z_ * o.y_, z_ * o.x_ - x_ * o.z_, x_ * o.y_ - y_ * o.x_};
  }
  constexpr double squared_norm() const { return dot(*this); }
  double norm() const { return std::sqrt(squared_norm()); }
  constexpr bool is_zero() const { return x_ == 0.0 && y_ == 0.0 && z_ == 0.0; }
  bool is_finite() const { return std::isfinite(x_) && std::isfinite(y_) && std::isfinite(z_); }

  constexpr Vector3d operator-() const { return {-x_, -y_, -z_}; }
  constexpr Vector3d operator+(const Vector3d& o) const {
    return {x_ + o.x_, y_ + o.y_, z_ + o.z_};
  }
  constexpr Vector3d operator-(const Vector3d& o) const {
    return {x_ - o.x_, y_ - o.y_, z_ - o.z_};
  }
  constexpr Vector3d operator*(double s) const { return {x_ * s, y_ * s, z_ * s}; }
  constexpr Vector3d operator/(double s) const { return {x_ / s, y_ / s, z_ / s}; }

  // Exact component-wise equality.
  friend constexpr bool operator==(const Vector3d&, const Vector3d&) = default;

 private:
  double x_ = 0.0;
  double y_ = 0.0;
  double z_ = 0.0;
};

inline constexpr Vector3d operator*(double s, const Vector3d& v) { return v * s; }

}  // namespace majordome::sphere
