#include "majordome/butler/db_auth.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "majordome/core/error.hpp"

namespace majordome::butler {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "Zq7secretXv";

class DbAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("majordome-db-auth-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    file_ = dir_ / "db-auth.yaml";
    ::setenv("LSST_DB_AUTH", file_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("LSST_DB_AUTH");
    fs::remove_all(dir_);
  }

  void write(const std::string& content) {
    std::ofstream(file_) << content;
    ::chmod(file_.c_str(), 0600);
  }

  // The message of the error find_db_auth() throws, checked to name the file and not to
  // show the secret.
  template <typename E>
  std::string error_of(const std::string& url = "postgresql://db.example.org:5432/lsst") {
    try {
      find_db_auth(url);
    } catch (const E& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(file_.string()), std::string::npos) << message;
      EXPECT_EQ(message.find(kSecret), std::string::npos) << "the password leaked: " << message;
      return message;
    }
    ADD_FAILURE() << "no error";
    return {};
  }

  fs::path dir_, file_;
};

TEST_F(DbAuthTest, MatchesByHostPortAndDatabase) {
  write("- url: postgresql://other.example.org/lsst\n  username: nobody\n  password: wrong\n"
        "- url: postgresql://db.example.org:5432/lsst\n  username: alice\n  password: right\n"
        "- url: postgresql://db.example.org/*\n  password: any-database\n");
  auto entry = find_db_auth("postgresql://db.example.org:5432/lsst");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->username, "alice");
  EXPECT_EQ(entry->password, "right");
  // The user in the URL (even one holding '@') and its query string do not take part.
  entry = find_db_auth("postgresql://bob@corp@db.example.org:5432/lsst?sslmode=require");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->password, "right");
  entry = find_db_auth("postgresql://db.example.org/other");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->password, "any-database");
  EXPECT_EQ(entry->username, "");
  EXPECT_FALSE(find_db_auth("postgresql://unknown.example.org/lsst"));
}

TEST_F(DbAuthTest, AMissingFileIsNoCredentials) {
  EXPECT_FALSE(find_db_auth("postgresql://db.example.org/lsst"));
}

TEST_F(DbAuthTest, ADirectoryIsAConfigurationError) {
  fs::create_directories(file_);
  fs::permissions(file_, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  auto message = error_of<InvalidConfigError>();
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
  EXPECT_NE(message.find("LSST_DB_AUTH"), std::string::npos) << message;
  EXPECT_EQ(message.find("chmod"), std::string::npos) << "chmod 600 does not fix a directory: " << message;
}

TEST_F(DbAuthTest, FieldsThatAreNotStringsAreConfigurationErrors) {
  struct Case {
    std::string content, words;
  };
  const std::string url = "- url: postgresql://db.example.org:5432/lsst\n";
  const std::vector<Case> cases{
      {url + "  username: alice\n  password: [" + kSecret + ", b]\n", "entry 1 (line 3) has a password that is a list"},
      {url + "  username: alice\n  password: {" + kSecret + ": b}\n", "has a password that is a mapping"},
      {url + "  username: alice\n  password:\n", "has a password that is empty"},
      {url + "  username: [alice]\n  password: " + kSecret + "\n", "has a username that is a list"},
      {"- url: {host: db}\n  password: " + std::string(kSecret) + "\n", "has a url that is a mapping"},
      {url + "  password: x\n- username: alice\n  password: " + kSecret + "\n", "entry 2 (line 3) has no url"},
      {"- " + std::string(kSecret) + "\n", "entry 1 (line 1) is a scalar, not a mapping"},
      {"url: x\npassword: " + std::string(kSecret) + "\n", "is a mapping; it must be a YAML list"},
      {"", "is empty; it must be a YAML list"},
  };
  for (const auto& c : cases) {
    write(c.content);
    auto message = error_of<InvalidConfigError>();
    EXPECT_NE(message.find(c.words), std::string::npos) << c.content << "\n→ " << message;
  }
}

TEST_F(DbAuthTest, AnEntryAfterTheMatchIsCheckedToo) {
  write("- url: postgresql://db.example.org:5432/lsst\n  password: right\n"
        "- url: postgresql://other/db\n  password: [" + std::string(kSecret) + "]\n");
  error_of<InvalidConfigError>();
}

TEST_F(DbAuthTest, UnreadableFileIsPermissionDenied) {
  write("- url: postgresql://db.example.org/lsst\n  password: x\n");
  ::chmod(file_.c_str(), 0);
  if (::geteuid() != 0) {
    auto message = error_of<PermissionDeniedError>();
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
    return;
  }
  // Root reads files whatever their mode: check as `nobody`, in a child process.
  ASSERT_EQ(::chown(file_.c_str(), 65534, 65534), 0);
  ::chmod(dir_.c_str(), 0755);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 3;
    if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
      try {
        find_db_auth("postgresql://db.example.org:5432/lsst");
        code = 1;
      } catch (const PermissionDeniedError& e) {
        code = std::string(e.what()).find("chmod 600") != std::string::npos ? 0 : 2;
      } catch (...) {
        code = 4;
      }
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error, 2: no chmod hint, 3: could not become nobody, 4: another error";
}

}  // namespace
}  // namespace majordome::butler
