#include "majordome/core/error.hpp"
#include "majordome/instrument/register.hpp"

#include <gtest/gtest.h>

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

TEST_F(RegisterTest, InstrumentsWithoutACameraDescriptionSaySo) {
  try {
    register_instrument(butler_->registry(), "lsst.obs.subaru.HyperSuprimeCam");
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("no camera description for HSC"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(butler_->registry().find_record("instrument", {{"instrument", std::string("HSC")}}));
}

}  // namespace
}  // namespace majordome::instrument
