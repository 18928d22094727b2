// Test helpers: small TestCam raw files (primary header only) as the simulator writes them,
// and a fixture holding a fresh repository.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "majordome/butler/butler.hpp"
#include "majordome/instrument/register.hpp"

#include "majordome/image/fits_file.hpp"
#include "majordome/image/header.hpp"

namespace majordome::instrument::testing_raws {

// Keyword → value replacing the defaults (std::monostate removes the keyword).
using Overrides = std::map<std::string, image::HeaderValue>;

// Writes <dir>/TC_O_20241125_<seq>_R00_S<detector>.fits: TestCam exposure 2024112500000+seq,
// one of the 4 detectors (0..3), filter g_test, 30 s science, pointing (ra, dec) with ROTPA.
inline std::filesystem::path write_testcam_raw(const std::filesystem::path& dir, int seq, int detector,
                                               const Overrides& overrides = {}, double ra = 9.5576,
                                               double dec = -30.2501, double rotpa = 173.7) {
  const std::string slot = fmt::format("S{}{}", detector / 2, detector % 2);
  const std::string obs_id = fmt::format("TC_O_20241125_{:06d}", seq);
  const std::string begin = fmt::format("2024-11-26T01:{:02d}:00.000", seq);
  const std::string end = fmt::format("2024-11-26T01:{:02d}:30.000", seq);
  image::Header h;
  h.set("DATE-OBS", begin), h.set("DATE-BEG", begin), h.set("DATE-END", end);
  h.set("MJD-OBS", 60640.041666 + seq / 1440.0);
  h.set("OBSID", obs_id), h.set("GROUPID", begin), h.set("IMGTYPE", "OBJECT"), h.set("OBSTYPE", "OBJECT");
  h.set("TIMESYS", "TAI"), h.set("INSTRUME", "TestCam"), h.set("TELESCOP", "Simonyi Survey Telescope");
  h.set("OBS-LONG", -70.749417), h.set("OBS-LAT", -30.244639), h.set("OBS-ELEV", 2663.0);
  h.set("RA", ra), h.set("DEC", dec), h.set("RASTART", ra), h.set("DECSTART", dec);
  h.set("ROTPA", rotpa), h.set("ROTCOORD", "sky"), h.set("AZSTART", 145.0), h.set("ELSTART", 85.0);
  h.set("AMSTART", 1.004), h.set("TRACKSYS", "RADEC"), h.set("RADESYS", "ICRS");
  h.set("OBJECT", "SIM_FIELD"), h.set("CAMCODE", "TC"), h.set("CONTRLLR", "O"), h.set("DAYOBS", "20241125");
  h.set("SEQNUM", seq), h.set("PROGRAM", "SIM"), h.set("REASON", "simulation"), h.set("TSTAND", "TestCam");
  h.set("CCDSLOT", slot), h.set("RAFTBAY", "R00"), h.set("PLATFORM", "testcam");
  h.set("LSST_NUM", fmt::format("TEST-CCD-{:03d}", detector)), h.set("RAFTNAME", "TEST-RAFT-000");
  h.set("DETECTOR", detector), h.set("FILTBAND", "g"), h.set("FILTER", "g_test");
  h.set("EXPTIME", 30.0), h.set("DARKTIME", 31.0), h.set("SHUTTIME", 30.0);
  for (const auto& [k, v] : overrides) {
    if (std::holds_alternative<std::monostate>(v))
      h.erase(k);
    else
      h.set(k, v);
  }
  const auto path = dir / fmt::format("{}_R00_{}.fits", obs_id, slot);
  image::FitsFile file(path, image::FitsMode::kOverwrite);
  file.write_empty_image(h);
  file.close();
  return path;
}

// A fixture: a fresh SQLite repository under a temporary directory (with raws/ beside it),
// opened for writing, optionally with TestCam registered.
class RepoTest : public ::testing::Test {
 protected:
  explicit RepoTest(std::string name, bool register_testcam = true)
      : name_(std::move(name)), register_testcam_(register_testcam) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("majordome-{}-{}", name_, std::random_device{}());
    std::filesystem::create_directories(dir_ / "raws");
    butler::Butler::create(dir_ / "repo");
    butler_ = butler::Butler::open(dir_ / "repo", butler::Access::kReadWrite);
    if (register_testcam_) register_instrument(butler_->registry(), "TestCam");
  }
  void TearDown() override {
    butler_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<butler::Butler> butler_;

 private:
  std::string name_;
  bool register_testcam_;
};

}  // namespace majordome::instrument::testing_raws
