#include "majordome/instrument/ingest.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "majordome/image/fits_file.hpp"
#include "majordome/instrument/register.hpp"
#include "cancelling_progress.hpp"
#include "ingest_raws_test_util.hpp"

namespace majordome::instrument {
namespace {

namespace fs = std::filesystem;
using butler::Access;
using butler::Butler;
using registry::DataId;

class IngestTest : public testing_raws::RepoTest {
 protected:
  IngestTest() : RepoTest("ingest") {}
  fs::path raw(int seq, int detector, const testing_raws::Overrides& overrides = {}) {
    return testing_raws::write_testcam_raw(dir_ / "raws", seq, detector, overrides);
  }
  std::size_t raw_count(const std::string& run = "TestCam/raw/all") {
    return butler_->registry().datasets_in_collection(run, "raw").size();
  }
  // The FITS files inside the repository (copies made by ingest).
  std::size_t files_in_repo() {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "repo"))
      n += e.is_regular_file() && e.path().extension() == ".fits";
    return n;
  }

};

TEST_F(IngestTest, IngestsRawsWithRecordsAndReproducibleIds) {
  for (int seq : {1, 2})
    for (int det : {0, 1}) raw(seq, det);
  RawIngestOptions options;
  options.transfer = "direct";
  options.jobs = 2;
  const auto r = ingest_raws(*butler_, {dir_ / "raws"}, options);
  EXPECT_EQ(r.files, 4u);
  EXPECT_EQ(r.ingested, 4u);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.new_exposures, 2u);
  EXPECT_EQ(r.runs, std::vector<std::string>{"TestCam/raw/all"});

  auto& reg = butler_->registry();
  const auto exposures = reg.query_records("exposure", {{"instrument", std::string("TestCam")}});
  ASSERT_EQ(exposures.size(), 2u);
  EXPECT_EQ(std::get<std::string>(exposures[0].get("obs_id")), "TC_O_20241125_000001");
  EXPECT_EQ(std::get<std::string>(exposures[0].get("physical_filter")), "g_test");
  EXPECT_EQ(std::get<std::string>(exposures[0].get("observation_type")), "science");
  EXPECT_EQ(reg.query_records("day_obs", {}).size(), 1u);
  EXPECT_EQ(reg.query_records("group", {}).size(), 2u);

  // The dataset ID is Rubin's DATAID_TYPE_RUN uuid5: the same in any repository.
  const DataId data_id{{"instrument", std::string("TestCam")}, {"exposure", std::int64_t{2024112500001}},
                       {"detector", std::int64_t{1}}};
  const auto ref = reg.find_dataset("raw", data_id, {"TestCam/raw/all"});
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->id, registry::make_dataset_id(registry::IdGenerationMode::kDataIdTypeRun, "raw", "TestCam/raw/all",
                                               data_id));
  // direct: the datastore points at the original file.
  const auto stored = reg.stored_files(ref->id);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(butler_->artifact_uri(stored[0]), "file://" + (dir_ / "raws" / "TC_O_20241125_000001_R00_S01.fits").string());
}

TEST_F(IngestTest, ReingestIsANoOpAndCopyPutsFilesInTheRepository) {
  raw(1, 0), raw(1, 1);
  RawIngestOptions options;
  options.transfer = "copy";
  EXPECT_EQ(ingest_raws(*butler_, {dir_ / "raws"}, options).ingested, 2u);
  const auto again = ingest_raws(*butler_, {dir_ / "raws"}, options);
  EXPECT_EQ(again.ingested, 0u);
  EXPECT_EQ(again.already_present, 2u);
  EXPECT_TRUE(again.failures.empty());
  EXPECT_EQ(raw_count(), 2u);
  const auto refs = butler_->registry().datasets_in_collection("TestCam/raw/all", "raw");
  const auto uri = butler_->artifact_uri(butler_->registry().stored_files(refs[0].id).at(0));
  EXPECT_EQ(uri.rfind((dir_ / "repo").string(), 0), 0u) << uri;
  EXPECT_TRUE(fs::exists(uri));
}

TEST_F(IngestTest, DifferentFileForAnExistingDataIdIsAConflictForThatFileOnly) {
  raw(1, 0);
  RawIngestOptions options;
  options.transfer = "direct";
  ingest_raws(*butler_, {dir_ / "raws"}, options);
  fs::create_directories(dir_ / "other");
  const auto clash = testing_raws::write_testcam_raw(dir_ / "other", 1, 0, {{"EXTRAKEY", std::int64_t{42}}});
  const auto fine = testing_raws::write_testcam_raw(dir_ / "other", 1, 1);
  const auto r = ingest_raws(*butler_, {dir_ / "other"}, options);
  EXPECT_EQ(r.ingested, 1u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].file, clash);
  EXPECT_EQ(r.failures[0].code, ErrorCode::kConflict);
  EXPECT_NE(r.failures[0].reason.find("already ingested"), std::string::npos) << r.failures[0].reason;
  EXPECT_EQ(raw_count(), 2u);
  (void)fine;
}

