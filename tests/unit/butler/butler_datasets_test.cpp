// Butler::put / get through the formatter registry, on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <tuple>
#include <nlohmann/json.hpp>

#include "butler_repo_fixture.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/io_faults.hpp"

namespace majordome::butler {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing::Backend;
using testing::ButlerRepoTest;

const DataId kDetector1{{"instrument", std::string("Cam1")}, {"detector", std::int64_t{1}}};

class ButlerDatasetsTest : public ButlerRepoTest {
 protected:
  std::unique_ptr<Butler> open_with_types() {
    auto b = open();
    auto& r = b->registry();
    const auto& u = r.universe();
    r.register_dataset_type({"summary", u.group({"instrument", "detector"}), "StructuredDataDict", false});
    r.register_dataset_type({"versions", u.group({}), "Packages", false});
    return b;
  }
};

TEST_P(ButlerDatasetsTest, StructuredDataRoundTripKeepsTypesAndOrder) {
  auto b = open_with_types();
  Json value = Json::parse(R"({"zeta": 1, "alpha": [1.5, "2", "true", null, true, -7], "nested": {"s": "x: y",
      "empty": "", "big": 12345678901234, "float_int": 3.0}})");
  auto ref = b->put(value, "summary", kDetector1, "u/alice/run1");
  EXPECT_EQ(ref.run, "u/alice/run1");
  auto back = b->get_as<Json>(ref);
  EXPECT_EQ(back, value);
  EXPECT_EQ(back.begin().key(), "zeta");  // order kept
  EXPECT_TRUE(back["nested"]["float_int"].is_number_float());
  // By type, data ID and collections; the file is YAML at the template's path.
  EXPECT_EQ(b->get_as<Json>("summary", kDetector1, {"u/alice/run1"}), value);
  std::string uri = b->get_uri(ref);
  ASSERT_EQ(uri.rfind(GetParam() == Backend::kWebDav ? "davs://" : "file://", 0), 0u) << uri;
  EXPECT_EQ(fs::path(uri).extension(), ".yaml");
  EXPECT_TRUE(stored_exists(uri));
  EXPECT_NE(uri.find("u/alice/run1/summary"), std::string::npos) << uri;
  EXPECT_TRUE(b->exists(ref));
  // A second butler (another process, in effect) reads the same value.
  auto other = Butler::open(root_, Access::kReadOnly);
  EXPECT_EQ(other->get_as<Json>("summary", kDetector1, {"u/alice/run1"}), value);
}

TEST_P(ButlerDatasetsTest, PackagesRoundTrip) {
  auto b = open_with_types();
  std::map<std::string, std::string> packages{{"majordome", "0.1"}, {"numpy", "1.24.2"}, {"odd", "1.10"}};
  auto ref = b->put(packages, "versions", {}, "run");
  EXPECT_EQ((b->get_as<std::map<std::string, std::string>>(ref)), packages);  // "1.10" stays a string
}

TEST_P(ButlerDatasetsTest, ASecondPutOfTheSameDataIdIsAConflictAndWritesNothing) {
  auto b = open_with_types();
  b->put(Json{{"a", 1}}, "summary", kDetector1, "run");
  auto before = data_files();
  try {
    b->put(Json{{"a", 2}}, "summary", kDetector1, "run");
    FAIL() << "expected ConflictError";
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find("already has a summary dataset"), std::string::npos) << e.what();
  }
  EXPECT_EQ(data_files(), before);
  EXPECT_EQ(b->get_as<Json>("summary", kDetector1, {"run"}), (Json{{"a", 1}}));
  // Another run is fine.
  b->put(Json{{"a", 2}}, "summary", kDetector1, "run2");
  EXPECT_EQ(b->get_as<Json>("summary", kDetector1, {"run2", "run"}), (Json{{"a", 2}}));
  EXPECT_EQ(b->get_as<Json>("summary", kDetector1, {"run", "run2"}), (Json{{"a", 1}}));
}

