// The datastore's own storage classes Config, TaskMetadata and ButlerLogRecords through
// Butler::put / get, on SQLite and PostgreSQL: exact round trips, byte-stable files, and
// the files Rubin writes read back.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "butler_repo_fixture.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/butler_log_records.hpp"
#include "majordome/datastore/config.hpp"
#include "majordome/datastore/task_metadata.hpp"

namespace majordome::butler {
namespace {

namespace fs = std::filesystem;
using datastore::ButlerLogRecord;
using datastore::ButlerLogRecords;
using datastore::Config;
using datastore::ConfigDict;
using datastore::ConfigList;
using datastore::ConfigValue;
using datastore::TaskMetadata;
using testing::Backend;
using testing::ButlerRepoTest;

const DataId kDetector1{{"instrument", std::string("Cam1")}, {"detector", std::int64_t{1}}};

class BasicStorageClassesTest : public ButlerRepoTest {
 protected:
  std::unique_ptr<Butler> open_with_types() {
    auto b = open();
    auto& r = b->registry();
    const auto group = r.universe().group({"instrument", "detector"});
    r.register_dataset_type({"isr_config", group, "Config", false});
    r.register_dataset_type({"isr_metadata", group, "TaskMetadata", false});
    r.register_dataset_type({"isr_log", group, "ButlerLogRecords", false});
    return b;
  }
  std::string bytes(Butler& b, const registry::DatasetRef& ref) { return stored_bytes(b.get_uri(ref)); }
  // Makes `text` the file of `ref` (standing in for a file Rubin wrote): the dataset is
  // removed and ingested again from that file, with its ID, run, data ID and formatter, so its
  // record (size included) describes the new file.
  void replace_file(Butler& b, const registry::DatasetRef& ref, const std::string& text) {
    const auto stored = b.registry().stored_files(ref.id).front();
    const auto uri = b.get_uri(ref);
    const auto local = dir_ / ("rubin-written" + fs::path(uri).extension().string());
    std::ofstream(local, std::ios::binary | std::ios::trunc) << text;
    b.remove_datasets({ref.id});
    butler::FileDataset file;
    file.path = local;
    file.formatter = stored.formatter;
    file.refs.push_back(ref);
    butler::IngestOptions options;
    options.transfer = "copy";
    b.ingest({file}, ref.run, options);
  }
};

Config sample_config() {
  Config c;
  c.set("doWrite", true);
  c.set("doBias", false);
  c.set("saturation", 65535.0);
  c.set("gain", 1.0 / 3.0);
  c.set("fwhm", std::numeric_limits<double>::quiet_NaN());
  c.set("maxFlux", std::numeric_limits<double>::infinity());
  c.set("tiny", 5e-324);
  c.set("big", std::numeric_limits<std::int64_t>::min());
  c.set("doc", "it's a \"quoted\" line\nwith a tab\t, a backslash \\ and é");
  c.set("badMaskPlanes", ConfigList{"BAD", "SAT", "NO_DATA"});
  c.set("fluxes", ConfigList{1, 2.5, ConfigValue(nullptr)});
  c.set("gains", ConfigDict{{"C00", 1.5}, {"C01", 1.25}});
  c.set("byDetector", ConfigDict{{ConfigValue(0), "R22_S11"}, {ConfigValue(1), ConfigDict{}}});
  c.set("skyMap['rings'].numRings", 120);
  c.set("connections.outputExposure", "postISRCCD");
  c.set("nothing", nullptr);
  return c;
}

TEST_P(BasicStorageClassesTest, ConfigRoundTripsExactlyAsPythonText) {
  auto b = open_with_types();
  const Config c = sample_config();
  auto ref = b->put(c, "isr_config", kDetector1, "run");
  EXPECT_EQ(b->get_as<Config>(ref), c);
  const std::string text = bytes(*b, ref);
  EXPECT_EQ(text.rfind("# majordome Config, format version 1\n", 0), 0u) << text;
  EXPECT_NE(text.find("\nconfig.doWrite=True\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nconfig.saturation=65535.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nconfig.badMaskPlanes=['BAD', 'SAT', 'NO_DATA']\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nconfig.skyMap['rings'].numRings=120\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nconfig.maxFlux=1e999\n"), std::string::npos) << text;
  EXPECT_EQ(fs::path(b->get_uri(ref)).extension(), ".py");
  EXPECT_EQ(bytes(*b, ref), bytes(*b, b->put(c, "isr_config", kDetector1, "run2")));
}

TEST_P(BasicStorageClassesTest, ConfigReadsWhatPexConfigWrites) {
  auto b = open_with_types();
  auto ref = b->put(Config{}, "isr_config", kDetector1, "run");
  replace_file(*b, ref,
               "import lsst.ip.isr.isrTask\n"
               "assert type(config) is lsst.ip.isr.isrTask.IsrTaskConfig, 'config is of type %s.%s instead of ...'\n"
               "\n"
               "# Persist postISRCCD?\n"
               "config.doWrite=True\n"
               "config.overscan.fitType='MEDIAN_PER_ROW'\n"
               "config.fluxes=(1, 2.0,\n"
               "  3e-05)\n"
               "config.maskPlanes=[\"BAD\", 'SAT']\n"
               "config.fwhm=float('nan')\n");
  const Config c = b->get_as<Config>(ref);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c.get("doWrite"), ConfigValue(true));
  EXPECT_EQ(c.get("overscan.fitType"), ConfigValue("MEDIAN_PER_ROW"));
  EXPECT_EQ(c.get("fluxes"), ConfigValue(ConfigList{1, 2.0, 3e-05}));
  EXPECT_EQ(c.get("maskPlanes"), ConfigValue(ConfigList{"BAD", "SAT"}));
  EXPECT_TRUE(std::isnan(*c.get("fwhm").get_if<double>()));
  // A statement we do not read is a corrupt file, naming the line.
  replace_file(*b, ref, "config.doWrite=True\nconfig.isr.retarget(target=X, ConfigClass=Y)\n");
  try {
    b->get_as<Config>(ref);
    FAIL();
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TaskMetadata sample_metadata() {
  TaskMetadata isr;
  isr.scalars = {{"prepUpTime", 1.5}, {"nPixels", std::int64_t{4'000'000}}, {"doBias", true},
                 {"label", std::string("isr")}, {"fwhm", std::numeric_limits<double>::quiet_NaN()},
                 {"limit", -std::numeric_limits<double>::infinity()}, {"one", 1.0}};
  isr.arrays = {{"amps", {std::string("C00"), std::string("C01")}}, {"medians", {1.25, 2.0}}, {"empty", {}}};
  TaskMetadata nested;
  nested.scalars = {{"count", std::int64_t{3}}};
  isr.metadata = {{"overscan", nested}};
  TaskMetadata top;
  top.metadata = {{"isr", isr}};
  return top;
}

TEST_P(BasicStorageClassesTest, TaskMetadataRoundTripsAsRubinsJson) {
  auto b = open_with_types();
  const TaskMetadata m = sample_metadata();
  auto ref = b->put(m, "isr_metadata", kDetector1, "run");
  const TaskMetadata back = b->get_as<TaskMetadata>(ref);
  EXPECT_EQ(back, m);
  EXPECT_TRUE(std::holds_alternative<double>(back.metadata.at("isr").scalars.at("one")));
  const std::string text = bytes(*b, ref);
  EXPECT_EQ(text.rfind(R"({"scalars":{},"arrays":{},"metadata":{"isr":{"scalars":{"doBias":true,)", 0), 0u) << text;
  EXPECT_NE(text.find(R"("one":1.0)"), std::string::npos) << text;
  EXPECT_EQ(bytes(*b, ref), bytes(*b, b->put(m, "isr_metadata", kDetector1, "run2")));
  // What Rubin's pydantic model writes (spaces, NaN as null, arbitrary key order).
  replace_file(*b, ref,
               R"({"metadata": {"calibrate": {"arrays": {"ids": [1, 2]}, "scalars": {"n": 7, "x": null},
                   "metadata": {}}}, "scalars": {"t": 0.25, "big": -Infinity, "nan": NaN, "s": "NaN -1e999"},
                   "arrays": {}})");
  const TaskMetadata rubin = b->get_as<TaskMetadata>(ref);
  EXPECT_EQ(std::get<double>(rubin.scalars.at("t")), 0.25);
  EXPECT_EQ(std::get<double>(rubin.scalars.at("big")), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(std::get<double>(rubin.scalars.at("nan"))));
  EXPECT_EQ(std::get<std::string>(rubin.scalars.at("s")), "NaN -1e999");
  EXPECT_EQ(std::get<std::int64_t>(rubin.metadata.at("calibrate").scalars.at("n")), 7);
  EXPECT_TRUE(std::isnan(std::get<double>(rubin.metadata.at("calibrate").scalars.at("x"))));
  EXPECT_EQ(rubin.metadata.at("calibrate").arrays.at("ids").size(), 2u);
  replace_file(*b, ref, R"({"scalars": {}, "oops": {}})");
  EXPECT_THROW(b->get_as<TaskMetadata>(ref), CorruptFileError);
}

