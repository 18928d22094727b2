// The query engine's stages seen from outside: the logical plan a query makes (relations,
// constraints, spatial post-filters, find-first, order) and the Cursor that streams its rows
// (first rows before the end, a limit stops the reading), on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "../registry/registry_fixture.hpp"
#include "majordome/query/cursor.hpp"
#include "majordome/query/plan.hpp"
#include "majordome/query/query.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::query {
namespace {

using dimensions::DimensionRecord;
using dimensions::FieldValue;
using registry::DataId;
using registry::testing::Backend;

constexpr int kExposures = 40, kDetectors = 5;

DimensionRecord make(const registry::Registry& r, const std::string& element, const std::map<std::string, FieldValue>& values) {
  const auto& e = r.universe().get(element);
  std::vector<FieldValue> v(e.record_fields().size(), std::monostate{});
  for (const auto& [k, x] : values) v.at(*e.field_index(k)) = x;
  return DimensionRecord(e, std::move(v));
}

dimensions::Bytes square(double ra, double dec, double half) {
  std::vector<double> corners{ra - half, dec - half, ra + half, dec - half, ra + half, dec + half, ra - half, dec + half};
  return {sphere::polygon_from_degrees(corners).encode()};
}

class QueryEngineTest : public registry::testing::RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto& reg = r();
    const std::string cam = "Cam";
    reg.insert_records("instrument", {make(reg, "instrument", {{"name", cam}, {"visit_max", std::int64_t{1} << 30},
                                                                {"exposure_max", std::int64_t{1} << 30},
                                                                {"detector_max", std::int64_t{kDetectors}},
                                                                {"class_name", std::string("test")}})});
    reg.insert_records("physical_filter", {make(reg, "physical_filter", {{"instrument", cam}, {"name", std::string("r_1")},
                                                                          {"band", std::string("r")}})});
    std::vector<DimensionRecord> detectors, exposures, groups, visits, regions;
    for (int d = 0; d < kDetectors; ++d)
      detectors.push_back(make(reg, "detector", {{"instrument", cam}, {"id", std::int64_t{d}},
                                                 {"full_name", fmt::format("D{}", d)}, {"purpose", std::string("SCIENCE")}}));
    reg.insert_records("detector", detectors);
    reg.insert_records("day_obs", {make(reg, "day_obs", {{"instrument", cam}, {"id", std::int64_t{20260101}}})});
    for (int x = 0; x < kExposures; ++x) {
      std::string group = fmt::format("g{}", x);
      groups.push_back(make(reg, "group", {{"instrument", cam}, {"name", group}}));
      exposures.push_back(make(reg, "exposure", {{"instrument", cam}, {"id", std::int64_t{x}}, {"physical_filter", std::string("r_1")},
                                                 {"day_obs", std::int64_t{20260101}}, {"group", group},
                                                 {"seq_num", std::int64_t{x}}, {"obs_id", fmt::format("O{}", x)},
                                                 {"observation_type", std::string("science")}}));
      visits.push_back(make(reg, "visit", {{"instrument", cam}, {"id", std::int64_t{x}}, {"physical_filter", std::string("r_1")},
                                           {"day_obs", std::int64_t{20260101}}, {"name", fmt::format("V{}", x)},
                                           {"region", square(10.0 + x, 0.0, 0.6)}}));
      for (int d = 0; d < kDetectors; ++d)
        regions.push_back(make(reg, "visit_detector_region", {{"instrument", cam}, {"visit", std::int64_t{x}},
                                                              {"detector", std::int64_t{d}},
                                                              {"region", square(10.0 + x - 0.4 + 0.2 * d, 0.0, 0.1)}}));
    }
    reg.insert_records("group", groups);
    reg.insert_records("exposure", exposures);
    reg.insert_records("visit", visits);
    reg.insert_records("visit_detector_region", regions);
    reg.register_dataset_type({"raw", reg.universe().group({"instrument", "exposure", "detector"}), "Exposure", false});
    for (const char* run : {"Cam/a", "Cam/b"}) reg.register_collection(run, registry::CollectionType::kRun);
    reg.register_collection("Cam/defaults", registry::CollectionType::kChained);
    reg.set_chain("Cam/defaults", {"Cam/a", "Cam/b"});
    std::vector<DataId> all, rerun;
    for (int x = 0; x < kExposures; ++x)
      for (int d = 0; d < kDetectors; ++d) {
        DataId id{{"instrument", cam}, {"exposure", std::int64_t{x}}, {"detector", std::int64_t{d}}};
        all.push_back(id);
        if (x % 4 == 0) rerun.push_back(id);
      }
    reg.insert_datasets("raw", "Cam/b", all, registry::IdGenerationMode::kDataIdTypeRun);
    reg.insert_datasets("raw", "Cam/a", rerun, registry::IdGenerationMode::kDataIdTypeRun);
  }

  QuerySpec raws(bool find_first) {
    QuerySpec spec;
    spec.datasets = DatasetSearch{"raw", {"Cam/defaults"}, find_first};
    return spec;
  }
};

