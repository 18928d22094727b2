#include "majordome/registry/registry.hpp"

#include <gtest/gtest.h>

#include "majordome/core/error.hpp"
#include "registry_fixture.hpp"

namespace majordome::registry::testing {
namespace {

using dimensions::DimensionRecord;
using dimensions::FieldValue;
using Names = std::vector<std::string>;

TaiTime t(int hour) { return TaiTime::from_tai_iso("2020-01-01T0" + std::to_string(hour) + ":00:00"); }

// The contents of Rubin's registry test file base.yaml: Cam1, three filters, four
// detectors, calibration types bias and flat.
void load_base(Registry& r) {
  const auto& u = r.universe();
  r.insert_records("instrument", {DimensionRecord(u.get("instrument"),
                                                  {std::string("Cam1"), std::int64_t{1024}, std::int64_t{1},
                                                   std::int64_t{512}, std::int64_t{4},
                                                   std::string("lsst.pipe.base.Instrument")})});
  std::vector<DimensionRecord> filters;
  for (auto [name, band] : {std::pair{"Cam1-G", "g"}, {"Cam1-R1", "r"}, {"Cam1-R2", "r"}})
    filters.emplace_back(u.get("physical_filter"),
                         std::vector<FieldValue>{std::string("Cam1"), std::string(name), std::string(band)});
  r.insert_records("physical_filter", filters);
  std::vector<DimensionRecord> detectors;
  const char* names[] = {"Aa", "Ab", "Ba", "Bb"};
  for (int i = 1; i <= 4; ++i)
    detectors.emplace_back(u.get("detector"),
                           std::vector<FieldValue>{std::string("Cam1"), std::int64_t{i}, std::string(names[i - 1]),
                                                   std::string(1, names[i - 1][1]), std::string(1, names[i - 1][0]),
                                                   std::string(i == 4 ? "WAVEFRONT" : "SCIENCE")});
  r.insert_records("detector", detectors);
  EXPECT_TRUE(r.register_dataset_type({"bias", u.group({"instrument", "detector"}), "Exposure", true}));
  EXPECT_TRUE(r.register_dataset_type(
      {"flat", u.group({"instrument", "detector", "physical_filter", "band"}), "Exposure", true}));
}

DataId det(int d) { return {{"instrument", std::string("Cam1")}, {"detector", std::int64_t{d}}}; }

std::vector<std::int64_t> detectors_of(const std::vector<DatasetRef>& refs) {
  std::vector<std::int64_t> out;
  for (const auto& ref : refs) out.push_back(std::get<std::int64_t>(ref.data_id.at("detector")));
  return out;
}

TEST_P(RegistryTest, ReopensWithItsUniverseAndRefusesASecondCreate) {
  load_base(r());
  auto again = reopen();
  EXPECT_EQ(again->universe().version(), 8);
  EXPECT_EQ(again->get_dataset_type("flat").dimensions.required(), (Names{"instrument", "detector", "physical_filter"}));
  EXPECT_EQ(again->query_records("detector").size(), 4u);
}

TEST_P(RegistryTest, DatasetTypeRegistrationIsIdempotentAndConflictsAreErrors) {
  load_base(r());
  const auto& u = r().universe();
  EXPECT_FALSE(r().register_dataset_type({"bias", u.group({"instrument", "detector"}), "Exposure", true}));
  EXPECT_THROW(r().register_dataset_type({"bias", u.group({"instrument", "detector"}), "ExposureF", true}), ConflictError);
  EXPECT_THROW(r().register_dataset_type({"bad name", u.group({"instrument"}), "Exposure", false}), InvalidArgumentError);
  EXPECT_THROW(r().register_dataset_type({"calexp.wcs", u.group({"instrument"}), "Wcs", false}), InvalidArgumentError);
  EXPECT_EQ(r().get_dataset_type("bias.wcs").parent_name(), "bias");
  try {
    r().get_dataset_type("biass");
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'bias'"), std::string::npos) << e.what();
  }
}

TEST_P(RegistryTest, DataIdExpansionFillsImpliedDimensions) {
  load_base(r());
  auto g = r().universe().group({"instrument", "detector", "physical_filter"});
  auto id = r().expand_data_id({{"instrument", std::string("Cam1")}, {"detector", std::string("2")},
                              {"physical_filter", std::string("Cam1-R1")}}, g);
  EXPECT_EQ(std::get<std::string>(id.at("band")), "r");
  EXPECT_EQ(std::get<std::int64_t>(id.at("detector")), 2);
  EXPECT_THROW(r().expand_data_id({{"instrument", std::string("Cam1")}, {"detector", std::int64_t{9}},
                                 {"physical_filter", std::string("Cam1-R1")}}, g), NotFoundError);
  EXPECT_THROW(r().expand_data_id({{"instrument", std::string("Cam1")}}, g), InvalidArgumentError);
}

TEST_P(RegistryTest, ReproducibleIdsFollowRubinsRecipe) {
  // Reference values from Python's uuid.uuid5 with Rubin's namespace and string.
  DataId raw{{"instrument", std::string("HSC")}, {"exposure", std::int64_t{903342}}, {"detector", std::int64_t{10}}};
  EXPECT_EQ(make_dataset_id(IdGenerationMode::kDataIdTypeRun, "raw", "HSC/raw/all", raw).str(),
            "0a48762a-8446-51b0-b34d-37f891b5295b");
  load_base(r());
  r().register_collection("run1", CollectionType::kRun);
  auto refs = r().insert_datasets("bias", "run1", {det(1)}, IdGenerationMode::kDataIdType);
  EXPECT_EQ(refs[0].id.str(), "4fa35c72-f4a9-5106-8947-b65ef4096e96");
  EXPECT_EQ(r().insert_datasets("bias", "run1", {det(2)})[0].id.version(), 7);
}

TEST_P(RegistryTest, RunHoldsOneDatasetPerDataIdAndFailedBatchesLeaveNothing) {
  load_base(r());
  r().register_collection("run1", CollectionType::kRun);
  r().insert_datasets("bias", "run1", {det(1)});
  EXPECT_THROW(r().insert_datasets("bias", "run1", {det(2), det(1)}), ConflictError);
  EXPECT_EQ(detectors_of(r().datasets_in_collection("run1", "bias")), (std::vector<std::int64_t>{1}));
  r().register_collection("tag", CollectionType::kTagged);
  EXPECT_THROW(r().insert_datasets("bias", "tag", {det(3)}), CollectionTypeError);
  EXPECT_THROW(r().insert_datasets("bias", "nope", {det(3)}), NotFoundError);
}

TEST_P(RegistryTest, ChainsFlattenDepthFirstAndRefuseCycles) {
  for (auto* n : {"run1", "run2"}) r().register_collection(n, CollectionType::kRun);
  r().register_collection("tag1", CollectionType::kTagged);
  r().register_collection("chain1", CollectionType::kChained);
  r().register_collection("chain2", CollectionType::kChained);
  r().set_chain("chain1", {"tag1", "run2"});
  r().set_chain("chain2", {"run2", "chain1"});
  Names flat;
  for (const auto& c : r().flatten({"chain2"})) flat.push_back(c.name);
  EXPECT_EQ(flat, (Names{"run2", "tag1"}));
  EXPECT_THROW(r().set_chain("chain1", {"chain2"}), ConflictError);
  EXPECT_THROW(r().set_chain("chain1", {"chain1"}), ConflictError);
  EXPECT_EQ(r().chain_children("chain1"), (Names{"tag1", "run2"}));  // unchanged after refusals
  EXPECT_THROW(r().set_chain("run1", {"run2"}), CollectionTypeError);
  EXPECT_THROW(r().remove_collection("tag1"), ConflictError);  // still in chain1
  EXPECT_THROW(r().register_collection("run1", CollectionType::kTagged), ConflictError);
  EXPECT_FALSE(r().register_collection("run1", CollectionType::kRun));
  EXPECT_EQ(r().chain_parents("run2"), (Names{"chain1", "chain2"}));
}

TEST_P(RegistryTest, CollectionNamesThatArePathsInDisguiseAreRefused) {
  for (const char* bad : {"x/../victim", ".", "..", "victim/..", "/abs/run", "a//b", "a/", "./a", "a\nb",
                          "x\ngen3.sqlite3\ny", "a\tb", "a\x01", "a\x7f", "a\xc2\x85", "a\x85", "\xff", "", "a*",
                          "run\xe2\x80\xaegpj", "a\xe2\x80\x8b" "b", "\xef\xbb\xbf" "run", "a\xe2\x81\xa6" "b"}) {
    for (auto type : {CollectionType::kRun, CollectionType::kTagged, CollectionType::kChained,
                      CollectionType::kCalibration}) {
      try {
        r().register_collection(bad, type);
        ADD_FAILURE() << printable(bad) << " was accepted";
      } catch (const InvalidArgumentError& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "the message shows the name raw";
      }
    }
  }
  EXPECT_TRUE(r().query_collections().empty());
  for (const char* good : {"HSC/runs/RC2/w_2025_05/DM-48666", "u/jdoe/a.b/c..d/...e", "run é", "DM-1+fix@v2:x",
                           "refcats/gaia_dr3_20230707"})
    EXPECT_TRUE(r().register_collection(good, CollectionType::kRun)) << good;
}

TEST_P(RegistryTest, FindFirstFollowsCollectionOrder) {
  load_base(r());
  r().register_collection("imported_g", CollectionType::kRun);
  r().register_collection("imported_r", CollectionType::kRun);
  auto g = r().insert_datasets("bias", "imported_g", {det(1), det(2), det(3)});
  auto rr = r().insert_datasets("bias", "imported_r", {det(2), det(3), det(4)});
  DatasetQuery q;
  q.collections = {"imported_g", "imported_r"};
  q.find_first = true;
  auto found = r().query_datasets("bias", q);
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].id, g[0].id);
  EXPECT_EQ(found[1].id, g[1].id);
  EXPECT_EQ(found[3].id, rr[2].id);
  q.collections = {"imported_r", "imported_g"};
  found = r().query_datasets("bias", q);
  EXPECT_EQ(found[0].id, g[0].id);
  EXPECT_EQ(found[1].id, rr[0].id);
  q.find_first = false;
  q.collections = {"*"};
  EXPECT_EQ(r().query_datasets("bias", q).size(), 6u);
  q.find_first = true;
  EXPECT_THROW(r().query_datasets("bias", q), InvalidQueryError);
}

