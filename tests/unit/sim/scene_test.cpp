// Statistics of the simulated sky: random numbers, star and galaxy counts, PSF, WCS.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <numeric>
#include <vector>

#include "majordome/core/error.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/random.hpp"
#include "majordome/sim/scene.hpp"
#include "majordome/sim/simulator.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/lon_lat.hpp"

using namespace majordome;
using namespace majordome::sim;

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Moments {
  double mean = 0.0, var = 0.0;
};

template <typename F>
Moments moments(int n, F draw) {
  double s = 0.0, s2 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double v = draw();
    s += v;
    s2 += v * v;
  }
  Moments m;
  m.mean = s / n;
  m.var = s2 / n - m.mean * m.mean;
  return m;
}

}  // namespace

TEST(SimRandom, StreamsAreReproducibleAndIndependent) {
  Rng a(7, {1, 2}), b(7, {1, 2}), c(7, {1, 3}), d(8, {1, 2});
  const auto x = a.next_u64();
  EXPECT_EQ(x, b.next_u64());
  EXPECT_NE(x, c.next_u64());
  EXPECT_NE(x, d.next_u64());
}

TEST(SimRandom, DistributionsHaveTheRequestedMoments) {
  Rng rng(1, {99});
  const int n = 200000;
  const auto g = moments(n, [&] { return rng.normal(); });
  EXPECT_NEAR(g.mean, 0.0, 0.01);
  EXPECT_NEAR(g.var, 1.0, 0.01);
  // In bulk (odd lengths too), with the tails: P(|x| > 3) = 0.27 %.
  std::vector<double> batch(static_cast<std::size_t>(n) + 1);
  rng.normals(batch);
  double s = 0.0, s2 = 0.0;
  long beyond3 = 0;
  for (double v : batch) {
    s += v;
    s2 += v * v;
    beyond3 += std::abs(v) > 3.0;
  }
  EXPECT_NEAR(s / batch.size(), 0.0, 0.01);
  EXPECT_NEAR(s2 / batch.size(), 1.0, 0.01);
  EXPECT_NEAR(beyond3 / static_cast<double>(batch.size()), 0.0027, 0.0005);
  for (double mean : {0.3, 5.0, 11.9, 12.5, 40.0, 1000.0}) {
    const auto p = moments(n, [&] { return static_cast<double>(rng.poisson(mean)); });
    EXPECT_NEAR(p.mean, mean, 5.0 * std::sqrt(mean / n)) << mean;
    EXPECT_NEAR(p.var / mean, 1.0, 0.02) << mean;
  }
  EXPECT_EQ(rng.poisson(0.0), 0);
  EXPECT_EQ(rng.poisson(-1.0), 0);
}

