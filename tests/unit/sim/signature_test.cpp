// The instrument signature: noise, flat pattern, geometry, saturation, crosstalk, headers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "majordome/core/error.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/exposure.hpp"
#include "majordome/sim/signature.hpp"

using namespace majordome;
using namespace majordome::sim;

namespace {

Effects nothing() {
  Effects e;
  e.photon_noise = e.read_noise = e.flat = e.dark = e.cosmic_rays = e.saturation = false;
  e.nonlinearity = e.crosstalk = e.defects = e.bias_structure = false;
  return e;
}

ExposureSpec spec(const instrument::Camera& cam, ExposureKind kind, const char* band = "r") {
  ExposureSpec e;
  e.kind = kind;
  e.physical_filter = kind == ExposureKind::kBias || kind == ExposureKind::kDark
                          ? std::string()
                          : cam.get_filter_for_band(band).physical_filter;
  e.exposure_time_s = kind == ExposureKind::kBias ? 0.0 : 30.0;
  e.start = TaiTime::from_tai_iso("2024-11-26T03:00:00");
  std::vector<ExposureSpec> v{e};
  assign_ids(cam, v, 42);
  return v[0];
}

// Mean and variance of a raw box.
std::pair<double, double> stats(const image::ImageI& img, const image::Box2I& box) {
  double s = 0, s2 = 0;
  for (int y = box.begin_y(); y < box.end_y(); ++y)
    for (int x = box.begin_x(); x < box.end_x(); ++x) {
      s += img(x, y);
      s2 += static_cast<double>(img(x, y)) * img(x, y);
    }
  const double n = static_cast<double>(box.area());
  return {s / n, s2 / n - (s / n) * (s / n)};
}

}  // namespace

// Read noise in the overscan and photon noise in a flat are what the camera asks for.
TEST(SimSignature, MeasuredNoiseMatchesTheCamera) {
  const auto cam = instrument::load_camera("TestCam");
  const auto& det = cam.detectors()[0];
  Effects fx = nothing();
  fx.read_noise = true;
  fx.photon_noise = true;
  const DetectorModel model(cam, det, 5, fx);
  Rng rng(5, {1});
  const auto bias = make_raw(cam, model, spec(cam, ExposureKind::kBias), {}, rng, fx);
  const auto flat = make_raw(cam, model, spec(cam, ExposureKind::kFlat), {}, rng, fx);
  for (std::size_t a = 0; a < det.amplifiers.size(); ++a) {
    const auto& amp = det.amplifiers[a];
    const auto [bias_mean, bias_var] = stats(bias[a], amp.raw_serial_overscan_bbox);
    EXPECT_NEAR(bias_mean, amp.bias_level, 0.1);
    EXPECT_NEAR(std::sqrt(bias_var) / (amp.read_noise / amp.gain), 1.0, 0.03) << amp.name;
    // Photon transfer: variance (ADU²) = signal / gain + read noise².
    const auto [mean, var] = stats(flat[a], amp.raw_data_bbox);
    const double signal = mean - amp.bias_level;
    EXPECT_NEAR(signal, fx.flat_level / amp.gain, 0.01 * fx.flat_level / amp.gain);
    const double expected = signal / amp.gain + std::pow(amp.read_noise / amp.gain, 2);
    EXPECT_NEAR(var / expected, 1.0, 0.03) << amp.name;
  }
}

