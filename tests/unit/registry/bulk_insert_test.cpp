// Bulk writes: many rows per statement, within each backend's parameter limit, with the
// conflict behaviour of one-row-at-a-time inserts (the error names the row, a failed call
// leaves nothing behind).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/registry/registry.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/region_parsing.hpp"
#include "majordome/sphere/unit_vector3d.hpp"
#include "registry_fixture.hpp"

namespace majordome::registry::testing {
namespace {

using dimensions::DimensionRecord;
using dimensions::FieldValue;

// The registry tests' fixture, instantiated for this file's tests.
class BulkInsertTest : public RegistryTest {};

DimensionRecord make(const Registry& r, const std::string& element, const std::map<std::string, FieldValue>& values) {
  const auto& e = r.universe().get(element);
  std::vector<FieldValue> v(e.record_fields().size(), std::monostate{});
  for (const auto& [k, x] : values) v.at(*e.field_index(k)) = x;
  return DimensionRecord(e, std::move(v));
}

void add_instrument(Registry& r) {
  const auto& u = r.universe();
  r.insert_records("instrument", {DimensionRecord(u.get("instrument"),
                                                  {std::string("Cam1"), std::int64_t{1024}, std::int64_t{1 << 20},
                                                   std::int64_t{512}, std::int64_t{1 << 20},
                                                   std::string("lsst.pipe.base.Instrument")})});
}

DimensionRecord detector(const Registry& r, std::int64_t id, const std::string& purpose = "SCIENCE") {
  return DimensionRecord(r.universe().get("detector"),
                         std::vector<FieldValue>{std::string("Cam1"), id, "D" + std::to_string(id), std::string("a"),
                                                 std::string("R"), purpose});
}

std::vector<DimensionRecord> detectors(const Registry& r, std::int64_t first, std::int64_t count) {
  std::vector<DimensionRecord> out;
  for (std::int64_t id = first; id < first + count; ++id) out.push_back(detector(r, id));
  return out;
}

std::int64_t count(Registry& r, const std::string& sql) { return as_int(sql_database(r).query(sql).rows.at(0).at(0)); }

std::string purpose_of(Registry& r, std::int64_t id) {
  auto record = r.find_record("detector", {{"instrument", std::string("Cam1")}, {"detector", id}});
  if (!record) return "(none)";
  return std::get<std::string>(record->get("purpose"));
}

// Expects `f` to throw a ConflictError whose message contains `text`.
template <class F>
void expect_conflict_naming(F&& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no ConflictError; expected one naming " << text;
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST_P(BulkInsertTest, InsertRowsSpansStatementsBeyondTheParameterLimit) {
  auto& db = sql_database(r());
  db.execute_script("CREATE TABLE bulk_probe (a BIGINT PRIMARY KEY, b VARCHAR(16), c DOUBLE PRECISION)");
  // More rows of three columns than one statement can bind (65,535 parameters on PostgreSQL,
  // 250,000 in Debian's SQLite).
  const auto probe_rows = static_cast<std::int64_t>(db.max_parameters() / 3 + 1001);
  Params values;
  for (std::int64_t i = 0; i < probe_rows; ++i) {
    values.emplace_back(i);
    values.emplace_back(i % 7 == 0 ? SqlValue{} : SqlValue{"v" + std::to_string(i)});
    values.emplace_back(0.5 * static_cast<double>(i));
  }
  const BulkInsert insert{"bulk_probe", {"a", "b", "c"}, ""};
  EXPECT_EQ(db.insert_rows(insert, values), probe_rows);
  EXPECT_EQ(count(r(), "SELECT COUNT(*) FROM bulk_probe"), probe_rows);
  EXPECT_EQ(count(r(), "SELECT SUM(a) FROM bulk_probe"), probe_rows * (probe_rows - 1) / 2);
  EXPECT_EQ(count(r(), "SELECT COUNT(*) FROM bulk_probe WHERE b IS NULL"), (probe_rows + 6) / 7);
  auto row = db.query("SELECT b, c FROM bulk_probe WHERE a = ?", {std::int64_t{probe_rows - 1}}).rows.at(0);
  EXPECT_EQ(as_string(row[0]), "v" + std::to_string(probe_rows - 1));
  EXPECT_DOUBLE_EQ(as_double(row[1]), 0.5 * static_cast<double>(probe_rows - 1));
  // ON CONFLICT DO NOTHING counts only the rows it inserted: 10 new ones after the old ones.
  Params again(values.begin() + 30, values.end());
  for (std::int64_t i = probe_rows; i < probe_rows + 10; ++i) again.insert(again.end(), {i, SqlValue{}, 1.0});
  EXPECT_EQ(db.insert_rows({"bulk_probe", {"a", "b", "c"}, "ON CONFLICT DO NOTHING"}, again), 10);
  EXPECT_EQ(count(r(), "SELECT COUNT(*) FROM bulk_probe"), probe_rows + 10);
  EXPECT_THROW(db.insert_rows(insert, {std::int64_t{1}, SqlValue{}}), InternalError);  // not whole rows
}

TEST_P(BulkInsertTest, InsertRecordsBeyondTheParameterLimit) {
  add_instrument(r());
  // 12,000 detectors: twelve statements of Database::kBulkRows rows, and 72,000 parameters,
  // more than PostgreSQL binds in one statement.
  r().insert_records("detector", detectors(r(), 0, 12000));
  EXPECT_EQ(r().query_records("detector").size(), 12000u);
  EXPECT_EQ(r().find_record("detector", {{"instrument", std::string("Cam1")}, {"detector", std::int64_t{11999}}})->get(
                "full_name"),
            FieldValue(std::string("D11999")));
}

TEST_P(BulkInsertTest, AConflictInsideABatchNamesTheRecordAndLeavesNothing) {
  add_instrument(r());
  r().insert_records("detector", detectors(r(), 1, 4));
  // An existing key deep in the third statement's rows.
  auto batch = detectors(r(), 100, 5000);
  batch[2500] = detector(r(), 3);
  expect_conflict_naming([&] { r().insert_records("detector", batch); },
                         "cannot insert detector record {instrument: 'Cam1', detector: 3}");
  EXPECT_EQ(r().query_records("detector").size(), 4u);
  // The same key twice within the call.
  batch = detectors(r(), 100, 5000);
  batch[4000] = detector(r(), 150);
  expect_conflict_naming([&] { r().insert_records("detector", batch); },
                         "cannot insert detector record {instrument: 'Cam1', detector: 150}");
  EXPECT_EQ(r().query_records("detector").size(), 4u);
  // Inside a caller's transaction, the failed call is undone and the transaction goes on.
  {
    Transaction txn(sql_database(r()), TransactionMode::kWrite);
    EXPECT_THROW(r().insert_records("detector", batch), ConflictError);
    r().insert_records("detector", detectors(r(), 10, 2));
    txn.commit();
  }
  EXPECT_EQ(r().query_records("detector").size(), 6u);
}

TEST_P(BulkInsertTest, SkipAndReplaceHoldAcrossBatches) {
  add_instrument(r());
  r().insert_records("detector", detectors(r(), 1, 4));
  auto batch = detectors(r(), 100, 3000);
  batch.insert(batch.begin() + 1500, detector(r(), 2, "CHANGED"));
  r().insert_records("detector", batch, Registry::OnConflict::kSkip);
  EXPECT_EQ(r().query_records("detector").size(), 3004u);
  EXPECT_EQ(purpose_of(r(), 2), "SCIENCE");  // skipped, not replaced
  EXPECT_EQ(purpose_of(r(), 1600), "SCIENCE");

  // Replace: an existing key, and a key given twice in one call (the last one wins, as it
  // would one record at a time), spread over several statements.
  batch = detectors(r(), 100, 3000);
  batch.insert(batch.begin() + 2990, detector(r(), 3, "LAST"));
  batch.insert(batch.begin() + 2000, detector(r(), 5000, "NEW"));
  batch.insert(batch.begin() + 1200, detector(r(), 4, "WAVEFRONT"));
  batch.insert(batch.begin() + 10, detector(r(), 3, "FIRST"));
  r().insert_records("detector", batch, Registry::OnConflict::kReplace);
  EXPECT_EQ(purpose_of(r(), 3), "LAST");
  EXPECT_EQ(purpose_of(r(), 4), "WAVEFRONT");
  EXPECT_EQ(purpose_of(r(), 5000), "NEW");
  EXPECT_EQ(purpose_of(r(), 2), "SCIENCE");
  EXPECT_EQ(purpose_of(r(), 1600), "SCIENCE");
  EXPECT_EQ(r().query_records("detector").size(), 3005u);
}

std::vector<DimensionRecord> patches(const Registry& r, std::int64_t first, std::int64_t count) {
  std::vector<DimensionRecord> out;
  for (std::int64_t id = first; id < first + count; ++id) {
    double ra = 10.0 + 0.01 * static_cast<double>(id % 100), dec = -5.0 + 0.01 * static_cast<double>(id / 100);
    std::vector<double> corners{ra, dec, ra + 0.01, dec, ra + 0.01, dec + 0.01, ra, dec + 0.01};
    out.push_back(make(r, "patch", {{"skymap", std::string("sky")}, {"tract", std::int64_t{0}}, {"id", id},
                                    {"cell_x", id % 100}, {"cell_y", id / 100},
                                    {"region", dimensions::Bytes{sphere::polygon_from_degrees(corners).encode()}}}));
  }
  return out;
}

TEST_P(BulkInsertTest, SpatialRecordsInBatchesWriteTheirOverlapRowsOrNone) {
  r().insert_records("skymap", {make(r(), "skymap", {{"name", std::string("sky")}, {"hash", dimensions::Bytes{{1, 2}}},
                                                    {"tract_max", std::int64_t{1}}, {"patch_nx_max", std::int64_t{100}},
                                                    {"patch_ny_max", std::int64_t{100}}})});
  r().insert_records("tract", {make(r(), "tract", {{"skymap", std::string("sky")}, {"id", std::int64_t{0}}})});
  const std::string patches_with_pixels =
      "SELECT COUNT(*) FROM (SELECT DISTINCT tract, patch FROM patch_skypix_overlap) x";
  r().insert_records("patch", patches(r(), 0, 2500));
  EXPECT_EQ(count(r(), patches_with_pixels), 2500);
  // htm7 pixels are ~0.5° wide: these 0.01° patches each touch one to four of them.
  auto rows = count(r(), "SELECT COUNT(*) FROM patch_skypix_overlap");
  EXPECT_GE(rows, 2500);
  EXPECT_LE(rows, 4 * 2500);
  // Every patch finds itself through its pixels: the one holding RA 10.005, Dec -4.995.
  const sphere::HtmPixelization htm(kOverlapLevel);
  auto pixel = static_cast<std::int64_t>(htm.index(sphere::UnitVector3d(sphere::LonLat::from_degrees(10.005, -4.995))));
  EXPECT_EQ(count(r(), fmt::format("SELECT COUNT(*) FROM patch_skypix_overlap WHERE patch = 0 AND skypix_index = {}",
                                   pixel)),
            1);

  auto batch = patches(r(), 2500, 2000);
  batch[1999] = patches(r(), 7, 1)[0];
  expect_conflict_naming([&] { r().insert_records("patch", batch); },
                         "cannot insert patch record {skymap: 'sky', tract: 0, patch: 7}");
  EXPECT_EQ(count(r(), patches_with_pixels), 2500);
  EXPECT_EQ(count(r(), "SELECT COUNT(*) FROM patch_skypix_overlap"), rows);
}

DataId det(std::int64_t d) { return {{"instrument", std::string("Cam1")}, {"detector", d}}; }

TEST_P(BulkInsertTest, DatasetBatchesBeyondTheLimitAndConflictsInside) {
  add_instrument(r());
  // 11,000 tag rows of 5 columns: more than one statement's parameters on PostgreSQL.
  r().insert_records("detector", detectors(r(), 0, 11000));
  ASSERT_TRUE(r().register_dataset_type({"bias", r().universe().group({"instrument", "detector"}), "Exposure", true}));
  r().register_collection("run1", CollectionType::kRun);
  std::vector<DataId> ids;
  for (std::int64_t d = 0; d < 11000; ++d) ids.push_back(det(d));
  auto refs = r().insert_datasets("bias", "run1", ids);
  ASSERT_EQ(refs.size(), 11000u);
  auto stored = r().datasets_in_collection("run1", "bias");
  ASSERT_EQ(stored.size(), 11000u);
  EXPECT_EQ(stored.back().id, refs.back().id);

  r().register_collection("run2", CollectionType::kRun);
  r().insert_datasets("bias", "run2", {det(5)});
  ids.resize(3000);
  expect_conflict_naming([&] { r().insert_datasets("bias", "run2", ids); },
                         "run 'run2' already has a 'bias' dataset with data ID {instrument: 'Cam1', detector: 5}");
  EXPECT_EQ(r().datasets_in_collection("run2", "bias").size(), 1u);
  // The same reproducible ID twice in one call names the dataset.
  ids = {det(7), det(8), det(7)};
  expect_conflict_naming([&] { r().insert_datasets("bias", "run2", ids, IdGenerationMode::kDataIdTypeRun); },
                         "{instrument: 'Cam1', detector: 7} in run 'run2'");
  EXPECT_EQ(r().datasets_in_collection("run2", "bias").size(), 1u);

  // Datastore records in bulk: a duplicate names its file and keeps none of the call's rows.
  std::vector<StoredFile> files;
  for (std::size_t i = 0; i < 2500; ++i)
    files.push_back({refs[i].id, "", "run1/bias/" + std::to_string(i) + ".fits", "fits", "Exposure", std::nullopt, 10});
  StoredFile again = files[1234];
  files.push_back(again);
  files.back().path = "run1/bias/again.fits";
  expect_conflict_naming([&] { r().insert_stored_files(files); }, "cannot record file 'run1/bias/again.fits'");
  EXPECT_FALSE(r().path_is_referenced("run1/bias/0.fits"));
  files.pop_back();
  r().insert_stored_files(files);
  EXPECT_TRUE(r().path_is_referenced("run1/bias/2499.fits"));
  EXPECT_EQ(r().stored_files(refs[2499].id).at(0).path, "run1/bias/2499.fits");
}

TaiTime hour(int h) { return TaiTime::from_tai_iso(fmt::format("2020-01-01T{:02d}:00:00", h)); }

TEST_P(BulkInsertTest, AssociateAndCertifyManyDatasetsOrNone) {
  add_instrument(r());
  r().insert_records("detector", detectors(r(), 0, 3000));
  ASSERT_TRUE(r().register_dataset_type({"bias", r().universe().group({"instrument", "detector"}), "Exposure", true}));
  r().register_collection("run1", CollectionType::kRun);
  r().register_collection("run2", CollectionType::kRun);
  std::vector<DataId> ids;
  for (std::int64_t d = 0; d < 3000; ++d) ids.push_back(det(d));
  auto refs = r().insert_datasets("bias", "run1", ids);
  auto other = r().insert_datasets("bias", "run2", {det(1500)});

  r().register_collection("tag", CollectionType::kTagged);
  r().associate("tag", refs);
  r().associate("tag", refs);  // again: a no-op
  EXPECT_EQ(r().datasets_in_collection("tag", "bias").size(), 3000u);
  // Two datasets for one data ID in one call: refused, naming the one that came first.
  r().register_collection("tag2", CollectionType::kTagged);
  auto batch = refs;
  batch.push_back(other[0]);
  expect_conflict_naming([&] { r().associate("tag2", batch); },
                         fmt::format("already holds a different 'bias' dataset ({}) for {{instrument: 'Cam1', detector: "
                                     "1500}}", refs[1500].id.str()));
  EXPECT_TRUE(r().datasets_in_collection("tag2", "bias").empty());
  batch.back() = DatasetRef{Uuid::v7(), "bias", det(1), "run1"};
  EXPECT_THROW(r().associate("tag2", batch), NotFoundError);
  EXPECT_TRUE(r().datasets_in_collection("tag2", "bias").empty());

  r().register_collection("calib", CollectionType::kCalibration);
  r().certify("calib", refs, Timespan::between(hour(1), hour(3)));
  EXPECT_EQ(r().query_certifications("calib", "bias").size(), 3000u);
  // Overlapping an existing range, among datasets that do not: nothing of the call stays.
  batch = {other[0]};
  expect_conflict_naming([&] { r().certify("calib", batch, Timespan::between(hour(2), hour(4))); },
                         fmt::format("'bias' {{instrument: 'Cam1', detector: 1500}} is already certified in 'calib' "
                                     "for {} (dataset {})",
                                     Timespan::between(hour(1), hour(3)).str(), refs[1500].id.str()));
  r().register_collection("calib2", CollectionType::kCalibration);
  batch = refs;
  batch.push_back(other[0]);
  EXPECT_THROW(r().certify("calib2", batch, Timespan::between(hour(1), hour(3))), ConflictError);
  EXPECT_TRUE(r().query_certifications("calib2", "bias").empty());
  r().certify("calib", {other[0]}, Timespan::between(hour(3), hour(5)));  // half-open ranges touch
  EXPECT_EQ(r().query_certifications("calib", "bias").size(), 3001u);
  EXPECT_EQ(r().find_dataset("bias", det(1500), {"calib"}, Timespan::between(hour(4), hour(5)))->id, other[0].id);
  EXPECT_EQ(r().find_dataset("bias", det(1500), {"calib"}, Timespan::between(hour(1), hour(2)))->id, refs[1500].id);
}

INSTANTIATE_TEST_SUITE_P(Backends, BulkInsertTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

}  // namespace
}  // namespace majordome::registry::testing
