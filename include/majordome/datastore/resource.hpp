// Files by URI: the one seam through which the datastore, ingest and import reach a file,
// whatever holds it (docs/webdav.md). Local files ("file://", or a plain path) go through
// the POSIX primitives of this module; "davs://" and "dav://" (WebDAV over HTTPS or HTTP)
// and "https://"/"http://" (read only) go through the libcurl client of webdav.hpp.
//
// Every remote write is atomic as a local one is: the bytes go to a temporary name beside
// the destination (PUT), then a MOVE puts them in place. The injected faults of
// io_faults.hpp fire for remote steps too (kWrite for a PUT, kRename for a MOVE, kRemove for
// a DELETE), so the same tests cover both.
#pragma once

#include "majordome/datastore/atomic_file.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::datastore {

enum class Scheme { kFile, kDav, kDavs, kHttp, kHttps };

// A location: a local path, or a scheme, an authority ("host" or "host:port") and an
// absolute '/'-separated path (kept percent-decoded). Credentials in a URL ("user:pw@host")
// are refused: they would end up in logs and registry rows.
class ResourcePath {
 public:
  ResourcePath() = default;
  // A local file (made absolute, lexically normalised).
  explicit ResourcePath(const std::filesystem::path& local);

  // "file:///…", "davs://host[:port]/…", "dav://…", "https://…", "http://…", or a plain path
  // (relative to the current directory). Throws InvalidArgumentError naming the text and
  // what is wrong (unknown scheme, no host, credentials in the URL, malformed escape).
  static ResourcePath parse(std::string_view text);
  // True if `text` has the form "scheme://…" of a URI (any scheme).
  static bool looks_like_uri(std::string_view text);

  Scheme scheme() const { return scheme_; }
  bool is_local() const { return scheme_ == Scheme::kFile; }
  bool is_remote() const { return !is_local(); }
  // Whether writes are possible at all by this scheme (https:// and http:// read only).
  bool is_writable_scheme() const { return scheme_ != Scheme::kHttp && scheme_ != Scheme::kHttps; }

  // REQUIRES: is_local().
  const std::filesystem::path& local_path() const { return local_; }
  // The URI: "file:///a%20b.fits", "davs://host:8443/a%20b.fits" (percent-encoded as
  // datastore::file_uri does).
  std::string uri() const;
  // The URL a client requests: dav → http, davs → https. REQUIRES: is_remote().
  std::string http_url() const;
  // For messages: a local path as it is, a remote one as its URI.
  std::string str() const;

  // The authority and the decoded path of a remote location.
  const std::string& authority() const { return authority_; }
  const std::string& path() const { return path_; }

  // The last segment ("" for a root or a folder given with a trailing '/').
  std::string name() const;
  // `relative` ('/'-separated, decoded) appended below this location as a folder.
  ResourcePath join(std::string_view relative) const;
  ResourcePath parent() const;
  // This location's path relative to `folder` if it lies strictly inside it (same scheme
  // and authority; lexically), '/'-separated.
  std::optional<std::string> relative_to(const ResourcePath& folder) const;

  friend bool operator==(const ResourcePath& a, const ResourcePath& b) {
    return a.scheme_ == b.scheme_ && a.local_ == b.local_ && a.authority_ == b.authority_ && a.path_ == b.path_;
  }
  friend bool operator<(const ResourcePath& a, const ResourcePath& b) { return a.uri() < b.uri(); }

 private:
  Scheme scheme_ = Scheme::kFile;
  std::filesystem::path local_;
  std::string authority_;
  std::string path_;  // remote: absolute, decoded; a folder may end with '/'
};

// True if `text` is a URI of a remote scheme ("davs://…", not "file://…" nor a path).
bool is_remote_uri(std::string_view text);

struct ResourceInfo {
  bool exists = false;
  bool is_directory = false;
  std::int64_t size = 0;  // bytes of a file
};

struct ResourceEntry {
  ResourcePath path;
  std::int64_t size = 0;
};

// What is at `location` (a missing one is {exists = false}, not an error).
ResourceInfo stat_resource(const ResourcePath& location);
// The whole content. Throws NotFoundError naming a missing file, IoError otherwise.
std::string read_resource(const ResourcePath& location);
// Up to `length` bytes from `offset` (fewer at the end of the file; none past it): one
// ranged GET for a remote file.
std::string read_resource_range(const ResourcePath& location, std::int64_t offset, std::size_t length);
// Copies the content into the local file `destination` (created or truncated; not
// atomic: write into a temporary). The length received is checked against the server's.
void download_resource(const ResourcePath& location, const std::filesystem::path& destination);
// Places the local file `source` (or `bytes`) at `destination` atomically: a temporary
// beside it, then a rename (local) or MOVE (remote) that replaces an existing file only with
// Overwrite::kReplace (ConflictError otherwise). Parent folders are created. A failure
// leaves no temporary behind (a crash can: cleanup_temporaries() removes local ones).
void upload_resource(const std::filesystem::path& source, const ResourcePath& destination,
                     Overwrite overwrite = Overwrite::kRefuse);
void write_resource(std::string_view bytes, const ResourcePath& destination, Overwrite overwrite = Overwrite::kRefuse);
// A fresh temporary name beside `destination` (".name.tmp-<16 hex>", as is_temporary_name()).
ResourcePath temporary_for(const ResourcePath& destination);
// upload_resource() to a remote destination through the temporary `temporary` the caller
// chose (and journalled): PUT there, then MOVE into place. REQUIRES: destination.is_remote().
// `after_put` runs once the temporary holds the whole file; `before_discard` when the MOVE
// failed, before the temporary is deleted (so a journal can say the destination is not this
// writer's).
struct UploadSteps {
  std::function<void()> after_put, before_discard;
};
void upload_resource_via(const std::filesystem::path& source, const ResourcePath& temporary,
                         const ResourcePath& destination, const UploadSteps& steps = {},
                         Overwrite overwrite = Overwrite::kRefuse);
// Removes the file; true if one was removed (a missing file is not an error). A folder is
// never removed (on a WebDAV server a DELETE of a folder would take everything in it):
// false, with a warning.
bool remove_resource(const ResourcePath& location);
// Every file below the folder `folder`, recursively, sorted by URI. Throws NotFoundError
// if it does not exist.
std::vector<ResourceEntry> list_resource_files(const ResourcePath& folder);

// A file as a local path, for readers that need one (cfitsio): a local file is used where
// it is; a remote one is downloaded into a temporary file (same name ending, in the
// temporary folder), removed when this object goes. Throws as download_resource().
class LocalCopy {
 public:
  explicit LocalCopy(const ResourcePath& location);
  ~LocalCopy();
  LocalCopy(const LocalCopy&) = delete;
  LocalCopy& operator=(const LocalCopy&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool temporary_ = false;
};

}  // namespace majordome::datastore