TEST_P(QueryEngineTest, PlanNamesRelationsConstraintsAndPostFilters) {
  QuerySpec spec;
  spec.dimensions = {"visit", "detector"};
  spec.where = "band = 'r' AND visit_detector_region.region OVERLAPS CIRCLE(12.0, 0.0, 0.05)";
  auto plan = plan_query(r(), spec);
  EXPECT_EQ(plan.dimensions.required(), (std::vector<std::string>{"instrument", "detector", "visit"}));
  auto has = [&](PlanRelation::Kind kind, const std::string& element) {
    return std::any_of(plan.relations.begin(), plan.relations.end(),
                       [&](const PlanRelation& x) { return x.kind == kind && x.element == element; });
  };
  EXPECT_TRUE(has(PlanRelation::Kind::kElement, "visit"));
  EXPECT_TRUE(has(PlanRelation::Kind::kRegionConstraint, "visit_detector_region"));
  ASSERT_EQ(plan.spatial_filters.size(), 1u);  // decided exactly after SQL
  EXPECT_EQ(plan.spatial_filters[0].a.element, "visit_detector_region");
  EXPECT_EQ(plan.spatial_filters[0].b.kind, RegionOperand::Kind::kConstant);
  ASSERT_EQ(plan.conjuncts.size(), 2u);
  EXPECT_TRUE(std::any_of(plan.constraints.begin(), plan.constraints.end(), [](const PlanConstraint& c) {
    return c.kind == PlanConstraint::Kind::kExpression && c.text == "band = 'r'";
  }));
  EXPECT_TRUE(plan.relations.front().on.empty());
  for (std::size_t i = 1; i < plan.relations.size(); ++i) EXPECT_FALSE(plan.relations[i].on.empty()) << plan.relations[i].alias;
  EXPECT_FALSE(plan.limit_in_sql());  // rows may be dropped by the exact test
  EXPECT_TRUE(keyset_pageable(plan));
  auto statement = plan_sql(plan, registry::sql_database(r()).dialect());
  EXPECT_NE(statement.sql.find("ORDER BY"), std::string::npos);

  auto found = plan_query(r(), raws(true));
  ASSERT_TRUE(found.datasets);
  EXPECT_TRUE(found.datasets->find_first);
  ASSERT_EQ(found.datasets->collections.size(), 2u);
  EXPECT_EQ(found.datasets->collections[0].name, "Cam/a");  // rank 0
  EXPECT_EQ(found.relations.front().kind, PlanRelation::Kind::kDatasetSearch);
  EXPECT_EQ(found.relations.front().alias, "t");
  EXPECT_TRUE(found.grouped_by_data_id);
}

TEST_P(QueryEngineTest, CursorGivesFirstRowsBeforeTheEnd) {
  CursorOptions options;
  options.first_page = 10;
  options.growth = 2;
  Cursor cursor(r(), raws(false), options);
  auto first = cursor.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(cursor.statements(), 1u);
  EXPECT_EQ(cursor.rows_read(), 10u);  // one page, not the 250 rows of the result
  std::vector<ResultRow> rows{*first};
  while (auto row = cursor.next()) rows.push_back(std::move(*row));
  EXPECT_GT(cursor.statements(), 3u);
  EXPECT_FALSE(cursor.more());
  // The same rows, in the same order, as the collect-all run_query.
  auto all = run_query(r(), raws(false));
  ASSERT_EQ(rows.size(), all.rows.size());
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kExposures * kDetectors + kExposures / 4 * kDetectors));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].dataset->id, all.rows[i].dataset->id) << i;
    EXPECT_EQ(rows[i].data_id, all.rows[i].data_id) << i;
  }
  // Implied dimensions come with the rows.
  EXPECT_EQ(std::get<std::string>(rows[0].data_id.at("physical_filter")), "r_1");
  EXPECT_EQ(std::get<std::string>(rows[0].data_id.at("band")), "r");
}

TEST_P(QueryEngineTest, FindFirstStreamsAcrossPages) {
  CursorOptions options;
  options.first_page = 3;  // data IDs split across pages
  options.growth = 1;
  Cursor cursor(r(), raws(true), options);
  std::size_t n = 0, from_a = 0;
  while (auto row = cursor.next()) {
    ++n;
    if (row->dataset->run == "Cam/a") ++from_a;
  }
  EXPECT_EQ(n, static_cast<std::size_t>(kExposures * kDetectors));
  EXPECT_EQ(from_a, static_cast<std::size_t>(kExposures / 4 * kDetectors));  // the first collection wins
}

