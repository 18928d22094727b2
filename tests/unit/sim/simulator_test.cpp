// simulate() end to end on the small TestCam: outputs, determinism, truth, errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/exposure.hpp"
#include "majordome/sim/simulator.hpp"
#include "cancelling_progress.hpp"

namespace fs = std::filesystem;
using namespace majordome;
using namespace majordome::sim;

namespace {

// One directory per process: test runs of other build trees share /tmp.
fs::path scratch_root() {
  return fs::temp_directory_path() / ("majordome_sim_test_" + std::to_string(::getpid()));
}

class RemoveScratchRoot : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(scratch_root(), ec);
  }
};
[[maybe_unused]] const auto* const kRemoveScratchRoot = ::testing::AddGlobalTestEnvironment(new RemoveScratchRoot);

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = scratch_root() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<ExposureSpec> two_exposures(const instrument::Camera& cam) {
  PlanOptions plan;
  plan.exposures = 2;
  plan.bands = {"g", "r"};
  plan.ra_deg = 150.0;
  plan.dec_deg = 2.0;
  return plan_exposures(cam, plan);
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int count_files(const fs::path& dir, const std::string& suffix) {
  int n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    n += e.is_regular_file() && e.path().string().ends_with(suffix);
  return n;
}

}  // namespace

TEST(Simulator, WritesRawsCalibsRefcatAndTruth) {
  const auto cam = instrument::load_camera("TestCam");
  SimOptions o;
  o.out = fresh_dir("all");
  o.calibs = true;
  o.threads = 2;
  const auto summary = simulate(cam, two_exposures(cam), o);
  // 3 biases + 3 darks + 3 flats × 2 bands + 2 science exposures, 4 detectors each.
  EXPECT_EQ(summary.exposures, 14);
  EXPECT_EQ(summary.raw_files, 56);
  EXPECT_EQ(count_files(o.out / "raw", ".fits"), 56);
  EXPECT_TRUE(fs::exists(o.out / "raw/20241125/TC_O_20241125_000013/TC_O_20241125_000013_R00_S10.fits"));
  // bias, dark, 2 flats, defects per detector.
  EXPECT_EQ(summary.calib_files, 20);
  EXPECT_EQ(count_files(o.out / "calib/flat", ".fits"), 8);
  EXPECT_EQ(count_files(o.out / "calib/defects", ".ecsv"), 4);
  EXPECT_EQ(count_files(o.out / "truth", "_sources.fits"), 8);
  EXPECT_EQ(count_files(o.out / "truth", "_image.fits"), 8);
  EXPECT_EQ(count_files(o.out / "truth", "_psf.fits"), 8);
  EXPECT_GT(summary.refcat_shards, 0);
  EXPECT_TRUE(fs::exists(o.out / "refcat/index.ecsv"));
  EXPECT_TRUE(fs::exists(o.out / "summary.yaml"));
  EXPECT_GT(summary.sources, 100);
  EXPECT_EQ(count_files(o.out, ".tmp"), 0);

  // A raw: primary header + one image HDU per amplifier with the camera's geometry.
  image::FitsFile f(o.out / "raw/20241125/TC_O_20241125_000013/TC_O_20241125_000013_R00_S10.fits",
                    image::FitsMode::kRead);
  ASSERT_EQ(f.hdu_count(), 3);
  EXPECT_EQ(f.read_header().get_string("OBSID"), "TC_O_20241125_000013");
  f.move_to(2);
  const auto h = f.read_header();
  EXPECT_EQ(h.get_string("EXTNAME"), "Segment11");
  const auto raw = f.read_image<std::int32_t>();
  EXPECT_EQ(raw.width(), 275);
  EXPECT_EQ(raw.height(), 520);

  // The truth table has the promised columns.
  image::FitsFile t(o.out / "truth/TC_O_20241125_000013_R00_S10_sources.fits", image::FitsMode::kRead);
  t.move_to(1);
  const auto cat = t.read_catalog();
  for (const char* col : {"id", "type", "ra", "dec", "x", "y", "flux", "mag"})
    EXPECT_TRUE(cat.schema().find_index(col).has_value()) << col;
}

