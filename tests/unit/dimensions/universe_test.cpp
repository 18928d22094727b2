#include "majordome/dimensions/universe.hpp"

#include <gtest/gtest.h>

#include "majordome/core/error.hpp"
#include "majordome/dimensions/data_id.hpp"

namespace majordome::dimensions {
namespace {

using Names = std::vector<std::string>;

class UniverseTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Universe> u = Universe::make_default();
};

TEST_F(UniverseTest, IdentifiesAsDafButlerVersion8) {
  EXPECT_EQ(u->namespace_name(), "daf_butler");
  EXPECT_EQ(u->version(), 8);
  EXPECT_EQ(u->common_skypix(), "htm7");
  EXPECT_TRUE(u->get("htm7").is_skypix());
  EXPECT_TRUE(u->find("htm24"));
  EXPECT_FALSE(u->find("htm25"));
  EXPECT_TRUE(u->find("healpix17"));
  EXPECT_EQ(u->governors(), (Names{"instrument", "skymap"}));
}

TEST_F(UniverseTest, OrderMatchesRubinTopologicalOrder) {
  Names tail;
  for (const auto* e : u->elements())
    if (!e->is_skypix()) tail.push_back(e->name());
  EXPECT_EQ(tail, (Names{"band", "instrument", "skymap", "ssp_hypothesis_table", "day_obs",
                         "detector", "group", "physical_filter", "ssp_balanced_index",
                         "ssp_hypothesis_bundle", "subfilter", "tract", "visit_system", "exposure",
                         "patch", "visit", "visit_definition", "visit_detector_region",
                         "visit_system_membership"}));
}

TEST_F(UniverseTest, GroupSplitsRequiredAndImplied) {
  auto g = u->group({"visit", "exposure", "detector"});
  EXPECT_EQ(g.required(), (Names{"instrument", "detector", "exposure", "visit"}));
  EXPECT_EQ(g.implied(), (Names{"band", "day_obs", "group", "physical_filter"}));
  auto flat = u->group({"instrument", "detector", "physical_filter", "band"});
  EXPECT_EQ(flat.required(), (Names{"instrument", "detector", "physical_filter"}));
  EXPECT_EQ(flat.implied(), (Names{"band"}));
  EXPECT_EQ(flat.str(), "{instrument, detector, physical_filter}");
  EXPECT_THROW(u->group({"visit_detector_region"}), InvalidArgumentError);
}

TEST_F(UniverseTest, RecordFieldsFollowRubinColumnOrder) {
  Names fields;
  for (const auto& f : u->get("visit").record_fields()) fields.push_back(f.name);
  EXPECT_EQ(fields, (Names{"instrument", "id", "day_obs", "physical_filter", "name", "seq_num",
                           "exposure_time", "target_name", "observation_reason", "science_program",
                           "azimuth", "zenith_angle", "region", "timespan"}));
  EXPECT_EQ(u->get("visit_detector_region").required(), (Names{"instrument", "detector", "visit"}));
  EXPECT_EQ(u->get("patch").required(), (Names{"skymap", "tract", "patch"}));
  EXPECT_FALSE(u->get("band").has_table());
  EXPECT_TRUE(u->get("day_obs").temporal());
  EXPECT_FALSE(u->get("exposure").spatial());
  EXPECT_TRUE(u->get("tract").spatial());
}

TEST_F(UniverseTest, UnknownNamesSuggestTheNearest) {
  try {
    u->get("vist");
    FAIL() << "expected NotFoundError";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'visit'"), std::string::npos) << e.what();
  }
}

TEST(DataId, ParsesAndConformsValues) {
  auto id = parse_data_id("instrument=HSC, visit=903334,physical_filter=HSC-R");
  EXPECT_EQ(std::get<std::string>(id.at("instrument")), "HSC");
  EXPECT_EQ(std::get<std::int64_t>(id.at("visit")), 903334);
  EXPECT_THROW(parse_data_id("instrument"), InvalidArgumentError);
  auto u = Universe::make_default();
  EXPECT_EQ(std::get<std::int64_t>(conform_value(u->get("detector"), std::string("12"))), 12);
  EXPECT_THROW(conform_value(u->get("detector"), std::string("ccd12")), InvalidArgumentError);
  EXPECT_EQ(format_data_id(id, {"instrument", "visit"}),
            "{instrument: 'HSC', visit: 903334, physical_filter: 'HSC-R'}");
}

}  // namespace
}  // namespace majordome::dimensions