TEST_P(RegistryTest, TaggedCollectionsHoldOneDatasetPerDataId) {
  load_base(r());
  r().register_collection("imported_g", CollectionType::kRun);
  r().register_collection("imported_r", CollectionType::kRun);
  auto g = r().insert_datasets("bias", "imported_g", {det(1), det(2)});
  auto rr = r().insert_datasets("bias", "imported_r", {det(2)});
  r().register_collection("tag1", CollectionType::kTagged);
  r().register_collection("chain1", CollectionType::kChained);
  r().associate("tag1", g);
  r().associate("tag1", g);  // the same refs again: no-op
  r().set_chain("chain1", {"tag1", "imported_r"});
  EXPECT_THROW(r().associate("tag1", rr), ConflictError);
  r().disassociate("tag1", {g[1]});
  EXPECT_EQ(r().find_dataset("bias", det(2), {"chain1"})->id, rr[0].id);
  EXPECT_EQ(r().find_dataset("bias", det(1), {"chain1"})->id, g[0].id);
  r().register_collection("calib", CollectionType::kCalibration);
  EXPECT_THROW(r().associate("calib", g), CollectionTypeError);
  auto summary = r().collection_summary("chain1");
  EXPECT_EQ(summary.dataset_types, (Names{"bias"}));
  EXPECT_EQ(summary.governors.at("instrument"), (Names{"Cam1"}));
}