ButlerLogRecords sample_log() {
  ButlerLogRecords log;
  ButlerLogRecord r;
  r.name = "lsst.isr";
  r.asctime = "2024-03-01T10:00:00.123456Z";
  r.message = "Applying bias correction: \"combined\"\nsecond line";
  r.levelno = 20;
  r.levelname = "INFO";
  r.filename = "isrTask.py";
  r.pathname = "/opt/lsst/ip_isr/python/lsst/ip/isr/isrTask.py";
  r.lineno = 1234;
  r.func_name = "run";
  r.process = 4242;
  r.process_name = "MainProcess";
  r.mdc = {{"LABEL", "isr:{instrument: 'Cam1', detector: 1}"}, {"RUN", "run"}};
  log.records.push_back(r);
  r.message = "Saturated pixels: 12";
  r.levelno = 30;
  r.levelname = "WARNING";
  r.func_name.reset();
  r.exc_info = "Traceback (most recent call last):\n  ...";
  log.records.push_back(r);
  return log;
}

TEST_P(BasicStorageClassesTest, ButlerLogRecordsRoundTripOneRecordPerLine) {
  auto b = open_with_types();
  const ButlerLogRecords log = sample_log();
  auto ref = b->put(log, "isr_log", kDetector1, "run");
  EXPECT_EQ(b->get_as<ButlerLogRecords>(ref), log);
  const std::string text = bytes(*b, ref);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_EQ(text.rfind(R"({"name":"lsst.isr","asctime":"2024-03-01T10:00:00.123456Z","message":)", 0), 0u) << text;
  EXPECT_EQ(bytes(*b, ref), bytes(*b, b->put(log, "isr_log", kDetector1, "run2")));
  EXPECT_TRUE(b->get_as<ButlerLogRecords>(b->put(ButlerLogRecords{}, "isr_log", kDetector1, "run3")).records.empty());
}

