#include "majordome/core/error.hpp"
#include "majordome/datastore/remove_artifact.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace majordome::datastore {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

TEST(RemoveArtifact, RemovesFileAndEmptyParentsButNotTheRoot) {
  TempDir tmp;
  fs::path root = tmp / "repo";
  write_file(root / "run/calexp/20130617/c.fits", "x");
  write_file(root / "run/raw/r.fits", "x");
  EXPECT_TRUE(remove_artifact(root / "run/calexp/20130617/c.fits", root));
  EXPECT_FALSE(fs::exists(root / "run/calexp"));
  EXPECT_TRUE(fs::exists(root / "run/raw/r.fits"));
  EXPECT_TRUE(remove_artifact(root / "run/raw/r.fits", root));
  EXPECT_FALSE(fs::exists(root / "run"));
  EXPECT_TRUE(fs::is_directory(root));
}

TEST(RemoveArtifact, IsIdempotentAndFinishesInterruptedPruning) {
  TempDir tmp;
  fs::path root = tmp / "repo";
  fs::create_directories(root / "run/a/b");  // the file went, the prune did not happen
  EXPECT_FALSE(remove_artifact(root / "run/a/b/c.fits", root));
  EXPECT_FALSE(fs::exists(root / "run"));
  EXPECT_FALSE(remove_artifact(root / "run/a/b/c.fits", root));
  EXPECT_FALSE(remove_artifact(root / "never/there.fits", root));
}

TEST(RemoveArtifact, RemovesLinksNotTheirTargets) {
  TempDir tmp;
  fs::path root = tmp / "repo";
  write_file(tmp / "outside/raw.fits", "keep");
  fs::create_directories(root / "run");
  fs::create_symlink(tmp / "outside/raw.fits", root / "run/raw.fits");
  EXPECT_TRUE(remove_artifact(root / "run/raw.fits", root));
  EXPECT_TRUE(fs::exists(tmp / "outside/raw.fits"));
  EXPECT_FALSE(fs::exists(root / "run"));
}

TEST(RemoveArtifact, RefusesPathsOutsideTheRoot) {
  TempDir tmp;
  fs::path root = tmp / "repo";
  write_file(tmp / "other/f.fits", "keep");
  fs::create_directories(root);
  EXPECT_THROW(remove_artifact(tmp / "other/f.fits", root), InvalidArgumentError);
  EXPECT_THROW(remove_artifact(root / "../other/f.fits", root), InvalidArgumentError);
  EXPECT_THROW(remove_artifact(root, root), InvalidArgumentError);
  EXPECT_TRUE(fs::exists(tmp / "other/f.fits"));
}

TEST(RemoveArtifact, DirectoryIsAnIoError) {
  TempDir tmp;
  fs::path root = tmp / "repo";
  fs::create_directories(root / "run/dir");
  EXPECT_THROW(remove_artifact(root / "run/dir", root), IoError);
}

}  // namespace
}  // namespace majordome::datastore