// Raw amplifiers, put back together with the camera's geometry, give the scene back.
TEST(SimSignature, RawAmplifiersReassembleIntoTheScene) {
  for (const char* name : {"TestCam", "LATISS"}) {
    const auto cam = instrument::load_camera(name);
    const auto& det = cam.detectors()[0];
    const Effects fx = nothing();
    const DetectorModel model(cam, det, 5, fx);
    image::ImageF scene(det.bbox);
    for (int y = 0; y < scene.height(); y += 7)
      for (int x = 0; x < scene.width(); x += 3) scene(x, y) = static_cast<float>(10 * x + y % 1000);
    Rng rng(5, {2});
    const auto raws = make_raw(cam, model, spec(cam, ExposureKind::kScience), scene, rng, fx);
    ASSERT_EQ(raws.size(), det.amplifiers.size());
    int mismatches = 0;
    for (std::size_t a = 0; a < raws.size(); ++a) {
      const auto& amp = det.amplifiers[a];
      EXPECT_EQ(raws[a].bbox(), amp.raw_bbox);
      for (int y = amp.bbox.begin_y(); y < amp.bbox.end_y(); y += 7)
        for (int x = amp.bbox.begin_x(); x < amp.bbox.end_x(); x += 3) {
          const auto r = amp.raw_from_assembled({x, y});
          const double e = (raws[a](r.x, r.y) - amp.bias_level) * amp.gain;
          mismatches += std::abs(e - scene(x, y)) > amp.gain;
        }
      // Prescan and overscan hold the bias only.
      EXPECT_EQ(raws[a](0, 0), static_cast<int>(amp.bias_level));
      EXPECT_EQ(raws[a](amp.raw_bbox.width() - 1, amp.raw_bbox.height() - 1), static_cast<int>(amp.bias_level));
    }
    EXPECT_EQ(mismatches, 0) << name;
  }
}

TEST(SimSignature, FlatPatternIsTheRequestedOne) {
  const auto cam = instrument::load_camera("LSSTComCam");
  const auto& corner = cam.get_detector("R22_S00");
  Effects fx;
  fx.defects = false;
  const DetectorModel model(cam, corner, 11, fx);
  const auto flat = model.flat("r");
  // Pixel-to-pixel rms: the difference of neighbouring pixels removes the smooth part.
  double s2 = 0.0;
  long n = 0;
  for (int y = 100; y < 1900; ++y)
    for (int x = 100; x < 400; ++x) {
      const double d = (flat(x + 1, y) - flat(x, y)) / (0.5 * (flat(x + 1, y) + flat(x, y)));
      s2 += d * d;
      ++n;
    }
  const double rms = std::sqrt(s2 / n / 2.0);
  EXPECT_NEAR(rms / fx.pixel_response_rms, 1.0, 0.03);
  // Blue flats have more pixel structure.
  const auto g = model.flat("u");
  double g2 = 0.0;
  for (int x = 100; x < 1000; ++x) g2 += std::pow((g(x + 1, 1000) - g(x, 1000)) / g(x, 1000), 2);
  EXPECT_GT(std::sqrt(g2 / 900 / 2.0), 1.3 * fx.pixel_response_rms);
  // Vignetting: the mean over boxes follows 1 − v ρ² of the focal-plane radius.
  auto box_mean = [&](int x0, int y0) {
    double s = 0;
    for (int y = y0; y < y0 + 100; ++y)
      for (int x = x0; x < x0 + 100; ++x) s += flat(x, y);
    return s / 1e4;
  };
  const auto fp_outer = cam.pixel_to_focal_plane(corner, {50.5, 50.5});
  const auto fp_inner = cam.pixel_to_focal_plane(corner, {3900.5, 3850.5});
  // The largest radius of the camera is this detector's outer corner.
  const auto fp_max = cam.pixel_to_focal_plane(corner, {-0.5, -0.5});
  const double rmax2 = fp_max[0] * fp_max[0] + fp_max[1] * fp_max[1];
  const double ratio = box_mean(0, 0) / box_mean(3850, 3800);
  const double expected = (1.0 - fx.vignetting * (fp_outer[0] * fp_outer[0] + fp_outer[1] * fp_outer[1]) / rmax2) /
                          (1.0 - fx.vignetting * (fp_inner[0] * fp_inner[0] + fp_inner[1] * fp_inner[1]) / rmax2);
  // Both boxes are in amplifiers with their own ±1 % response step: compare loosely, and
  // check the amplifier steps exist.
  EXPECT_NEAR(ratio, expected, 0.04);
  EXPECT_LT(ratio, 1.0);
}