TEST_P(BasicStorageClassesTest, ButlerLogRecordsReadRubinsListForms) {
  auto b = open_with_types();
  auto ref = b->put(ButlerLogRecords{}, "isr_log", kDetector1, "run");
  const std::string record =
      R"({"name": "lsst.a", "asctime": "2024-01-01T00:00:00Z", "message": "m1", "levelno": 10,
          "levelname": "DEBUG", "filename": "a.py", "pathname": "/a.py", "lineno": 1, "funcName": null,
          "process": 1, "processName": "MainProcess", "exc_info": null, "MDC": {}})";
  for (const std::string& text : {"[" + record + ", " + record + "]", R"({"__root__": [)" + record + "]}", record}) {
    replace_file(*b, ref, text);
    const auto log = b->get_as<ButlerLogRecords>(ref);
    ASSERT_FALSE(log.records.empty()) << text;
    EXPECT_EQ(log.records[0].name, "lsst.a");
    EXPECT_EQ(log.records[0].levelname, "DEBUG");
    EXPECT_FALSE(log.records[0].func_name);
  }
  replace_file(*b, ref, R"({"name": "lsst.a", "levelno": 10, "levelname": "DEBUG"})" "\n");
  EXPECT_THROW(b->get_as<ButlerLogRecords>(ref), CorruptFileError);  // no message
}

INSTANTIATE_TEST_SUITE_P(Backends, BasicStorageClassesTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres, Backend::kWebDav),
                         testing::backend_name);

}  // namespace
}  // namespace majordome::butler
