// PostgreSQL credentials from the db-auth file, as Rubin's lsst.utils.db_auth reads them.
//
// The file is ~/.lsst/db-auth.yaml, or the one $LSST_DB_AUTH names: a YAML list of
// {url, username, password} entries. It must be readable by its owner only. An entry's url
// is compared with the registry URL by host, port and database (the scheme and any user
// are ignored; an entry may leave out the port or the database, or give `*` for either);
// the first entry that matches and has a password wins.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace majordome::butler {

struct DbAuthEntry {
  std::string username, password;
};

// The credentials for `url`, or nullopt when the file does not exist or no entry matches.
// Throws PermissionDeniedError when the file is accessible by group or others or cannot be
// read, and InvalidConfigError when it is not a regular file or not a list of entries with
// string url, username and password. Messages name the file and the fix; they never
// contain a password.
std::optional<DbAuthEntry> find_db_auth(const std::string& url);

// Where the db-auth file is looked for: $LSST_DB_AUTH if set, else ~/.lsst/db-auth.yaml.
std::filesystem::path db_auth_path();

}  // namespace majordome::butler
