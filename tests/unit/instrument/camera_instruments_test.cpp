// The shipped cameras of HSC, MegaPrime, DECam and the whole LSSTCam focal
// plane: detector counts, ids and names as Rubin numbers them (checked against
// what the translators make of real headers), layouts that make sense, and the
// sky mapping against DECam's real WCS model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "ingest_raws_test_util.hpp"
#include "majordome/core/error.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/instrument/ingest.hpp"
#include "majordome/instrument/translator.hpp"

namespace fs = std::filesystem;
using namespace majordome;
using namespace majordome::instrument;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegPerRad = 180.0 / kPi;

fs::path shared_dir() { return fs::path(MAJORDOME_SHARED_DATA); }

#define REQUIRE_SHARED(sub)                                                                                         \
  do {                                                                                                              \
    if (!fs::exists(shared_dir() / (sub)))                                                                          \
      GTEST_SKIP() << "shared data not found at " << (shared_dir() / (sub)) << " (a fresh clone has no ../shared)"; \
  } while (0)

std::map<DetectorPurpose, int> purposes(const Camera &camera) {
  std::map<DetectorPurpose, int> out;
  for (const auto &d : camera.detectors()) ++out[d.purpose];
  return out;
}

// The focal-plane boxes (mm) of two detectors overlap by more than
// `tolerance_mm`.
bool overlap(const Camera &c, const Detector &a, const Detector &b, double tolerance_mm) {
  auto box = [&c](const Detector &d) {
    std::array<double, 4> r{1e300, 1e300, -1e300, -1e300};
    const double w = d.bbox.width() - 0.5, h = d.bbox.height() - 0.5;
    for (const auto &p :
         {image::Point2D{-0.5, -0.5}, image::Point2D{w, -0.5}, image::Point2D{w, h}, image::Point2D{-0.5, h}}) {
      const auto fp = c.pixel_to_focal_plane(d, p);
      r[0] = std::min(r[0], fp[0]), r[1] = std::min(r[1], fp[1]);
      r[2] = std::max(r[2], fp[0]), r[3] = std::max(r[3], fp[1]);
    }
    return r;
  };
  const auto p = box(a), q = box(b);
  return std::min(p[2], q[2]) - std::max(p[0], q[0]) > tolerance_mm &&
         std::min(p[3], q[3]) - std::max(p[1], q[1]) > tolerance_mm;
}

// The largest distance (degrees) of a detector corner from the boresight.
double field_radius_deg(const Camera &camera, DetectorPurpose purpose) {
  double r = 0.0;
  for (const auto &d : camera.detectors())
    if (d.purpose == purpose)
      for (const auto &f : camera.detector_corners(d)) r = std::max(r, std::hypot(f.x, f.y) * kDegPerRad);
  return r;
}

void expect_no_overlaps(const Camera &camera) {
  const auto &dets = camera.detectors();
  for (std::size_t i = 0; i < dets.size(); ++i)
    for (std::size_t j = i + 1; j < dets.size(); ++j)
      EXPECT_FALSE(overlap(camera, dets[i], dets[j], 0.01))
          << camera.name() << ": " << dets[i].name << " and " << dets[j].name << " overlap";
}

// Corners → sky → field → pixel gives the corner back.
void expect_corners_round_trip(const Camera &camera, const Detector &d, const Pointing &pointing) {
  const double w = d.bbox.width() - 0.5, h = d.bbox.height() - 0.5;
  for (const auto &p :
       {image::Point2D{-0.5, -0.5}, image::Point2D{w, -0.5}, image::Point2D{w, h}, image::Point2D{-0.5, h}}) {
    const auto sky = field_to_sky(camera, pointing, camera.pixel_to_field(d, p));
    const auto field = sky_to_field(camera, pointing, sky[0], sky[1]);
    ASSERT_TRUE(field.has_value());
    const auto back = camera.field_to_pixel(d, *field);
    EXPECT_NEAR(back.x, p.x, 1e-6) << camera.name() << " " << d.name;
    EXPECT_NEAR(back.y, p.y, 1e-6) << camera.name() << " " << d.name;
  }
}