// Rubin's certify/decertify scenario (spec/butler.md §9 rows 13–14).
TEST_P(RegistryTest, CertifyRefusesOverlapsAndDecertifySplitsRanges) {
  load_base(r());
  r().register_collection("imported", CollectionType::kRun);
  auto b = r().insert_datasets("bias", "imported", {det(2), det(3)});
  r().register_collection("imported_b", CollectionType::kRun);
  auto b2 = r().insert_datasets("bias", "imported_b", {det(2), det(3)});
  r().register_collection("Cam1/calibs", CollectionType::kCalibration);
  const auto &bias2a = b[0], &bias3a = b[1], &bias2b = b2[0], &bias3b = b2[1];
  r().certify("Cam1/calibs", {bias2a}, Timespan::between(t(2), t(4)));
  r().certify("Cam1/calibs", {bias3a}, Timespan::between(t(1), t(3)));
  r().certify("Cam1/calibs", {bias2b, bias3b}, Timespan::between(t(4), std::nullopt));
  EXPECT_THROW(r().certify("Cam1/calibs", {bias2b}, Timespan::between(t(3), t(5))), ConflictError);
  EXPECT_THROW(r().certify("imported", {bias2b}, Timespan()), CollectionTypeError);

  auto lookup = [&](int d, std::optional<int> begin, std::optional<int> end) {
    return r().find_dataset("bias", det(d), {"Cam1/calibs"},
                            Timespan::between(begin ? std::optional(t(*begin)) : std::nullopt,
                                              end ? std::optional(t(*end)) : std::nullopt));
  };
  EXPECT_EQ(lookup(2, 1, 3)->id, bias2a.id);
  EXPECT_THROW(lookup(2, 1, 5), ConflictError);  // ambiguous
  EXPECT_EQ(lookup(2, 4, 5)->id, bias2b.id);
  EXPECT_FALSE(lookup(3, 3, 4));
  EXPECT_FALSE(r().find_dataset("bias", det(2), {"Cam1/calibs"}));  // no timespan: calibrations skipped

  r().decertify("Cam1/calibs", "bias", Timespan::between(t(3), t(5)));
  EXPECT_EQ(lookup(2, std::nullopt, 5)->id, bias2a.id);
  EXPECT_EQ(lookup(2, 3, std::nullopt)->id, bias2b.id);
  EXPECT_FALSE(lookup(3, 3, 4));
  auto certs = r().query_certifications("Cam1/calibs", "bias");
  std::map<std::string, Timespan> spans;
  for (const auto& c : certs) spans[c.ref.id.str()] = c.timespan;
  EXPECT_EQ(spans.at(bias2a.id.str()), Timespan::between(t(2), t(3)));
  EXPECT_EQ(spans.at(bias2b.id.str()), Timespan::between(t(5), std::nullopt));
  EXPECT_EQ(spans.at(bias3b.id.str()), Timespan::between(t(5), std::nullopt));
  EXPECT_EQ(spans.at(bias3a.id.str()), Timespan::between(t(1), t(3)));
}

