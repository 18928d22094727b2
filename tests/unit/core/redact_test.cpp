#include "majordome/core/redact.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

namespace majordome {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

TEST(Redact, UserinfoPasswordIsMaskedUserHostAndDatabaseKept) {
  EXPECT_EQ(redact_url("postgresql://alice:hunter2@db.example.org:5432/lsst"),
            "postgresql://alice:***@db.example.org:5432/lsst");
  EXPECT_EQ(redact_url("postgres://alice:hunter2@[::1]:5432/lsst"), "postgres://alice:***@[::1]:5432/lsst");
  EXPECT_EQ(redact_url("postgresql://alice:hunter2@h1:5432,h2:5433/lsst"),
            "postgresql://alice:***@h1:5432,h2:5433/lsst");
  EXPECT_EQ(url_secrets("postgresql://alice:hunter2@host/db"), std::vector<std::string>{"hunter2"});
  EXPECT_TRUE(url_has_password("postgresql://alice:hunter2@host/db"));
}

TEST(Redact, PasswordHoldingAtSign) {
  // libpq reads the first '@' (password "p", host "ss@host"); the user meant "p@ss".
  const std::string url = "postgresql://alice:p@ss@host:5432/db";
  EXPECT_EQ(redact_url(url), "postgresql://alice:***@host:5432/db");
  EXPECT_TRUE(contains(url_secrets(url), "p@ss"));
  EXPECT_EQ(unambiguous_url(url), "postgresql://alice:p%40ss@host:5432/db");
  // Once encoded, every reading agrees: the secret is the password as written and decoded.
  auto secrets = url_secrets(unambiguous_url(url));
  EXPECT_TRUE(contains(secrets, "p%40ss"));
  EXPECT_TRUE(contains(secrets, "p@ss"));
  EXPECT_EQ(secrets.size(), 2u);
  EXPECT_EQ(redact_url("postgresql://alice:a@b@c@host/db"), "postgresql://alice:***@host/db");
  EXPECT_EQ(unambiguous_url("postgresql://alice:a@b@c@host/db"), "postgresql://alice:a%40b%40c@host/db");
}

TEST(Redact, PasswordHoldingSlash) {
  // libpq reads host "alice", port "pa" and database "ss@host/db".
  const std::string url = "postgresql://alice:pa/ss@host/db";
  EXPECT_EQ(redact_url(url), "postgresql://alice:***@host/db");
  EXPECT_TRUE(contains(url_secrets(url), "pa/ss"));
  EXPECT_EQ(unambiguous_url(url), "postgresql://alice:pa%2Fss@host/db");
  EXPECT_EQ(redact_url("postgresql://alice:p/a@s/s@host:5432/db?sslmode=require"),
            "postgresql://alice:***@host:5432/db?sslmode=require");
  // '?' and '=' in the password too: the '@' is still the last one.
  EXPECT_EQ(redact_url("postgresql://alice:pa/s?=x@host/db"), "postgresql://alice:***@host/db");
  EXPECT_EQ(unambiguous_url("postgresql://alice:pa/s?=x@host/db"), "postgresql://alice:pa%2Fs?=x@host/db");
  // A numeric password with '/' reads like a port, but then the database would be "34@host/db".
  EXPECT_EQ(redact_url("postgresql://alice:12/34@host/db"), "postgresql://alice:***@host/db");
  EXPECT_EQ(unambiguous_url("postgresql://alice:12/34@host/db"), "postgresql://alice:12%2F34@host/db");
  // An '@' then a '/' in the password: libpq's reading (host "ss", database "w@host") is
  // possible, so it stands; the display masks the longest reading all the same.
  EXPECT_EQ(unambiguous_url("postgresql://alice:p@ss/w@host"), "postgresql://alice:p@ss/w@host");
  EXPECT_EQ(redact_url("postgresql://alice:p@ss/w@host"), "postgresql://alice:***@host");
}

TEST(Redact, PasswordHoldingQuestionMark) {
  // libpq reads this one right (it looks for '@' before '/'), so it stays as written.
  const std::string url = "postgresql://alice:pa?ss@host/db";
  EXPECT_EQ(redact_url(url), "postgresql://alice:***@host/db");
  EXPECT_EQ(unambiguous_url(url), url);
  EXPECT_EQ(redact_url("postgresql://alice:pa?x=y@host/db"), "postgresql://alice:***@host/db");
}

TEST(Redact, PercentEncodedPasswordIsASecretBothWays) {
  const std::string url = "postgresql://alice:s%40fe%2Fpw@host/db";
  EXPECT_EQ(redact_url(url), "postgresql://alice:***@host/db");
  auto secrets = url_secrets(url);
  EXPECT_TRUE(contains(secrets, "s%40fe%2Fpw"));
  EXPECT_TRUE(contains(secrets, "s@fe/pw"));
  EXPECT_EQ(unambiguous_url(url), url);
  // A malformed escape (libpq refuses it, quoting it raw) is a secret as written.
  EXPECT_TRUE(contains(url_secrets("postgresql://alice:p%zzw@host/db"), "p%zzw"));
}

TEST(Redact, QueryParametersNamedLikeSecrets) {
  EXPECT_EQ(redact_url("postgresql://a@host/db?password=hunter2"), "postgresql://a@host/db?password=***");
  EXPECT_EQ(redact_url("postgresql://a@host/db?sslmode=verify-full&sslpassword=kp&sslkey=/home/a/.pg/k.key"
                       "&connect_timeout=5"),
            "postgresql://a@host/db?sslmode=verify-full&sslpassword=***&sslkey=***&connect_timeout=5");
  EXPECT_EQ(redact_url("postgresql:///db?host=h&user=a&password=pw&port=5432"),
            "postgresql:///db?host=h&user=a&password=***&port=5432");
  for (std::string name : {"passfile", "api_token", "client_secret", "access_key", "credentials", "PWD", "AuthToken"})
    EXPECT_EQ(redact_url("postgresql://h/db?" + name + "=v4lue"), "postgresql://h/db?" + name + "=***") << name;
  EXPECT_EQ(redact_url("postgresql://h/db?application_name=me&sslmode=require&user=bob"),
            "postgresql://h/db?application_name=me&sslmode=require&user=bob");
  // libpq decodes parameter names: pass%77ord is password.
  EXPECT_EQ(redact_url("postgresql://h/db?pass%77ord=pw"), "postgresql://h/db?pass%77ord=***");
  // A value runs to the next '&', '#' and '?' included, as libpq reads it.
  EXPECT_EQ(redact_url("postgresql://h/db?password=a#b?c&x=1"), "postgresql://h/db?password=***&x=1");
  // An unencoded '&' not followed by `name=` belongs to the value (libpq would quote the rest).
  EXPECT_EQ(redact_url("postgresql://h/db?password=ab&cd&sslmode=require"),
            "postgresql://h/db?password=***&sslmode=require");
  EXPECT_TRUE(contains(url_secrets("postgresql://h/db?password=ab&cd"), "cd"));
  EXPECT_TRUE(url_has_password("postgresql:///db?host=h&password=pw"));
  EXPECT_FALSE(url_has_password("postgresql://h/db?sslpassword=pw"));
  EXPECT_FALSE(url_has_password("postgresql://alice@h/db?password="));
  auto secrets = url_secrets("postgresql://h/db?password=p%26w&sslkey=%2Fk");
  for (std::string s : {"p%26w", "p&w", "%2Fk", "/k"}) EXPECT_TRUE(contains(secrets, s)) << s;
}

TEST(Redact, AtSignInAQueryValue) {
  // Without a path, libpq reads "host?password=p" as the user name and "ss" as the host.
  const std::string url = "postgresql://host?password=p@ss";
  EXPECT_EQ(redact_url(url), "postgresql://host?password=***");
  EXPECT_EQ(unambiguous_url(url), "postgresql://host?password=p%40ss");
  EXPECT_EQ(unambiguous_url("postgresql://127.0.0.1:5432?password=p@ss"), "postgresql://127.0.0.1:5432?password=p%40ss");
  EXPECT_EQ(unambiguous_url("postgresql://127.0.0.1:5432?sslmode=require&password=p@ss"),
            "postgresql://127.0.0.1:5432?sslmode=require&password=p%40ss");
  // With one, libpq reads it right.
  EXPECT_EQ(redact_url("postgresql://h/db?password=p@ss"), "postgresql://h/db?password=***");
  EXPECT_EQ(unambiguous_url("postgresql://h/db?password=p@ss"), "postgresql://h/db?password=p@ss");
  EXPECT_EQ(redact_url("postgresql://alice:pw@h/db?sslkey=/home/a@b/k"), "postgresql://alice:***@h/db?sslkey=***");
}

TEST(Redact, AmbiguousUrlsShowMoreStarsNeverAPassword) {
  // An '@' in the database name after a port: libpq's reading stands, display over-masks.
  EXPECT_EQ(unambiguous_url("postgresql://host:5432/my@db"), "postgresql://host:5432/my@db");
  EXPECT_EQ(redact_url("postgresql://host:5432/my@db"), "postgresql://host:***@db");
  EXPECT_EQ(redact_url("postgresql://alice:pw@host/d@b"), "postgresql://alice:***@b");
  EXPECT_EQ(unambiguous_url("postgresql://alice:pw@host/d@b"), "postgresql://alice:pw@host/d@b");
  // Over-masking does not make a password up: the db-auth file is still consulted for these.
  EXPECT_FALSE(url_has_password("postgresql://host:5432/my@db"));
  EXPECT_FALSE(url_has_password("postgresql://alice@host:5432/d@b"));
  EXPECT_TRUE(url_has_password("postgresql://alice:p@ss@host/db"));
  EXPECT_TRUE(url_has_password("postgresql://alice:pa/ss@host/db"));
}

TEST(Redact, UrlsWithoutSecretsComeBackUnchanged) {
  for (std::string url : {"postgresql://alice@db.example.org:5432/lsst", "postgresql://db.example.org/lsst",
                          "postgresql:///lsst?host=/var/run/postgresql", "postgresql://alice:@host/db",
                          "sqlite:////data/repo/gen3.sqlite3", "sqlite:///<butlerRoot>/gen3.sqlite3",
                          "sqlite:////home/a@b/repo/gen3.sqlite3", "s3://bucket/path/to/file.fits",
                          "not a url at all", "", "postgresql://"}) {
    EXPECT_EQ(redact_url(url), url) << url;
    EXPECT_EQ(unambiguous_url(url), url) << url;
    EXPECT_TRUE(url_secrets(url).empty()) << url;
  }
  EXPECT_FALSE(url_has_password("postgresql://alice@host/db"));
  EXPECT_FALSE(url_has_password("postgresql://alice:@host/db"));
}

TEST(Redact, ConninfoStrings) {
  EXPECT_EQ(redact_url("host=h port=5432 dbname=lsst user=alice password=hunter2"),
            "host=h port=5432 dbname=lsst user=alice password=***");
  EXPECT_EQ(redact_url("host=h password = 'it\\'s a secret' sslkey='/k' dbname=x"),
            "host=h password = *** sslkey=*** dbname=x");
  auto secrets = url_secrets("password='it\\'s a secret'");
  EXPECT_TRUE(contains(secrets, "it's a secret"));
  EXPECT_TRUE(contains(secrets, "'it\\'s a secret'"));
  EXPECT_TRUE(url_has_password("host=h password=x"));
  EXPECT_FALSE(url_has_password("host=h user=x"));
  EXPECT_EQ(redact_url("host=h dbname=lsst"), "host=h dbname=lsst");
  // An unterminated quote runs to the end, masked all the same.
  EXPECT_EQ(redact_url("password='abc def dbname=x"), "password=***");
}

TEST(Redact, ScrubsEveryOccurrenceOfEverySecret) {
  const std::vector<std::string> secrets{"p@ss", "p%40ss"};
  EXPECT_EQ(scrub_secrets("could not connect as alice with p@ss (p%40ss); again: p@ss", secrets),
            "could not connect as alice with *** (***); again: ***");
  // libpq quotes a URL it cannot parse whole.
  const std::string url = "postgresql://alice:hunter2@[::1";
  auto message = "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"" + url + "\"";
  auto scrubbed = scrub_secrets(message, url_secrets(url));
  EXPECT_EQ(scrubbed.find("hunter2"), std::string::npos) << scrubbed;
  EXPECT_NE(scrubbed.find("postgresql://alice:***@[::1"), std::string::npos) << scrubbed;
  // Overlapping secrets become one mask; text without them is untouched.
  EXPECT_EQ(scrub_secrets("xabcdy", {"abc", "bcd"}), "x***y");
  EXPECT_EQ(scrub_secrets("nothing here", {"secret", ""}), "nothing here");
  EXPECT_EQ(scrub_secrets("", {"secret"}), "");
}

TEST(Redact, SecretNames) {
  for (std::string name : {"password", "sslpassword", "sslkey", "passfile", "Token", "x-api-key", "secret",
                           "credential", "pwd", "pass%77ord"})
    EXPECT_TRUE(is_secret_name(name)) << name;
  for (std::string name : {"host", "user", "dbname", "port", "sslmode", "application_name", "namespace", "db"})
    EXPECT_FALSE(is_secret_name(name)) << name;
}

TEST(Redact, ConfigTreesMaskUrlsAndSecretKeys) {
  YAML::Node config = YAML::Load(
      "registry:\n"
      "  db: postgresql://alice:hunter2@host/db?sslpassword=kp\n"
      "  namespace: repo\n"
      "  password: hunter3\n"
      "datastore:\n"
      "  root: <butlerRoot>\n"
      "  tokens: [t1, t2]\n"
      "  mirrors:\n"
      "    - s3://key:secret@bucket/x\n"
      "  checksum: false\n");
  redact_config(config);
  EXPECT_EQ(config["registry"]["db"].as<std::string>(), "postgresql://alice:***@host/db?sslpassword=***");
  EXPECT_EQ(config["registry"]["namespace"].as<std::string>(), "repo");
  EXPECT_EQ(config["registry"]["password"].as<std::string>(), "***");
  EXPECT_EQ(config["datastore"]["root"].as<std::string>(), "<butlerRoot>");
  EXPECT_EQ(config["datastore"]["tokens"][0].as<std::string>(), "***");
  EXPECT_EQ(config["datastore"]["tokens"][1].as<std::string>(), "***");
  EXPECT_EQ(config["datastore"]["mirrors"][0].as<std::string>(), "s3://key:***@bucket/x");
  EXPECT_FALSE(config["datastore"]["checksum"].as<bool>());
  auto text = YAML::Dump(config);
  for (std::string secret : {"hunter2", "hunter3", "kp", "t1", "t2", "secret"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in\n" << text;
}

}  // namespace
}  // namespace majordome
