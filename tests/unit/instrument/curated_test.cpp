#include "majordome/instrument/curated.hpp"

#include <gtest/gtest.h>

#include <random>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/instrument/formatters.hpp"
#include "majordome/instrument/register.hpp"

#include "ingest_raws_test_util.hpp"

namespace majordome::instrument {
namespace {

namespace fs = std::filesystem;
using butler::Access;
using butler::Butler;
using registry::DataId;

class CuratedTest : public testing_raws::RepoTest {
 protected:
  CuratedTest() : RepoTest("curated", false) {}
};

TEST(CuratedNames, CollectionTimestampsAsRubinFormatsThem) {
  EXPECT_EQ(collection_timestamp("1970-01-01T00:00:00"), "19700101T000000Z");
  EXPECT_EQ(collection_timestamp("2018-01-01"), "20180101T000000Z");
  EXPECT_THROW(collection_timestamp("soon"), InvalidArgumentError);
}

TEST(CuratedFiles, LatissShipsDefectsWithTwoValidityStarts) {
  const auto files = find_curated_files("LATISS");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].dataset_type, "defects");
  EXPECT_EQ(files[0].storage_class, "Defects");
  EXPECT_EQ(files[0].detector, 0);
  EXPECT_EQ(files[0].calib_date, "1970-01-01T00:00:00");
  EXPECT_EQ(files[1].calib_date, "2018-01-01T00:00:00");
  EXPECT_TRUE(find_curated_files("TestCam").empty());
}

TEST_F(CuratedTest, WritesCameraAndDefectsCertifiedWithTheirValidity) {
  auto& reg = butler_->registry();
  register_instrument(reg, "LATISS");
  CuratedOptions options;
  options.labels = {"DM-48650"};
  const auto r = write_curated_calibrations(*butler_, "lsst.obs.lsst.Latiss", options);
  EXPECT_EQ(r.calibration_collection, "LATISS/calib/DM-48650");
  EXPECT_EQ(r.runs, (std::vector<std::string>{"LATISS/calib/DM-48650/unbounded",
                                              "LATISS/calib/DM-48650/curated/19700101T000000Z",
                                              "LATISS/calib/DM-48650/curated/20180101T000000Z"}));
  EXPECT_EQ(r.datasets, 3u);
  EXPECT_EQ(reg.get_collection("LATISS/calib/DM-48650").type, registry::CollectionType::kCalibration);
  EXPECT_EQ(reg.get_collection("LATISS/calib/DM-48650/unbounded").type, registry::CollectionType::kRun);

  const auto camera = reg.query_certifications("LATISS/calib/DM-48650", "camera");
  ASSERT_EQ(camera.size(), 1u);
  EXPECT_EQ(camera[0].timespan, Timespan());
  // The camera dataset is the camera description, copied into the repository.
  const auto stored = reg.stored_files(camera[0].ref.id);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(fs::exists(butler_->artifact_uri(stored[0])));

  // A defects lookup at a time finds the file valid then.
  const DataId det{{"instrument", std::string("LATISS")}, {"detector", std::int64_t{0}}};
  const auto t2017 = TaiTime::from_utc_iso("2017-06-01T00:00:00").ns();
  const auto t2019 = TaiTime::from_utc_iso("2019-06-01T00:00:00").ns();
  const auto early = reg.find_dataset("defects", det, {"LATISS/calib/DM-48650"}, Timespan(t2017, t2017 + 1));
  const auto late = reg.find_dataset("defects", det, {"LATISS/calib/DM-48650"}, Timespan(t2019, t2019 + 1));
  ASSERT_TRUE(early && late);
  EXPECT_EQ(early->run, "LATISS/calib/DM-48650/curated/19700101T000000Z");
  EXPECT_EQ(late->run, "LATISS/calib/DM-48650/curated/20180101T000000Z");

  // The camera reads back through the Butler as the camera it describes.
  auto formatters = std::make_shared<datastore::FormatterRegistry>();
  datastore::add_basic_formatters(*formatters);
  add_formatters(*formatters);
  auto reader = Butler::open(butler_->root(), Access::kReadOnly, formatters);
  const auto back = reader->get_as<Camera>(camera[0].ref);
  EXPECT_EQ(back.name(), "LATISS");
  EXPECT_EQ(back.detectors().size(), load_camera("LATISS").detectors().size());

  // Once per label.
  EXPECT_THROW(write_curated_calibrations(*butler_, "LATISS", options), ConflictError);
}

TEST_F(CuratedTest, NeedsALabelAndARegisteredInstrument) {
  register_instrument(butler_->registry(), "TestCam");
  EXPECT_THROW(write_curated_calibrations(*butler_, "TestCam", {}), InvalidArgumentError);
  CuratedOptions options;
  options.labels = {"x"};
  EXPECT_THROW(write_curated_calibrations(*butler_, "LATISS", options), NotFoundError);
  // An instrument without curated files still gets its camera.
  const auto r = write_curated_calibrations(*butler_, "TestCam", options);
  EXPECT_EQ(r.datasets, 1u);
  EXPECT_EQ(r.dataset_types, std::vector<std::string>{"camera"});
}

TEST_F(CuratedTest, HscMegaPrimeAndDecamWriteTheirCamera) {
  auto& reg = butler_->registry();
  CuratedOptions options;
  options.labels = {"DM-1"};
  for (const char* name :
       {"lsst.obs.subaru.HyperSuprimeCam", "lsst.obs.cfht.MegaPrime", "lsst.obs.decam.DarkEnergyCamera"}) {
    SCOPED_TRACE(name);
    const auto info = register_instrument(reg, name).instrument;
    const auto r = write_curated_calibrations(*butler_, name, options);
    EXPECT_EQ(r.calibration_collection, info.name + "/calib/DM-1");
    EXPECT_EQ(r.dataset_types, std::vector<std::string>{"camera"});
    const auto camera = reg.query_certifications(info.name + "/calib/DM-1", "camera");
    ASSERT_EQ(camera.size(), 1u);
    const auto stored = reg.stored_files(camera[0].ref.id);
    ASSERT_EQ(stored.size(), 1u);
    // The stored camera is the camera description: it loads with the instrument's detectors.
    const auto copy = load_camera_file(butler_->artifact_uri(stored[0]));
    EXPECT_EQ(copy.name(), info.name);
    EXPECT_EQ(copy.detectors().size(), load_camera(info.camera).detectors().size());
  }
}

}  // namespace
}  // namespace majordome::instrument
