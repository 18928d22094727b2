#include "majordome/core/error.hpp"
#include "majordome/datastore/placement_batch.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace majordome::datastore {
namespace {

namespace fs = std::filesystem;
using testing::count_temporaries;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

struct Repo {
  TempDir tmp;
  fs::path root = tmp / "repo";
  fs::path outside = tmp / "incoming";
  Repo() {
    fs::create_directories(root);
    fs::create_directories(outside);
  }
  fs::path source(const std::string& name, const std::string& content) {
    fs::path p = outside / name;
    write_file(p, content);
    return p;
  }
  TransferOptions options() const { return TransferOptions{root, Overwrite::kRefuse, {}}; }
};

bool exists_at_all(const fs::path& p) { return fs::exists(fs::symlink_status(p)); }

// Regular files and links under `dir` (temporaries included).
int count_entries(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory() || e.is_symlink()) ++n;
  return n;
}

TEST(PlacementBatch, NothingAppearsBeforePlaceThenEverything) {
  Repo repo;
  PlacementBatch batch(repo.options());
  std::vector<TransferResult> results;
  for (int i = 0; i < 20; ++i) {
    fs::path src = repo.source("s" + std::to_string(i) + ".fits", "content " + std::to_string(i));
    results.push_back(batch.add(src, "run/raw/" + std::to_string(i % 3) + "/r" + std::to_string(i) + ".fits",
                                TransferMode::kCopy));
  }
  batch.add_bytes("run/meta/m.json", "{}");
  EXPECT_EQ(batch.size(), 21u);
  for (const auto& r : results) {
    EXPECT_EQ(r.mode, TransferMode::kCopy);
    EXPECT_FALSE(exists_at_all(r.artifact)) << r.artifact;
  }
  EXPECT_EQ(count_temporaries(repo.root), 21);
  batch.place();
  EXPECT_EQ(count_temporaries(repo.root), 0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(read_file(results[static_cast<std::size_t>(i)].artifact), "content " + std::to_string(i));
    EXPECT_EQ(results[static_cast<std::size_t>(i)].stored_path,
              "run/raw/" + std::to_string(i % 3) + "/r" + std::to_string(i) + ".fits");
  }
  EXPECT_EQ(read_file(repo.root / "run/meta/m.json"), "{}");
}

