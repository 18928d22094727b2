#include "majordome/core/error.hpp"
#include "majordome/datastore/datastore_path.hpp"
#include "majordome/datastore/transfer.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace majordome::datastore {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

TEST(DatastorePath, PlainPathsInsideTheRootAreAccepted) {
  for (const char* p : {"run/raw/r.fits", "u/jdoe/x/calexp/20250101/c_HSC.fits", "a b/é/...e", "..x/y..",
                        "refcats/gaia/htm7_131072.parq", ".hidden/x", "x/.majordome"})
    EXPECT_EQ(datastore_path_problem(p), std::nullopt) << p;
}

TEST(DatastorePath, EscapesPrivateFilesAndControlCharactersAreRefused) {
  for (const char* p : {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "./a", "a//b", "a/", ".", "..",
                        ".majordome/locks/t.lock", ".majordome", "a\nb", "x\ngen3.sqlite3\ny", "a\tb", "a\x7f",
                        "a\xc2\x85" "b"})
    EXPECT_NE(datastore_path_problem(p), std::nullopt) << printable(p);
}

TEST(ResolveSource, RelativePathsStayInsideTheirFolder) {
  TempDir tmp;
  fs::path folder = tmp / "folder";
  write_file(folder / "sub" / "a.fits", "x");
  EXPECT_EQ(resolve_source("sub/a.fits", folder), folder / "sub" / "a.fits");
  EXPECT_EQ(resolve_source("sub/../sub/a.fits", folder), folder / "sub" / "a.fits");
  for (const char* p : {"../x", "sub/../../x", "./../x", "sub/../../folder/../x", ".."}) {
    try {
      resolve_source(p, folder);
      ADD_FAILURE() << p << " was accepted";
    } catch (const InvalidArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find("leaves the folder"), std::string::npos) << e.what();
    }
  }
}

TEST(ResolveSource, AbsolutePathsAndFileUrisAreTakenAsGivenButMoveTakesOnlyFromInside) {
  TempDir tmp;
  fs::path folder = tmp / "folder";
  fs::path outside = tmp / "outside.fits";
  write_file(folder / "in.fits", "x");
  write_file(outside, "y");
  fs::create_symlink(outside, folder / "link.fits");
  EXPECT_EQ(resolve_source(outside.string(), folder), outside);
  EXPECT_EQ(resolve_source(file_uri(outside), folder), outside);
  EXPECT_EQ(resolve_source("link.fits", folder), folder / "link.fits");
  EXPECT_NO_THROW(check_move_source(folder / "in.fits", folder));
  EXPECT_NO_THROW(check_move_source(folder / "sub" / ".." / "in.fits", folder));
  for (const fs::path& p : {outside, folder / "link.fits", folder / ".." / "outside.fits"})
    EXPECT_THROW(check_move_source(p, folder), InvalidArgumentError) << p;
  EXPECT_THROW(resolve_source("https://example.org/a.fits", folder), InvalidArgumentError);
}

}  // namespace
}  // namespace majordome::datastore