TEST_F(IngestTest, BadFilesAreReportedOneByOneAndSkipped) {
  const auto good = raw(1, 0);
  const auto not_fits = dir_ / "raws" / "notes.fits";
  std::ofstream(not_fits) << "this is not a FITS file\n";
  const auto truncated = dir_ / "raws" / "truncated.fits";
  {
    std::ifstream in(good, std::ios::binary);
    std::string head(1000, '\0');
    in.read(head.data(), 1000);
    std::ofstream(truncated, std::ios::binary) << head;
  }
  const auto unknown = raw(2, 0, {{"INSTRUME", std::string("NoSuchCam")}, {"CAMCODE", std::string("ZZ")}});
  const auto missing = raw(3, 0, {{"EXPTIME", std::monostate{}}, {"SHUTTIME", std::monostate{}}});
  const auto r = ingest_raws(*butler_, {dir_ / "raws"});
  EXPECT_EQ(r.ingested, 1u);
  ASSERT_EQ(r.failures.size(), 4u);
  std::map<fs::path, RawIngestFailure> by_file;
  for (const auto& f : r.failures) {
    EXPECT_FALSE(f.reason.empty());
    by_file[f.file] = f;
  }
  ASSERT_TRUE(by_file.count(not_fits) && by_file.count(truncated) && by_file.count(unknown) && by_file.count(missing));
  EXPECT_NE(by_file[unknown].reason.find("NoSuchCam"), std::string::npos) << by_file[unknown].reason;
  EXPECT_NE(by_file[missing].reason.find("exposure_time"), std::string::npos) << by_file[missing].reason;
  // Nothing of the bad files remains: one exposure, one raw.
  EXPECT_EQ(butler_->registry().query_records("exposure", {}).size(), 1u);
  EXPECT_EQ(raw_count(), 1u);
}

TEST_F(IngestTest, FailFastStopsAtTheFirstBadFileBeforeWriting) {
  raw(1, 0);
  std::ofstream(dir_ / "raws" / "zz_bad.fits") << "garbage";
  RawIngestOptions options;
  options.fail_fast = true;
  try {
    ingest_raws(*butler_, {dir_ / "raws"}, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zz_bad.fits"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(butler_->registry().query_records("exposure", {}).empty());
}

TEST_F(IngestTest, CancelledWhileWritingKeepsTheCommittedBatchesOnly) {
  for (int seq : {1, 2, 3})
    for (int det : {0, 1}) raw(seq, det);
  RawIngestOptions options;
  options.transfer = "copy";
  options.batch_size = 2;  // one exposure per batch
  testing::CancellingProgress progress("ingesting", 3);  // Ctrl-C once the 3rd file is placed
  options.progress = &progress;
  EXPECT_THROW(ingest_raws(*butler_, {dir_ / "raws"}, options), CancelledError);
  EXPECT_EQ(progress.phases, (std::vector<std::string>{"reading headers", "ingesting"}));
  // The first batch is committed whole; nothing of the second (files, datasets, exposure).
  EXPECT_EQ(raw_count(), 2u);
  EXPECT_EQ(butler_->registry().query_records("exposure", {}).size(), 1u);
  EXPECT_EQ(files_in_repo(), 2u);
  for (const auto& ref : butler_->registry().datasets_in_collection("TestCam/raw/all", "raw"))
    EXPECT_TRUE(fs::exists(butler_->artifact_uri(butler_->registry().stored_files(ref.id).at(0))));
  // Running it again finishes the work.
  options.progress = nullptr;
  const auto again = ingest_raws(*butler_, {dir_ / "raws"}, options);
  EXPECT_EQ(again.ingested, 4u);
  EXPECT_EQ(again.already_present, 2u);
  EXPECT_EQ(raw_count(), 6u);
  EXPECT_EQ(files_in_repo(), 6u);
}

TEST_F(IngestTest, CancelledWhileReadingHeadersWritesNothing) {
  for (int seq : {1, 2})
    for (int det : {0, 1}) raw(seq, det);
  for (const int jobs : {1, 3}) {
    RawIngestOptions options;
    options.transfer = "copy";
    options.jobs = jobs;
    testing::CancellingProgress progress("reading headers", 2);
    options.progress = &progress;
    EXPECT_THROW(ingest_raws(*butler_, {dir_ / "raws"}, options), CancelledError);
    EXPECT_EQ(progress.phases, std::vector<std::string>{"reading headers"});
    if (jobs == 1) {
      EXPECT_EQ(progress.state().done, 2u) << "the files after the cancel are not read";
    }
    EXPECT_TRUE(butler_->registry().query_records("exposure", {}).empty());
    EXPECT_EQ(files_in_repo(), 0u);
  }
}

TEST_F(IngestTest, ProgressCountsEveryFileOfBothPhases) {
  for (int seq : {1, 2})
    for (int det : {0, 1}) raw(seq, det);
  std::ofstream(dir_ / "raws" / "zz_bad.fits") << "garbage";
  RawIngestOptions options;
  options.transfer = "copy";
  options.batch_size = 3;
  testing::CancellingProgress progress("never", 0);
  options.progress = &progress;
  const auto r = ingest_raws(*butler_, {dir_ / "raws"}, options);
  EXPECT_EQ(r.ingested, 4u);
  EXPECT_EQ(progress.phases, (std::vector<std::string>{"reading headers", "ingesting"}));
  const auto last = progress.state();
  EXPECT_EQ(last.phase, "ingesting");
  EXPECT_EQ(last.done, 4u);  // the bad file is not placed
  EXPECT_EQ(last.total, 4u);
  EXPECT_EQ(butler_->progress, nullptr) << "the butler does not keep the progress";
}

TEST_F(IngestTest, UnregisteredInstrumentAndMissingLocationAreClearErrors) {
  Butler::create(dir_ / "empty");
  auto empty = Butler::open(dir_ / "empty", Access::kReadWrite);
  raw(1, 0);
  const auto r = ingest_raws(*empty, {dir_ / "raws"});
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].code, ErrorCode::kNotFound);
  EXPECT_NE(r.failures[0].reason.find("register-instrument"), std::string::npos);
  EXPECT_THROW(ingest_raws(*butler_, {dir_ / "no-such-dir"}), NotFoundError);
}

