// Wcs: a celestial world coordinate system (pixel ↔ sky), evaluated by wcslib.
//
// Conventions: pixel coordinates are 0-based, pixel centres at integers (astropy
// origin=0, Rubin); a Wcs maps the PARENT pixel grid, so sub-images share their parent's
// Wcs. Sky coordinates are (longitude, latitude) in degrees in the frame of the header
// (RA/Dec for equatorial headers), whatever the axis order in the header.
//
// Supported: every projection wcslib knows (TAN, SIN, ZPN, ZEA, ARC, CAR, …) with the
// distortions wcslib implements: SIP (CTYPE "-SIP" with A_p_q/B_p_q; the reverse AP/BP
// only seed wcslib's iterative sky→pixel inversion), TPV (PVi_m), TNX and ZPX (IRAF WAT cards,
// translated by wcslib into its TPD polynomial), and DSS/TPD. A header naming a
// distortion wcslib did not set up throws UnsupportedError naming it: there is no silent
// fallback to the undistorted projection.
//
// Value type (copies are deep). Const members are thread-safe (wcslib's scratch space
// is guarded internally).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/header.hpp"

namespace majordome::image {

struct SkyCoord {
  double ra_deg = 0.0;  // longitude (RA for equatorial frames), degrees
  double dec_deg = 0.0;  // latitude, degrees
  friend constexpr bool operator==(const SkyCoord&, const SkyCoord&) = default;
};

// A 2×2 matrix in row-major order: {m11, m12, m21, m22}. For a CD matrix, degrees per
// pixel: (dξ, dη) = CD · (dx, dy).
using Matrix2 = std::array<double, 4>;

// Coefficients of a SIP polynomial: value(p, q) multiplies u^p v^q, p + q <= order.
class SipPolynomial {
 public:
  SipPolynomial() = default;
  explicit SipPolynomial(int order);
  int order() const { return order_; }
  double& operator()(int p, int q) { return coeffs_.at(index(p, q)); }
  double operator()(int p, int q) const { return coeffs_.at(index(p, q)); }
  bool empty() const { return order_ <= 0; }

 private:
  std::size_t index(int p, int q) const;
  int order_ = 0;
  std::vector<double> coeffs_;  // (order+1)^2, row p
};

// The affine approximation of a Wcs around one pixel, in the tangent plane there.
struct LocalLinearWcs {
  Point2D pixel;  // where the approximation is made
  SkyCoord sky;   // the sky position of `pixel`
  // d(ξ, η)/d(x, y) in degrees per pixel, ξ toward +longitude (east), η toward +latitude.
  Matrix2 cd{};
  // sqrt(|det cd|) in arcseconds per pixel.
  double pixel_scale_arcsec() const;
};

class Wcs {
 public:
  // Reads the primary (unlettered) celestial WCS of a header. Throws NotFoundError when
  // the header has none (no celestial CTYPE), InvalidArgumentError when wcslib rejects the
  // keywords (naming the reason), UnsupportedError for distortions it cannot evaluate.
  static Wcs from_header(const Header& header);
  // As from_header, nullopt when the header has no celestial WCS (errors still throw).
  static std::optional<Wcs> find_in_header(const Header& header);

  Wcs(const Wcs& other);
  Wcs& operator=(const Wcs& other);
  Wcs(Wcs&&) noexcept;
  Wcs& operator=(Wcs&&) noexcept;
  ~Wcs();

  // Points outside the projection's domain give NaN.
  SkyCoord pixel_to_sky(double x, double y) const;
  Point2D sky_to_pixel(double ra_deg, double dec_deg) const;
  // Vectorized: element i of each output from element i of the inputs. All spans must
  // have the same length (InvalidArgumentError).
  void pixel_to_sky(std::span<const double> x, std::span<const double> y,
                    std::span<double> ra_deg, std::span<double> dec_deg) const;
  void sky_to_pixel(std::span<const double> ra_deg, std::span<const double> dec_deg,
                    std::span<double> x, std::span<double> y) const;
  std::vector<SkyCoord> pixel_to_sky(std::span<const Point2D> pixels) const;
  std::vector<Point2D> sky_to_pixel(std::span<const SkyCoord> sky) const;

  // Central differences over ±0.5 px of the sky positions projected on the tangent
  // plane at (x, y).
  LocalLinearWcs linearize(double x, double y) const;
  double pixel_scale_arcsec(double x, double y) const { return linearize(x, y).pixel_scale_arcsec(); }

  // The same mapping for a pixel grid whose origin moved: new(x, y) = old(x + dx, y + dy).
  // Writing a sub-image whose xy0 is (x0, y0) uses shifted(x0, y0).
  Wcs shifted(double dx, double dy) const;

  // Standard FITS WCS keywords (wcslib's wcshdo, 17 significant digits): WCSAXES, CRPIXj
  // (1-based, as FITS), PCi_j + CDELTi, CTYPEi, CRVALi, LONPOLE, LATPOLE, RADESYS, …,
  // and the distortion keywords (A_p_q…, PVi_m, or wcslib's TPD cards for TNX).
  Header to_header() const;

  // The projection as the header named it: "TAN", "TAN-SIP", "TPV", "TNX", "ZPN", …
  const std::string& projection() const;
  // The reference pixel, 0-based, and its sky position.
  Point2D reference_pixel() const;
  SkyCoord reference_sky() const;
  // The linear part (PC scaled by CDELT), degrees per pixel.
  Matrix2 cd_matrix() const;
  // "TAN-SIP, reference pixel (x, y) → (ra, dec) deg, 0.2 arcsec/px at the reference pixel".
  std::string summary() const;

 private:
  struct Impl;
  explicit Wcs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A gnomonic (TAN) Wcs. crpix is 0-based; cd in degrees per pixel; RADESYS ICRS.
Wcs make_tan(Point2D crpix, SkyCoord crval, const Matrix2& cd);
// A TAN-SIP Wcs in the SIP convention (u = x - crpix, v = y - crpix in pixels;
// forward A, B add to u, v; AP, BP the optional reverse polynomials, written to the
// header for other readers). Empty polynomials are omitted; A and B must both be given
// or both be empty. crpix is 0-based.
Wcs make_tan_sip(Point2D crpix, SkyCoord crval, const Matrix2& cd, const SipPolynomial& a,
                 const SipPolynomial& b, const SipPolynomial& ap = {},
                 const SipPolynomial& bp = {});

}  // namespace majordome::image