TEST(SimSignature, DefectsAreInTheFlatAndTheList) {
  const auto cam = instrument::load_camera("LSSTComCam");
  const auto& det = cam.get_detector("R22_S11");
  const DetectorModel model(cam, det, 11, Effects{});
  int columns = 0, hot = 0, dead = 0;
  const auto flat = model.flat("r");
  const auto dark = model.dark();
  for (const auto& d : model.defects()) {
    ASSERT_TRUE(det.bbox.contains(d.box));
    const auto p = d.box.min();
    switch (d.kind) {
      case DefectKind::kBadColumn:
        ++columns;
        EXPECT_EQ(d.box.width(), 1);
        EXPECT_LT(flat(p.x, p.y), 0.2F);
        break;
      case DefectKind::kHotPixel:
        ++hot;
        EXPECT_GT(dark(p.x, p.y), 10.0F);
        break;
      case DefectKind::kDeadPixel:
        ++dead;
        EXPECT_EQ(flat(p.x, p.y), 0.0F);
        break;
    }
  }
  EXPECT_EQ(columns, 2);
  EXPECT_EQ(hot, 41);  // 40 per 16 Mpix, this sensor has 16.3
  EXPECT_EQ(dead, 20);
}

TEST(SimSignature, SaturationBleedsAlongColumnsAndCrosstalkMakesGhosts) {
  const auto cam = instrument::load_camera("TestCam");
  const auto& det = cam.detectors()[0];
  Effects fx = nothing();
  fx.saturation = true;
  fx.crosstalk = true;
  const DetectorModel model(cam, det, 5, fx);
  image::ImageF scene(det.bbox);
  // A very bright star in the first amplifier: 3 × 3 pixels of 20 full wells.
  const auto& amp0 = det.amplifiers[0];
  const double full = amp0.saturation * amp0.gain;
  for (int y = 250; y < 253; ++y)
    for (int x = 100; x < 103; ++x) scene(x, y) = static_cast<float>(20.0 * full);
  Rng rng(5, {3});
  const auto raws = make_raw(cam, model, spec(cam, ExposureKind::kScience), scene, rng, fx);
  // The trail: the column holds 9·20 full wells of charge, i.e. about 180 saturated rows,
  // while the row through the star stays 3 pixels wide.
  int rows = 0, cols = 0;
  for (int y = amp0.bbox.begin_y(); y < amp0.bbox.end_y(); ++y) {
    const auto r = amp0.raw_from_assembled({101, y});
    rows += raws[0](r.x, r.y) >= amp0.bias_level + amp0.saturation - 1;
  }
  for (int x = amp0.bbox.begin_x(); x < amp0.bbox.end_x(); ++x) {
    const auto r = amp0.raw_from_assembled({x, 251});
    cols += raws[0](r.x, r.y) >= amp0.bias_level + amp0.saturation - 1;
  }
  EXPECT_NEAR(rows, 60, 3);  // each of the 3 columns carries 3 × 20 full wells
  EXPECT_EQ(cols, 3);
  // The ghost in amplifier 1 sits at the same raw pixel, crosstalk × signal.
  const auto r = amp0.raw_from_assembled({101, 251});
  const double ghost = raws[1](r.x, r.y) - det.amplifiers[1].bias_level;
  EXPECT_NEAR(ghost, det.crosstalk[1][0] * amp0.saturation, 1.0);
  EXPECT_GT(ghost, 5.0);
}

