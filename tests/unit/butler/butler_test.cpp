#include "majordome/butler/butler.hpp"
#include "majordome/butler/db_auth.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "majordome/core/error.hpp"

namespace majordome::butler {
namespace {

namespace fs = std::filesystem;
using dimensions::DimensionRecord;
using dimensions::FieldValue;

class ButlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("majordome-butler-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    root_ = dir_ / "repo";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A repository with one instrument, two detectors and a dataset type `bias`.
  std::unique_ptr<Butler> make_repo() {
    Butler::create(root_);
    auto b = Butler::open(root_, Access::kReadWrite);
    auto& r = b->registry();
    const auto& u = r.universe();
    r.insert_records("instrument", {DimensionRecord(u.get("instrument"), {std::string("Cam1"), std::int64_t{10}, std::int64_t{0},
                                                                          std::int64_t{10}, std::int64_t{4}, std::string("x")})});
    std::vector<DimensionRecord> dets;
    for (std::int64_t d = 1; d <= 2; ++d)
      dets.emplace_back(u.get("detector"), std::vector<FieldValue>{std::string("Cam1"), d, "D" + std::to_string(d),
                                                                   std::monostate{}, std::monostate{}, std::string("SCIENCE")});
    r.insert_records("detector", dets);
    r.register_dataset_type({"bias", u.group({"instrument", "detector"}), "ExposureF", true});
    return b;
  }

  fs::path write_file(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p) << content;
    return p;
  }

  FileDataset bias_file(int detector, const fs::path& path) {
    return {path, {{Uuid(), "bias", {{"instrument", std::string("Cam1")}, {"detector", std::int64_t{detector}}}, ""}}, "fits"};
  }

  // Every regular file under the root except the repository's own bookkeeping.
  std::vector<fs::path> datastore_files() {
    std::vector<fs::path> out;
    for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator(); ++it) {
      if (it->path().filename() == ".majordome") {
        it.disable_recursion_pending();
        continue;
      }
      auto name = it->path().filename().string();
      if (it->is_regular_file() && name != "butler.yaml" && name.rfind("gen3.sqlite3", 0) != 0) out.push_back(it->path());
    }
    return out;
  }

  fs::path dir_, root_;
};

TEST_F(ButlerTest, CreateRefusesAnExistingRepositoryAndOpenNamesAMissingOne) {
  Butler::create(root_);
  EXPECT_TRUE(fs::exists(root_ / "butler.yaml"));
  EXPECT_TRUE(fs::exists(root_ / "gen3.sqlite3"));
  EXPECT_THROW(Butler::create(root_), ConflictError);
  try {
    Butler::open(dir_ / "nothing", Access::kReadOnly);
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("butler create"), std::string::npos) << e.what();
  }
  // Opening through the butler.yaml path works too, and the config resolves <butlerRoot>.
  auto b = Butler::open(root_ / "butler.yaml", Access::kReadOnly);
  EXPECT_NE(b->config_yaml().find((root_ / "gen3.sqlite3").string()), std::string::npos);
}

TEST_F(ButlerTest, CreateNeverTouchesARegistryWithoutConfig) {
  make_repo();
  fs::remove(root_ / "butler.yaml");  // the configuration was lost, the registry was not
  auto size = fs::file_size(root_ / "gen3.sqlite3");
  EXPECT_THROW(Butler::create(root_), ConflictError);
  ASSERT_TRUE(fs::exists(root_ / "gen3.sqlite3"));
  EXPECT_EQ(fs::file_size(root_ / "gen3.sqlite3"), size);
}

TEST_F(ButlerTest, RepositoryCanBeMoved) {
  make_repo();
  fs::rename(root_, dir_ / "moved");
  auto b = Butler::open(dir_ / "moved", Access::kReadOnly);
  EXPECT_TRUE(b->registry().find_dataset_type("bias"));
}

