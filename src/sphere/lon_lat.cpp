#include "majordome/sphere/lon_lat.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "majordome/core/error.hpp"

namespace majordome::sphere {
namespace {

std::string format_degrees(double rad) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", rad * kDegPerRad);
  return buf;
}

}  // namespace

LonLat::LonLat(Angle lon, Angle lat) {
  if (lon.is_nan() || !std::isfinite(lon.radians())) {
    throw InvalidArgumentError("invalid longitude angle " + format_degrees(lon.radians()) +
                               " degrees");
  }
  if (!(std::fabs(lat.radians()) <= 0.5 * kPi)) {
    throw InvalidArgumentError("invalid latitude angle " + format_degrees(lat.radians()) +
                               " degrees (must be within [-90, 90])");
  }
  lon_ = lon.normalized();
  lat_ = lat;
}

LonLat LonLat::from_degrees(double lon_deg, double lat_deg) {
  if (std::fabs(lat_deg) > 90.0) {
    // Degrees are checked as given: 90° converts to slightly more than the double π/2.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", lat_deg);
    throw InvalidArgumentError(std::string("invalid latitude angle ") + buf +
                               " degrees (must be within [-90, 90])");
  }
  Angle lat = Angle::from_degrees(lat_deg);
  if (lat.radians() > 0.5 * kPi) lat = Angle(0.5 * kPi);
  if (lat.radians() < -0.5 * kPi) lat = Angle(-0.5 * kPi);
  return LonLat(Angle::from_degrees(lon_deg), lat);
}

LonLat LonLat::from_radians(double lon_rad, double lat_rad) {
  return LonLat(Angle(lon_rad), Angle(lat_rad));
}

LonLat LonLat::from_vector(const Vector3d& v) {
  LonLat p;
  const double d2 = v.x() * v.x() + v.y() * v.y();
  double lon = 0.0;
  if (d2 != 0.0) {
    lon = std::atan2(v.y(), v.x());
    if (lon < 0.0) lon += 2.0 * kPi;
    if (lon >= 2.0 * kPi) lon = 0.0;
  }
  p.lon_ = Angle(lon);
  p.lat_ = Angle(std::atan2(v.z(), std::sqrt(d2)));
  return p;
}

}  // namespace majordome::sphere
