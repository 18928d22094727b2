// Spherical ellipses.
#pragma once

#include <array>
#include <limits>

#include "majordome/sphere/angle.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::sphere {

// The closed set of points v with d(v, f1) + d(v, f2) ≤ 2α for foci f1, f2 (d = angle).
//
// Representation (the sphgeom one, so the encoding round-trips): an orthogonal matrix S
// whose rows are b0 = (f1 - f2)/|f1 - f2| (major axis for α < π/2), b1 = (f1 × f2)/|…|
// and b2 = the center; a = α - π/2 and b = β - π/2 with cos β = cos α / cos γ; γ = half
// the angle between the foci; |tan a| and |tan b|. In the frame u = S·v the boundary is
// the cone u_x²·tan²a + u_y²·tan²b = u_z². An ellipse with α > π/2 is the closure of the
// complement of the ellipse around -center with semi-axes π - α, π - β.
// Empty when π/2 + a < γ; full when π/2 - a ≤ γ.
//
// Exactness: contains() evaluates the cone inequality in double precision. relate() is
// CONSERVATIVE: it uses the bounding circle (radius max(α, β)) to prove kDisjoint /
// kWithin and the inscribed circle (radius min(α, β)) to prove kContains / kIntersects;
// in between the answer is "unknown" (neither kDisjoint nor kIntersects).
//
// Encoding: 'e', S row-major (9 doubles), a, b, γ, |tan a|, |tan b| (radians): 113 bytes.
class Ellipse final : public Region {
 public:
  static constexpr std::uint8_t kTypeCode = 'e';

  static Ellipse empty() { return Ellipse(); }
  static Ellipse full() { return Ellipse().complemented(); }

  // The empty ellipse (S = identity, a = b = -2, γ = 0, tan = +inf).
  Ellipse();
  // Foci f1, f2 and semi-axis angle α (the focal definition above).
  Ellipse(const UnitVector3d& f1, const UnitVector3d& f2, Angle alpha);
  // Center, semi-axis angles α (first axis) and β, and the position angle (east of
  // north) of the first axis. α and β must both be ≤ π/2 or both ≥ π/2
  // (InvalidArgumentError otherwise).
  Ellipse(const UnitVector3d& center, Angle alpha, Angle beta, Angle orientation);
  explicit Ellipse(const Circle& circle);
  // Stores the 14 values exactly as given (decoding).
  static Ellipse from_raw(const std::array<double, 9>& s, double a, double b, double gamma,
                          double tan_a, double tan_b);

  UnitVector3d center() const;
  UnitVector3d f1() const;
  UnitVector3d f2() const;
  Angle alpha() const { return Angle(0.5 * kPi + a_); }  // first semi-axis angle
  Angle beta() const { return Angle(0.5 * kPi + b_); }   // second semi-axis angle
  Angle gamma() const { return Angle(gamma_); }          // half the angle between the foci
  const std::array<double, 9>& transform_matrix() const { return s_; }
  bool is_full() const;
  // The closure of the complement (exact: only sign changes).
  Ellipse complemented() const;

  // Circles of radius min(α, β) (inside) and max(α, β) (around), same center.
  Circle inscribed_circle() const;

  // Region interface.
  RegionType type() const override { return RegionType::kEllipse; }
  std::unique_ptr<Region> clone() const override;
  bool is_empty() const override;
  bool contains(const UnitVector3d& v) const override;
  Box bounding_box() const override;
  Circle bounding_circle() const override;
  std::vector<std::uint8_t> encode() const override;

  // REQUIRES: bytes[0] == 'e'. Throws CorruptFileError unless exactly 113 bytes.
  static Ellipse decode(std::span<const std::uint8_t> bytes);

 private:
  void set_axes(const Vector3d& b0, const Vector3d& b1, const Vector3d& b2, double alpha,
                double beta, double gamma);

  std::array<double, 9> s_{1, 0, 0, 0, 1, 0, 0, 0, 1};
  double a_ = -2.0;
  double b_ = -2.0;
  double gamma_ = 0.0;
  double tan_a_ = std::numeric_limits<double>::infinity();
  double tan_b_ = std::numeric_limits<double>::infinity();
};

}  // namespace majordome::sphere