TEST_P(ButlerDatasetsTest, BadPutsNameTheProblemAndLeaveNothing) {
  auto b = open_with_types();
  auto& r = b->registry();
  r.register_dataset_type({"odd", r.universe().group({"instrument"}), "NoSuchClass", false});
  try {
    b->put(Json{}, "nosuchtype", kDetector1, "run");
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("register-dataset-type"), std::string::npos) << e.what();
  }
  try {
    b->put(std::string("text"), "summary", kDetector1, "run");
    FAIL();
  } catch (const InvalidArgumentError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("StructuredDataDict"), std::string::npos) << m;
    EXPECT_NE(m.find("std::__cxx11::basic_string"), std::string::npos) << m;
  }
  try {
    b->put(Json{}, "odd", kDetector1, "run");
    FAIL();
  } catch (const NotFoundError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("NoSuchClass"), std::string::npos) << m;
    EXPECT_NE(m.find("StructuredDataDict"), std::string::npos) << m;  // the known ones
  }
  EXPECT_THROW(b->put(Json{}, "summary", {{"instrument", std::string("Cam1")}}, "run"), InvalidArgumentError);
  EXPECT_THROW(b->put(Json{}, "summary", kDetector1, "bad/../run"), InvalidArgumentError);
  EXPECT_TRUE(data_files().empty());
  EXPECT_FALSE(r.find_collection("run"));
}

// A formatter that writes half a file, then fails.
struct Broken {};
class BrokenFormatter final : public datastore::Formatter {
 public:
  std::string_view name() const override { return "test.Broken"; }
  std::string_view extension() const override { return ".bin"; }
  void write(const InMemoryDataset&, const fs::path& path) const override {
    std::ofstream(path) << "half";
    throw IoError("disk full (simulated)");
  }
  InMemoryDataset read(const fs::path&, const datastore::StorageClass&, const datastore::ReadRequest&) const override {
    return {};
  }
};

TEST_P(ButlerDatasetsTest, AFailingFormatterLeavesNoFileAndNoDataset) {
  auto formatters = std::make_shared<FormatterRegistry>();
  datastore::add_basic_formatters(*formatters);
  formatters->add_storage_class({"Broken", typeid(Broken), "Broken", {}, {}});
  formatters->add_formatter(std::make_shared<BrokenFormatter>(), {"Broken"});
  auto b = open(formatters);
  auto& r = b->registry();
  r.register_dataset_type({"broken", r.universe().group({"instrument"}), "Broken", false});
  EXPECT_THROW(b->put(Broken{}, "broken", kDetector1, "run"), IoError);
  EXPECT_TRUE(data_files().empty());
  EXPECT_FALSE(r.find_collection("run"));  // the run is registered only with its first dataset
}

