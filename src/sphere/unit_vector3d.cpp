#include "majordome/sphere/unit_vector3d.hpp"

#include <cmath>
#include <string>

#include "majordome/core/error.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::sphere {

UnitVector3d::UnitVector3d(const Vector3d& v) {
  const double n = v.norm();
  if (!(n > 0.0) || !std::isfinite(n)) {
    throw InvalidArgumentError("cannot normalize the vector (" + std::to_string(v.x()) + ", " +
                               std::to_string(v.y()) + ", " + std::to_string(v.z()) +
                               ") to a point on the sphere");
  }
  v_ = Vector3d(v.x() / n, v.y() / n, v.z() / n);
}

UnitVector3d::UnitVector3d(const LonLat& p) {
  const double lon = p.lon().radians(), lat = p.lat().radians();
  const double cos_lat = std::cos(lat);
  v_ = Vector3d(std::cos(lon) * cos_lat, std::sin(lon) * cos_lat, std::sin(lat));
}

UnitVector3d UnitVector3d::orthogonal_to(const Vector3d& v) {
  // Cross with the axis least aligned with v, so the result is never tiny.
  const double ax = std::fabs(v.x()), ay = std::fabs(v.y()), az = std::fabs(v.z());
  Vector3d axis = (ax <= ay && ax <= az) ? Vector3d(1, 0, 0)
                                         : (ay <= az ? Vector3d(0, 1, 0) : Vector3d(0, 0, 1));
  return UnitVector3d(v.cross(axis));
}

Angle UnitVector3d::angle_to(const Vector3d& p) const {
  return Angle(std::atan2(v_.cross(p).norm(), v_.dot(p)));
}

}  // namespace majordome::sphere
