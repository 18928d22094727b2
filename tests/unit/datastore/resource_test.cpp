// The resource seam: URI parsing, and every remote operation against the real WebDAV server
// that make test starts (scripts/webdav-test-server; MAJORDOME_TEST_WEBDAV_URL/_DIR).
#include "majordome/datastore/resource.hpp"

#include "majordome/core/error.hpp"
#include "majordome/datastore/io_faults.hpp"
#include "majordome/datastore/webdav.hpp"
#include "temp_dir.hpp"
#include "webdav_test_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include <fmt/format.h>

namespace majordome::datastore {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ResourcePathTest, ParsesRemoteUrisAndKeepsTheirPathDecoded) {
  const auto p = ResourcePath::parse("davs://Host.example:8443/butler/ccms1/a%20b.fits");
  EXPECT_EQ(p.scheme(), Scheme::kDavs);
  EXPECT_TRUE(p.is_remote());
  EXPECT_EQ(p.authority(), "host.example:8443");
  EXPECT_EQ(p.path(), "/butler/ccms1/a b.fits");
  EXPECT_EQ(p.uri(), "davs://host.example:8443/butler/ccms1/a%20b.fits");
  EXPECT_EQ(p.http_url(), "https://host.example:8443/butler/ccms1/a%20b.fits");
  EXPECT_EQ(ResourcePath::parse("dav://h/x").http_url(), "http://h/x");
  EXPECT_EQ(p.name(), "a b.fits");
  EXPECT_EQ(p.parent().uri(), "davs://host.example:8443/butler/ccms1/");
  EXPECT_EQ(ResourcePath::parse("davs://h").path(), "/");
  EXPECT_EQ(ResourcePath::parse("davs://H:443/x"), ResourcePath::parse("davs://h/x"));  // one spelling per place
  EXPECT_EQ(ResourcePath::parse("dav://h:80/x").uri(), "dav://h/x");
  EXPECT_EQ(ResourcePath::parse("dav://h:443/x").uri(), "dav://h:443/x");
  EXPECT_EQ(ResourcePath::parse("davs://h/a/./b/../c/").path(), "/a/c/");
}

TEST(ResourcePathTest, JoinsAndRelatesPaths) {
  const auto root = ResourcePath::parse("davs://h/repo");
  EXPECT_EQ(root.join("run/raw/x.fits").uri(), "davs://h/repo/run/raw/x.fits");
  EXPECT_EQ(root.join("run/raw/x.fits").relative_to(root), "run/raw/x.fits");
  EXPECT_EQ(ResourcePath::parse("davs://h/repository/x").relative_to(root), std::nullopt);  // not a prefix of segments
  EXPECT_EQ(ResourcePath::parse("davs://other/repo/x").relative_to(root), std::nullopt);
  EXPECT_EQ(ResourcePath::parse("dav://h/repo/x").relative_to(root), std::nullopt);
  EXPECT_EQ(root.join("../../etc").path(), "/etc");  // lexical, never above the server's root
}

TEST(ResourcePathTest, TakesPlainPathsAndFileUrisAsLocal) {
  const auto a = ResourcePath::parse("/data/a b.fits");
  EXPECT_TRUE(a.is_local());
  EXPECT_EQ(a.uri(), "file:///data/a%20b.fits");
  EXPECT_EQ(ResourcePath::parse("file:///data/a%20b.fits"), a);
  EXPECT_EQ(ResourcePath::parse("rel/x").local_path(), fs::current_path() / "rel/x");
}

TEST(ResourcePathTest, RefusesCredentialsUnknownSchemesAndBadEscapes) {
  try {
    ResourcePath::parse("davs://alice:s3cret@h/x");
    FAIL() << "credentials accepted";
  } catch (const InvalidArgumentError& e) {
    EXPECT_THAT(e.what(), HasSubstr(".netrc"));
    EXPECT_THAT(e.what(), Not(HasSubstr("s3cret")));
  }
  EXPECT_THROW(ResourcePath::parse("s3://bucket/x"), InvalidArgumentError);
  EXPECT_THROW(ResourcePath::parse("davs:///x"), InvalidArgumentError);
  EXPECT_THROW(ResourcePath::parse("davs://h/a%zz"), InvalidArgumentError);
  EXPECT_THROW(ResourcePath::parse("davs://h/a?x=1"), InvalidArgumentError);
  EXPECT_THROW(ResourcePath::parse("davs://h/a%2Fb"), InvalidArgumentError);  // would name another file re-encoded
  EXPECT_EQ(ResourcePath::parse("davs://h/\xc3\xa9").uri(), "davs://h/%C3%A9");  // bytes above 127 always escaped
}