// Star and galaxy counts follow the number-count model (within Poisson noise) and the
// catalog is the same however it is asked for.
TEST(SimSky, CountsFollowTheModel) {
  const SkyModel model;
  const sphere::HtmPixelization htm(kSkyLevel);
  const auto first = htm.index(sphere::UnitVector3d(sphere::LonLat::from_degrees(150.0, 2.0)));
  double area = 0.0;
  long stars_20_21 = 0, stars_21_22 = 0, stars = 0, galaxies = 0;
  for (std::uint64_t id = first; id < first + 300; ++id) {
    const auto v = sphere::HtmPixelization::triangle_vertices(id);
    // Spherical excess of the triangle.
    const auto& p = v[0];
    const auto& q = v[1];
    const auto& r = v[2];
    const double triple = p.x() * (q.y() * r.z() - q.z() * r.y()) - p.y() * (q.x() * r.z() - q.z() * r.x()) +
                          p.z() * (q.x() * r.y() - q.y() * r.x());
    const double dots = 1.0 + (p.x() * q.x() + p.y() * q.y() + p.z() * q.z()) +
                        (q.x() * r.x() + q.y() * r.y() + q.z() * r.z()) + (r.x() * p.x() + r.y() * p.y() + r.z() * p.z());
    area += 2.0 * std::atan2(std::abs(triple), dots) * (180.0 / kPi) * (180.0 / kPi);
    const auto sources = sources_in_pixel(3, model, id);
    EXPECT_EQ(sources.size(), sources_in_pixel(3, model, id).size());
    for (const auto& s : sources) {
      ASSERT_EQ(htm.index(sphere::UnitVector3d(sphere::LonLat::from_degrees(s.ra_deg, s.dec_deg))), id);
      if (s.type == SourceType::kStar) {
        ++stars;
        if (s.mag[2] >= 20 && s.mag[2] < 21) ++stars_20_21;
        if (s.mag[2] >= 21 && s.mag[2] < 22) ++stars_21_22;
        EXPECT_GT(s.mag[1], s.mag[2]);  // stars are redder than g − r = 0
      } else {
        ++galaxies;
        EXPECT_GT(s.half_light_arcsec, 0.0);
        EXPECT_GT(s.axis_ratio, 0.2);
      }
    }
  }
  // Expected: ∫ A 10^(α (m − 20)) dm over the magnitude range, times the area.
  auto expected = [](double a, double alpha, double lo, double hi) {
    return a / (alpha * std::log(10.0)) * (std::pow(10.0, alpha * (hi - 20)) - std::pow(10.0, alpha * (lo - 20)));
  };
  const double e_stars = area * expected(model.star_density, 0.2, model.star_mag_min, model.star_mag_max);
  const double e_gal = area * expected(model.galaxy_density, 0.35, model.galaxy_mag_min, model.galaxy_mag_max);
  const double e_20_21 = area * expected(model.star_density, 0.2, 20, 21);
  EXPECT_NEAR(stars, e_stars, 4.0 * std::sqrt(e_stars));
  EXPECT_NEAR(galaxies, e_gal, 4.0 * std::sqrt(e_gal));
  EXPECT_NEAR(stars_20_21, e_20_21, 4.0 * std::sqrt(e_20_21));
  // The slope: one magnitude fainter, 10^0.2 = 1.58 times more stars.
  EXPECT_NEAR(static_cast<double>(stars_21_22) / stars_20_21, std::pow(10.0, 0.2), 0.12);
}

TEST(SimPsf, FwhmAndEllipticityAreWhatWasAsked) {
  for (double fwhm : {3.0, 5.0}) {
    Psf psf;
    psf.fwhm_px = fwhm;
    // Normalised.
    double total = 0.0;
    for (int y = -200; y <= 200; ++y)
      for (int x = -200; x <= 200; ++x) total += psf.value(x, y);
    EXPECT_NEAR(total, 1.0, 2e-3);
    EXPECT_NEAR(psf.value(fwhm / 2.0, 0.0) / psf.value(0.0, 0.0), 0.5, 1e-12);
    // Rendered on pixels, the second moment <x² + y²> = α²/(β − 2) + 1/6 (pixel boxcar)
    // gives back the FWHM within 2 %.
    image::ImageF img(241, 241);
    Placement p;
    p.x = 120.0;
    p.y = 120.0;
    p.flux = 1e6;
    p.psf = psf;
    const double added = render(img, p);
    EXPECT_NEAR(added / p.flux, 1.0, 2e-3);
    double s = 0.0, r2 = 0.0;
    for (int y = 0; y < 241; ++y)
      for (int x = 0; x < 241; ++x) {
        s += img(x, y);
        r2 += img(x, y) * ((x - 120.0) * (x - 120.0) + (y - 120.0) * (y - 120.0));
      }
    const double alpha = std::sqrt((r2 / s - 1.0 / 6.0) * (psf.beta - 2.0));
    const double measured = 2.0 * alpha * std::sqrt(std::pow(2.0, 1.0 / psf.beta) - 1.0);
    EXPECT_NEAR(measured / fwhm, 1.0, 0.02) << fwhm;
  }
  // e1 > 0 elongates along x; e2 > 0 along the diagonal.
  Psf e;
  e.e1 = 0.1;
  EXPECT_GT(e.value(2.0, 0.0), e.value(0.0, 2.0));
  e.e1 = 0.0;
  e.e2 = 0.1;
  EXPECT_GT(e.value(1.5, 1.5), e.value(1.5, -1.5));
}

TEST(SimPsf, FieldVariationFollowsTheModel) {
  PsfField f;
  f.seeing_arcsec = 0.8;
  f.field_radius_rad = 0.01;
  const auto centre = f.at(0.0, 0.0, 0.2);
  EXPECT_NEAR(centre.fwhm_px, 4.0, 1e-12);
  const auto edge = f.at(0.01, 0.0, 0.2);
  EXPECT_NEAR(edge.fwhm_px, 4.0 * 1.15, 1e-12);
  EXPECT_NEAR(edge.e1, 0.04, 1e-12);
  EXPECT_NEAR(f.at(0.0, 0.01, 0.2).e1, -0.04, 1e-12);
}

