// Spherical caps ("circles"): cone searches.
#pragma once

#include "majordome/sphere/angle.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::sphere {

// The closed cap of points within an opening angle θ of a center: {v : |v - c|² ≤ s},
// where s = 4·sin²(θ/2) is the squared chord length. Both s and θ are stored (and
// encoded); contains() uses s, relations use s (θ for circle–circle).
//
// Relations with polygons, boxes and circles are computed from squared chord distances in
// double precision. A circle within 2.5e-15 (in squared chord) of touching another region
// counts as overlapping it — for a zero-radius circle (a POINT in a Butler query) that
// is ~5e-8 rad, 10 mas — and containment is only claimed beyond that band. Use
// contains(v) for the exact point-in-polygon answer.
//
// Empty: s < 0 (or NaN). Full (the whole sphere): s ≥ 4. A point: θ = 0.
// Encoding: 'c', center x, y, z, s, θ (radians): 41 bytes.
class Circle final : public Region {
 public:
  static constexpr std::uint8_t kTypeCode = 'c';

  static Circle empty() { return Circle(); }
  static Circle full() { return Circle(UnitVector3d::Z(), 4.0, kPi); }

  // The empty circle: center +Z, s = -1, θ = -1.
  Circle() : Circle(UnitVector3d::Z(), -1.0, -1.0) {}
  // The cap of opening angle θ around `center`: θ < 0 or NaN → empty, θ ≥ π → full.
  Circle(const UnitVector3d& center, Angle opening_angle);
  // Stores the three values exactly as given (decoding).
  static Circle from_raw(const UnitVector3d& center, double squared_chord_length,
                         double opening_angle_rad) {
    return Circle(center, squared_chord_length, opening_angle_rad);
  }

  // 4·sin²(θ/2), with -1 for θ < 0 and 4 for θ ≥ π.
  static double squared_chord_length_for(Angle opening_angle);
  // The inverse: 2·asin(√s / 2), with -1 for s < 0 and π for s ≥ 4.
  static Angle opening_angle_for(double squared_chord_length);

  const UnitVector3d& center() const { return center_; }
  double squared_chord_length() const { return squared_chord_length_; }
  Angle opening_angle() const { return Angle(opening_angle_); }
  bool is_full() const { return squared_chord_length_ >= 4.0; }

  // The smallest circle (up to rounding, padded) containing this one and `other`.
  Circle expanded_to(const Circle& other) const;
  // This circle with θ grown by `margin` (θ + margin ≥ π gives the full circle).
  Circle dilated_by(Angle margin) const;

  // Region interface.
  RegionType type() const override { return RegionType::kCircle; }
  std::unique_ptr<Region> clone() const override;
  bool is_empty() const override { return !(squared_chord_length_ >= 0.0); }
  bool contains(const UnitVector3d& v) const override;
  Box bounding_box() const override;
  Circle bounding_circle() const override { return *this; }
  std::vector<std::uint8_t> encode() const override;

  // REQUIRES: bytes[0] == 'c'. Throws CorruptFileError unless exactly 41 bytes.
  static Circle decode(std::span<const std::uint8_t> bytes);

 private:
  Circle(const UnitVector3d& center, double s, double theta)
      : center_(center), squared_chord_length_(s), opening_angle_(theta) {}

  UnitVector3d center_;
  double squared_chord_length_;
  double opening_angle_;  // radians
};

}  // namespace majordome::sphere
