// The WebDAV server `make test` starts (scripts/webdav-test-server): where it is, and HTTP
// settings that trust its CA and carry its bearer token, as a user's LSST_HTTP_* would.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "majordome/datastore/webdav.hpp"

namespace majordome::testing {

struct TestWebDav {
  std::string url;            // "davs://127.0.0.1:PORT/"
  std::filesystem::path dir;  // its folder: token, ca.pem, client.pem/.key, root/ (what it serves)
};

// From MAJORDOME_TEST_WEBDAV_URL and _DIR; nullopt when they are not set (the caller skips,
// or fails under MAJORDOME_TEST_STRICT).
inline std::optional<TestWebDav> test_webdav() {
  const char* url = std::getenv("MAJORDOME_TEST_WEBDAV_URL");
  const char* dir = std::getenv("MAJORDOME_TEST_WEBDAV_DIR");
  if (!url || !*url || !dir || !*dir) return std::nullopt;
  return TestWebDav{url, dir};
}

inline datastore::HttpSettings test_webdav_settings(const TestWebDav& server, int retries = 5) {
  datastore::HttpSettings s;
  std::ifstream(server.dir / "token") >> s.bearer_token;
  s.ca_bundle = server.dir / "ca.pem";
  s.retries = retries;
  s.first_backoff_s = 0.01;
  return s;
}

}  // namespace majordome::testing