TEST(Simulator, SameSeedSameFilesWhateverTheThreads) {
  const auto cam = instrument::load_camera("TestCam");
  SimOptions o;
  o.truth_images = false;
  o.refcat = false;
  o.out = fresh_dir("one");
  o.threads = 1;
  const auto a = simulate(cam, two_exposures(cam), o);
  o.out = fresh_dir("three");
  o.threads = 3;
  const auto b = simulate(cam, two_exposures(cam), o);
  o.out = fresh_dir("other");
  o.seed = 2;
  const auto c = simulate(cam, two_exposures(cam), o);
  ASSERT_EQ(a.raws.size(), b.raws.size());
  for (std::size_t i = 0; i < a.raws.size(); ++i) {
    EXPECT_EQ(a.raws[i].filename(), b.raws[i].filename());
    EXPECT_TRUE(read_bytes(a.raws[i]) == read_bytes(b.raws[i])) << a.raws[i];
    EXPECT_FALSE(read_bytes(a.raws[i]) == read_bytes(c.raws[i])) << c.raws[i];
  }
}

// Bright isolated stars in the truth image are centred where the truth table says.
TEST(Simulator, TruthPositionsAreWhereTheStarsAre) {
  const auto cam = instrument::load_camera("LSSTComCam");
  SimOptions o;
  o.sky.galaxies = false;
  auto exposures = two_exposures(cam);
  assign_ids(cam, exposures);
  const auto& det = cam.get_detector("R22_S12");
  const auto scene = render_scene(cam, det, exposures[1], o, {});
  const auto& cat = scene.sources;
  const auto x = cat.column<double>("x");
  const auto y = cat.column<double>("y");
  const auto snr = cat.column<double>("snr");
  const auto sat = cat.column<bool>("saturated");
  int checked = 0;
  for (std::size_t i = 0; i < cat.size(); ++i) {
    // Away from the edges (sources beyond them are drawn but not listed) and from other
    // sources bright enough to move a centroid.
    if (snr[i] < 100 || sat[i] || x[i] < 60 || y[i] < 60 || x[i] > 4011 || y[i] > 3939) continue;
    bool isolated = true;
    for (std::size_t j = 0; j < cat.size(); ++j) {
      const double d = std::hypot(x[j] - x[i], y[j] - y[i]);
      if (j != i && ((d < 20 && snr[j] > 1) || (d < 60 && sat[j]))) isolated = false;
    }
    if (!isolated) continue;
    // Local background: the median of an annulus.
    const int cx = static_cast<int>(std::lround(x[i])), cy = static_cast<int>(std::lround(y[i]));
    std::vector<double> ring;
    for (int yy = cy - 15; yy <= cy + 15; ++yy)
      for (int xx = cx - 15; xx <= cx + 15; ++xx)
        if (std::hypot(xx - cx, yy - cy) > 12) ring.push_back(scene.electrons(xx, yy));
    std::nth_element(ring.begin(), ring.begin() + static_cast<long>(ring.size() / 2), ring.end());
    const double background = ring[ring.size() / 2];
    double s = 0, sx = 0, sy = 0;
    for (int yy = cy - 8; yy <= cy + 8; ++yy)
      for (int xx = cx - 8; xx <= cx + 8; ++xx) {
        const double v = scene.electrons(xx, yy) - background;
        s += v;
        sx += v * xx;
        sy += v * yy;
      }
    EXPECT_NEAR(sx / s, x[i], 0.1);
    EXPECT_NEAR(sy / s, y[i], 0.1);
    ++checked;
  }
  EXPECT_GE(checked, 20);
  // Through the WCS written in the truth image.
  const auto ra = cat.column<double>("ra");
  const auto dec = cat.column<double>("dec");
  for (std::size_t i = 0; i < std::min<std::size_t>(cat.size(), 20); ++i) {
    const auto p = scene.wcs->sky_to_pixel(ra[i], dec[i]);
    EXPECT_NEAR(p.x, x[i], 1e-6);
    EXPECT_NEAR(p.y, y[i], 1e-6);
  }
}

TEST(Simulator, TinyRawsHaveFullHeadersAndOnePixelPerAmplifier) {
  const auto cam = instrument::load_camera("LSSTComCam");
  SimOptions o;
  o.out = fresh_dir("tiny");
  o.tiny = true;
  o.detectors = {"R22_S11", "0"};
  const auto s = simulate(cam, two_exposures(cam), o);
  EXPECT_EQ(s.raw_files, 4);
  EXPECT_EQ(count_files(o.out / "truth", ".fits"), 0);
  image::FitsFile f(s.raws[0], image::FitsMode::kRead);
  EXPECT_EQ(f.hdu_count(), 17);
  f.move_to(16);
  const auto h = f.read_header();
  EXPECT_EQ(h.get_string("EXTNAME"), "Segment00");
  EXPECT_EQ(h.get_string("DATASEC"), "[4:512,1:2000]");
  EXPECT_EQ(f.read_image<std::int32_t>().width(), 1);
}