TEST_P(RegistryTest, FindFirstPrefersAnEarlierCollectionOverALaterAmbiguousOne) {
  load_base(r());
  r().register_collection("imported", CollectionType::kRun);
  auto a = r().insert_datasets("bias", "imported", {det(2)});
  r().register_collection("other", CollectionType::kRun);
  auto b = r().insert_datasets("bias", "other", {det(2)});
  r().register_collection("more", CollectionType::kRun);
  auto c = r().insert_datasets("bias", "more", {det(2)});
  r().register_collection("calibA", CollectionType::kCalibration);
  r().register_collection("calibB", CollectionType::kCalibration);
  r().certify("calibA", {a[0]}, Timespan::between(t(1), t(5)));
  r().certify("calibB", {b[0]}, Timespan::between(t(1), t(3)));
  r().certify("calibB", {c[0]}, Timespan::between(t(3), t(5)));
  auto span = Timespan::between(t(2), t(4));  // overlaps both of calibB's ranges
  EXPECT_EQ(r().find_dataset("bias", det(2), {"calibA", "calibB"}, span)->id, a[0].id);
  EXPECT_EQ(r().find_dataset("bias", det(2), {"calibB", "calibA"}, Timespan::between(t(1), t(2)))->id, b[0].id);
  EXPECT_THROW(r().find_dataset("bias", det(2), {"calibB", "calibA"}, span), ConflictError);
  // An inverted span is refused rather than splitting ranges into overlapping pieces.
  EXPECT_THROW(r().decertify("calibB", "bias", Timespan(t(4).ns(), t(2).ns())), InvalidArgumentError);
  EXPECT_EQ(r().query_certifications("calibB", "bias").size(), 2u);
}

