// Camera descriptions: loading, errors, geometry checked against real LSST raws, transforms.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/instrument/camera.hpp"

namespace fs = std::filesystem;
using namespace majordome;
using namespace majordome::instrument;

namespace {

constexpr double kPi = 3.14159265358979323846;

fs::path temp_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "majordome_camera_test";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

// A valid one-detector camera; `amp_extra` is spliced into the first amplifier.
std::string tiny_camera(const std::string& amp_extra = "", const std::string& top_extra = "") {
  return "format_version: 1\ninstrument: Tiny\nplate_scale: 20.0\n" + top_extra +
         "filters:\n  - {physical_filter: r_x, band: r}\n"
         "detectors:\n  - id: 0\n    name: R00_S00\n    focal_plane_mm: [0, 0]\n    pixel_size_um: 10\n"
         "    bbox: [0, 0, 8, 4]\n    amplifiers:\n"
         "      - {name: C10, hdu: 1, bbox: [0, 0, 4, 4], raw_bbox: [0, 0, 6, 5], raw_data: [1, 0, 4, 4],"
         " raw_serial_prescan: [0, 0, 1, 4], raw_serial_overscan: [5, 0, 1, 4], raw_parallel_overscan: [1, 4, 4, 1],"
         " flip_x: true, flip_y: false, gain: 1.5, read_noise: 5, saturation: 100000" +
         amp_extra +
         "}\n"
         "      - {name: C11, hdu: 2, bbox: [4, 0, 4, 4], raw_bbox: [0, 0, 6, 5], raw_data: [1, 0, 4, 4],"
         " raw_serial_prescan: [0, 0, 1, 4], raw_serial_overscan: [5, 0, 1, 4], raw_parallel_overscan: [1, 4, 4, 1],"
         " flip_x: false, flip_y: false, gain: 1.5, read_noise: 5, saturation: 100000}\n";
}

template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Camera, EveryShippedCameraLoadsWithItsDetectors) {
  const auto names = known_cameras();
  for (const char* expected : {"DECam", "HSC", "LATISS", "LSSTCam", "LSSTComCam", "MegaPrime", "TestCam"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;

  const auto comcam = load_camera("LSSTComCam");
  EXPECT_EQ(comcam.name(), "LSSTComCam");
  ASSERT_EQ(comcam.detectors().size(), 9u);
  for (const auto& d : comcam.detectors()) {
    EXPECT_EQ(d.amplifiers.size(), 16u) << d.name;
    EXPECT_EQ(d.bbox.width(), 4072);
    EXPECT_EQ(d.bbox.height(), 4000);
  }
  EXPECT_EQ(comcam.get_detector("R22_S11").id, 4);
  EXPECT_EQ(comcam.get_detector(8).name, "R22_S22");
  EXPECT_EQ(comcam.get_filter("r_03").band, "r");
  EXPECT_EQ(comcam.get_filter_for_band("i").physical_filter, "i_06");

  const auto latiss = load_camera("LATISS");
  ASSERT_EQ(latiss.detectors().size(), 1u);
  EXPECT_EQ(latiss.detectors()[0].name, "RXX_S00");
  EXPECT_EQ(latiss.get_filter_for_band("g").physical_filter, "SDSSg_65mm~empty");
  EXPECT_TRUE(latiss.focal_plane_parity());

  const auto lsstcam = load_camera("LSSTCam");
  EXPECT_EQ(lsstcam.get_detector("R22_S11").id, 94);
  EXPECT_EQ(lsstcam.get_detector("R22_S11").physical_type, "E2V");
  EXPECT_EQ(lsstcam.get_detector(189).name, "R00_SG0");
  EXPECT_EQ(lsstcam.get_detector(189).purpose, DetectorPurpose::kGuider);
  EXPECT_EQ(lsstcam.get_filter("i_39").band, "i");

  const auto test = load_camera("TestCam");
  ASSERT_EQ(test.detectors().size(), 4u);
  EXPECT_EQ(test.detectors()[0].amplifiers.size(), 2u);
  EXPECT_EQ(test.detectors()[0].bbox.width(), 512);
}

TEST(Camera, PerAmplifierValuesComeFromObsLsst) {
  // Facts from obs_lsst policy/comCam/R22.yaml and lsstCam/R22.yaml, R00.yaml.
  const auto comcam = load_camera("LSSTComCam");
  const auto& c10 = comcam.get_detector("R22_S00").get_amplifier("C10");
  EXPECT_DOUBLE_EQ(c10.gain, 1.3517);
  EXPECT_DOUBLE_EQ(c10.read_noise, 8.7);
  EXPECT_EQ(comcam.get_detector("R22_S00").serial, "ITL-3800C-229");
  const auto lsstcam = load_camera("LSSTCam");
  EXPECT_DOUBLE_EQ(lsstcam.get_detector("R22_S00").get_amplifier("C10").gain, 1.46712);
  EXPECT_DOUBLE_EQ(lsstcam.get_detector("R22_S00").get_amplifier("C10").saturation, 132814);
  EXPECT_DOUBLE_EQ(lsstcam.get_detector("R00_SG0").yaw_deg, 270.0);
  EXPECT_DOUBLE_EQ(comcam.plate_scale_arcsec_per_mm(), 20.018130891688713);
  EXPECT_EQ(comcam.get_detector("R22_S00").crosstalk.size(), 16u);
}

TEST(Camera, UnknownNameListsTheKnownCameras) {
  const auto msg = error_message([] { (void)load_camera("NoSuchCam"); });
  EXPECT_NE(msg.find("NoSuchCam"), std::string::npos) << msg;
  EXPECT_NE(msg.find("LSSTComCam"), std::string::npos) << msg;
  EXPECT_THROW((void)load_camera("NoSuchCam"), NotFoundError);
  EXPECT_THROW((void)load_camera("../instruments/TestCam"), NotFoundError);
  const auto cam = load_camera("TestCam");
  const auto det_msg = error_message([&] { (void)cam.get_detector("R9_S9"); });
  EXPECT_NE(det_msg.find("R00_S11"), std::string::npos) << det_msg;
  EXPECT_THROW((void)cam.get_filter("nope"), NotFoundError);
}

TEST(Camera, MalformedFilesNameTheFileAndKey) {
  EXPECT_NO_THROW((void)load_camera_file(temp_file("ok.yaml", tiny_camera())));

  std::string gain_text = tiny_camera();
  gain_text.replace(gain_text.find("gain: 1.5"), 9, "gain: lots");
  const auto bad_gain = temp_file("bad_gain.yaml", gain_text);
  auto msg = error_message([&] { (void)load_camera_file(bad_gain); });
  EXPECT_NE(msg.find("bad_gain.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("amplifiers[0].gain"), std::string::npos) << msg;
  EXPECT_THROW((void)load_camera_file(bad_gain), InvalidConfigError);

  std::string no_detectors = tiny_camera();
  no_detectors = no_detectors.substr(0, no_detectors.find("detectors:"));
  msg = error_message([&] { (void)load_camera_file(temp_file("no_det.yaml", no_detectors)); });
  EXPECT_NE(msg.find("'detectors'"), std::string::npos) << msg;

  std::string version2 = tiny_camera();
  version2.replace(version2.find("format_version: 1"), 17, "format_version: 2");
  msg = error_message([&] { (void)load_camera_file(temp_file("v2.yaml", version2)); });
  EXPECT_NE(msg.find("format_version"), std::string::npos) << msg;

  std::string overlap = tiny_camera();
  overlap.replace(overlap.find("bbox: [4, 0, 4, 4]"), 18, "bbox: [2, 0, 4, 4]");
  msg = error_message([&] { (void)load_camera_file(temp_file("overlap.yaml", overlap)); });
  EXPECT_NE(msg.find("overlaps"), std::string::npos) << msg;

  std::string xt = tiny_camera() + "    crosstalk: [[0, 1e-4]]\n";
  msg = error_message([&] { (void)load_camera_file(temp_file("xt.yaml", xt)); });
  EXPECT_NE(msg.find("crosstalk"), std::string::npos) << msg;

  EXPECT_THROW((void)load_camera_file(temp_file("notyaml.yaml", "a: [1, 2\n")), InvalidConfigError);
  EXPECT_THROW((void)load_camera_file("/nonexistent/cam.yaml"), NotFoundError);
}

TEST(Camera, AmplifierGeometryAndHeaderSections) {
  const auto cam = load_camera("LSSTComCam");
  const auto& det = cam.get_detector("R22_S00");
  const auto& c10 = det.get_amplifier("C10");
  EXPECT_EQ(c10.datasec(), "[4:512,1:2000]");
  EXPECT_EQ(c10.detsec(), "[509:1,1:2000]");
  EXPECT_EQ(c10.biassec(), "[513:576,1:2000]");
  EXPECT_EQ(c10.read_corner(), ReadCorner::kLowerRight);
  // The first data pixel read (raw (3, 0)) lands at the right edge of the amplifier's box.
  EXPECT_EQ(c10.raw_from_assembled({508, 0}), (image::Point2I{3, 0}));
  EXPECT_EQ(c10.raw_from_assembled({0, 1999}), (image::Point2I{511, 1999}));
  const auto& c00 = det.get_amplifier("C00");
  EXPECT_EQ(c00.detsec(), "[509:1,4000:2001]");
  EXPECT_EQ(c00.read_corner(), ReadCorner::kUpperRight);
  EXPECT_EQ(det.detsize(), "[1:4072,1:4000]");
}

// The amplifier boxes of our camera files reproduce the DATASEC / DETSEC / EXTNAME of real
// raws from obs_lsst's test data.
TEST(Camera, AmplifierBoxesMatchRealRawHeaders) {
  const fs::path dir = fs::path(MAJORDOME_SHARED_DATA) / "headers/obs_lsst/raw_header_only_fits";
  if (!fs::exists(dir)) GTEST_SKIP() << "shared test data not found at " << dir << " (a fresh clone has no ../shared)";
  const auto comcam = load_camera("LSSTComCam");
  const auto latiss = load_camera("LATISS");
  const auto lsstcam = load_camera("LSSTCam");
  struct Case {
    const char* file;
    const Detector* detector;
  };
  const Case cases[] = {
      {"3019053000001-R22-S00-det000.fits", &comcam.get_detector("R22_S00")},
      {"CC_S_20240404_000780_R22_S01.fits", &comcam.get_detector("R22_S01")},
      {"3018092000065-det000.fits", &latiss.get_detector("RXX_S00")},
      {"3019031900001-R10-S02-det029.fits", &lsstcam.get_detector("R10_S02")},
  };
  for (const auto& c : cases) {
    image::FitsFile f(dir / c.file, image::FitsMode::kRead);
    const auto primary = f.read_header();
    EXPECT_EQ(primary.get_string("DETSIZE"), c.detector->detsize()) << c.file;
    int checked = 0;
    for (const auto& amp : c.detector->amplifiers) {
      f.move_to(amp.hdu);
      const auto h = f.read_header();
      SCOPED_TRACE(std::string(c.file) + " " + amp.name);
      EXPECT_EQ(h.get_string("EXTNAME"), "Segment" + amp.name.substr(1));
      EXPECT_EQ(h.get_string("DATASEC"), amp.datasec());
      EXPECT_EQ(h.get_string("DETSEC"), amp.detsec());
      const auto info = f.image_info();
      ASSERT_EQ(info.shape.size(), 2u);
      EXPECT_EQ(info.shape[0], amp.raw_bbox.width());
      EXPECT_EQ(info.shape[1], amp.raw_bbox.height());
      ++checked;
    }
    EXPECT_EQ(checked, 16) << c.file;
  }
}

TEST(Camera, TransformsRoundTripAndScale) {
  const auto cam = load_camera("LSSTComCam");
  const auto& det = cam.get_detector("R22_S00");
  for (const auto& p : {image::Point2D{0, 0}, image::Point2D{4071, 3999}, image::Point2D{1234.5, 2222.25}}) {
    const auto f = cam.pixel_to_field(det, p);
    const auto back = cam.field_to_pixel(det, f);
    EXPECT_NEAR(back.x, p.x, 1e-7);
    EXPECT_NEAR(back.y, p.y, 1e-7);
  }
  // Near the axis one pixel is plate_scale × 10 µm ≈ 0.2002″.
  const auto& centre = cam.get_detector("R22_S11");
  const auto f0 = cam.pixel_to_field(centre, {2035.5, 1999.5});
  const auto f1 = cam.pixel_to_field(centre, {2036.5, 1999.5});
  EXPECT_NEAR(std::hypot(f0.x, f0.y), 0.0, 1e-12);
  EXPECT_NEAR((f1.x - f0.x) * 180.0 / kPi * 3600.0, 20.018130891688713 * 0.01, 1e-9);
  // The distortion (c3 > 0 for ComCam) stretches the field at the corner by c3·r².
  const auto corner = cam.pixel_to_focal_plane(det, {0, 0});
  const double r = std::hypot(corner[0], corner[1]);
  const auto fc = cam.focal_plane_to_field(corner);
  const double k = 20.018130891688713 / 206264.80624709636;
  EXPECT_NEAR(std::hypot(fc.x, fc.y) / (k * r), 1.0 + 9.27930280e-08 * r * r + 2.41770368e-13 * r * r * r * r, 1e-12);
  // ComCam sees about 0.7° across.
  double max_r = 0.0;
  for (const auto& d : cam.detectors())
    for (const auto& c : cam.detector_corners(d)) max_r = std::max(max_r, std::hypot(c.x, c.y));
  EXPECT_NEAR(2.0 * max_r * 180.0 / kPi / std::sqrt(2.0), 0.68, 0.03);
}

TEST(Camera, SkyMappingConventions) {
  const auto cam = load_camera("LSSTComCam");
  const Pointing p{150.0, -30.0, 0.0};
  // Rotation 0: +y north, +x west (RA decreases).
  const auto north = field_to_sky(cam, p, {0.0, 1e-3});
  const auto west = field_to_sky(cam, p, {1e-3, 0.0});
  EXPECT_GT(north[1], -30.0);
  EXPECT_LT(west[0], 150.0);
  // Rotation 90: +y points east.
  const auto east = field_to_sky(cam, {150.0, -30.0, 90.0}, {0.0, 1e-3});
  EXPECT_GT(east[0], 150.0);
  EXPECT_NEAR(east[1], -30.0, 1e-4);  // a great circle leaves the parallel by ξ²·tan(δ)/2
  // LATISS sees the sky mirrored: +x is east at rotation 0.
  const auto latiss = load_camera("LATISS");
  EXPECT_GT(field_to_sky(latiss, p, {1e-3, 0.0})[0], 150.0);
  // Round trips.
  for (const auto* c : {&cam, &latiss}) {
    const FieldAngle f{0.004, -0.003};
    const Pointing q{10.0, 60.0, 33.0};
    const auto sky = field_to_sky(*c, q, f);
    const auto back = sky_to_field(*c, q, sky[0], sky[1]);
    ASSERT_TRUE(back.has_value());
    EXPECT_NEAR(back->x, f.x, 1e-13);
    EXPECT_NEAR(back->y, f.y, 1e-13);
  }
  EXPECT_FALSE(sky_to_field(cam, p, 330.0, 30.0).has_value());
}