TEST(WebDavTest, ParsesMultistatusWhateverTheNamespacePrefix) {
  const std::string body = R"(<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a/</d:href><d:propstat><d:prop>
<d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>https://h:1/a/b%20c.fits</d:href><d:propstat><d:prop><d:resourcetype/>
<d:getcontentlength>5760</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
<d:propstat><d:prop><d:quota/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>
</d:multistatus>)";
  const auto entries = webdav::parse_multistatus(body, "https://h:1/a/");
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].path, "/a/");
  EXPECT_TRUE(entries[0].is_directory);
  EXPECT_EQ(entries[1].path, "/a/b c.fits");
  EXPECT_FALSE(entries[1].is_directory);
  EXPECT_EQ(entries[1].size, 5760);
  EXPECT_THROW(webdav::parse_multistatus("<html>oops</html>", "https://h/"), CorruptFileError);
  EXPECT_THROW(webdav::parse_multistatus("not xml <", "https://h/"), CorruptFileError);
}

TEST(HttpSettingsTest, RefusesCredentialFilesOthersCanRead) {
  testing::TempDir tmp;
  const auto token = tmp.path() / "token";
  std::ofstream(token) << "abc\n";
  ::chmod(token.c_str(), 0644);
  ::setenv("LSST_HTTP_AUTH_BEARER_TOKEN", token.c_str(), 1);
  try {
    HttpSettings::from_environment();
    FAIL() << "a world-readable token file was accepted";
  } catch (const PermissionDeniedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("chmod 600"));
    EXPECT_THAT(e.what(), Not(HasSubstr("abc")));
  }
  ::chmod(token.c_str(), 0600);
  EXPECT_EQ(HttpSettings::from_environment().bearer_token, "abc");
  ::setenv("LSST_HTTP_AUTH_BEARER_TOKEN", "literal-token", 1);
  EXPECT_EQ(HttpSettings::from_environment().bearer_token, "literal-token");
  ::unsetenv("LSST_HTTP_AUTH_BEARER_TOKEN");
  ::setenv("LSST_HTTP_AUTH_CLIENT_CERT", token.c_str(), 1);
  EXPECT_THROW(HttpSettings::from_environment(), InvalidConfigError);  // a certificate without its key
  ::unsetenv("LSST_HTTP_AUTH_CLIENT_CERT");
}

// The live server: every test works in a folder of its own below the server's root.
class WebDavServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto server = majordome::testing::test_webdav();
    if (!server) {
      if (std::getenv("MAJORDOME_TEST_STRICT")) FAIL() << "MAJORDOME_TEST_WEBDAV_URL is not set under MAJORDOME_TEST_STRICT";
      GTEST_SKIP() << "no WebDAV server (make test starts one: scripts/webdav-test-server)";
    }
    server_dir_ = server->dir;
    set_http_settings(majordome::testing::test_webdav_settings(*server, /*retries=*/1));
    base_ = ResourcePath::parse(server->url).join(fmt::format("unit-{:016x}/", std::random_device{}()));
  }
  void TearDown() override {
    disarm_io_fault();
    if (!server_dir_.empty()) {
      std::error_code ec;
      fs::remove_all(server_dir_ / "root" / base_.path().substr(1), ec);
      set_http_settings(HttpSettings{});
    }
  }
  fs::path served(const ResourcePath& p) const { return server_dir_ / "root" / p.path().substr(1); }

  fs::path server_dir_;
  ResourcePath base_;
};

TEST_F(WebDavServerTest, WritesReadsListsAndRemovesFiles) {
  const auto file = base_.join("a/b/c d.fits");
  write_resource("hello WebDAV", file);
  EXPECT_EQ(read_resource(file), "hello WebDAV");
  EXPECT_EQ(read_resource_range(file, 6, 3), "Web");
  EXPECT_EQ(read_resource_range(file, 100, 3), "");
  const auto info = stat_resource(file);
  EXPECT_TRUE(info.exists);
  EXPECT_FALSE(info.is_directory);
  EXPECT_EQ(info.size, 12);
  EXPECT_TRUE(stat_resource(base_.join("a/")).is_directory);
  EXPECT_FALSE(stat_resource(base_.join("nothing")).exists);

  testing::TempDir tmp;
  std::ofstream(tmp.path() / "local.txt") << "from disk";
  upload_resource(tmp.path() / "local.txt", base_.join("a/e.txt"));
  download_resource(base_.join("a/e.txt"), tmp.path() / "back.txt");
  std::ifstream back(tmp.path() / "back.txt");
  std::string text((std::istreambuf_iterator<char>(back)), {});
  EXPECT_EQ(text, "from disk");

  const auto listed = list_resource_files(base_);
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].path, file);
  EXPECT_EQ(listed[0].size, 12);
  EXPECT_EQ(listed[1].path, base_.join("a/e.txt"));
  // Nothing but the files: no temporaries left beside them.
  std::size_t on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(served(base_))) on_disk += e.is_regular_file();
  EXPECT_EQ(on_disk, 2U);

  EXPECT_TRUE(remove_resource(file));
  EXPECT_FALSE(remove_resource(file));
  EXPECT_FALSE(fs::exists(served(file)));
  EXPECT_THROW(list_resource_files(base_.join("missing/")), NotFoundError);
}