// The detector a translated header names must be the camera's detector of that
// number.
void expect_header_detector(const Camera &camera, const fs::path &header, const std::string &full_name) {
  SCOPED_TRACE(header.string());
  const auto info = translate_file(header);
  ASSERT_TRUE(info.detector_num.has_value());
  const auto *d = camera.find_detector(*info.detector_num);
  ASSERT_NE(d, nullptr) << "no detector " << *info.detector_num << " in " << camera.name();
  EXPECT_EQ(d->name, full_name);
  const std::string sep = camera.name() == "DECam" || camera.name() == "MegaPrime" ? "" : "_";
  EXPECT_EQ(d->name, info.detector_group.value_or("") + (info.detector_group ? sep : "") + *info.detector_name);
}

}  // namespace

TEST(InstrumentCameras, HscHas104ScienceAnd8FocusCcdsNumberedAsObsSubaru) {
  const auto cam = load_camera("HSC");
  ASSERT_EQ(cam.detectors().size(), 112u);
  EXPECT_EQ(purposes(cam)[DetectorPurpose::kScience], 104);
  EXPECT_EQ(purposes(cam)[DetectorPurpose::kFocus], 8);
  EXPECT_EQ(cam.get_detector(50).name, "1_12");
  EXPECT_EQ(cam.get_detector(0).name, "1_53");
  EXPECT_EQ(cam.get_detector(104).purpose, DetectorPurpose::kFocus);
  EXPECT_EQ(cam.get_detector("0_00").id, 73);
  const auto &d = cam.get_detector(50);
  EXPECT_EQ(d.bbox.width(), 2048);
  EXPECT_EQ(d.bbox.height(), 4176);
  EXPECT_EQ(d.amplifiers.size(), 4u);
  EXPECT_DOUBLE_EQ(d.pixel_size_um, 15.0);
  // THELI's 0.17″ per 15 µm pixel.
  EXPECT_NEAR(cam.plate_scale_arcsec_per_mm() * 0.015, 0.17, 1e-4);
  // The 1_xx CCDs sit on +y, turned by 180°; obs_subaru puts 1_53 at (14861,
  // -6629) pixels.
  EXPECT_DOUBLE_EQ(cam.get_detector("1_53").yaw_deg, 180.0);
  EXPECT_NEAR(cam.get_detector("1_53").focal_plane_mm[0], 14861.08 * 0.015, 0.5);
  EXPECT_NEAR(cam.get_detector("1_53").focal_plane_mm[1], -6629.29 * 0.015, 0.5);
  EXPECT_EQ(cam.get_filter("HSC-I2").band, "i");
  EXPECT_EQ(cam.get_filter("HSC-R2").band, "r");
  EXPECT_EQ(cam.get_filter("NB0921").band, "N921");
  // HSC sees 1.5° across; without a distortion model (THELI's scale is linear,
  // the real optics compress the edge) the corner CCDs reach a bit further than
  // 0.75°.
  EXPECT_GT(field_radius_deg(cam, DetectorPurpose::kScience), 0.75);
  EXPECT_LT(field_radius_deg(cam, DetectorPurpose::kScience), 1.0);
  expect_no_overlaps(cam);
  expect_corners_round_trip(cam, d, {150.0, 2.2, 37.0});
}

