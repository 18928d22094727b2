#include "majordome/core/error.hpp"
#include "majordome/datastore/transfer.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
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
  fs::path source(const std::string& name = "raw.fits", const std::string& content = "SIMPLE  = T") {
    fs::path p = outside / name;
    write_file(p, content);
    return p;
  }
  TransferOptions options() const { return TransferOptions{root, Overwrite::kRefuse, {}}; }
};

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st;
}

std::string conflict_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConflictError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConflictError";
  return {};
}

TEST(TransferMode, NamesRoundTrip) {
  for (const char* name : {"auto", "copy", "move", "link", "hardlink", "symlink", "relsymlink", "direct", "split"}) {
    EXPECT_EQ(transfer_mode_name(parse_transfer_mode(name)), name);
  }
  EXPECT_EQ(transfer_mode_name(TransferMode::kNone), "none");
  EXPECT_FALSE(find_transfer_mode("none"));
  EXPECT_EQ(find_transfer_mode("Copy"), TransferMode::kCopy);  // any case, as Rubin reads them
  EXPECT_EQ(find_transfer_mode("DIRECT"), TransferMode::kDirect);
}

TEST(TransferMode, UnknownNameListsValidOnes) {
  try {
    parse_transfer_mode("teleport");
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("'teleport'"), std::string::npos) << message;
    EXPECT_NE(message.find("auto, link, symlink, hardlink, copy, move, relsymlink, direct, split"), std::string::npos)
        << message;
  }
}

TEST(Transfer, CopyCreatesParentsKeepsModeAndLeavesNoTemporary) {
  Repo repo;
  fs::path src = repo.source();
  ::chmod(src.c_str(), 0640);
  auto result = transfer_file(src, "run/raw/20220316/raw.fits", TransferMode::kCopy, repo.options());
  EXPECT_EQ(result.mode, TransferMode::kCopy);
  EXPECT_EQ(result.artifact, repo.root / "run/raw/20220316/raw.fits");
  EXPECT_EQ(result.stored_path, "run/raw/20220316/raw.fits");
  EXPECT_EQ(read_file(result.artifact), "SIMPLE  = T");
  EXPECT_FALSE(fs::is_symlink(result.artifact));
  EXPECT_NE(stat_of(result.artifact).st_ino, stat_of(src).st_ino);
  EXPECT_EQ(stat_of(result.artifact).st_mode & 0777, 0640u);
  EXPECT_TRUE(fs::exists(src));
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

TEST(Transfer, CopyOfALargeFile) {
  Repo repo;
  std::string content(9 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 131) % 251);
  fs::path src = repo.source("big.fits", content);
  auto result = transfer_file(src, "big.fits", TransferMode::kCopy, repo.options());
  EXPECT_EQ(read_file(result.artifact), content);
}

