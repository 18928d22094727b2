// Gaussian mixtures: the Sérsic and Moffat fits, Gaussian rendering, and galaxies convolved
// with the PSF.
#include "majordome/sim/gaussian_mixture.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "majordome/sim/scene.hpp"

using namespace majordome;
using namespace majordome::sim;

namespace {

constexpr double kPi = 3.14159265358979323846;

double sersic_b(double n) { return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n); }

// ∫_0^r 2π r' f(r') dr' by the midpoint rule on `steps` intervals.
template <typename F>
double integrate(F f, double r, int steps = 20000) {
  double s = 0.0;
  const double h = r / steps;
  for (int i = 0; i < steps; ++i) {
    const double x = (i + 0.5) * h;
    s += 2.0 * kPi * x * f(x) * h;
  }
  return s;
}

double mixture_enclosed(const RadialMixture& m, double r) {
  double s = 0.0;
  for (const auto& c : m) s += c.weight * -std::expm1(-0.5 * r * r / c.variance);
  return s;
}

struct Moments {
  double flux = 0.0, x = 0.0, y = 0.0, xx = 0.0, xy = 0.0, yy = 0.0;
};

Moments measure(const image::ImageF& img) {
  Moments m;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      m.flux += img(x, y);
      m.x += img(x, y) * x;
      m.y += img(x, y) * y;
    }
  m.x /= m.flux;
  m.y /= m.flux;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const double dx = x - m.x, dy = y - m.y;
      m.xx += img(x, y) * dx * dx;
      m.xy += img(x, y) * dx * dy;
      m.yy += img(x, y) * dy * dy;
    }
  m.xx /= m.flux;
  m.xy /= m.flux;
  m.yy /= m.flux;
  return m;
}

}  // namespace