TEST(SimPsf, GalaxyKeepsItsFluxAndCentre) {
  SkySource g;
  g.type = SourceType::kGalaxy;
  g.sersic_n = 1.0;
  g.half_light_arcsec = 1.0;
  g.axis_ratio = 0.5;
  image::ImageF img(121, 121);
  Placement p;
  p.x = 60.3;
  p.y = 59.6;
  p.flux = 1e5;
  p.psf.fwhm_px = 4.0;
  p.source = &g;
  p.pixel_scale_arcsec = 0.2;
  p.major_axis_rad = 0.0;
  // All but what lies below 10⁻³ e⁻/pixel or beyond the 121 × 121 image (< 2·10⁻⁴).
  EXPECT_NEAR(render(img, p), 1e5, 20.0);
  double sx = 0, sy = 0, s = 0, ixx = 0, iyy = 0;
  for (int y = 0; y < 121; ++y)
    for (int x = 0; x < 121; ++x) {
      s += img(x, y);
      sx += img(x, y) * x;
      sy += img(x, y) * y;
    }
  EXPECT_NEAR(sx / s, 60.3, 0.02);
  EXPECT_NEAR(sy / s, 59.6, 0.02);
  for (int y = 0; y < 121; ++y)
    for (int x = 0; x < 121; ++x) {
      ixx += img(x, y) * (x - 60.3) * (x - 60.3);
      iyy += img(x, y) * (y - 59.6) * (y - 59.6);
    }
  EXPECT_GT(ixx, 2.0 * iyy);  // major axis along x, axis ratio 0.5
}

// The SIP WCS the simulator writes is the camera's own mapping: pixel → field → sky.
TEST(SimWcs, TrueWcsReproducesTheCameraTransforms) {
  for (const char* name : {"LSSTComCam", "LSSTCam", "LATISS", "TestCam"}) {
    const auto cam = instrument::load_camera(name);
    const instrument::Pointing pointing{53.1, -27.9, 37.0};
    for (const auto& det : cam.detectors()) {
      const auto wcs = detector_wcs(cam, det, pointing);
      const double w = det.bbox.width() - 1, h = det.bbox.height() - 1;
      for (const auto& p : {image::Point2D{0, 0}, image::Point2D{w, 0}, image::Point2D{0, h}, image::Point2D{w, h},
                            image::Point2D{w / 3, h / 2}}) {
        const auto expected = instrument::field_to_sky(cam, pointing, cam.pixel_to_field(det, p));
        const auto sky = wcs.pixel_to_sky(p.x, p.y);
        const double cosd = std::cos(expected[1] * kPi / 180.0);
        EXPECT_NEAR((sky.ra_deg - expected[0]) * cosd * 3600.0, 0.0, 1e-5) << name << " " << det.name;
        EXPECT_NEAR((sky.dec_deg - expected[1]) * 3600.0, 0.0, 1e-5) << name << " " << det.name;
        const auto back = wcs.sky_to_pixel(expected[0], expected[1]);
        EXPECT_NEAR(back.x, p.x, 1e-4);
        EXPECT_NEAR(back.y, p.y, 1e-4);
      }
    }
  }
}

TEST(SimStarTable, RepeatedColumnIsRefusedNamingIt) {
  const auto path = std::filesystem::temp_directory_path() / ("majordome_stars_" + std::to_string(::getpid()) + ".ecsv");
  {
    std::ofstream out(path);
    out << "# %ECSV 1.0\nra dec mag ra\n10.0 20.0 12.0 11.0\n";
  }
  try {
    read_star_table(path, 1);
    ADD_FAILURE() << "a table with two 'ra' columns was read";
  } catch (const InvalidConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + " line 2: column 'ra' appears twice (columns 1 and 4)"),
              std::string::npos)
        << e.what();
  }
  {
    std::ofstream out(path);
    out << "ra dec mag\n10.0 20.0 12.0\n";
  }
  EXPECT_EQ(read_star_table(path, 1).size(), 1u);
  std::filesystem::remove(path);
}