TEST(InstrumentCameras, MegaPrimeHas36CcdsFromTheliAhead) {
  const auto cam = load_camera("MegaPrime");
  ASSERT_EQ(cam.detectors().size(), 36u);
  EXPECT_EQ(purposes(cam)[DetectorPurpose::kScience], 36);
  EXPECT_EQ(cam.get_detector(2).name, "ccd02");
  EXPECT_EQ(cam.get_detector(35).name, "ccd35");
  EXPECT_EQ(cam.get_detector(2).bbox.width(), 2048);
  EXPECT_EQ(cam.get_detector(2).bbox.height(), 4612);
  // Rubin's obs_cfht: ccd00 top left (-114, 99.5) mm, read turned by 180°;
  // ccd35 bottom right.
  EXPECT_NEAR(cam.get_detector("ccd00").focal_plane_mm[0], -114.4, 2.0);
  EXPECT_NEAR(cam.get_detector("ccd00").focal_plane_mm[1], 99.5, 2.0);
  EXPECT_DOUBLE_EQ(cam.get_detector("ccd00").yaw_deg, 180.0);
  EXPECT_NEAR(cam.get_detector("ccd35").focal_plane_mm[0], 114.2, 2.0);
  EXPECT_NEAR(cam.get_detector("ccd35").focal_plane_mm[1], -99.5, 2.0);
  // 0.186″ per 13.5 µm pixel (THELI).
  EXPECT_NEAR(cam.plate_scale_arcsec_per_mm() * 0.0135, 0.186, 0.002);
  EXPECT_EQ(cam.get_filter("i.MP9702").band, "i");
  EXPECT_EQ(cam.get_filter("u.MP9301").band, "u");
  // A 1° × 1° field: corners about 0.7° from the axis.
  EXPECT_NEAR(field_radius_deg(cam, DetectorPurpose::kScience), 0.70, 0.05);
  expect_no_overlaps(cam);
  expect_corners_round_trip(cam, cam.get_detector(2), {210.0, 52.0, 0.0});
}

TEST(InstrumentCameras, DecamHas62CcdsNumberedByCcdnum) {
  const auto cam = load_camera("DECam");
  ASSERT_EQ(cam.detectors().size(), 62u);
  EXPECT_EQ(cam.get_detector(1).name, "S29");
  EXPECT_EQ(cam.get_detector(25).name, "S1");
  EXPECT_EQ(cam.get_detector(31).name, "S7");
  EXPECT_EQ(cam.get_detector(32).name, "N1");
  EXPECT_EQ(cam.get_detector(62).name, "N31");
  EXPECT_EQ(cam.get_detector(1).bbox.width(), 2048);
  EXPECT_EQ(cam.get_detector(1).bbox.height(), 4096);
  EXPECT_EQ(cam.find_detector(0), nullptr);
  // obs_decam: S29 at (-185.6, -63.7) mm, N31 at (185.6, 63.8) mm.
  EXPECT_NEAR(cam.get_detector("S29").focal_plane_mm[0], -185.6, 0.5);
  EXPECT_NEAR(cam.get_detector("S29").focal_plane_mm[1], -63.7, 0.5);
  EXPECT_NEAR(cam.get_detector("N31").focal_plane_mm[0], 185.6, 0.5);
  EXPECT_NEAR(cam.get_detector("N31").focal_plane_mm[1], 63.8, 0.5);
  EXPECT_EQ(cam.get_filter("g DECam SDSS c0001 4720.0 1520.0").band, "g");
  EXPECT_EQ(cam.get_filter("Y DECam c0005 10095.0 1130.0").band, "y");
  EXPECT_EQ(cam.get_filter("solid plate 0.0 0.0").band, "opaque");
  // DECam: 3 deg² over a 2.2° circle.
  EXPECT_NEAR(field_radius_deg(cam, DetectorPurpose::kScience), 1.1, 0.05);
  expect_no_overlaps(cam);
  expect_corners_round_trip(cam, cam.get_detector(25), {44.0, -0.5, 90.0});
}