// The mixture's light within radius r is the truncated Sérsic profile's, for any n.
TEST(SimMixture, SersicMixtureHasTheSersicCurveOfGrowth) {
  for (double n : {0.5, 0.8, 1.0, 1.55, 2.5, 4.0, 6.0}) {
    const auto mix = sersic_mixture(n);
    double total = 0.0;
    for (const auto& c : mix) {
      EXPECT_GT(c.weight, 0.0);
      total += c.weight;
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
    const double b = sersic_b(n);
    auto profile = [&](double r) { return std::exp(-b * std::pow(r, 1.0 / n)); };
    const double truncated = integrate(profile, 8.0);
    EXPECT_LE(mix.size(), 8U);
    for (double r : {0.1, 0.3, 0.5, 1.0, 2.0, 4.0, 8.0})
      EXPECT_NEAR(mixture_enclosed(mix, r), integrate(profile, r) / truncated, 0.01) << "n " << n << " r " << r;
  }
  // r_e is the half-light radius (the truncation at 8 r_e moves it by < 1 % for n ≤ 4).
  EXPECT_NEAR(mixture_enclosed(sersic_mixture(1.0), 1.0), 0.5, 0.005);
  EXPECT_NEAR(mixture_enclosed(sersic_mixture(4.0), 1.0), 0.5, 0.04);
}

TEST(SimMixture, MoffatMixtureKeepsFluxSecondMomentAndProfile) {
  for (double beta : {2.5, 3.0, 3.5, 4.765}) {
    const auto mix = moffat_mixture(beta);
    double total = 0.0, r2 = 0.0, peak = 0.0;
    for (const auto& c : mix) {
      total += c.weight;
      r2 += c.weight * 2.0 * c.variance;
      peak += c.weight / (2.0 * kPi * c.variance);
    }
    EXPECT_NEAR(total, 1.0, 1e-9) << beta;
    EXPECT_LE(mix.size(), beta >= 3.5 ? 4U : 6U);
    EXPECT_NEAR(r2 * (beta - 2.0), 1.0, 1e-4) << beta;
    EXPECT_NEAR(peak / ((beta - 1.0) / kPi), 1.0, 0.02) << beta;  // the central surface brightness
    for (double r : {0.25, 0.5, 1.0, 2.0, 5.0})
      EXPECT_NEAR(mixture_enclosed(mix, r), 1.0 - std::pow(1.0 + r * r, 1.0 - beta), 0.005) << beta << " " << r;
  }
}

// One elliptical Gaussian on pixels: its flux, centre and covariance + the pixel's 1/12.
TEST(SimMixture, RenderedGaussianHasItsMoments) {
  image::ImageF img(81, 81);
  const Gaussian2D g{1e6, 9.0, 3.0, 4.0};
  const double added = render_gaussians(img, 40.3, 39.8, std::span(&g, 1), 1e-3);
  const auto m = measure(img);
  EXPECT_NEAR(added, 1e6, 1.0);
  EXPECT_NEAR(m.flux, 1e6, 2.0);
  EXPECT_NEAR(m.x, 40.3, 1e-3);
  EXPECT_NEAR(m.y, 39.8, 1e-3);
  EXPECT_NEAR(m.xx, 9.0 + 1.0 / 12.0, 0.01);
  EXPECT_NEAR(m.xy, 3.0, 0.01);
  EXPECT_NEAR(m.yy, 4.0 + 1.0 / 12.0, 0.01);
  // Nothing is drawn below the surface-brightness threshold, and faint components are skipped.
  image::ImageF faint(81, 81);
  const Gaussian2D dim{1e-3, 9.0, 0.0, 9.0};
  EXPECT_EQ(render_gaussians(faint, 40.0, 40.0, std::span(&dim, 1), 1e-3), 0.0);
}

// Galaxies are convolved with the PSF: second moments add under convolution, so a galaxy's
// measured moments are its intrinsic (Sérsic) moments plus those of a star drawn with the same
// Moffat PSF, within 1 % of their size (they agree to ~0.1 %). A Gaussian of the PSF's FWHM (the former smoothing)
// would add 2.3 times less: 0.18 FWHM² per axis instead of the Moffat's 0.425 FWHM² at β = 3.5.
TEST(SimMixture, GalaxyMomentsAreIntrinsicPlusPsf) {
  Psf psf;
  psf.fwhm_px = 4.0;
  psf.e1 = 0.05;
  psf.e2 = -0.03;
  const int size = 301;
  const double cx = 150.2, cy = 149.7;
  image::ImageF star_img(size, size);
  Placement star;
  star.x = cx;
  star.y = cy;
  star.flux = 1e6;
  star.psf = psf;
  render(star_img, star);
  const auto p = measure(star_img);
  // The star's own shape: reduced shear g gives the distortion 2g/(1 + |g|²) in the moments
  // (less the pixel's 1/12 per axis).
  const double g2 = psf.e1 * psf.e1 + psf.e2 * psf.e2, trace = p.xx + p.yy - 1.0 / 6.0;
  EXPECT_NEAR((p.xx - p.yy) / trace, 2.0 * psf.e1 / (1.0 + g2), 2e-3);
  EXPECT_NEAR(2.0 * p.xy / trace, 2.0 * psf.e2 / (1.0 + g2), 2e-3);

  for (double n : {1.0, 4.0}) {
    SkySource g;
    g.type = SourceType::kGalaxy;
    g.sersic_n = n;
    g.half_light_arcsec = 0.4;  // 2 px
    g.axis_ratio = 0.6;
    image::ImageF img(size, size);
    Placement gal = star;
    gal.source = &g;
    gal.pixel_scale_arcsec = 0.2;
    gal.major_axis_rad = 0.5;
    const double added = render(img, gal);
    const auto m = measure(img);
    EXPECT_NEAR(added / 1e6, 1.0, 1e-3);
    EXPECT_NEAR(m.x, cx, 0.01);
    EXPECT_NEAR(m.y, cy, 0.01);
    // Intrinsic: ⟨r²⟩ of the truncated Sérsic with r_e = 1, split over the two axes and
    // stretched by 1/√q along the major axis, √q along the minor one.
    const double b = sersic_b(n);
    auto profile = [&](double r) { return std::exp(-b * std::pow(r, 1.0 / n)); };
    const double r2 = integrate([&](double r) { return r * r * profile(r); }, 8.0) / integrate(profile, 8.0);
    const double re = 2.0, q = g.axis_ratio, c = std::cos(gal.major_axis_rad), s = std::sin(gal.major_axis_rad);
    const double major = 0.5 * r2 * re * re / q, minor = 0.5 * r2 * re * re * q;
    const double ixx = major * c * c + minor * s * s, iyy = major * s * s + minor * c * c,
                 ixy = (major - minor) * c * s;
    const double tolerance = 0.01 * (p.xx + p.yy + ixx + iyy) / 2.0;
    EXPECT_NEAR(m.xx, p.xx + ixx, tolerance) << n;
    EXPECT_NEAR(m.yy, p.yy + iyy, tolerance) << n;
    EXPECT_NEAR(m.xy, p.xy + ixy, tolerance) << n;
  }
}
