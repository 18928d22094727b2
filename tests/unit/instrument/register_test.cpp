#include "majordome/core/error.hpp"
#include "majordome/instrument/register.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include "majordome/butler/butler.hpp"

namespace majordome::instrument {
namespace {

namespace fs = std::filesystem;

TEST(RegisterInstrument, RubinClassNamesAndOurNamesResolve) {
  EXPECT_EQ(get_instrument("lsst.obs.lsst.Latiss").name, "LATISS");
  EXPECT_EQ(get_instrument("lsst.obs.lsst.LsstComCam").name, "LSSTComCam");
  EXPECT_EQ(get_instrument("lsst.obs.lsst.LsstCam").name, "LSSTCam");
  EXPECT_EQ(get_instrument("lsst.obs.subaru.HyperSuprimeCam").name, "HSC");
  EXPECT_EQ(get_instrument("lsst.obs.cfht.MegaPrime").name, "MegaPrime");
  EXPECT_EQ(get_instrument("lsst.obs.decam.DarkEnergyCamera").name, "DECam");
  EXPECT_EQ(get_instrument("latiss").class_name, "lsst.obs.lsst.Latiss");
  try {
    get_instrument("lsst.obs.nope.Nope");
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("lsst.obs.lsst.LsstCam"), std::string::npos) << e.what();
  }
}

class RegisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("majordome-register-{}", std::random_device{}());
    butler::Butler::create(dir_);
    butler_ = butler::Butler::open(dir_, butler::Access::kReadWrite);
  }
  void TearDown() override {
    butler_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<butler::Butler> butler_;
};

TEST_F(RegisterTest, WritesInstrumentDetectorAndFilterRecordsOnce) {
  auto& reg = butler_->registry();
  const auto r = register_instrument(reg, "lsst.obs.lsst.LsstComCam");
  EXPECT_TRUE(r.inserted);
  EXPECT_EQ(r.detectors, 9u);
  const auto inst = reg.find_record("instrument", {{"instrument", std::string("LSSTComCam")}});
  ASSERT_TRUE(inst);
  EXPECT_EQ(std::get<std::string>(inst->get("class_name")), "lsst.obs.lsst.LsstComCam");
  EXPECT_EQ(std::get<std::int64_t>(inst->get("exposure_max")), 7050123199999);
  const auto dets = reg.query_records("detector", {{"instrument", std::string("LSSTComCam")}});
  ASSERT_EQ(dets.size(), 9u);
  EXPECT_EQ(std::get<std::string>(dets[4].get("full_name")), "R22_S11");
  EXPECT_EQ(std::get<std::string>(dets[4].get("raft")), "R22");
  EXPECT_EQ(std::get<std::string>(dets[4].get("name_in_raft")), "S11");
  EXPECT_EQ(std::get<std::string>(dets[4].get("purpose")), "SCIENCE");
  const auto filters = reg.query_records("physical_filter", {{"instrument", std::string("LSSTComCam")}});
  ASSERT_FALSE(filters.empty());
  EXPECT_FALSE(std::get<std::string>(filters[0].get("band")).empty());

  EXPECT_FALSE(register_instrument(reg, "LSSTComCam").inserted);  // again: a no-op
  EXPECT_EQ(registered_instrument_name(reg, "lsst.obs.lsst.LsstComCam"), "LSSTComCam");
  EXPECT_THROW(registered_instrument_name(reg, "LATISS"), NotFoundError);
}

TEST_F(RegisterTest, HscMegaPrimeAndDecamRegisterTheirDetectorsAndFilters) {
  auto& reg = butler_->registry();
  struct Case {
    const char* class_name;
    const char* name;
    std::size_t detectors;
    std::int64_t id;
    const char* full_name;
    const char* purpose;
    const char* physical_filter;
    const char* band;
  };
  for (const auto& c : {Case{"lsst.obs.subaru.HyperSuprimeCam", "HSC", 112, 50, "1_12", "SCIENCE", "HSC-I2", "i"},
                        Case{"HSC", "HSC", 112, 104, "1_48", "FOCUS", "HSC-R2", "r"},
                        Case{"lsst.obs.cfht.MegaPrime", "MegaPrime", 36, 2, "ccd02", "SCIENCE", "i.MP9702", "i"},
                        Case{"lsst.obs.decam.DarkEnergyCamera", "DECam", 62, 25, "S1", "SCIENCE",
                             "g DECam SDSS c0001 4720.0 1520.0", "g"}}) {
    SCOPED_TRACE(c.class_name);
    const auto r = register_instrument(reg, c.class_name);
    EXPECT_EQ(r.instrument.name, c.name);
    EXPECT_EQ(r.detectors, c.detectors);
    const auto dets = reg.query_records("detector", {{"instrument", std::string(c.name)}});
    EXPECT_EQ(dets.size(), c.detectors);
    const auto det = reg.find_record("detector", {{"instrument", std::string(c.name)}, {"detector", c.id}});
    ASSERT_TRUE(det);
    EXPECT_EQ(std::get<std::string>(det->get("full_name")), c.full_name);
    EXPECT_EQ(std::get<std::string>(det->get("purpose")), c.purpose);
    const auto f = reg.find_record(
        "physical_filter", {{"instrument", std::string(c.name)}, {"physical_filter", std::string(c.physical_filter)}});
    ASSERT_TRUE(f);
    EXPECT_EQ(std::get<std::string>(f->get("band")), c.band);
    // The detector ids fit under the instrument's detector_max.
    const auto inst = reg.find_record("instrument", {{"instrument", std::string(c.name)}});
    ASSERT_TRUE(inst);
    for (const auto& d : dets)
      EXPECT_LT(std::get<std::int64_t>(d.get("id")), std::get<std::int64_t>(inst->get("detector_max")));
  }
}

TEST_F(RegisterTest, LsstCamRegistersTheWholeFocalPlane) {
  auto& reg = butler_->registry();
  const auto r = register_instrument(reg, "lsst.obs.lsst.LsstCam");
  EXPECT_EQ(r.detectors, 205u);
  const auto det =
      reg.find_record("detector", {{"instrument", std::string("LSSTCam")}, {"detector", std::int64_t{203}}});
  ASSERT_TRUE(det);
  EXPECT_EQ(std::get<std::string>(det->get("full_name")), "R44_SW0");
  EXPECT_EQ(std::get<std::string>(det->get("purpose")), "WAVEFRONT");
}

// A data directory without the instrument's camera file: the error says what is missing.
TEST_F(RegisterTest, InstrumentsWithoutACameraDescriptionSaySo) {
  const fs::path data = dir_.string() + "-data";
  fs::create_directories(data / "instruments");
  fs::copy_file(data_dir() / "instruments" / "TestCam.yaml", data / "instruments" / "TestCam.yaml");
  const char* old = std::getenv("MAJORDOME_DATA_DIR");
  const std::string saved = old ? old : "";
  ::setenv("MAJORDOME_DATA_DIR", data.c_str(), 1);
  std::string message;
  try {
    register_instrument(butler_->registry(), "lsst.obs.subaru.HyperSuprimeCam");
  } catch (const NotFoundError& e) {
    message = e.what();
  }
  if (old)
    ::setenv("MAJORDOME_DATA_DIR", saved.c_str(), 1);
  else
    ::unsetenv("MAJORDOME_DATA_DIR");
  fs::remove_all(data);
  EXPECT_NE(message.find("no camera description for HSC"), std::string::npos) << message;
  EXPECT_FALSE(butler_->registry().find_record("instrument", {{"instrument", std::string("HSC")}}));
}

}  // namespace
}  // namespace majordome::instrument