TEST(PlacementBatch, ResultsAsTransferFileForEveryMode) {
  Repo repo;
  fs::path src = repo.source("raw.fits", "SIMPLE");
  ::chmod(src.c_str(), 0640);
  fs::path inside = repo.root / "already/there.fits";
  write_file(inside, "in place");
  PlacementBatch batch(repo.options());
  auto copy = batch.add(src, "m/copy.fits", TransferMode::kCopy);
  auto hard = batch.add(src, "m/hard.fits", TransferMode::kHardlink);
  auto link = batch.add(src, "m/link.fits", TransferMode::kLink);
  auto sym = batch.add(src, "m/sym.fits", TransferMode::kSymlink);
  auto rel = batch.add(src, "m/rel.fits", TransferMode::kRelsymlink);
  auto direct = batch.add(src, "m/direct.fits", TransferMode::kDirect);
  auto in_place = batch.add(inside, "m/auto.fits", TransferMode::kAuto);
  EXPECT_EQ(batch.size(), 5u);  // direct and in-place modes stage nothing
  EXPECT_EQ(direct.mode, TransferMode::kDirect);
  EXPECT_EQ(direct.stored_path, file_uri(src));
  EXPECT_EQ(in_place.mode, TransferMode::kNone);
  EXPECT_EQ(in_place.stored_path, "already/there.fits");
  batch.place();
  EXPECT_EQ(copy.mode, TransferMode::kCopy);
  EXPECT_EQ(read_file(copy.artifact), "SIMPLE");
  struct stat st {};
  ASSERT_EQ(::stat(copy.artifact.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);  // the copy keeps the source's mode
  EXPECT_EQ(hard.mode, TransferMode::kHardlink);
  EXPECT_TRUE(fs::equivalent(hard.artifact, src));
  EXPECT_EQ(link.mode, TransferMode::kHardlink);
  EXPECT_EQ(sym.mode, TransferMode::kSymlink);
  EXPECT_EQ(fs::read_symlink(sym.artifact), fs::canonical(src));
  EXPECT_EQ(rel.mode, TransferMode::kRelsymlink);
  EXPECT_TRUE(fs::read_symlink(rel.artifact).is_relative());
  EXPECT_EQ(read_file(rel.artifact), "SIMPLE");
  EXPECT_EQ(count_temporaries(repo.root), 0);
  // The size the datastore record needs, without reading the file again.
  for (const auto* r : {&copy, &hard, &link, &sym, &rel, &direct})
    EXPECT_EQ(r->size_bytes, 6) << transfer_mode_name(r->mode);
  EXPECT_EQ(in_place.size_bytes, 8);
}

TEST(PlacementBatch, MoveIsRefusedAndLeavesTheSource) {
  Repo repo;
  fs::path src = repo.source("raw.fits", "x");
  PlacementBatch batch(repo.options());
  EXPECT_THROW(batch.add(src, "m/raw.fits", TransferMode::kMove), InvalidArgumentError);
  EXPECT_TRUE(fs::exists(src));
  EXPECT_EQ(batch.size(), 0u);
}

TEST(PlacementBatch, ExistingOrRepeatedDestinationsAreConflicts) {
  Repo repo;
  fs::path a = repo.source("a.fits", "a");
  fs::path b = repo.source("b.fits", "b");
  write_file(repo.root / "m/taken.fits", "someone else's");
  PlacementBatch batch(repo.options());
  EXPECT_THROW(batch.add(a, "m/taken.fits", TransferMode::kCopy), ConflictError);
  batch.add(a, "m/one.fits", TransferMode::kCopy);
  EXPECT_THROW(batch.add(b, "m/one.fits", TransferMode::kSymlink), ConflictError);
  EXPECT_THROW(batch.add_bytes("m/one.fits", "b"), ConflictError);
  EXPECT_EQ(batch.size(), 1u);
  batch.place();
  EXPECT_EQ(read_file(repo.root / "m/one.fits"), "a");
  EXPECT_EQ(read_file(repo.root / "m/taken.fits"), "someone else's");
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

// A write that fails in the middle of the batch (a source that is missing, unreadable or
// not a file): the batch that is then abandoned leaves no file at any final name and no
// temporary, only the directories it made.
TEST(PlacementBatch, AFailedAddThenAbandoningLeavesNothing) {
  Repo repo;
  fs::path good = repo.source("good.fits", "good");
  fs::path unreadable = repo.source("unreadable.fits", "secret");
  ::chmod(unreadable.c_str(), 0);
  const bool root_reads_anyway = ::access(unreadable.c_str(), R_OK) == 0;
  {
    PlacementBatch batch(repo.options());
    batch.add(good, "run/a/1.fits", TransferMode::kCopy);
    batch.add(good, "run/a/2.fits", TransferMode::kSymlink);
    batch.add_bytes("run/b/3.json", "{}");
    EXPECT_THROW(batch.add(repo.outside / "missing.fits", "run/c/4.fits", TransferMode::kCopy), NotFoundError);
    EXPECT_THROW(batch.add(repo.outside, "run/c/5.fits", TransferMode::kCopy), InvalidArgumentError);
    if (!root_reads_anyway) {
      EXPECT_THROW(batch.add(unreadable, "run/c/6.fits", TransferMode::kCopy), IoError);
    }
    EXPECT_EQ(batch.size(), 3u);
    EXPECT_EQ(count_temporaries(repo.root), 3);  // the failed adds left none of their own
  }  // abandoned: the caller's error propagates past the batch
  EXPECT_EQ(count_entries(repo.root), 0);
  EXPECT_TRUE(fs::exists(good));
}

// A write that fails during place(), after some files were already renamed into place:
// those are taken back, the rest of the temporaries removed.
TEST(PlacementBatch, AFailureDuringPlaceTakesBackWhatWasPlaced) {
  Repo repo;
  auto options = repo.options();
  int calls = 0;
  options.before_place = [&](const fs::path& temporary) {
    EXPECT_TRUE(exists_at_all(temporary));
    if (++calls == 3) throw IoError("simulated failure");
  };
  PlacementBatch batch(options);
  std::vector<TransferResult> results;
  for (int i = 0; i < 5; ++i) {
    fs::path src = repo.source("s" + std::to_string(i), std::to_string(i));
    results.push_back(batch.add(src, "run/f" + std::to_string(i), i % 2 ? TransferMode::kHardlink : TransferMode::kCopy));
  }
  EXPECT_THROW(batch.place(), IoError);
  EXPECT_EQ(calls, 3);
  for (const auto& r : results) EXPECT_FALSE(exists_at_all(r.artifact)) << r.artifact;
  EXPECT_EQ(count_entries(repo.root), 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(read_file(repo.outside / ("s" + std::to_string(i))), std::to_string(i));
}

// A destination that another writer created after add(): place() reports the conflict,
// keeps the other writer's file and takes back its own.
TEST(PlacementBatch, AConflictAtRenameKeepsTheOtherWritersFile) {
  Repo repo;
  PlacementBatch batch(repo.options());
  batch.add(repo.source("a", "mine a"), "run/a", TransferMode::kCopy);
  batch.add(repo.source("b", "mine b"), "run/b", TransferMode::kCopy);
  batch.add(repo.source("c", "mine c"), "run/c", TransferMode::kCopy);
  write_file(repo.root / "run/b", "theirs");
  try {
    batch.place();
    FAIL() << "expected ConflictError";
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find((repo.root / "run/b").string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(repo.root / "run/a"));
  EXPECT_EQ(read_file(repo.root / "run/b"), "theirs");
  EXPECT_FALSE(fs::exists(repo.root / "run/c"));
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

// The syncs and renames come in phases: when the first rename happens, every temporary
// exists complete; a process that dies there leaves only temporaries (which the write
// journal's recovery and cleanup_temporaries remove), never a partial destination.
TEST(PlacementBatch, CrashBeforeTheRenamesLeavesOnlyTemporaries) {
  Repo repo;
  std::vector<fs::path> sources;
  for (int i = 0; i < 4; ++i) sources.push_back(repo.source("s" + std::to_string(i), std::string(100000, 'a' + i)));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto options = repo.options();
    options.before_place = [](const fs::path&) { ::_exit(0); };
    try {
      PlacementBatch batch(options);
      for (int i = 0; i < 4; ++i) batch.add(sources[static_cast<std::size_t>(i)], "c/" + std::to_string(i), TransferMode::kCopy);
      batch.place();
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(count_temporaries(repo.root), 4);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(fs::exists(repo.root / "c" / std::to_string(i)));
  EXPECT_EQ(cleanup_temporaries(repo.root), 4u);
  EXPECT_EQ(count_entries(repo.root), 0);
}

TEST(PlacementBatch, EmptyBatchAndUseAfterPlace) {
  Repo repo;
  PlacementBatch empty(repo.options());
  empty.place();
  PlacementBatch batch(repo.options());
  batch.add(repo.source("a", "a"), "x/a", TransferMode::kCopy);
  batch.place();
  EXPECT_THROW(batch.add(repo.source("b", "b"), "x/b", TransferMode::kCopy), InternalError);
  EXPECT_THROW(batch.place(), InternalError);
  EXPECT_EQ(read_file(repo.root / "x/a"), "a");
  EXPECT_FALSE(fs::exists(repo.root / "x/b"));
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

// Many files in many directories: every file arrives, the syncs run several at a time.
TEST(PlacementBatch, ManyFilesInManyDirectories) {
  Repo repo;
  PlacementBatch batch(repo.options());
  fs::path src = repo.source("s", "payload");
  for (int i = 0; i < 300; ++i)
    batch.add(src, "run/d" + std::to_string(i % 37) + "/sub/f" + std::to_string(i), i % 3 ? TransferMode::kCopy
                                                                                          : TransferMode::kSymlink);
  batch.place();
  for (int i = 0; i < 300; ++i)
    EXPECT_EQ(read_file(repo.root / ("run/d" + std::to_string(i % 37)) / "sub" / ("f" + std::to_string(i))), "payload");
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

}  // namespace
}  // namespace majordome::datastore
