#include "majordome/butler/db_auth.hpp"

#include <sys/stat.h>

#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;

namespace {

constexpr const char* kExpected = "a YAML list of entries with string fields url, username and password";

// host, port, database of a URL; `*` for a part that is left out.
std::array<std::string, 3> host_port_database(std::string u) {
  if (auto p = u.find("://"); p != std::string::npos) u = u.substr(p + 3);
  if (auto q = u.find('?'); q != std::string::npos) u = u.substr(0, q);
  auto slash = u.find('/');
  // The user part ends at the last '@' before the path (a user name may hold '@').
  if (auto at = u.rfind('@', slash); at != std::string::npos && (slash == std::string::npos || at < slash))
    u = u.substr(at + 1);
  std::string host = u, port = "*", db = "*";
  if (auto path = u.find('/'); path != std::string::npos) {
    host = u.substr(0, path);
    db = u.substr(path + 1);
  }
  if (auto colon = host.find(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  return {host, port, db};
}

const char* kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null: return "empty";
    default: return "a scalar";
  }
}

// An entry's field as a string, or nullopt if absent. Never shows the value: it may be a
// password.
std::optional<std::string> string_field(const YAML::Node& entry, const char* field, const fs::path& path,
                                        std::size_t index) {
  const YAML::Node value = entry[field];
  if (!value) return std::nullopt;
  if (!value.IsScalar())
    throw InvalidConfigError(fmt::format(
        "the credentials file {}: entry {} (line {}) has a {} that is {}, not a string; write it as a single "
        "quoted value, e.g. {}: \"...\"", path.string(), index + 1, value.Mark().line + 1, field, kind_of(value),
        field));
  return value.Scalar();
}

}  // namespace

fs::path db_auth_path() {
  if (const char* env = std::getenv("LSST_DB_AUTH"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/") / ".lsst" / "db-auth.yaml";
}

std::optional<DbAuthEntry> find_db_auth(const std::string& url) {
  fs::path path = db_auth_path();
  const char* env = std::getenv("LSST_DB_AUTH");
  std::string from = env && *env ? " (named by $LSST_DB_AUTH)" : "";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  if (S_ISDIR(st.st_mode))
    throw InvalidConfigError(fmt::format("the credentials file {}{} is a directory; it must be a file: {}, "
                                         "e.g. {}/db-auth.yaml", path.string(), from, kExpected, path.string()));
  if (!S_ISREG(st.st_mode))
    throw InvalidConfigError(fmt::format("the credentials file {}{} is not a regular file; it must be a file: {}",
                                         path.string(), from, kExpected));
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    throw PermissionDeniedError(fmt::format(
        "the credentials file {} is accessible by group or others (mode {:o}); it must be readable by you only: "
        "run 'chmod 600 {}'", path.string(), st.st_mode & 0777, path.string()));
  std::ifstream in(path);
  if (!in) {
    int error = errno;
    throw PermissionDeniedError(fmt::format("cannot read the credentials file {}: {}; it must be a file you own "
                                            "and can read (chmod 600 {})", path.string(), std::strerror(error),
                                            path.string()));
  }
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node entries;
  try {
    entries = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("cannot read the credentials file {}: {}", path.string(), e.what()));
  }
  if (!entries.IsSequence())
    throw InvalidConfigError(fmt::format("the credentials file {} is {}; it must be {}", path.string(),
                                         kind_of(entries), kExpected));
  // Every entry is checked, not only up to the match, so a broken file is found the first
  // time it is read.
  std::optional<DbAuthEntry> found;
  auto want = host_port_database(url);
  std::size_t i = 0;
  for (auto it = entries.begin(); it != entries.end(); ++it, ++i) {
    const YAML::Node entry = *it;
    if (!entry.IsMap())
      throw InvalidConfigError(fmt::format("the credentials file {}: entry {} (line {}) is {}, not a mapping; it "
                                           "must be {}", path.string(), i + 1, entry.Mark().line + 1, kind_of(entry),
                                           kExpected));
    auto entry_url = string_field(entry, "url", path, i);
    auto username = string_field(entry, "username", path, i);
    auto password = string_field(entry, "password", path, i);
    if (!entry_url)
      throw InvalidConfigError(fmt::format("the credentials file {}: entry {} (line {}) has no url; add the "
                                           "database URL it is for, e.g. url: postgresql://host:5432/database",
                                           path.string(), i + 1, entry.Mark().line + 1));
    if (found || !password) continue;
    auto have = host_port_database(*entry_url);
    bool match = true;
    for (int k = 0; k < 3; ++k) match = match && (have[k] == "*" || have[k] == want[k]);
    if (match) found = DbAuthEntry{username.value_or(""), *password};
  }
  return found;
}

}  // namespace majordome::butler