TEST_F(ButlerTest, IngestCopiesFilesAtTemplatePathsAndFailuresLeaveNothing) {
  auto b = make_repo();
  auto f1 = write_file("b1.fits", "one");
  auto refs = b->ingest({bias_file(1, f1)}, "Cam1/calib/run", {});
  ASSERT_EQ(refs.size(), 1u);
  auto stored = b->registry().stored_files(refs[0].id);
  ASSERT_EQ(stored.size(), 1u);
  fs::path artifact = b->artifact_uri(stored[0]);
  EXPECT_TRUE(fs::exists(artifact));
  EXPECT_EQ(artifact.extension(), ".fits");
  EXPECT_EQ(stored[0].file_size, 3);
  EXPECT_TRUE(fs::exists(f1));  // auto = copy for files outside the repository

  // A batch with a conflicting dataset fails whole: the new file of detector 2 is not kept.
  auto f2 = write_file("b2.fits", "two");
  auto f1b = write_file("b1b.fits", "again");
  EXPECT_THROW(b->ingest({bias_file(2, f2), bias_file(1, f1b)}, "Cam1/calib/run", {}), ConflictError);
  EXPECT_EQ(datastore_files().size(), 1u);
  EXPECT_FALSE(b->registry().find_dataset("bias", {{"instrument", std::string("Cam1")}, {"detector", std::int64_t{2}}},
                                          {"Cam1/calib/run"}));
  EXPECT_THROW(b->ingest({bias_file(2, dir_ / "missing.fits")}, "Cam1/calib/run", {}), NotFoundError);
}

TEST_F(ButlerTest, AWriteBatchKeepsItsFilesOnlyIfItCommits) {
  auto b = make_repo();
  auto pending_journals = [&] {  // entries, not counting each journal's header line
    std::size_t lines = 0;
    for (const auto& e : fs::directory_iterator(root_ / ".majordome" / "locks"))
      if (e.path().extension() == ".pending") {
        std::ifstream in(e.path());
        for (std::string line; std::getline(in, line);) lines += line.rfind("majordome-write-journal", 0) != 0;
      }
    return lines;
  };
  const auto in_run = [&](int detector, const std::string& run) {
    return b->registry().find_collection(run) &&
           b->registry()
        .find_dataset("bias", {{"instrument", std::string("Cam1")}, {"detector", std::int64_t{detector}}}, {run})
        .has_value();
  };
  {
    // Two ingests into two runs, then the batch ends without commit (as on an error).
    Butler::WriteBatch batch(*b);
    b->ingest({bias_file(1, write_file("a1.fits", "one"))}, "run/a", {});
    b->ingest({bias_file(2, write_file("a2.fits", "two"))}, "run/b", {});
    EXPECT_EQ(datastore_files().size(), 2u);
    EXPECT_EQ(pending_journals(), 2u);  // a crash now: recovery knows both files
  }
  EXPECT_TRUE(datastore_files().empty());
  EXPECT_FALSE(b->registry().find_collection("run/a"));
  EXPECT_FALSE(b->registry().find_collection("run/b"));
  EXPECT_EQ(pending_journals(), 0u);
  {
    Butler::WriteBatch batch(*b);
    b->ingest({bias_file(1, write_file("c1.fits", "one"))}, "run/a", {});
    {
      Butler::WriteBatch inner(*b);  // a nested batch that fails undoes only its own write
      b->ingest({bias_file(2, write_file("c2.fits", "two"))}, "run/b", {});
    }
    EXPECT_EQ(datastore_files().size(), 1u);
    batch.commit();
  }
  EXPECT_EQ(datastore_files().size(), 1u);
  EXPECT_TRUE(in_run(1, "run/a"));
  EXPECT_FALSE(in_run(2, "run/b"));
  EXPECT_EQ(pending_journals(), 0u);
}

TEST_F(ButlerTest, RemovingARunDeletesItsFilesButNotDirectIngests) {
  auto b = make_repo();
  auto f1 = write_file("b1.fits", "one");
  auto f2 = write_file("b2.fits", "two");
  b->ingest({bias_file(1, f1)}, "run", {});
  IngestOptions direct;
  direct.transfer = "direct";
  b->ingest({bias_file(2, f2)}, "run", direct);
  EXPECT_EQ(datastore_files().size(), 1u);
  b->remove_run("run");
  EXPECT_TRUE(datastore_files().empty());
  EXPECT_TRUE(fs::exists(f2));  // a direct ingest never owned the file
  EXPECT_TRUE(b->registry().trashed_paths().empty());
}

