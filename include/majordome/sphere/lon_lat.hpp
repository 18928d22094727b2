// Spherical coordinates (longitude/latitude, i.e. RA/Dec on the sky).
#pragma once

#include "majordome/sphere/angle.hpp"
#include "majordome/sphere/vector3d.hpp"

namespace majordome::sphere {

// A point given as longitude ∈ [0, 2π) and latitude ∈ [-π/2, π/2], both in radians.
class LonLat {
 public:
  constexpr LonLat() = default;
  // Normalises lon into [0, 2π). Throws InvalidArgumentError("invalid latitude angle …")
  // when |lat| > π/2 or either angle is NaN.
  LonLat(Angle lon, Angle lat);
  // RA/Dec style degrees; same checks.
  static LonLat from_degrees(double lon_deg, double lat_deg);
  static LonLat from_radians(double lon_rad, double lat_rad);
  // The direction of v (need not be unit length). lon = 0 at the poles and for v = 0.
  static LonLat from_vector(const Vector3d& v);

  constexpr Angle lon() const { return lon_; }
  constexpr Angle lat() const { return lat_; }

  friend constexpr bool operator==(const LonLat&, const LonLat&) = default;

 private:
  Angle lon_;
  Angle lat_;
};

}  // namespace majordome::sphere
