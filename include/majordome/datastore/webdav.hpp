// The HTTP/WebDAV client behind the remote schemes of resource.hpp (libcurl).
//
// Connections are kept open and shared by every thread of the process (one libcurl share
// handle for connections, TLS sessions and DNS; one easy handle per thread), so `-j N`
// transfers N files at once over N persistent connections. A request that fails in a way
// that may pass (a 5xx status other than 501/505/507, a timeout, a refused or reset
// connection) is retried with exponential back-off; a 401, 403 or 404 is not, and its error
// names the method and the URL, never the credentials.
//
// Credentials and trust come from the environment as Rubin's resources layer reads them
// (docs/webdav.md), so existing site set-ups work:
//   LSST_HTTP_AUTH_BEARER_TOKEN     a token, or the path of a file holding one (mode 600)
//   LSST_HTTP_AUTH_CLIENT_CERT/_KEY a client certificate and its key (an X.509 proxy: both
//                                   name the same file); the key must be mode 600
//   LSST_HTTP_CACERT_BUNDLE         a file or a folder of CA certificates
//   LSST_HTTP_TIMEOUT_CONNECT/_READ seconds (default 30 and 300)
//   ~/.netrc (or $NETRC)            user and password per host, mode 600
// and MAJORDOME_HTTP_RETRIES (default 5 retries, waiting 0.25 s, 0.5 s, … up to 8 s).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::datastore {

struct HttpSettings {
  std::string bearer_token;  // empty: none
  std::filesystem::path client_cert, client_key;
  std::filesystem::path ca_bundle;  // a file, or a folder (CApath)
  std::filesystem::path netrc;      // empty: none
  long connect_timeout_s = 30;
  long read_timeout_s = 300;
  int retries = 5;
  double first_backoff_s = 0.25;

  // Reads the variables above. Throws PermissionDeniedError naming a credential file that
  // others can read, InvalidConfigError for a variable whose file does not exist or a
  // certificate without its key.
  static HttpSettings from_environment();
};

// The process's settings: from_environment() at first use, kept for the process's life.
HttpSettings http_settings();
// Replaces them (tests); the next request uses the new ones.
void set_http_settings(HttpSettings settings);

struct DavEntry {
  std::string path;  // decoded absolute path on the server; folders end with '/'
  bool is_directory = false;
  std::int64_t size = 0;
};

// Counters of the process's HTTP traffic (benchmarks, tests of ranged reads).
struct HttpCounters {
  std::uint64_t requests = 0, retries = 0, bytes_received = 0, bytes_sent = 0;
};
HttpCounters http_counters();

namespace webdav {

// `url` is an "https://" or "http://" URL (ResourcePath::http_url()).
// Size and kind of what is at `url`; nullopt if the server says 404.
struct Head {
  std::int64_t size = 0;
  bool is_directory = false;
};
std::optional<Head> head(const std::string& url);
std::string get(const std::string& url);
std::string get_range(const std::string& url, std::int64_t offset, std::size_t length);
void get_to_file(const std::string& url, const std::filesystem::path& destination);
// PUT of a local file or of bytes; parent collections are made (MKCOL) when the server
// does not make them itself.
void put_file(const std::string& url, const std::filesystem::path& source);
void put_bytes(const std::string& url, std::string_view bytes);
// MOVE; with overwrite false an existing destination is a ConflictError (412).
void move(const std::string& from, const std::string& to, bool overwrite);
// DELETE; false if there was nothing (404).
bool remove(const std::string& url);
// PROPFIND Depth 1 of a collection: its members (not itself).
std::vector<DavEntry> list(const std::string& url);

// Parses a PROPFIND multistatus body (namespace prefixes as the server chose them).
// Exposed for tests. Throws CorruptFileError naming `url` on a malformed body.
std::vector<DavEntry> parse_multistatus(std::string_view body, const std::string& url);

}  // namespace webdav
}  // namespace majordome::datastore
