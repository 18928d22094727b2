#include "majordome/instrument/visits.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "majordome/instrument/ingest.hpp"
#include "majordome/core/error.hpp"
#include "majordome/instrument/register.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "cancelling_progress.hpp"
#include "ingest_raws_test_util.hpp"

namespace majordome::instrument {
namespace {

namespace fs = std::filesystem;
using butler::Access;
using butler::Butler;

class VisitsTest : public testing_raws::RepoTest {
 protected:
  VisitsTest() : RepoTest("visits") {}
  // Three science exposures (1, 2 in group A; 3 alone) and a bias, 4 detectors each.
  void ingest_night() {
    for (int det = 0; det < 4; ++det) {
      testing_raws::write_testcam_raw(dir_ / "raws", 1, det, {{"GROUPID", std::string("groupA")}});
      testing_raws::write_testcam_raw(dir_ / "raws", 2, det, {{"GROUPID", std::string("groupA")}});
      testing_raws::write_testcam_raw(dir_ / "raws", 3, det, {}, 10.0, -30.0, 120.0);
      testing_raws::write_testcam_raw(dir_ / "raws", 4, det, {{"IMGTYPE", std::string("BIAS")},
                                                               {"OBSTYPE", std::string("BIAS")},
                                                               {"EXPTIME", 0.0}});
    }
    const auto r = ingest_raws(*butler_, {dir_ / "raws"});
    ASSERT_TRUE(r.failures.empty()) << r.failures[0].file << ": " << r.failures[0].reason;
    ASSERT_EQ(r.ingested, 16u);
  }
  std::vector<dimensions::DimensionRecord> records(const std::string& element) {
    return butler_->registry().query_records(element, {{"instrument", std::string("TestCam")}});
  }

};

TEST_F(VisitsTest, OneToOneDefinesAVisitPerScienceExposure) {
  ingest_night();
  DefineVisitsOptions one_to_one;
  one_to_one.grouping = VisitGrouping::kOneToOne;
  const auto r = define_visits(butler_->registry(), "majordome.instrument.TestCam", one_to_one);
  EXPECT_EQ(r.exposures, 4u);
  EXPECT_EQ(r.not_science, 1u);
  EXPECT_EQ(r.new_visits, 3u);
  EXPECT_EQ(r.detector_regions, 12u);
  const auto visits = records("visit");
  ASSERT_EQ(visits.size(), 3u);
  EXPECT_EQ(std::get<std::int64_t>(visits[0].get("id")), 2024112500001);
  EXPECT_EQ(std::get<std::string>(visits[0].get("name")), "TC_O_20241125_000001");
  EXPECT_EQ(std::get<std::string>(visits[0].get("physical_filter")), "g_test");
  EXPECT_TRUE(std::holds_alternative<dimensions::Bytes>(visits[0].get("region")));
  EXPECT_EQ(records("visit_definition").size(), 3u);
  EXPECT_EQ(records("visit_system_membership").size(), 3u);
  const auto systems = records("visit_system");
  ASSERT_EQ(systems.size(), 1u);
  EXPECT_EQ(std::get<std::string>(systems[0].get("name")), "one-to-one");
  EXPECT_EQ(records("visit_detector_region").size(), 12u);

  // Defining again changes nothing.
  const auto again = define_visits(butler_->registry(), "TestCam", one_to_one);
  EXPECT_EQ(again.new_visits, 0u);
  EXPECT_EQ(again.visits, 3u);
  EXPECT_EQ(records("visit_detector_region").size(), 12u);
}

TEST_F(VisitsTest, CancelledAfterSomeVisitsWritesNothing) {
  ingest_night();
  DefineVisitsOptions options;
  options.grouping = VisitGrouping::kOneToOne;
  testing::CancellingProgress progress("defining visits", 2);  // Ctrl-C after the 2nd of 3 visits
  options.progress = &progress;
  EXPECT_THROW(define_visits(butler_->registry(), "TestCam", options), CancelledError);
  EXPECT_EQ(progress.state().done, 2u);
  for (const auto* element : {"visit", "visit_definition", "visit_system", "visit_system_membership",
                              "visit_detector_region"})
    EXPECT_TRUE(records(element).empty()) << element;
  // Cancelled after the last visit is computed: still nothing written.
  testing::CancellingProgress at_end("defining visits", 3);
  options.progress = &at_end;
  EXPECT_THROW(define_visits(butler_->registry(), "TestCam", options), CancelledError);
  EXPECT_TRUE(records("visit").empty());
  // Not cancelled: every visit counted, then written.
  testing::CancellingProgress never("never", 0);
  options.progress = &never;
  EXPECT_EQ(define_visits(butler_->registry(), "TestCam", options).new_visits, 3u);
  EXPECT_EQ(never.state().done, 3u);
  EXPECT_EQ(never.state().total, 3u);
  EXPECT_EQ(records("visit").size(), 3u);
}

// Rubin's default: one-to-one visits for every exposure plus one visit per multi-snap sequence.
TEST_F(VisitsTest, OneToOneAndByCounterAddsAVisitPerSnapSequence) {
  for (int det = 0; det < 2; ++det) {
    // Exposures 1 and 2: the two snaps of one sequence; 3: a lone exposure.
    testing_raws::write_testcam_raw(dir_ / "raws", 1, det, {{"CURINDEX", 1}, {"MAXINDEX", 2}});
    testing_raws::write_testcam_raw(dir_ / "raws", 2, det, {{"CURINDEX", 2}, {"MAXINDEX", 2}});
    testing_raws::write_testcam_raw(dir_ / "raws", 3, det);
  }
  ASSERT_EQ(ingest_raws(*butler_, {dir_ / "raws"}).ingested, 6u);
  const auto r = define_visits(butler_->registry(), "TestCam");
  EXPECT_EQ(r.visit_systems, (std::vector<int>{0, 2}));
  EXPECT_EQ(r.new_visits, 4u);
  std::map<std::int64_t, std::string> names;
  for (const auto& v : records("visit"))
    names[std::get<std::int64_t>(v.get("id"))] = std::get<std::string>(v.get("name"));
  EXPECT_EQ(names, (std::map<std::int64_t, std::string>{{2024112500001, "TC_O_20241125_000001"},
                                                        {92024112500001, "TC_O_20241125_000001_first"},
                                                        {2024112500002, "TC_O_20241125_000002"},
                                                        {2024112500003, "TC_O_20241125_000003"}}));
  std::set<std::tuple<std::int64_t, std::int64_t>> members;  // (visit system, visit)
  for (const auto& m : records("visit_system_membership"))
    members.emplace(std::get<std::int64_t>(m.get("visit_system")), std::get<std::int64_t>(m.get("visit")));
  EXPECT_EQ(members, (std::set<std::tuple<std::int64_t, std::int64_t>>{{0, 92024112500001},
                                                                       {0, 2024112500002},
                                                                       {0, 2024112500003},
                                                                       {2, 2024112500001},
                                                                       {2, 2024112500003}}));
  std::multimap<std::int64_t, std::int64_t> definitions;  // visit → exposures
  for (const auto& d : records("visit_definition"))
    definitions.emplace(std::get<std::int64_t>(d.get("visit")), std::get<std::int64_t>(d.get("exposure")));
  EXPECT_EQ(definitions.count(2024112500001), 2u);  // the sequence visit holds both snaps
  EXPECT_EQ(definitions.count(92024112500001), 1u);
  const auto seq_visit = butler_->registry().find_record(
      "visit", {{"instrument", std::string("TestCam")}, {"visit", std::int64_t{2024112500001}}});
  ASSERT_TRUE(seq_visit);
  EXPECT_DOUBLE_EQ(std::get<double>(seq_visit->get("exposure_time")), 60.0);
  EXPECT_EQ(records("visit_system").size(), 2u);
}

TEST_F(VisitsTest, AMissingFirstSnapGivesNoSequenceVisit) {
  for (int det = 0; det < 2; ++det)
    testing_raws::write_testcam_raw(dir_ / "raws", 2, det, {{"CURINDEX", 2}, {"MAXINDEX", 3}});
  for (int det = 0; det < 2; ++det)
    testing_raws::write_testcam_raw(dir_ / "raws", 3, det, {{"CURINDEX", 3}, {"MAXINDEX", 3}});
  ASSERT_EQ(ingest_raws(*butler_, {dir_ / "raws"}).ingested, 4u);
  const auto r = define_visits(butler_->registry(), "TestCam");
  EXPECT_EQ(r.new_visits, 2u);  // the two one-to-one visits only
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("first snap"), std::string::npos) << r.warnings[0];
}

TEST_F(VisitsTest, OnlyTheSelectedExposuresAndConflictPolicies) {
  ingest_night();
  DefineVisitsOptions options;
  options.grouping = VisitGrouping::kOneToOne;
  options.only_exposures = std::set<std::int64_t>{2024112500003};
  EXPECT_EQ(define_visits(butler_->registry(), "TestCam", options).new_visits, 1u);
  EXPECT_EQ(records("visit").size(), 1u);

  // By group metadata, visit 2024112500001 would be groupA, and 2024112500003 would be named by
  // its group: conflicts, with nothing written, unless skipped or updated.
  options.only_exposures.reset();
  define_visits(butler_->registry(), "TestCam", options);
  DefineVisitsOptions by_group;
  by_group.grouping = VisitGrouping::kByGroupMetadata;
  EXPECT_THROW(define_visits(butler_->registry(), "TestCam", by_group), ConflictError);
  by_group.skip_conflicting = true;
  const auto skipped = define_visits(butler_->registry(), "TestCam", by_group);
  EXPECT_EQ(skipped.conflicting, 2u);
  EXPECT_EQ(skipped.warnings.size(), 2u);
  EXPECT_EQ(std::get<std::string>(butler_->registry()
                                      .find_record("visit", {{"instrument", std::string("TestCam")},
                                                             {"visit", std::int64_t{2024112500001}}})
                                      ->get("name")),
            "TC_O_20241125_000001");
  by_group.skip_conflicting = false;
  by_group.update_records = true;
  const auto updated = define_visits(butler_->registry(), "TestCam", by_group);
  EXPECT_EQ(updated.updated_visits, 2u);
  const auto visit = butler_->registry().find_record(
      "visit", {{"instrument", std::string("TestCam")}, {"visit", std::int64_t{2024112500001}}});
  ASSERT_TRUE(visit);
  EXPECT_EQ(std::get<std::string>(visit->get("name")), "groupA");
}

TEST_F(VisitsTest, ByGroupMetadataJoinsTheExposuresOfAGroup) {
  ingest_night();
  DefineVisitsOptions options;
  apply_define_visits_config(options, "# AuxTel-style overrides\nconfig.groupExposures.name=\"by-group-metadata\"\n",
                             "config.txt");
  ASSERT_EQ(options.grouping, VisitGrouping::kByGroupMetadata);
  const auto r = define_visits(butler_->registry(), "TestCam", options);
  EXPECT_EQ(r.new_visits, 2u);
  const auto visits = records("visit");
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(visits[0].get("id")), 2024112500001);  // the group's first exposure
  EXPECT_EQ(std::get<std::string>(visits[0].get("name")), "groupA");
  EXPECT_DOUBLE_EQ(std::get<double>(visits[0].get("exposure_time")), 60.0);
  const auto span = std::get<Timespan>(visits[0].get("timespan"));
  EXPECT_EQ(span.end_ns() - span.begin_ns(), 90'000'000'000LL);  // 01:01:00 → 01:02:30
  EXPECT_EQ(records("visit_definition").size(), 3u);
  const auto systems = records("visit_system");
  ASSERT_EQ(systems.size(), 1u);
  EXPECT_EQ(std::get<std::int64_t>(systems[0].get("id")), 1);
  EXPECT_EQ(std::get<std::string>(systems[0].get("name")), "by-group-metadata");
}

TEST_F(VisitsTest, DetectorRegionsCoverTheirOwnDetectorOnly) {
  ingest_night();
  DefineVisitsOptions options;
  options.padding_pixels = 0;
  define_visits(butler_->registry(), "TestCam", options);
  const auto camera = load_camera("TestCam");
  // Exposure 3: boresight (10, -30), ROTPA 120 → camera rotation 30°.
  const Pointing pointing{10.0, -30.0, 30.0};
  std::map<std::int64_t, sphere::ConvexPolygon> regions;
  for (const auto& r : records("visit_detector_region"))
    if (std::get<std::int64_t>(r.get("visit")) == 2024112500003)
      regions.emplace(std::get<std::int64_t>(r.get("detector")),
                      sphere::ConvexPolygon::decode(std::get<dimensions::Bytes>(r.get("region")).data));
  ASSERT_EQ(regions.size(), 4u);
  const auto visit = butler_->registry().find_record(
      "visit", {{"instrument", std::string("TestCam")}, {"visit", std::int64_t{2024112500003}}});
  ASSERT_TRUE(visit);
  const auto visit_region = sphere::ConvexPolygon::decode(std::get<dimensions::Bytes>(visit->get("region")).data);
  for (const auto& d : camera.detectors()) {
    const auto centre = field_to_sky(camera, pointing,
                                     camera.pixel_to_field(d, {d.bbox.width() / 2.0, d.bbox.height() / 2.0}));
    const sphere::UnitVector3d v(sphere::LonLat::from_degrees(centre[0], centre[1]));
    EXPECT_TRUE(visit_region.contains(v)) << d.name;
    for (const auto& [id, polygon] : regions) EXPECT_EQ(polygon.contains(v), id == d.id) << d.name << " in " << id;
  }
}

TEST_F(VisitsTest, ConfigErrorsNameTheLineAndTheAcceptedKeys) {
  DefineVisitsOptions options;
  apply_define_visits_config(options, "config.groupExposures.name='one-to-one'\n"
                                      "config.computeVisitRegions[\"single-raw-wcs\"].padding=10\n", "c.py");
  EXPECT_EQ(options.grouping, VisitGrouping::kOneToOne);
  EXPECT_EQ(options.padding_pixels, 10);
  try {
    apply_define_visits_config(options, "\nconfig.groupExposures.nam=\"one-to-one\"", "c.py");
    FAIL();
  } catch (const InvalidConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("c.py line 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("groupExposures.name"), std::string::npos) << e.what();
  }
  EXPECT_THROW(apply_define_visits_config(options, "config.groupExposures.name=\"by-moon-phase\"", "c.py"),
               InvalidConfigError);
  EXPECT_THROW(apply_define_visits_config_file(options, dir_ / "missing.py"), NotFoundError);
  apply_define_visits_override(options, "groupExposures.name=by-group-metadata");  // -c, no prefix
  EXPECT_EQ(options.grouping, VisitGrouping::kByGroupMetadata);
  EXPECT_THROW(apply_define_visits_override(options, "groupExposures.name"), InvalidConfigError);
}

TEST_F(VisitsTest, ClearErrorsWithoutRawsOrInstrument) {
  EXPECT_THROW(define_visits(butler_->registry(), "LATISS"), NotFoundError);  // not registered
  EXPECT_THROW(define_visits(butler_->registry(), "TestCam"), NotFoundError);  // no raws
}

}  // namespace
}  // namespace majordome::instrument