TEST_F(IngestTest, MetadataIndexReplacesHeaderReading) {
  const auto a = raw(1, 0), b = raw(1, 1);
  // An index as astrometadata write-index makes it: common cards, then per-file differences.
  nlohmann::json index;
  index["__CONTENT__"] = "metadata";
  nlohmann::json common;
  for (const auto& card : image::FitsFile(a, image::FitsMode::kRead).read_header()) {
    if (card.is_commentary() || image::is_structural_keyword(card.keyword)) continue;
    std::visit([&](const auto& v) {
      using T = std::decay_t<decltype(v)>;
      if constexpr (!std::is_same_v<T, std::monostate>) common[card.keyword] = v;
    }, card.value);
  }
  common["OBJECT"] = "FROM_INDEX";
  index["__COMMON__"] = common;
  index[a.filename().string()] = nlohmann::json{{"DETECTOR", 0}, {"CCDSLOT", "S00"}, {"LSST_NUM", "TEST-CCD-000"}};
  index[b.filename().string()] = nlohmann::json{{"DETECTOR", 1}, {"CCDSLOT", "S01"}, {"LSST_NUM", "TEST-CCD-001"}};
  std::ofstream(dir_ / "raws" / "_index.json") << index.dump();
  const auto r = ingest_raws(*butler_, {dir_ / "raws"});
  EXPECT_EQ(r.from_index, 2u);
  EXPECT_EQ(r.ingested, 2u);
  const auto exposures = butler_->registry().query_records("exposure", {});
  ASSERT_EQ(exposures.size(), 1u);
  EXPECT_EQ(std::get<std::string>(exposures[0].get("target_name")), "FROM_INDEX");
  // --no-search-indexes reads the headers themselves.
  RawIngestOptions no_index;
  no_index.use_index_files = false;
  no_index.output_run = "other/run";
  const auto r2 = ingest_raws(*butler_, {dir_ / "raws"}, no_index);
  EXPECT_EQ(r2.from_index, 0u);
  EXPECT_EQ(r2.failures.size(), 2u);  // the headers give another exposure record (OBJECT) than the index did
}

TEST_F(IngestTest, RealRubinRawFiles) {
#ifdef MAJORDOME_SHARED_DATA
  const fs::path dir = fs::path(MAJORDOME_SHARED_DATA) / "headers/obs_lsst/raw_header_only_fits";
  if (!fs::exists(dir)) GTEST_SKIP() << "shared data absent: " << dir;
  register_instrument(butler_->registry(), "lsst.obs.lsst.Latiss");
  register_instrument(butler_->registry(), "lsst.obs.lsst.LsstComCam");
  RawIngestOptions options;
  options.transfer = "direct";
  const auto r = ingest_raws(*butler_, {dir / "3018092000065-det000.fits", dir / "3019053000001-R22-S00-det000.fits"},
                             options);
  EXPECT_EQ(r.ingested, 2u) << (r.failures.empty() ? "" : r.failures[0].reason);
  EXPECT_TRUE(butler_->registry().find_record(
      "exposure", {{"instrument", std::string("LATISS")}, {"exposure", std::int64_t{3018092000065}}}));
  EXPECT_EQ(raw_count("LSSTComCam/raw/all"), 1u);
#else
  GTEST_SKIP() << "built without MAJORDOME_SHARED_DATA";
#endif
}

}  // namespace
}  // namespace majordome::instrument
