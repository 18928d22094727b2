// RepositoryFiles (private to the butler): the folder cache that ingest and import use must
// give exactly the answers of the uncached check, whatever links lead to the protected files.
#include "repository_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace majordome::butler {
namespace {

namespace fs = std::filesystem;

TEST(RepositoryFiles, FolderCacheGivesTheUncachedAnswers) {
  const fs::path tmp = fs::temp_directory_path() /
                       ("majordome-repofiles-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  const fs::path repo = tmp / "repo";
  fs::create_directories(repo / ".majordome/locks");
  fs::create_directories(tmp / "incoming/sub");
  for (const auto& p : {repo / "butler.yaml", repo / "gen3.sqlite3", repo / "gen3.sqlite3-wal",
                        repo / ".majordome/locks/a.lock", tmp / "incoming/raw.fits", tmp / "incoming/sub/raw2.fits"})
    std::ofstream(p) << "x";
  fs::create_symlink(repo / "gen3.sqlite3", tmp / "incoming/db-link.fits");        // a link to the registry
  fs::create_hard_link(repo / "butler.yaml", tmp / "incoming/hard.fits");         // another name for it
  fs::create_directory_symlink(repo / ".majordome", tmp / "incoming/private");    // a folder into .majordome
  fs::create_directory_symlink(repo, tmp / "incoming/repo-link");                 // a folder that is the repo
  fs::create_symlink(tmp / "incoming/raw.fits", tmp / "incoming/sub/plain-link.fits");
  const RepositoryFiles files(repo, repo / "gen3.sqlite3");
  const std::vector<fs::path> paths{
      repo / "butler.yaml",
      repo / "gen3.sqlite3-journal",  // absent: by name
      tmp / "incoming/raw.fits",
      tmp / "incoming/sub/raw2.fits",
      tmp / "incoming/db-link.fits",
      tmp / "incoming/hard.fits",
      tmp / "incoming/private/locks/a.lock",
      tmp / "incoming/private/locks/absent",
      tmp / "incoming/repo-link/gen3.sqlite3-wal",
      tmp / "incoming/repo-link/run/new.fits",
      tmp / "incoming/sub/plain-link.fits",
      tmp / "incoming/../repo/butler.yaml",
      tmp / "missing-folder/x.fits",
  };
  RepositoryFiles::FolderCache shared;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass answers from the filled cache
    for (const auto& p : paths) {
      RepositoryFiles::FolderCache fresh;
      const auto expected = files.identify(p);
      EXPECT_EQ(files.identify(p, &fresh), expected) << p;
      EXPECT_EQ(files.identify(p, &shared), expected) << p;
    }
  }
  EXPECT_TRUE(files.identify(tmp / "incoming/db-link.fits", &shared).has_value());
  EXPECT_TRUE(files.identify(tmp / "incoming/hard.fits", &shared).has_value());
  EXPECT_TRUE(files.identify(tmp / "incoming/private/locks/a.lock", &shared).has_value());
  EXPECT_FALSE(files.identify(tmp / "incoming/sub/plain-link.fits", &shared).has_value());
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

}  // namespace
}  // namespace majordome::butler