TEST_P(QueryEngineTest, LimitStopsTheReading) {
  // Find-first drops rows after SQL, so the limit is applied while reading pages.
  QuerySpec spec = raws(true);
  spec.limit = 5;
  CursorOptions options;
  options.first_page = 4;
  options.growth = 2;
  Cursor cursor(r(), spec, options);
  std::size_t n = 0;
  while (cursor.next()) ++n;
  EXPECT_EQ(n, 5u);
  EXPECT_TRUE(cursor.more());
  // Pages of 4 and 8 rows hold the 5 data IDs, the one after them (for more()) and the row
  // that ends it: 12 of the 250 rows.
  EXPECT_EQ(cursor.statements(), 2u);
  EXPECT_EQ(cursor.rows_read(), 12u);

  // Nothing dropped after SQL: LIMIT (plus one row, to know whether there are more) in SQL.
  QuerySpec plain = raws(false);
  plain.limit = 7;
  Cursor direct(r(), plain);
  n = 0;
  while (direct.next()) ++n;
  EXPECT_EQ(n, 7u);
  EXPECT_TRUE(direct.more());
  EXPECT_EQ(direct.rows_read(), 8u);

  auto collected = run_query(r(), spec);
  EXPECT_EQ(collected.rows.size(), 5u);
  EXPECT_TRUE(collected.more);
}

TEST_P(QueryEngineTest, SpatialRowsAreExactAcrossPages) {
  QuerySpec spec;
  spec.dimensions = {"visit", "detector"};
  spec.where = "visit_detector_region.region OVERLAPS CIRCLE(12.0, 0.0, 0.05)";
  auto all = run_query(r(), spec);
  CursorOptions options;
  options.first_page = 1;
  options.growth = 1;
  Cursor cursor(r(), spec, options);
  std::vector<ResultRow> rows;
  while (auto row = cursor.next()) rows.push_back(std::move(*row));
  ASSERT_FALSE(all.rows.empty());
  ASSERT_EQ(rows.size(), all.rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].data_id, all.rows[i].data_id);
  EXPECT_GE(cursor.candidates(), rows.size());
}

TEST_P(QueryEngineTest, EmptyResultsComeWithStructuredReasons) {
  r().register_collection("Cam/empty", registry::CollectionType::kRun);
  QuerySpec spec;
  spec.datasets = DatasetSearch{"raw", {"Cam/empty"}, false};
  auto result = run_query(r(), spec);
  ASSERT_TRUE(result.rows.empty());
  ASSERT_EQ(result.reasons.size(), 1u);
  EXPECT_EQ(result.reasons[0].kind, EmptyReason::Kind::kDatasetTypeAbsent);
  EXPECT_EQ(result.reasons[0].names, (std::vector<std::string>{"Cam/empty"}));
  EXPECT_EQ(result.explanation, (std::vector<std::string>{"no 'raw' datasets in the searched collection Cam/empty"}));

  QuerySpec none = raws(false);
  none.where = "exposure.seq_num = 1000 AND detector = 1";
  auto alone = run_query(r(), none);
  ASSERT_EQ(alone.reasons.size(), 1u);
  EXPECT_EQ(alone.reasons[0].kind, EmptyReason::Kind::kConstraintNoDataset);
  EXPECT_EQ(alone.reasons[0].names[0], "exposure.seq_num = 1000");

  EmptyReason no_visits{EmptyReason::Kind::kNoRecords, {}, {"visit"}, 0};
  EXPECT_EQ(no_visits.message(), "there are no 'visit' records in this repository");  // no command names
}

// Text sorts by bytes on both backends (PostgreSQL's text columns are COLLATE "C", whatever
// the database's collation), also when a Cursor pages through it by key.
TEST_P(QueryEngineTest, TextSortsByBytesAcrossPages) {
  std::vector<DimensionRecord> filters;
  for (const char* name : {"a_1", "B_1", "_1", "\xc3\xa9_1", "Z_1", "b_1"})
    filters.push_back(make(r(), "physical_filter", {{"instrument", std::string("Cam")}, {"name", std::string(name)},
                                                    {"band", std::string("g")}}));
  r().insert_records("physical_filter", filters);
  const std::vector<std::string> bytes_order{"B_1", "Z_1", "_1", "a_1", "b_1", "r_1", "\xc3\xa9_1"};
  QuerySpec spec;
  spec.dimensions = {"physical_filter"};
  CursorOptions options;
  options.first_page = 2;
  options.growth = 1;
  Cursor cursor(r(), spec, options);
  std::vector<std::string> names;
  while (auto row = cursor.next()) names.push_back(std::get<std::string>(row->data_id.at("physical_filter")));
  EXPECT_EQ(names, bytes_order);
  EXPECT_GT(cursor.statements(), 3u);  // keyset pages compare text by bytes too

  QuerySpec records;
  records.records_of = "physical_filter";
  records.order_by = {"-name"};
  names.clear();
  for (const auto& row : run_query(r(), records).rows) names.push_back(std::get<std::string>(row.data_id.at("physical_filter")));
  EXPECT_EQ(names, std::vector<std::string>(bytes_order.rbegin(), bytes_order.rend()));
}

INSTANTIATE_TEST_SUITE_P(Backends, QueryEngineTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         registry::testing::backend_name);

}  // namespace
}  // namespace majordome::query