TEST(Simulator, ProgressCountsRawsAndCancelStopsAtTheNextOne) {
  const auto cam = instrument::load_camera("TestCam");
  SimOptions o;
  o.out = fresh_dir("cancel");
  o.tiny = true;
  majordome::testing::CancellingProgress cancelling("simulating raws", 3);
  o.progress = &cancelling;
  EXPECT_THROW(simulate(cam, two_exposures(cam), o), CancelledError);
  EXPECT_EQ(count_files(o.out / "raw", ".fits"), 3);  // of 8

  majordome::testing::CancellingProgress progress("never", 0);
  o.progress = &progress;
  o.threads = 2;
  EXPECT_EQ(simulate(cam, two_exposures(cam), o).raw_files, 8);
  EXPECT_EQ(progress.state().done, 8u);
  EXPECT_EQ(progress.state().total, 8u);
}

TEST(Simulator, BadRequestsAreClearErrors) {
  const auto cam = instrument::load_camera("TestCam");
  SimOptions o;
  o.out = fresh_dir("errors");
  o.detectors = {"R99_S99"};
  EXPECT_THROW(simulate(cam, two_exposures(cam), o), NotFoundError);
  o.detectors.clear();
  o.out.clear();
  EXPECT_THROW(simulate(cam, two_exposures(cam), o), InvalidArgumentError);

  PlanOptions plan;
  plan.bands = {"q"};
  EXPECT_THROW(plan_exposures(cam, plan), NotFoundError);

  const fs::path dir = fresh_dir("pointings");
  std::ofstream(dir / "good.yaml") << "pointings:\n"
                                      "  - {ra: 10, dec: -5, rotation: 30, band: r, time: '2024-11-26T02:00:00', exptime: 15}\n"
                                      "  - {ra: 10.1, dec: -5, physical_filter: g_test, time: 60640.1}\n";
  const auto pts = read_pointings(cam, dir / "good.yaml");
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[0].physical_filter, "r_test");
  EXPECT_DOUBLE_EQ(pts[0].exposure_time_s, 15.0);
  EXPECT_DOUBLE_EQ(pts[1].pointing.rotation_deg, 0.0);
  EXPECT_NEAR(pts[1].start.mjd_tai(), 60640.1, 1e-9);

  std::ofstream(dir / "bad.yaml") << "pointings:\n  - {ra: 10, dec: -5, band: r, time: '2024-11-26T02:00:00'}\n"
                                     "  - {ra: 10, band: r, time: '2024-11-26T02:00:00'}\n";
  try {
    (void)read_pointings(cam, dir / "bad.yaml");
    ADD_FAILURE() << "no error";
  } catch (const InvalidConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("entry 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'dec'"), std::string::npos) << msg;
  }
  std::ofstream(dir / "band.yaml") << "pointings:\n  - {ra: 10, dec: -5, band: w, time: '2024-11-26T02:00:00'}\n";
  EXPECT_THROW((void)read_pointings(cam, dir / "band.yaml"), InvalidConfigError);
  EXPECT_THROW((void)read_pointings(cam, dir / "missing.yaml"), NotFoundError);
}

TEST(Simulator, PlannedNightIsNumberedAsRubinDoes) {
  const auto cam = instrument::load_camera("LSSTComCam");
  PlanOptions plan;
  plan.exposures = 6;
  plan.bands = {"g", "r", "i"};
  auto e = plan_exposures(cam, plan);
  assign_ids(cam, e, 40);
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].physical_filter, "g_01");
  EXPECT_EQ(e[2].physical_filter, "r_03");
  EXPECT_EQ(e[5].physical_filter, "i_06");
  EXPECT_EQ(e[0].obs_id, "CC_O_20241125_000040");
  EXPECT_EQ(e[5].exposure_id, 2024112500045);
  EXPECT_LT(e[0].start, e[1].start);
  for (const auto& x : e) {
    EXPECT_GE(x.seeing_arcsec, 0.6);
    EXPECT_LE(x.seeing_arcsec, 1.1);
  }
}