TEST(InstrumentCameras, LsstCamWholeFocalPlane) {
  const auto cam = load_camera("LSSTCam");
  ASSERT_EQ(cam.detectors().size(), 205u);
  EXPECT_EQ(purposes(cam)[DetectorPurpose::kScience], 189);
  EXPECT_EQ(purposes(cam)[DetectorPurpose::kGuider], 8);
  EXPECT_EQ(purposes(cam)[DetectorPurpose::kWavefront], 8);
  // detector = 9 · science raft index + sensor index; corners 189..204.
  EXPECT_EQ(cam.get_detector(0).name, "R01_S00");
  EXPECT_EQ(cam.get_detector(29).name, "R10_S02");
  EXPECT_EQ(cam.get_detector(94).name, "R22_S11");
  EXPECT_EQ(cam.get_detector(188).name, "R43_S22");
  EXPECT_EQ(cam.get_detector(189).name, "R00_SG0");
  EXPECT_EQ(cam.get_detector(203).name, "R44_SW0");
  EXPECT_EQ(cam.get_detector(204).name, "R44_SW1");
  // Vendors as built (and as the real raws in shared/data say).
  EXPECT_EQ(cam.get_detector("R10_S02").physical_type, "ITL");
  EXPECT_EQ(cam.get_detector("R01_S01").physical_type, "ITL");
  EXPECT_EQ(cam.get_detector("R12_S10").physical_type, "E2V");
  EXPECT_EQ(cam.get_detector("R22_S00").physical_type, "E2V");
  EXPECT_EQ(cam.get_detector("R10_S02").bbox.width(), 4072);
  EXPECT_EQ(cam.get_detector("R12_S10").bbox.width(), 4096);
  // Wavefront sensors are half ITL sensors with 8 amplifiers.
  EXPECT_EQ(cam.get_detector("R44_SW0").bbox.height(), 2000);
  EXPECT_EQ(cam.get_detector("R44_SW0").amplifiers.size(), 8u);
  EXPECT_EQ(cam.get_detector("R44_SW0").crosstalk.size(), 8u);
  // 127 mm raft pitch, 42.25 mm sensor pitch.
  const auto &r01 = cam.get_detector("R01_S11").focal_plane_mm;
  EXPECT_DOUBLE_EQ(r01[0], -127.0);
  EXPECT_DOUBLE_EQ(r01[1], -254.0);
  const auto &r43 = cam.get_detector("R43_S22").focal_plane_mm;
  EXPECT_DOUBLE_EQ(r43[0], 127.0 + 42.25);
  EXPECT_DOUBLE_EQ(r43[1], 254.0 + 42.25);
  // Templates: an e2v sensor takes R22's per-amplifier values of the same slot,
  // ITL R00_SG0's.
  EXPECT_DOUBLE_EQ(cam.get_detector("R12_S00").get_amplifier("C10").gain,
                   cam.get_detector("R22_S00").get_amplifier("C10").gain);
  EXPECT_DOUBLE_EQ(cam.get_detector("R10_S02").get_amplifier("C10").gain,
                   cam.get_detector("R00_SG0").get_amplifier("C10").gain);
  // The science array is 5 rafts across minus the corners: about 3.5° wide.
  EXPECT_NEAR(field_radius_deg(cam, DetectorPurpose::kScience), 2.06, 0.05);
  expect_no_overlaps(cam);
  expect_corners_round_trip(cam, cam.get_detector(29), {53.0, -28.0, 12.0});
  expect_corners_round_trip(cam, cam.get_detector(203), {53.0, -28.0, 12.0});
}

