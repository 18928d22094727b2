// Longitude/latitude boxes: RANGE and BOX searches, bounding boxes.
#pragma once

#include "majordome/sphere/angle.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::sphere {

// The closed set of points with longitude in [lon_a, lon_b] and latitude in
// [lat_a, lat_b] (radians). Longitudes are normalised to [0, 2π]; lon_a > lon_b means the
// interval wraps through 0 ([lon_a, 2π) ∪ [0, lon_b]); [0, 2π] is the full circle.
// A box touching a pole contains the pole whatever its longitudes (a polar cap when it
// spans all longitudes; an annulus when it spans all longitudes and neither pole).
//
// Empty: a NaN longitude endpoint or lat_a > lat_b. Full: all longitudes and latitudes.
//
// Relations: box–box is decided from the interval endpoints (boxes reaching the same pole
// share it). Against polygons and circles the decision is geometric (edge crossings with
// meridian and parallel sides, distances), in double precision: latitudes and
// longitudes go through atan2/asin, so answers within ~1e-15 rad of touching may go
// either way. contains() converts the point to lon/lat the same way.
// Encoding: 'b', lon_a, lon_b, lat_a, lat_b (radians): 33 bytes.
class Box final : public Region {
 public:
  static constexpr std::uint8_t kTypeCode = 'b';

  static Box empty() { return Box(); }
  static Box full() { return Box(0.0, 2.0 * kPi, -0.5 * kPi, 0.5 * kPi); }

  // The empty box (lon = NaN, NaN; lat = 1, 0).
  Box();
  // Longitude interval from lon_a counter-clockwise to lon_b, latitude interval
  // [lat_a, lat_b]. If both longitudes lie in [0, 2π) they are used as is (lon_a > lon_b
  // wraps); otherwise lon_a ≤ lon_b is required (InvalidArgumentError) and the interval
  // is [lon_a, lon_b] normalised (full if lon_b - lon_a ≥ 2π). Latitudes are clipped to
  // [-π/2, π/2]; lat_a > lat_b gives the empty box.
  static Box from_radians(double lon_a, double lon_b, double lat_a, double lat_b);
  static Box from_degrees(double lon_a, double lon_b, double lat_a, double lat_b);
  // The box centred on `center` with half-width `half_width` in longitude angle and
  // half-height `half_height` in latitude (as sphgeom's Box(center, w, h)); a half-width
  // ≥ π spans all longitudes. Negative half-sizes give the empty box.
  Box(const LonLat& center, Angle half_width, Angle half_height);
  // Stores the four values exactly as given (decoding).
  static Box from_raw(double lon_a, double lon_b, double lat_a, double lat_b) {
    return Box(lon_a, lon_b, lat_a, lat_b);
  }

  Angle lon_a() const { return Angle(lon_a_); }
  Angle lon_b() const { return Angle(lon_b_); }
  Angle lat_a() const { return Angle(lat_a_); }
  Angle lat_b() const { return Angle(lat_b_); }
  bool is_full() const;
  bool spans_all_longitudes() const;
  bool wraps() const { return lon_a_ > lon_b_; }
  // Width of the longitude interval in [0, 2π] (NaN if empty).
  Angle width() const;
  // Whether the longitude (any angle; normalised first) is in the longitude interval.
  bool contains_lon(Angle lon) const;
  bool contains(const LonLat& p) const;

  // The smallest box containing both (longitudes: the shorter covering arc).
  Box expanded_to(const Box& other) const;
  // Both intervals widened by `margin` on each side (latitudes clipped to the poles).
  Box dilated_by(Angle margin) const;

  // Region interface.
  RegionType type() const override { return RegionType::kBox; }
  std::unique_ptr<Region> clone() const override;
  bool is_empty() const override;
  bool contains(const UnitVector3d& v) const override;
  Box bounding_box() const override { return *this; }
  Circle bounding_circle() const override;
  std::vector<std::uint8_t> encode() const override;

  // REQUIRES: bytes[0] == 'b'. Throws CorruptFileError unless exactly 33 bytes.
  static Box decode(std::span<const std::uint8_t> bytes);

 private:
  Box(double lon_a, double lon_b, double lat_a, double lat_b)
      : lon_a_(lon_a), lon_b_(lon_b), lat_a_(lat_a), lat_b_(lat_b) {}

  double lon_a_, lon_b_, lat_a_, lat_b_;  // radians
};

}  // namespace majordome::sphere
