#include "majordome/core/error.hpp"
#include "majordome/datastore/atomic_file.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

namespace majordome::datastore {
namespace {

namespace fs = std::filesystem;
using testing::count_temporaries;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

TEST(AtomicWrite, CreatesParentsAndRefusesToOverwrite) {
  TempDir tmp;
  fs::path path = tmp / "run/metadata/task_metadata.json";
  atomic_write(path, "{\"a\": 1}");
  EXPECT_EQ(read_file(path), "{\"a\": 1}");
  try {
    atomic_write(path, "{}");
    FAIL() << "expected ConflictError";
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(path), "{\"a\": 1}");
  atomic_write(path, "{}", {.overwrite = Overwrite::kReplace});
  EXPECT_EQ(read_file(path), "{}");
  atomic_write(tmp / "empty", "");
  EXPECT_EQ(fs::file_size(tmp / "empty"), 0u);
  EXPECT_EQ(count_temporaries(tmp.path()), 0);
}

TEST(AtomicWrite, FailureBeforeRenameLeavesNothing) {
  TempDir tmp;
  WriteOptions options;
  options.before_place = [](const fs::path& temporary) {
    EXPECT_EQ(read_file(temporary), "payload");
    throw IoError("simulated failure");
  };
  EXPECT_THROW(atomic_write(tmp / "a/b.yaml", "payload", options), IoError);
  EXPECT_FALSE(fs::exists(tmp / "a/b.yaml"));
  EXPECT_EQ(count_temporaries(tmp.path()), 0);
}

TEST(AtomicWrite, CrashBeforeRenameLeavesOnlyATemporary) {
  TempDir tmp;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    WriteOptions options;
    options.before_place = [](const fs::path&) { ::_exit(0); };
    try {
      atomic_write(tmp / "a/b.yaml", "payload", options);
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(fs::exists(tmp / "a/b.yaml"));
  EXPECT_EQ(count_temporaries(tmp.path()), 1);
  // A recent temporary is kept when a minimum age is asked for (a writer may be busy).
  EXPECT_EQ(cleanup_temporaries(tmp.path(), std::chrono::hours(1)), 0u);
  EXPECT_EQ(cleanup_temporaries(tmp.path()), 1u);
  EXPECT_EQ(count_temporaries(tmp.path()), 0);
}

TEST(AtomicFile, WriterUsesThePath) {
  TempDir tmp;
  fs::path dest = tmp / "run/calexp/c.fits";
  {
    AtomicFile file(dest);
    EXPECT_EQ(file.destination(), dest);
    EXPECT_EQ(file.temporary_path().parent_path(), dest.parent_path());
    EXPECT_TRUE(is_temporary_name(file.temporary_path().filename().string()));
    std::ofstream(file.temporary_path(), std::ios::binary) << "SIMPLE";
    EXPECT_FALSE(fs::exists(dest));
    file.commit();
  }
  EXPECT_EQ(read_file(dest), "SIMPLE");
  EXPECT_EQ(count_temporaries(tmp.path()), 0);
}

TEST(AtomicFile, AbandonedWriteIsRemoved) {
  TempDir tmp;
  fs::path dest = tmp / "c.fits";
  fs::path temporary;
  {
    AtomicFile file(dest);
    temporary = file.temporary_path();
    std::ofstream(temporary) << "partial";
  }
  EXPECT_FALSE(fs::exists(temporary));
  EXPECT_FALSE(fs::exists(dest));
}

TEST(AtomicFile, CommitWithoutWritingIsAnError) {
  TempDir tmp;
  AtomicFile file(tmp / "c.fits");
  EXPECT_THROW(file.commit(), IoError);
  EXPECT_FALSE(fs::exists(tmp / "c.fits"));
}

TEST(AtomicFile, LongNamesGiveValidTemporaryNames) {
  TempDir tmp;
  std::string name(250, 'x');
  atomic_write(tmp / name, "ok");
  EXPECT_EQ(read_file(tmp / name), "ok");
}

TEST(Temporaries, NamesAndCleanupScope) {
  EXPECT_TRUE(is_temporary_name(".calexp.fits.tmp-0123456789abcdef"));
  EXPECT_FALSE(is_temporary_name("calexp.fits.tmp-0123456789abcdef"));   // no leading dot
  EXPECT_FALSE(is_temporary_name(".calexp.fits.tmp-0123456789ABCDEF"));  // not our hex
  EXPECT_FALSE(is_temporary_name(".calexp.fits.tmp-0123"));
  EXPECT_FALSE(is_temporary_name(".tmp-0123456789abcdef"));
  EXPECT_FALSE(is_temporary_name(".hidden"));

  TempDir tmp;
  write_file(tmp / "a/.x.fits.tmp-0123456789abcdef", "t");
  write_file(tmp / "a/b/.y.tmp-fedcba9876543210", "t");
  write_file(tmp / "a/.hidden", "keep");
  write_file(tmp / "a/x.fits", "keep");
  write_file(tmp / "a/x.tmp-0123456789abcdef", "keep");
  EXPECT_EQ(cleanup_temporaries(tmp.path()), 2u);
  EXPECT_TRUE(fs::exists(tmp / "a/.hidden"));
  EXPECT_TRUE(fs::exists(tmp / "a/x.fits"));
  EXPECT_TRUE(fs::exists(tmp / "a/x.tmp-0123456789abcdef"));
  EXPECT_EQ(cleanup_temporaries(tmp / "does-not-exist"), 0u);
}

TEST(Temporaries, CleanupDoesNotFollowDirectoryLinks) {
  TempDir tmp;
  write_file(tmp / "elsewhere/.x.tmp-0123456789abcdef", "t");
  fs::create_directories(tmp / "root");
  fs::create_directory_symlink(tmp / "elsewhere", tmp / "root/link");
  EXPECT_EQ(cleanup_temporaries(tmp / "root"), 0u);
  EXPECT_TRUE(fs::exists(tmp / "elsewhere/.x.tmp-0123456789abcdef"));
}

}  // namespace
}  // namespace majordome::datastore