TEST(SimSignature, NonLinearityFollowsTheLinearizer) {
  const auto cam = instrument::load_camera("TestCam");
  const auto& det = cam.detectors()[0];
  Effects fx = nothing();
  fx.nonlinearity = true;
  const DetectorModel model(cam, det, 5, fx);
  image::ImageF scene(det.bbox, 60000.0F);
  Rng rng(5, {4});
  const auto raws = make_raw(cam, model, spec(cam, ExposureKind::kScience), scene, rng, fx);
  const auto& amp = det.amplifiers[0];
  const double raw = raws[0](10, 10) - amp.bias_level;
  // Applying the camera's correction gives back the true ADU.
  const double corrected = raw + amp.linearity_coeffs[0] * raw * raw;
  EXPECT_NEAR(corrected, 60000.0 / amp.gain, 1.0);
  EXPECT_LT(raw, 60000.0 / amp.gain - 100.0);
}

TEST(SimSignature, HeadersMimicTheRealRaws) {
  const auto cam = instrument::load_camera("LSSTComCam");
  const auto& det = cam.get_detector("R22_S01");
  auto e = spec(cam, ExposureKind::kScience, "i");
  e.pointing = {150.0, -30.0, 10.0};
  const auto h = raw_primary_header(cam, det, e);
  EXPECT_EQ(h.get_string("INSTRUME"), "LSSTComCam");
  EXPECT_EQ(h.get_string("TELESCOP"), "Simonyi Survey Telescope");
  EXPECT_EQ(h.get_string("OBSID"), "CC_O_20241125_000042");
  EXPECT_EQ(h.get_string("DAYOBS"), "20241125");
  EXPECT_EQ(h.get_int("SEQNUM"), 42);
  EXPECT_EQ(h.get_string("CONTRLLR"), "O");
  EXPECT_EQ(h.get_string("FILTER"), "i_06");
  EXPECT_EQ(h.get_string("FILTBAND"), "i");
  EXPECT_EQ(h.get_string("IMGTYPE"), "OBJECT");
  EXPECT_EQ(h.get_string("RAFTBAY"), "R22");
  EXPECT_EQ(h.get_string("CCDSLOT"), "S01");
  EXPECT_EQ(h.get_string("LSST_NUM"), "ITL-3800C-251");
  EXPECT_EQ(h.get_string("DATE-BEG"), "2024-11-26T03:00:00.000");
  EXPECT_EQ(h.get_string("DATE-END"), "2024-11-26T03:00:30.000");
  EXPECT_DOUBLE_EQ(h.get_double("EXPTIME"), 30.0);
  EXPECT_DOUBLE_EQ(h.get_double("ROTPA"), 100.0);
  EXPECT_DOUBLE_EQ(h.get_double("RA"), 150.0);
  EXPECT_GT(h.get_double("AMSTART"), 1.0);
  EXPECT_EQ(e.exposure_id, 2024112500042);
  EXPECT_FALSE(h.contains("DETECTOR"));  // LSST cameras name detectors by RAFTBAY/CCDSLOT
  const auto amp = raw_amplifier_header(det, det.amplifiers[0]);
  EXPECT_EQ(amp.get_string("EXTNAME"), "Segment10");
  EXPECT_EQ(amp.get_string("DETSEC"), "[509:1,1:2000]");
  EXPECT_EQ(amp.get_int("DTV1"), 513);

  const auto latiss = instrument::load_camera("LATISS");
  auto le = spec(latiss, ExposureKind::kScience, "r");
  const auto lh = raw_primary_header(latiss, latiss.detectors()[0], le);
  EXPECT_EQ(lh.get_string("OBSID").substr(0, 5), "AT_O_");
  EXPECT_EQ(lh.get_string("FILTER"), "SDSSr_65mm");
  EXPECT_EQ(lh.get_string("GRATING"), "empty_1");
  EXPECT_EQ(lh.get_string("RAFTBAY"), "R00");

  const auto test = instrument::load_camera("TestCam");
  const auto th = raw_primary_header(test, test.detectors()[3], spec(test, ExposureKind::kBias));
  EXPECT_EQ(th.get_int("DETECTOR"), 3);
  EXPECT_EQ(th.get_string("IMGTYPE"), "BIAS");
  EXPECT_FALSE(th.find_double("RA").has_value());
}