TEST_P(RegistryTest, RemovingARunTrashesItsFilesAndKeepsOthers) {
  load_base(r());
  r().register_collection("run1", CollectionType::kRun);
  r().register_collection("run2", CollectionType::kRun);
  auto a = r().insert_datasets("bias", "run1", {det(1)});
  auto b = r().insert_datasets("bias", "run2", {det(1)});
  r().insert_stored_files({{a[0].id, "", "run1/bias/a.fits", "fits", "Exposure", std::nullopt, 10},
                           {b[0].id, "", "run2/bias/b.fits", "fits", "Exposure", std::nullopt, 10}});
  r().remove_run("run1");
  EXPECT_FALSE(r().find_collection("run1"));
  EXPECT_FALSE(r().get_dataset(a[0].id));
  EXPECT_EQ(r().trashed_paths(), (Names{"run1/bias/a.fits"}));
  EXPECT_TRUE(r().path_is_referenced("run2/bias/b.fits"));
  EXPECT_FALSE(r().path_is_referenced("run1/bias/a.fits"));
  EXPECT_THROW(r().remove_dataset_type("bias"), ConflictError);  // run2 still has one
  r().remove_run("run2");
  r().remove_dataset_type("bias");
  EXPECT_FALSE(r().find_dataset_type("bias"));
}

TEST_P(RegistryTest, SecondConnectionSeesCommittedWritesOnly) {
  load_base(r());
  auto other = reopen();
  {
    Transaction txn(sql_database(r()), TransactionMode::kWrite);
    r().register_collection("pending", CollectionType::kRun);
    EXPECT_FALSE(other->find_collection("pending"));
    // txn rolls back here
  }
  EXPECT_FALSE(other->find_collection("pending"));
  EXPECT_FALSE(r().find_collection("pending"));
  r().register_collection("done", CollectionType::kRun);
  EXPECT_TRUE(other->find_collection("done"));
}

// A version 2 repository is upgraded in place when opened: on PostgreSQL its text columns,
// in the database's collation until then, become COLLATE "C" (so the query engine's byte
// order comes from their indexes); its contents stay.
TEST_P(RegistryTest, OpensAVersion2RepositoryAndUpgradesIt) {
  load_base(r());
  r().register_collection("run1", CollectionType::kRun);
  auto refs = r().insert_datasets("bias", "run1", {det(1), det(2)});
  registry_.reset();
  const bool postgres = GetParam() == Backend::kPostgres;
  // A raw connection, not the registry's: what a version 2 majordome left behind.
  auto raw = [&] {
    return postgres ? open_postgres(options_, false) : open_sqlite((dir_ / "gen3.sqlite3").string(), false);
  };
  const std::string varchar_columns =
      "SELECT table_name::text, column_name::text, character_maximum_length::integer, collation_name::text "
      "FROM information_schema.columns WHERE table_schema = current_schema() AND data_type = 'character varying'";
  {
    auto db = raw();
    if (postgres) {
      auto columns = db->query(varchar_columns);
      ASSERT_GT(columns.size(), 20u);
      for (const auto& row : columns.rows) {
        EXPECT_EQ(as_string(row[3]), "C") << as_string(row[0]) << "." << as_string(row[1]);
        db->execute_script("ALTER TABLE \"" + as_string(row[0]) + "\" ALTER COLUMN \"" + as_string(row[1]) +
                           "\" TYPE VARCHAR(" + std::to_string(as_int(row[2])) + ") COLLATE \"default\"");
      }
    }
    db->execute("UPDATE attributes SET value = '2' WHERE name = 'schema_version'");
  }
  auto upgraded = reopen();
  EXPECT_EQ(upgraded->attribute("schema_version"), std::to_string(kSchemaVersion));
  if (postgres) {
    auto db = raw();
    for (const auto& row : db->query(varchar_columns).rows)
      EXPECT_FALSE(is_null(row[3]) || as_string(row[3]) != "C") << as_string(row[0]) << "." << as_string(row[1]);
  }
  EXPECT_EQ(upgraded->query_records("detector").size(), 4u);
  auto found = upgraded->find_dataset("bias", det(2), {"run1"});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, refs[1].id);
  upgraded->register_collection("run2", CollectionType::kRun);  // writes work after the upgrade
  upgraded->insert_datasets("bias", "run2", {det(3)});
  upgraded.reset();
  DatasetQuery both;
  both.collections = {"run1", "run2"};
  EXPECT_EQ(reopen()->query_datasets("bias", both).size(), 3u);  // a second open finds version 3

  // A version this majordome does not know is refused.
  raw()->execute("UPDATE attributes SET value = '99' WHERE name = 'schema_version'");
  EXPECT_THROW(reopen(), UnsupportedError);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

}  // namespace
}  // namespace majordome::registry::testing