// The ids and names of the camera files agree with what the translators make of
// real headers.
TEST(InstrumentCameras, DetectorsOfRealHeadersAreTheCamerasDetectors) {
  REQUIRE_SHARED("headers");
  const fs::path amt = shared_dir() / "headers/astro_metadata_translator";
  expect_header_detector(load_camera("HSC"), amt / "fitsheader-hsc.yaml", "1_12");
  const auto decam = load_camera("DECam");
  expect_header_detector(decam, amt / "fitsheader-decam.yaml", "S1");
  expect_header_detector(decam, amt / "fitsheader-decam-raw_dec050441_25.yaml", "S1");
  expect_header_detector(decam, amt / "fitsheader-decam-instcal-c4d_190402_050618_ooi_VR_v1.yaml", "S29");
  expect_header_detector(load_camera("MegaPrime"), amt / "fitsheader-megaprime.yaml", "ccd02");
  const auto lsstcam = load_camera("LSSTCam");
  int checked = 0;
  for (const auto &entry : fs::directory_iterator(shared_dir() / "headers/obs_lsst")) {
    const std::string file = entry.path().filename().string();
    if (!file.starts_with("lsstCam-") || file.find("faked") != std::string::npos) continue;
    const auto info = translate_file(entry.path());
    ASSERT_TRUE(info.detector_num && info.detector_group && info.detector_name) << file;
    EXPECT_EQ(lsstcam.get_detector(*info.detector_num).name, *info.detector_group + "_" + *info.detector_name) << file;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// DECam's placement reproduces SCAMP's linear WCS of each CCD to about an
// arcsecond.
TEST(InstrumentCameras, DecamSkyMappingMatchesScampModel) {
  REQUIRE_SHARED("camera/scamp/decam.ahead");
  std::ifstream in(shared_dir() / "camera/scamp/decam.ahead");
  std::vector<std::map<std::string, double>> blocks(1);
  for (std::string line; std::getline(in, line);) {
    const std::string key = line.substr(0, std::min<std::size_t>(8, line.size()));
    if (key.starts_with("END")) {
      blocks.emplace_back();
    } else if (line.size() > 10 && line[8] == '=' && (key.starts_with("CRPIX") || key.starts_with("CD"))) {
      blocks.back()[key.substr(0, key.find(' '))] = std::stod(line.substr(10, line.find('/') - 10));
    }
  }
  blocks.pop_back();
  ASSERT_EQ(blocks.size(), 62u);
  const auto cam = load_camera("DECam");
  const Pointing pointing{30.0, -20.0, 90.0};  // the DECam translator's rotation
  double worst = 0.0;
  for (int ccd = 1; ccd <= 62; ++ccd) {
    const auto &b = blocks[static_cast<std::size_t>(ccd - 1)];
    const auto &d = cam.get_detector(ccd);
    // SCAMP's pixels are those of the CCD trimmed by 4 on each side, 1-based.
    for (const auto &p : {image::Point2D{4, 4}, image::Point2D{2043, 4}, image::Point2D{2043, 4091},
                          image::Point2D{4, 4091}, image::Point2D{1023.5, 2047.5}}) {
      const double dx = p.x - 3.0 - b.at("CRPIX1"), dy = p.y - 3.0 - b.at("CRPIX2");
      const double xi = (b.at("CD1_1") * dx + b.at("CD1_2") * dy) / kDegPerRad;
      const double eta = (b.at("CD2_1") * dx + b.at("CD2_2") * dy) / kDegPerRad;
      // Gnomonic (xi, eta) about the pointing → RA, Dec.
      const double d0 = pointing.dec_deg / kDegPerRad;
      const double denom = std::cos(d0) - eta * std::sin(d0);
      const double ra = pointing.ra_deg + std::atan2(xi, denom) * kDegPerRad;
      const double dec = std::atan2(std::sin(d0) + eta * std::cos(d0), std::hypot(xi, denom)) * kDegPerRad;
      const auto ours = field_to_sky(cam, pointing, cam.pixel_to_field(d, p));
      const double sep = std::hypot((ours[0] - ra) * std::cos(dec / kDegPerRad), ours[1] - dec) * 3600.0;
      worst = std::max(worst, sep);
    }
  }
  EXPECT_LT(worst, 2.0) << "arcsec";
}

class LsstCamIngest : public testing_raws::RepoTest {
 protected:
  LsstCamIngest() : RepoTest("lsstcam-ingest", false) {}
};

// The real LSSTCam raw (R10_S02, detector 29) was refused as an unregistered
// detector while the camera held only R22 and R00.
TEST_F(LsstCamIngest, RealLsstCamRawIngests) {
  REQUIRE_SHARED("headers/obs_lsst/raw_header_only_fits");
  register_instrument(butler_->registry(), "lsst.obs.lsst.LsstCam");
  RawIngestOptions options;
  options.transfer = "direct";
  const auto r = ingest_raws(*butler_,
                             {shared_dir() / "headers/obs_lsst/raw_header_only_fits/"
                                             "3019031900001-R10-S02-det029.fits"},
                             options);
  EXPECT_EQ(r.ingested, 1u) << (r.failures.empty() ? "" : r.failures[0].reason);
  EXPECT_TRUE(butler_->registry().find_record(
      "detector", {{"instrument", std::string("LSSTCam")}, {"detector", std::int64_t{29}}}));
}
