// Angles on the sphere, with the unit carried by the type.
//
// An Angle stores radians. Degrees and arcseconds exist only at the edges (parsing user
// input, printing), through the named factories and accessors, so a raw double in the
// sphere API is never ambiguous about its unit.
#pragma once

#include <cmath>
#include <compare>

namespace majordome::sphere {

// π rounded to the nearest double (slightly less than π).
inline constexpr double kPi = 3.141592653589793;
// Radians per degree and degrees per radian, each correctly rounded.
inline constexpr double kRadPerDeg = 0.017453292519943295;
inline constexpr double kDegPerRad = 57.29577951308232;
inline constexpr double kRadPerArcsec = kRadPerDeg / 3600.0;

// A plane angle in radians. A plain value type: no normalisation happens unless asked
// for (normalized()), so an Angle may be negative, larger than 2π, or NaN.
class Angle {
 public:
  constexpr Angle() = default;
  constexpr explicit Angle(double radians) : radians_(radians) {}

  static constexpr Angle from_radians(double radians) { return Angle(radians); }
  // `degrees * kRadPerDeg`: the conversion every Rubin tool uses for user input.
  static constexpr Angle from_degrees(double degrees) { return Angle(degrees * kRadPerDeg); }
  static constexpr Angle from_arcseconds(double arcsec) { return Angle(arcsec * kRadPerArcsec); }

  constexpr double radians() const { return radians_; }
  constexpr double degrees() const { return radians_ * kDegPerRad; }
  constexpr double arcseconds() const { return degrees() * 3600.0; }

  bool is_nan() const { return std::isnan(radians_); }

  // The equivalent angle in [0, 2π). NaN stays NaN.
  Angle normalized() const {
    double r = radians_;
    if (r >= 0.0 && r < 2.0 * kPi) return *this;
    r = std::fmod(r, 2.0 * kPi);
    if (r < 0.0) r += 2.0 * kPi;
    if (r >= 2.0 * kPi) r = 0.0;  // -tiny + 2π rounds to 2π
    return Angle(r);
  }

  constexpr Angle operator-() const { return Angle(-radians_); }
  constexpr Angle operator+(Angle o) const { return Angle(radians_ + o.radians_); }
  constexpr Angle operator-(Angle o) const { return Angle(radians_ - o.radians_); }
  constexpr Angle operator*(double s) const { return Angle(radians_ * s); }
  constexpr Angle operator/(double s) const { return Angle(radians_ / s); }
  constexpr double operator/(Angle o) const { return radians_ / o.radians_; }
  Angle& operator+=(Angle o) {
    radians_ += o.radians_;
    return *this;
  }
  Angle& operator-=(Angle o) {
    radians_ -= o.radians_;
    return *this;
  }

  friend constexpr bool operator==(Angle, Angle) = default;
  friend constexpr auto operator<=>(Angle, Angle) = default;

 private:
  double radians_ = 0.0;
};

inline constexpr Angle operator*(double s, Angle a) { return a * s; }

}  // namespace majordome::sphere