TEST(Transfer, RefusesExistingDestinationUnlessReplacing) {
  Repo repo;
  fs::path src = repo.source();
  write_file(repo.root / "a/raw.fits", "old");
  for (TransferMode mode : {TransferMode::kCopy, TransferMode::kMove, TransferMode::kLink, TransferMode::kHardlink,
                            TransferMode::kSymlink, TransferMode::kRelsymlink}) {
    std::string message = conflict_message([&] { transfer_file(src, "a/raw.fits", mode, repo.options()); });
    EXPECT_NE(message.find((repo.root / "a/raw.fits").string()), std::string::npos) << message;
    EXPECT_EQ(read_file(repo.root / "a/raw.fits"), "old") << transfer_mode_name(mode);
    EXPECT_TRUE(fs::exists(src)) << transfer_mode_name(mode);
  }
  auto options = repo.options();
  options.overwrite = Overwrite::kReplace;
  transfer_file(src, "a/raw.fits", TransferMode::kCopy, options);
  EXPECT_EQ(read_file(repo.root / "a/raw.fits"), "SIMPLE  = T");
  transfer_file(src, "a/raw.fits", TransferMode::kSymlink, options);
  EXPECT_TRUE(fs::is_symlink(repo.root / "a/raw.fits"));
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

TEST(Transfer, DirectoryDestinationIsAConflictEvenWhenReplacing) {
  Repo repo;
  fs::path src = repo.source();
  fs::create_directories(repo.root / "a/raw.fits");
  auto options = repo.options();
  options.overwrite = Overwrite::kReplace;
  EXPECT_THROW(transfer_file(src, "a/raw.fits", TransferMode::kCopy, options), ConflictError);
}

TEST(Transfer, MoveWithinAFilesystemRenames) {
  Repo repo;
  fs::path src = repo.source();
  auto inode = stat_of(src).st_ino;
  auto result = transfer_file(src, "m/raw.fits", TransferMode::kMove, repo.options());
  EXPECT_EQ(result.mode, TransferMode::kMove);
  EXPECT_FALSE(fs::exists(src));
  EXPECT_EQ(stat_of(result.artifact).st_ino, inode);
  EXPECT_EQ(read_file(result.artifact), "SIMPLE  = T");
}

TEST(Transfer, HardlinkAndLinkShareTheInode) {
  Repo repo;
  fs::path src = repo.source();
  auto hard = transfer_file(src, "h/raw.fits", TransferMode::kHardlink, repo.options());
  EXPECT_EQ(hard.mode, TransferMode::kHardlink);
  EXPECT_EQ(stat_of(hard.artifact).st_ino, stat_of(src).st_ino);
  auto link = transfer_file(src, "l/raw.fits", TransferMode::kLink, repo.options());
  EXPECT_EQ(link.mode, TransferMode::kHardlink);
  EXPECT_EQ(stat_of(src).st_nlink, 3u);
  // Transferring again onto the same file is a no-op, not a conflict.
  auto again = transfer_file(src, "h/raw.fits", TransferMode::kHardlink, repo.options());
  EXPECT_EQ(again.mode, TransferMode::kNone);
  EXPECT_EQ(again.stored_path, "h/raw.fits");
}

TEST(Transfer, SymlinkPointsToTheRealSourcePath) {
  Repo repo;
  fs::path real = repo.source("real.fits");
  fs::path alias = repo.outside / "alias.fits";
  fs::create_symlink(real, alias);
  auto result = transfer_file(alias, "s/raw.fits", TransferMode::kSymlink, repo.options());
  EXPECT_EQ(result.mode, TransferMode::kSymlink);
  ASSERT_TRUE(fs::is_symlink(result.artifact));
  fs::path target = fs::read_symlink(result.artifact);
  EXPECT_TRUE(target.is_absolute());
  EXPECT_EQ(target, fs::canonical(real));
  EXPECT_EQ(read_file(result.artifact), "SIMPLE  = T");
}

TEST(Transfer, RelsymlinkSurvivesMovingTheWholeTree) {
  Repo repo;
  fs::path src = repo.source();
  auto result = transfer_file(src, "r/deep/raw.fits", TransferMode::kRelsymlink, repo.options());
  EXPECT_EQ(result.mode, TransferMode::kRelsymlink);
  fs::path target = fs::read_symlink(result.artifact);
  EXPECT_TRUE(target.is_relative()) << target;
  EXPECT_EQ(target, fs::path("../../../incoming/raw.fits"));
  EXPECT_EQ(fs::canonical(result.artifact), fs::canonical(src));

  fs::path moved = repo.tmp.path().string() + "-moved";
  fs::rename(repo.tmp.path(), moved);
  EXPECT_EQ(read_file(moved / "repo/r/deep/raw.fits"), "SIMPLE  = T");
  fs::rename(moved, repo.tmp.path());
}

TEST(Transfer, DirectStoresTheAbsoluteUri) {
  Repo repo;
  fs::path src = repo.source("a b.fits");
  auto result = transfer_file(src, "d/raw.fits", TransferMode::kDirect, repo.options());
  EXPECT_EQ(result.mode, TransferMode::kDirect);
  EXPECT_EQ(result.artifact, src);
  EXPECT_EQ(result.stored_path, "file://" + (repo.outside / "a%20b.fits").string());
  EXPECT_FALSE(fs::exists(repo.root / "d"));
  // Direct needs no root.
  EXPECT_EQ(transfer_file(src, "", TransferMode::kDirect).mode, TransferMode::kDirect);
}

TEST(Transfer, AutoUsesFilesInsideTheRootInPlaceAndCopiesOthers) {
  Repo repo;
  write_file(repo.root / "already/here.fits", "x");
  auto inside = transfer_file(repo.root / "already/here.fits", "t/here.fits", TransferMode::kAuto, repo.options());
  EXPECT_EQ(inside.mode, TransferMode::kNone);
  EXPECT_EQ(inside.stored_path, "already/here.fits");
  EXPECT_FALSE(fs::exists(repo.root / "t"));

  auto outside = transfer_file(repo.source(), "t/raw.fits", TransferMode::kAuto, repo.options());
  EXPECT_EQ(outside.mode, TransferMode::kCopy);
  EXPECT_EQ(outside.stored_path, "t/raw.fits");
  EXPECT_FALSE(fs::is_symlink(outside.artifact));
}

TEST(Transfer, NoneAndSplit) {
  Repo repo;
  write_file(repo.root / "in/place.fits", "x");
  auto none = transfer_file(repo.root / "in/place.fits", "ignored", TransferMode::kNone, repo.options());
  EXPECT_EQ(none.mode, TransferMode::kNone);
  EXPECT_EQ(none.stored_path, "in/place.fits");
  fs::path src = repo.source();
  EXPECT_THROW(transfer_file(src, "x.fits", TransferMode::kNone, repo.options()), InvalidArgumentError);

  auto split_in = transfer_file(repo.root / "in/place.fits", "ignored", TransferMode::kSplit, repo.options());
  EXPECT_EQ(split_in.mode, TransferMode::kNone);
  EXPECT_EQ(split_in.stored_path, "in/place.fits");
  auto split_out = transfer_file(src, "ignored", TransferMode::kSplit, repo.options());
  EXPECT_EQ(split_out.mode, TransferMode::kDirect);
  EXPECT_EQ(split_out.stored_path, file_uri(src));
}

TEST(Transfer, RootThroughASymlinkStillCountsAsInside) {
  Repo repo;
  write_file(repo.root / "in/place.fits", "x");
  fs::path alias = repo.tmp / "alias";
  fs::create_directory_symlink(repo.root, alias);
  auto options = repo.options();
  options.root = alias;
  auto result = transfer_file(repo.root / "in/place.fits", "ignored", TransferMode::kNone, options);
  EXPECT_EQ(result.stored_path, "in/place.fits");
}

TEST(Transfer, ModesNeedingARootRefuseWithoutOne) {
  Repo repo;
  fs::path src = repo.source();
  for (TransferMode mode : {TransferMode::kAuto, TransferMode::kSplit, TransferMode::kNone}) {
    EXPECT_THROW(transfer_file(src, repo.root / "x.fits", mode), InvalidArgumentError) << transfer_mode_name(mode);
  }
  // Other modes work with an absolute destination and report it as a URI.
  auto result = transfer_file(src, repo.root / "x.fits", TransferMode::kCopy);
  EXPECT_EQ(result.stored_path, file_uri(repo.root / "x.fits"));
}

TEST(Transfer, MissingSourceIsNotFoundInEveryMode) {
  Repo repo;
  fs::path missing = repo.outside / "missing.fits";
  for (const char* name : {"auto", "copy", "move", "link", "hardlink", "symlink", "relsymlink", "direct", "split"}) {
    try {
      transfer_file(missing, "x.fits", parse_transfer_mode(name), repo.options());
      ADD_FAILURE() << name << ": expected NotFoundError";
    } catch (const NotFoundError& e) {
      EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
    }
  }
  // A dangling link is a missing source too.
  fs::create_symlink(missing, repo.outside / "dangling.fits");
  EXPECT_THROW(transfer_file(repo.outside / "dangling.fits", "x.fits", TransferMode::kCopy, repo.options()),
               NotFoundError);
}

TEST(Transfer, SourceMustBeARegularFile) {
  Repo repo;
  EXPECT_THROW(transfer_file(repo.outside, "x.fits", TransferMode::kCopy, repo.options()), InvalidArgumentError);
}

// Runs `body` in a child process that, if we are root, first becomes "nobody" (root
// ignores file permissions). Returns what `body` reported as failures.
std::string run_unprivileged(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    ::close(fds[0]);
    std::string failures;
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      failures = "cannot drop root privileges";
    } else {
      failures = body();
    }
    ssize_t written = ::write(fds[1], failures.data(), failures.size());
    ::_exit(written == static_cast<ssize_t>(failures.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out += " (child failed)";
  return out;
}

// "" if `f` throws IoError naming `path` with the reason "Permission denied", else what
// happened instead.
std::string expect_permission_denied(const std::function<void()>& f, const fs::path& path) {
  try {
    f();
  } catch (const IoError& e) {
    std::string message = e.what();
    if (message.find("Permission denied") != std::string::npos && message.find(path.string()) != std::string::npos) {
      return "";
    }
    return "unexpected IoError: " + message + "\n";
  } catch (const std::exception& e) {
    return std::string("unexpected exception: ") + e.what() + "\n";
  }
  return "no exception for " + path.string() + "\n";
}

TEST(Transfer, PermissionErrorsAreIoErrorsWithTheReason) {
  Repo repo;
  fs::path src = repo.source();
  fs::path unreadable = repo.source("unreadable.fits");
  ::chmod(unreadable.c_str(), 0);
  ::chmod(repo.root.c_str(), 0777);  // writable for the unprivileged child too
  fs::create_directories(repo.root / "locked");
  ::chmod((repo.root / "locked").c_str(), 0555);
  std::string failures = run_unprivileged([&] {
    std::string out;
    out += expect_permission_denied(
        [&] { transfer_file(unreadable, "p/raw.fits", TransferMode::kCopy, repo.options()); }, unreadable);
    out += expect_permission_denied(
        [&] { transfer_file(src, "locked/raw.fits", TransferMode::kCopy, repo.options()); },
        repo.root / "locked/raw.fits");
    out += expect_permission_denied(
        [&] { transfer_file(src, "locked/sub/raw.fits", TransferMode::kSymlink, repo.options()); },
        repo.root / "locked/sub");
    return out;
  });
  EXPECT_EQ(failures, "");
  EXPECT_FALSE(fs::exists(repo.root / "locked/raw.fits"));
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

TEST(Transfer, FailureBeforeRenameLeavesNothing) {
  Repo repo;
  fs::path src = repo.source();
  for (TransferMode mode : {TransferMode::kCopy, TransferMode::kHardlink, TransferMode::kSymlink,
                            TransferMode::kRelsymlink}) {
    auto options = repo.options();
    fs::path seen;
    options.before_place = [&](const fs::path& temporary) {
      seen = temporary;
      EXPECT_TRUE(fs::exists(fs::symlink_status(temporary)));
      throw IoError("simulated failure");
    };
    EXPECT_THROW(transfer_file(src, "f/raw.fits", mode, options), IoError);
    EXPECT_FALSE(seen.empty());
    EXPECT_FALSE(fs::exists(fs::symlink_status(repo.root / "f/raw.fits"))) << transfer_mode_name(mode);
    EXPECT_EQ(count_temporaries(repo.root), 0) << transfer_mode_name(mode);
    EXPECT_TRUE(fs::exists(src));
  }
}

TEST(Transfer, CrashBeforeRenameLeavesOnlyATemporaryThatCleanupRemoves) {
  Repo repo;
  fs::path src = repo.source();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto options = repo.options();
    options.before_place = [](const fs::path&) { ::_exit(0); };  // the process dies here
    try {
      transfer_file(src, "c/raw.fits", TransferMode::kCopy, options);
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(repo.root / "c/raw.fits"));
  EXPECT_EQ(count_temporaries(repo.root), 1);
  EXPECT_EQ(cleanup_temporaries(repo.root), 1u);
  EXPECT_EQ(count_temporaries(repo.root), 0);
  // The interrupted transfer can simply be run again.
  EXPECT_EQ(transfer_file(src, "c/raw.fits", TransferMode::kCopy, repo.options()).mode, TransferMode::kCopy);
}

TEST(Transfer, ConcurrentTransfersToOneDestinationHaveOneWinner) {
  Repo repo;
  constexpr int kWriters = 8;
  std::vector<fs::path> sources;
  for (int i = 0; i < kWriters; ++i) sources.push_back(repo.source("s" + std::to_string(i), std::to_string(i)));
  std::atomic<int> successes{0};
  std::atomic<int> conflicts{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      try {
        transfer_file(sources[static_cast<std::size_t>(i)], "race/raw.fits",
                      i % 2 == 0 ? TransferMode::kCopy : TransferMode::kSymlink, repo.options());
        ++successes;
      } catch (const ConflictError&) {
        ++conflicts;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(successes, 1);
  EXPECT_EQ(conflicts, kWriters - 1);
  EXPECT_EQ(read_file(repo.root / "race/raw.fits").size(), 1u);
  EXPECT_EQ(count_temporaries(repo.root), 0);
}

// Cross-filesystem behaviour, when /dev/shm is a different filesystem from the temp dir.
TEST(Transfer, AcrossFilesystems) {
  Repo repo;
  struct stat shm {};
  if (::stat("/dev/shm", &shm) != 0 || ::access("/dev/shm", W_OK) != 0 ||
      shm.st_dev == stat_of(repo.root).st_dev) {
    GTEST_SKIP() << "no second writable filesystem";
  }
  fs::path other = fs::path("/dev/shm") / ("majordome-xfs-" + std::to_string(::getpid()));
  fs::create_directories(other);
  write_file(other / "raw.fits", "far away");

  EXPECT_THROW(transfer_file(other / "raw.fits", "x/hard.fits", TransferMode::kHardlink, repo.options()), IoError);
  auto link = transfer_file(other / "raw.fits", "x/link.fits", TransferMode::kLink, repo.options());
  EXPECT_EQ(link.mode, TransferMode::kSymlink);
  EXPECT_TRUE(fs::is_symlink(link.artifact));
  auto moved = transfer_file(other / "raw.fits", "x/moved.fits", TransferMode::kMove, repo.options());
  EXPECT_EQ(moved.mode, TransferMode::kMove);
  EXPECT_EQ(read_file(moved.artifact), "far away");
  EXPECT_FALSE(fs::exists(other / "raw.fits"));
  EXPECT_EQ(count_temporaries(repo.root), 0);
  fs::remove_all(other);
}

TEST(FileUri, RoundTrip) {
  EXPECT_EQ(file_uri("/data/a b%c/é.fits"), "file:///data/a%20b%25c/%C3%A9.fits");
  EXPECT_EQ(path_from_file_uri("file:///data/a%20b%25c/%C3%A9.fits"), fs::path("/data/a b%c/é.fits"));
  EXPECT_EQ(path_from_file_uri("file://localhost/data/x.fits"), fs::path("/data/x.fits"));
  EXPECT_EQ(file_uri("/data/./x/../y.fits"), "file:///data/y.fits");
  EXPECT_THROW(path_from_file_uri("s3://bucket/x.fits"), InvalidArgumentError);
  EXPECT_THROW(path_from_file_uri("file://host/x.fits"), InvalidArgumentError);
  EXPECT_THROW(path_from_file_uri("file:///x%2"), InvalidArgumentError);
  EXPECT_THROW(path_from_file_uri("file:///x%zz"), InvalidArgumentError);
}

}  // namespace
}  // namespace majordome::datastore