TEST_F(ButlerTest, FilesOfADeadWriterAreRemovedByTheNextWriter) {
  make_repo();
  // What a writer killed after placing a file and before committing leaves behind: its
  // lock file (no longer locked), its journal, the file, and a half-written temporary.
  fs::path locks = root_ / ".majordome" / "locks";
  fs::create_directories(locks);
  std::ofstream(locks / "deadbeef.lock") << "";
  std::ofstream(locks / "deadbeef.pending") << "majordome-write-journal 1\n\"run/bias/orphan.fits\"\n";
  fs::create_directories(root_ / "run" / "bias");
  std::ofstream(root_ / "run" / "bias" / "orphan.fits") << "data";
  std::ofstream(root_ / "run" / "bias" / ".orphan2.fits.tmp-0123456789abcdef") << "partial";
  ASSERT_EQ(datastore_files().size(), 2u);
  {
    auto reader = Butler::open(root_, Access::kReadOnly);  // readers never clean up
    EXPECT_EQ(datastore_files().size(), 2u);
  }
  auto writer = Butler::open(root_, Access::kReadWrite);
  EXPECT_TRUE(datastore_files().empty());
  EXPECT_FALSE(fs::exists(locks / "deadbeef.pending"));
}

TEST_F(ButlerTest, RecoveryNeverRemovesTheRepositoryOwnFiles) {
  make_repo();
  fs::path locks = root_ / ".majordome" / "locks";
  fs::create_directories(locks);
  fs::create_directories(root_.parent_path() / "outside");
  std::ofstream(root_.parent_path() / "outside" / "victim") << "keep";
  // A dead writer whose journal names what it never owned: the repository's own files, paths
  // that leave the root, and one entry holding newlines (one entry, not three lines).
  std::ofstream(locks / "dead1.lock") << "";
  std::ofstream(locks / "dead1.pending")
      << "majordome-write-journal 1\n\"gen3.sqlite3\"\n\"butler.yaml\"\n\"gen3.sqlite3-wal\"\n"
         "\".majordome/locks/dead1.lock\"\n\"../outside/victim\"\n\"/etc/hostname\"\n\"x/../gen3.sqlite3\"\n"
         "\"x\\ngen3.sqlite3\\ny\"\n";
  // An older majordome's plain-line journal is not trusted at all.
  std::ofstream(locks / "dead2.lock") << "";
  std::ofstream(locks / "dead2.pending") << "gen3.sqlite3\nbutler.yaml\n";
  auto writer = Butler::open(root_, Access::kReadWrite);
  EXPECT_TRUE(fs::exists(root_ / "gen3.sqlite3"));
  EXPECT_TRUE(fs::exists(root_ / "butler.yaml"));
  EXPECT_TRUE(fs::exists(root_.parent_path() / "outside" / "victim"));
  EXPECT_TRUE(fs::is_empty(locks));
  writer->registry().register_collection("still/works", CollectionType::kRun);
}

TEST_F(ButlerTest, DbAuthFileMustBePrivate) {
  fs::path auth = write_file("db-auth.yaml", "- url: postgresql://localhost:5432/db\n  username: u\n  password: secret\n");
  ::setenv("LSST_DB_AUTH", auth.c_str(), 1);
  ::chmod(auth.c_str(), 0644);
  try {
    find_db_auth("postgresql://localhost:5432/db");
    FAIL() << "a world-readable credentials file was accepted";
  } catch (const PermissionDeniedError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << "the password leaked into the message";
  }
  ::chmod(auth.c_str(), 0600);
  auto entry = find_db_auth("postgresql://someone@localhost:5432/db");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->username, "u");
  EXPECT_FALSE(find_db_auth("postgresql://otherhost:5432/db"));
  ::unsetenv("LSST_DB_AUTH");
}

}  // namespace
}  // namespace majordome::butler