TEST_P(ButlerDatasetsTest, GetExplainsWhatIsMissing) {
  auto b = open_with_types();
  try {
    b->get("summary", kDetector1, {"nowhere"});
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("collection 'nowhere' does not exist"), std::string::npos) << e.what();
  }
  b->registry().register_collection("run", CollectionType::kRun);
  try {
    b->get("summary", kDetector1, {"run"});
    FAIL();
  } catch (const NotFoundError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("summary"), std::string::npos) << m;
    EXPECT_NE(m.find("run"), std::string::npos) << m;
  }
  EXPECT_THROW(b->get("summary", kDetector1, {}), InvalidArgumentError);
  auto ref = b->put(Json{{"a", 1}}, "summary", kDetector1, "run");
  EXPECT_THROW(b->get_as<std::string>(ref), InvalidArgumentError);
  // Components and parameters the storage class does not have.
  DatasetRef component = ref;
  component.dataset_type = "summary.wcs";
  EXPECT_THROW(b->get(component), InvalidArgumentError);
  EXPECT_THROW(b->get(ref, {{"bbox", 1}}), InvalidArgumentError);
  // A lost file is named, not a crash.
  remove_stored(b->get_uri(ref));
  EXPECT_FALSE(b->exists(ref));
  try {
    b->get(ref);
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

TEST_P(ButlerDatasetsTest, DeferredHandlesReadWhenAskedAndRemovalGoesThroughTheTrash) {
  auto b = open_with_types();
  auto ref = b->put(Json{{"a", 1}}, "summary", kDetector1, "run");
  auto handle = b->get_deferred("summary", kDetector1, {"run"});
  EXPECT_EQ(handle.ref().id, ref.id);
  const std::string file = b->get_uri(ref);
  EXPECT_EQ(handle.get_as<Json>(), (Json{{"a", 1}}));
  b->remove_datasets({ref.id});
  EXPECT_FALSE(stored_exists(file));
  EXPECT_FALSE(b->exists(ref));
  EXPECT_THROW(handle.get(), NotFoundError);
  // The data ID is free again.
  b->put(Json{{"a", 3}}, "summary", kDetector1, "run");
  EXPECT_EQ(b->get_as<Json>("summary", kDetector1, {"run"}), (Json{{"a", 3}}));
}

// A record of `element` with the given values and every other field left empty (or a
// neutral value where the field may not be NULL).
dimensions::DimensionRecord make_record(const dimensions::Universe& u, const std::string& element,
                                        const std::map<std::string, dimensions::FieldValue>& values) {
  const auto& e = u.get(element);
  std::vector<dimensions::FieldValue> fields;
  for (const auto& spec : e.record_fields()) {
    if (auto it = values.find(spec.name); it != values.end()) {
      fields.push_back(it->second);
    } else if (spec.nullable) {
      fields.emplace_back(std::monostate{});
    } else if (spec.type == dimensions::FieldType::kString) {
      fields.emplace_back(std::string("x"));
    } else {
      fields.emplace_back(std::int64_t{0});
    }
  }
  return dimensions::DimensionRecord(e, fields);
}

TEST_P(ButlerDatasetsTest, ACalibrationIsFoundAtTheTimeOfTheExposureTheDataIdNames) {
  auto b = open_with_types();
  auto& r = b->registry();
  const auto& u = r.universe();
  r.insert_records("physical_filter", {make_record(u, "physical_filter", {{"instrument", std::string("Cam1")},
                                                                         {"name", std::string("F1")},
                                                                         {"band", std::string("r")}})});
  r.insert_records("day_obs", {make_record(u, "day_obs", {{"instrument", std::string("Cam1")}, {"id", std::int64_t{20240101}}})});
  r.insert_records("group", {make_record(u, "group", {{"instrument", std::string("Cam1")}, {"name", std::string("g1")}})});
  const auto t = [](const char* iso) { return TaiTime::from_tai_iso(iso).ns(); };
  std::vector<dimensions::DimensionRecord> exposures;
  for (auto [id, begin, end] : {std::tuple{1, "2024-01-01T01:00:00", "2024-01-01T01:00:30"},
                                std::tuple{2, "2024-03-01T01:00:00", "2024-03-01T01:00:30"}})
    exposures.push_back(make_record(u, "exposure", {{"instrument", std::string("Cam1")},
                                                    {"id", std::int64_t{id}},
                                                    {"physical_filter", std::string("F1")},
                                                    {"day_obs", std::int64_t{20240101}},
                                                    {"group", std::string("g1")},
                                                    {"obs_id", "exp" + std::to_string(id)},
                                                    {"timespan", Timespan(t(begin), t(end))}}));
  r.insert_records("exposure", exposures);
  r.register_dataset_type({"bias_summary", u.group({"instrument", "detector"}), "StructuredDataDict", true});
  auto january = b->put(Json{{"epoch", "january"}}, "bias_summary", kDetector1, "calib/run1");
  auto february = b->put(Json{{"epoch", "february"}}, "bias_summary", kDetector1, "calib/run2");
  r.register_collection("calib", CollectionType::kCalibration);
  r.certify("calib", {january}, Timespan(t("2023-12-01T00:00:00"), t("2024-02-01T00:00:00")));
  r.certify("calib", {february}, Timespan(t("2024-02-01T00:00:00"), t("2024-06-01T00:00:00")));
  DataId on{{"instrument", std::string("Cam1")}, {"detector", std::int64_t{1}}, {"exposure", std::int64_t{1}}};
  EXPECT_EQ(b->get_as<Json>("bias_summary", on, {"calib"})["epoch"], "january");
  on["exposure"] = std::int64_t{2};
  EXPECT_EQ(b->get_as<Json>("bias_summary", on, {"calib"})["epoch"], "february");
}

// Each I/O step of put() failed in turn (datastore/io_faults.hpp), as a full or failing disk
// would: the put reports an IoError, the registry holds no dataset and, once the clean-up a
// user runs (`butler cleanup`) is done, no file is left; with the fault gone the same put
// succeeds. Then a removal whose file deletion fails still removes the dataset, and the file
// goes at the next clean-up.
TEST_P(ButlerDatasetsTest, PutAndRemoveFailedAtEachIoStepLeaveTheRepositoryConsistent) {
  using datastore::IoStep;
  auto b = open_with_types();
  for (IoStep step : {IoStep::kWrite, IoStep::kSync, IoStep::kRename, IoStep::kMkdir, IoStep::kLink}) {
    const std::string run = fmt::format("run_{}", datastore::io_step_name(step));
    auto files_before = data_files();
    int failures = 0;
    for (int n = 1;; ++n) {
      ASSERT_LT(n, 100) << "put still fails at " << datastore::io_step_name(step) << ":" << n;
      datastore::arm_io_fault(step, n);
      std::optional<DatasetRef> ref;
      try {
        ref = b->put(Json{{"step", n}}, "summary", kDetector1, run);
      } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("injected"), std::string::npos) << e.what();
      }
      datastore::disarm_io_fault();
      if (ref) {
        EXPECT_EQ(b->get_as<Json>(*ref), (Json{{"step", n}}));
        EXPECT_EQ(data_files().size(), files_before.size() + 1);
        break;
      }
      ++failures;
      b->recover_interrupted_writes();
      b->empty_trash();
      EXPECT_EQ(data_files(), files_before) << datastore::io_step_name(step) << ":" << n;
      EXPECT_THROW(b->get("summary", kDetector1, {run}), NotFoundError);
    }
    // A datastore on a server has writes (PUT) and renames (MOVE) only: nothing to sync, and
    // folders come with the PUT.
    const bool remote_step = GetParam() != Backend::kWebDav || step == IoStep::kWrite || step == IoStep::kRename;
    if (step != IoStep::kLink && remote_step) {
      EXPECT_GT(failures, 0) << "put never reached a " << datastore::io_step_name(step);
    }
  }
  auto ref = b->find_dataset("summary", kDetector1, {"run_write"});
  ASSERT_TRUE(ref);
  const std::string file = b->get_uri(*ref);
  datastore::arm_io_fault(IoStep::kRemove, 1);
  try {
    b->remove_datasets({ref->id});
  } catch (const IoError&) {  // the dataset went; its file waits in the trash
  }
  datastore::disarm_io_fault();
  EXPECT_FALSE(b->exists(*ref));
  b->empty_trash();
  EXPECT_FALSE(stored_exists(file));
}

// A file changed behind the repository's back is refused on read from a server (its size,
// as recorded at write time).
class ButlerRemoteDatasetsTest : public ButlerDatasetsTest {};

TEST_P(ButlerRemoteDatasetsTest, AFileChangedOnTheServerIsRefused) {
  auto b = open_with_types();
  auto ref = b->put(Json{{"a", 1}}, "summary", kDetector1, "run");
  replace_stored(b->get_uri(ref), "a: 22222\n");
  try {
    b->get(ref);
    FAIL() << "a changed file was read";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find("were stored"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ButlerDatasetsTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres, Backend::kWebDav),
                         testing::backend_name);

INSTANTIATE_TEST_SUITE_P(Remote, ButlerRemoteDatasetsTest, ::testing::Values(Backend::kWebDav), testing::backend_name);

}  // namespace
}  // namespace majordome::butler