TEST_F(WebDavServerTest, RefusesToReplaceUnlessAsked) {
  const auto file = base_.join("x.txt");
  write_resource("one", file);
  EXPECT_THROW(write_resource("two", file), ConflictError);
  EXPECT_EQ(read_resource(file), "one");
  write_resource("three", file, Overwrite::kReplace);
  EXPECT_EQ(read_resource(file), "three");
  std::size_t on_disk = 0;
  for (const auto& e : fs::directory_iterator(served(base_))) on_disk += e.is_regular_file();
  EXPECT_EQ(on_disk, 1U);  // the refused write's temporary was removed
}

TEST_F(WebDavServerTest, AFailedMoveLeavesNoTemporary) {
  arm_io_fault(IoStep::kRename, 1);
  EXPECT_THROW(write_resource("x", base_.join("f.txt")), IoError);
  EXPECT_FALSE(fs::exists(served(base_.join("f.txt"))));
  EXPECT_TRUE(!fs::exists(served(base_)) || fs::is_empty(served(base_)));
}

TEST_F(WebDavServerTest, ErrorsNameTheUrlAndNeverTheCredentials) {
  const auto file = base_.join("missing.fits");
  try {
    read_resource(file);
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.http_url()));
    EXPECT_THAT(e.what(), HasSubstr("404"));
  }
  const std::string token = http_settings().bearer_token;
  HttpSettings no_credentials = http_settings();
  no_credentials.bearer_token.clear();
  set_http_settings(no_credentials);
  try {
    read_resource(file);
    FAIL();
  } catch (const PermissionDeniedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("401"));
    EXPECT_THAT(e.what(), HasSubstr("LSST_HTTP_AUTH_BEARER_TOKEN"));
  }
  HttpSettings wrong = no_credentials;
  wrong.bearer_token = "not-" + token;
  set_http_settings(wrong);
  try {
    read_resource(file);
    FAIL();
  } catch (const PermissionDeniedError& e) {
    EXPECT_THAT(e.what(), Not(HasSubstr(wrong.bearer_token)));
  }
  HttpSettings good = no_credentials;
  good.bearer_token = token;
  set_http_settings(good);
  const auto readonly = ResourcePath::parse(std::getenv("MAJORDOME_TEST_WEBDAV_URL")).join("readonly/x.txt");
  try {
    write_resource("x", readonly);
    FAIL();
  } catch (const PermissionDeniedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("403"));
    EXPECT_THAT(e.what(), HasSubstr("read-only"));
  }
}

TEST_F(WebDavServerTest, AuthenticatesWithAClientCertificate) {
  HttpSettings s = http_settings();
  s.bearer_token.clear();
  s.client_cert = server_dir_ / "client.pem";
  s.client_key = server_dir_ / "client.key";
  set_http_settings(s);
  write_resource("by certificate", base_.join("cert.txt"));
  EXPECT_EQ(read_resource(base_.join("cert.txt")), "by certificate");
}

TEST_F(WebDavServerTest, RefusesAServerItDoesNotTrust) {
  HttpSettings s = http_settings();
  s.ca_bundle.clear();
  set_http_settings(s);
  try {
    read_resource(base_.join("x"));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("LSST_HTTP_CACERT_BUNDLE"));
  }
}

TEST_F(WebDavServerTest, RetriesThenNamesTheUrlWhenNoServerAnswers) {
  // A port nothing listens on: refused at once, retried, then given up.
  const auto before = http_counters();
  const auto dead = ResourcePath::parse("davs://127.0.0.1:9/x");
  try {
    read_resource(dead);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("https://127.0.0.1:9/x"));
    EXPECT_THAT(e.what(), HasSubstr("gave up after 2 attempts"));
  }
  EXPECT_EQ(http_counters().retries - before.retries, 1U);
}

TEST_F(WebDavServerTest, ReusesItsConnections) {
  for (int i = 0; i < 5; ++i) write_resource(std::string(100, 'x'), base_.join(fmt::format("f{}.txt", i)));
  const auto before = http_counters();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(read_resource(base_.join(fmt::format("f{}.txt", i))).size(), 100U);
  EXPECT_EQ(http_counters().requests - before.requests, 5U);
  EXPECT_EQ(http_counters().bytes_received - before.bytes_received, 500U);
}

}  // namespace
}  // namespace majordome::datastore
