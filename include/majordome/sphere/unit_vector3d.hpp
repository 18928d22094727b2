// Points on the unit sphere.
#pragma once

#include "majordome/sphere/angle.hpp"
#include "majordome/sphere/vector3d.hpp"

namespace majordome::sphere {

class LonLat;

// A point on the unit sphere (a direction), stored as Cartesian x, y, z.
//
// Invariant: unit length up to rounding. Every constructor normalises, except
// from_normalized(), which trusts its input: decoded regions keep their stored doubles
// bit for bit, so re-encoding reproduces the original bytes.
// Convertible to `const Vector3d&`, so vector algebra works on it directly.
class UnitVector3d {
 public:
  // The +Z direction (north pole).
  constexpr UnitVector3d() : v_(0.0, 0.0, 1.0) {}
  // Normalises v. Throws InvalidArgumentError if v is zero or not finite.
  explicit UnitVector3d(const Vector3d& v);
  UnitVector3d(double x, double y, double z) : UnitVector3d(Vector3d(x, y, z)) {}
  // x = cos(lat)·cos(lon), y = cos(lat)·sin(lon), z = sin(lat).
  explicit UnitVector3d(const LonLat& p);

  // Trusts that (x, y, z) is already of unit length; no check, no rounding.
  static constexpr UnitVector3d from_normalized(double x, double y, double z) {
    UnitVector3d u;
    u.v_ = Vector3d(x, y, z);
    return u;
  }
  static constexpr UnitVector3d X() { return from_normalized(1.0, 0.0, 0.0); }
  static constexpr UnitVector3d Y() { return from_normalized(0.0, 1.0, 0.0); }
  static constexpr UnitVector3d Z() { return from_normalized(0.0, 0.0, 1.0); }
  // A unit vector perpendicular to v (deterministic choice).
  static UnitVector3d orthogonal_to(const Vector3d& v);

  constexpr double x() const { return v_.x(); }
  constexpr double y() const { return v_.y(); }
  constexpr double z() const { return v_.z(); }
  constexpr const Vector3d& vec() const { return v_; }
  constexpr operator const Vector3d&() const { return v_; }  // NOLINT(google-explicit-constructor)

  constexpr double dot(const Vector3d& o) const { return v_.dot(o); }
  constexpr Vector3d cross(const Vector3d& o) const { return v_.cross(o); }
  constexpr UnitVector3d operator-() const { return from_normalized(-x(), -y(), -z()); }

  // The angle between this point and p, in [0, π] (atan2 form: accurate at all scales).
  Angle angle_to(const Vector3d& p) const;
  // |this - p|²: 4·sin²(θ/2) for the angle θ between two unit vectors.
  constexpr double squared_chord_to(const Vector3d& p) const { return (v_ - p).squared_norm(); }

  friend constexpr bool operator==(const UnitVector3d&, const UnitVector3d&) = default;

 private:
  Vector3d v_;
};

}  // namespace majordome::sphere
