#include "majordome/datastore/resource.hpp"

#include "majordome/core/error.hpp"
#include "majordome/datastore/atomic_file.hpp"
#include "majordome/datastore/io_faults.hpp"
#include "majordome/datastore/transfer.hpp"
#include "majordome/datastore/webdav.hpp"
#include "percent_encoding.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace majordome::datastore {
namespace fs = std::filesystem;

namespace {

struct SchemeName {
  std::string_view name;
  Scheme scheme;
};
constexpr std::array<SchemeName, 5> kSchemes{{{"file", Scheme::kFile},
                                              {"dav", Scheme::kDav},
                                              {"davs", Scheme::kDavs},
                                              {"http", Scheme::kHttp},
                                              {"https", Scheme::kHttps}}};

std::string_view scheme_name(Scheme s) {
  for (const auto& k : kSchemes)
    if (k.scheme == s) return k.name;
  return "file";
}

// The decoded path of a URI; InvalidArgumentError naming the URI for a malformed escape, or
// an escaped '/' or NUL (re-encoded, it would name another file).
std::string decode_path(std::string_view path, std::string_view whole) {
  for (std::size_t at = path.find('%'); at != std::string_view::npos; at = path.find('%', at + 1)) {
    const auto escape = path.substr(at, 3);
    if (escape == "%2F" || escape == "%2f" || escape == "%00")
      throw InvalidArgumentError(fmt::format("'{}': an escaped '/' or NUL in a path cannot name a file here", whole));
  }
  const auto decoded = detail::percent_decode(path);
  if (!decoded)
    throw InvalidArgumentError(fmt::format("malformed percent-escape in '{}' (write '%' as '%25')", whole));
  return *decoded;
}

// Joins '/'-separated `relative` to `base`, resolving "." and ".." lexically (never above "/").
std::string join_path(std::string base, std::string_view relative) {
  if (!relative.empty() && relative.front() == '/') base = "/";
  std::vector<std::string> parts;
  auto push_segments = [&](std::string_view text) {
    std::size_t start = 0;
    while (start <= text.size()) {
      auto end = text.find('/', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view seg = text.substr(start, end - start);
      if (seg == "..") {
        if (!parts.empty()) parts.pop_back();
      } else if (!seg.empty() && seg != ".") {
        parts.emplace_back(seg);
      }
      start = end + 1;
    }
  };
  push_segments(base);
  push_segments(relative);
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  if (out.empty()) out = "/";
  const bool folder = relative.empty() ? base.ends_with('/') : relative.ends_with('/');
  if (folder && !out.ends_with('/')) out += '/';
  return out;
}

std::string temporary_name(std::string_view name) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format(".{}.tmp-{:016x}", name, random());
}

void check_writable(const ResourcePath& location) {
  if (!location.is_writable_scheme())
    throw UnsupportedError(fmt::format("{}: {} is read-only here (write through davs:// or dav:// instead)",
                                       location.str(), scheme_name(location.scheme())));
}

}  // namespace

// ---- ResourcePath

ResourcePath::ResourcePath(const fs::path& local) : scheme_(Scheme::kFile), local_(fs::absolute(local).lexically_normal()) {}

bool ResourcePath::looks_like_uri(std::string_view text) {
  const auto colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

ResourcePath ResourcePath::parse(std::string_view text) {
  if (!looks_like_uri(text)) {
    if (text.empty()) throw InvalidArgumentError("an empty path names no file");
    return ResourcePath(fs::path(text));
  }
  const auto sep = text.find("://");
  std::string scheme_text(text.substr(0, sep));
  std::transform(scheme_text.begin(), scheme_text.end(), scheme_text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto known = std::find_if(kSchemes.begin(), kSchemes.end(), [&](const SchemeName& k) { return k.name == scheme_text; });
  if (known == kSchemes.end())
    throw InvalidArgumentError(fmt::format("'{}': unsupported URI scheme '{}' (use file://, davs://, dav://, https:// "
                                           "or http://)",
                                           text, scheme_text));
  if (known->scheme == Scheme::kFile) return ResourcePath(path_from_file_uri(text));
  std::string_view rest = text.substr(sep + 3);
  if (const auto cut = rest.find_first_of("?#"); cut != std::string_view::npos)
    throw InvalidArgumentError(fmt::format("'{}': a query or fragment is not part of a file's location", text));
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos)
    throw InvalidArgumentError(fmt::format("'{}://…': credentials in a URL are refused (they would be logged and "
                                           "stored); put them in ~/.netrc (mode 600) or LSST_HTTP_AUTH_* instead",
                                           scheme_text));
  if (authority.empty()) throw InvalidArgumentError(fmt::format("'{}': the URL names no host", text));
  ResourcePath out;
  out.scheme_ = known->scheme;
  out.authority_ = std::string(authority);
  std::transform(out.authority_.begin(), out.authority_.end(), out.authority_.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // One spelling per place: the scheme's default port is left out.
  const bool tls = out.scheme_ == Scheme::kDavs || out.scheme_ == Scheme::kHttps;
  if (out.authority_.ends_with(tls ? ":443" : ":80")) out.authority_.resize(out.authority_.size() - (tls ? 4 : 3));
  const std::string decoded = slash == std::string_view::npos ? "/" : decode_path(rest.substr(slash), text);
  out.path_ = join_path("/", decoded);
  if (decoded.size() > 1 && decoded.ends_with('/') && !out.path_.ends_with('/')) out.path_ += '/';
  return out;
}

std::string ResourcePath::uri() const {
  if (is_local()) return file_uri(local_);
  return fmt::format("{}://{}{}", scheme_name(scheme_), authority_, detail::percent_encode(path_));
}

std::string ResourcePath::http_url() const {
  const bool tls = scheme_ == Scheme::kDavs || scheme_ == Scheme::kHttps;
  return fmt::format("{}://{}{}", tls ? "https" : "http", authority_, detail::percent_encode(path_));
}

std::string ResourcePath::str() const { return is_local() ? local_.string() : uri(); }

std::string ResourcePath::name() const {
  if (is_local()) return local_.filename().string();
  if (path_.ends_with('/')) return "";
  return path_.substr(path_.rfind('/') + 1);
}

ResourcePath ResourcePath::join(std::string_view relative) const {
  if (is_local()) return ResourcePath(local_ / fs::path(relative));
  ResourcePath out = *this;
  std::string base = path_.ends_with('/') ? path_ : path_ + "/";
  out.path_ = join_path(base, relative);
  return out;
}

ResourcePath ResourcePath::parent() const {
  if (is_local()) return ResourcePath(local_.parent_path());
  ResourcePath out = *this;
  std::string p = path_;
  if (p.size() > 1 && p.ends_with('/')) p.pop_back();
  const auto cut = p.rfind('/');
  out.path_ = cut == 0 || cut == std::string::npos ? "/" : p.substr(0, cut + 1);
  return out;
}

std::optional<std::string> ResourcePath::relative_to(const ResourcePath& folder) const {
  if (scheme_ != folder.scheme_) return std::nullopt;
  if (is_local()) {
    const auto rel = local_.lexically_relative(folder.local_);
    if (rel.empty() || rel == "." || *rel.begin() == "..") return std::nullopt;
    return rel.generic_string();
  }
  if (authority_ != folder.authority_) return std::nullopt;
  const std::string base = folder.path_.ends_with('/') ? folder.path_ : folder.path_ + "/";
  if (path_.size() <= base.size() || path_.compare(0, base.size(), base) != 0) return std::nullopt;
  return path_.substr(base.size());
}

// ---- operations

bool is_remote_uri(std::string_view text) {
  if (!ResourcePath::looks_like_uri(text)) return false;
  const auto scheme = text.substr(0, text.find("://"));
  return !(scheme.size() == 4 && std::tolower(static_cast<unsigned char>(scheme[0])) == 'f' &&
           std::tolower(static_cast<unsigned char>(scheme[1])) == 'i' &&
           std::tolower(static_cast<unsigned char>(scheme[2])) == 'l' &&
           std::tolower(static_cast<unsigned char>(scheme[3])) == 'e');
}

ResourceInfo stat_resource(const ResourcePath& location) {
  if (location.is_local()) {
    std::error_code ec;
    const auto st = fs::status(location.local_path(), ec);
    if (ec || !fs::exists(st)) return {};
    ResourceInfo info{true, fs::is_directory(st), 0};
    if (!info.is_directory) info.size = static_cast<std::int64_t>(fs::file_size(location.local_path(), ec));
    return info;
  }
  const auto h = webdav::head(location.http_url());
  if (!h) return {};
  return {true, h->is_directory, h->size};
}

std::string read_resource(const ResourcePath& location) {
  if (location.is_remote()) return webdav::get(location.http_url());
  std::ifstream in(location.local_path(), std::ios::binary);
  if (!in) {
    if (!fs::exists(location.local_path())) throw NotFoundError(fmt::format("{}: no such file", location.str()));
    throw IoError(fmt::format("{}: cannot be read: {}", location.str(), std::strerror(errno)));
  }
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw IoError(fmt::format("{}: read failed", location.str()));
  return out;
}

std::string read_resource_range(const ResourcePath& location, std::int64_t offset, std::size_t length) {
  if (location.is_remote()) return webdav::get_range(location.http_url(), offset, length);
  std::ifstream in(location.local_path(), std::ios::binary);
  if (!in) {
    if (!fs::exists(location.local_path())) throw NotFoundError(fmt::format("{}: no such file", location.str()));
    throw IoError(fmt::format("{}: cannot be read: {}", location.str(), std::strerror(errno)));
  }
  in.seekg(offset);
  std::string out(length, '\0');
  in.read(out.data(), static_cast<std::streamsize>(length));
  out.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
  return out;
}

void download_resource(const ResourcePath& location, const fs::path& destination) {
  if (location.is_remote()) return webdav::get_to_file(location.http_url(), destination);
  std::error_code ec;
  fs::copy_file(location.local_path(), destination, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    if (!fs::exists(location.local_path())) throw NotFoundError(fmt::format("{}: no such file", location.str()));
    throw IoError(fmt::format("copying {} to {}: {}", location.str(), destination.string(), ec.message()));
  }
}

namespace {

// PUT under a temporary name beside `destination`, then MOVE into place; the temporary is
// removed again if anything fails.
template <typename Put>
void remote_place(const ResourcePath& temporary, const ResourcePath& destination, Overwrite overwrite, Put put,
                  const UploadSteps& steps = {}) {
  check_writable(destination);
  if (destination.name().empty())
    throw InvalidArgumentError(fmt::format("{}: names a folder, not a file", destination.str()));
  if (const int err = io_fault(IoStep::kWrite))
    throw IoError(fmt::format("writing {}: {} (injected I/O fault)", temporary.str(), std::strerror(err)));
  bool put_done = false;
  try {
    put(temporary.http_url());  // a PUT whose answer was lost may still have made it
    put_done = true;
    if (steps.after_put) steps.after_put();
    if (const int err = io_fault(IoStep::kRename))
      throw IoError(fmt::format("moving {} into place: {} (injected I/O fault)", destination.str(), std::strerror(err)));
    webdav::move(temporary.http_url(), destination.http_url(), overwrite == Overwrite::kReplace);
  } catch (...) {
    try {
      if (put_done && steps.before_discard) steps.before_discard();
      webdav::remove(temporary.http_url());
    } catch (const std::exception&) {  // the first error is the one to report
    }
    throw;
  }
}

}  // namespace

void upload_resource(const fs::path& source, const ResourcePath& destination, Overwrite overwrite) {
  if (destination.is_local()) {
    TransferOptions options;
    options.overwrite = overwrite;
    transfer_file(source, destination.local_path(), TransferMode::kCopy, options);
    return;
  }
  remote_place(temporary_for(destination), destination, overwrite,
               [&](const std::string& url) { webdav::put_file(url, source); });
}

ResourcePath temporary_for(const ResourcePath& destination) {
  return destination.parent().join(temporary_name(destination.name()));
}

void upload_resource_via(const fs::path& source, const ResourcePath& temporary, const ResourcePath& destination,
                         const UploadSteps& steps, Overwrite overwrite) {
  if (!destination.is_remote() || !temporary.is_remote())
    throw InternalError("upload_resource_via is for files on a server");
  remote_place(
      temporary, destination, overwrite, [&](const std::string& url) { webdav::put_file(url, source); }, steps);
}

void write_resource(std::string_view bytes, const ResourcePath& destination, Overwrite overwrite) {
  if (destination.is_local()) {
    atomic_write(destination.local_path(), bytes, {overwrite, {}});
    return;
  }
  remote_place(temporary_for(destination), destination, overwrite,
               [&](const std::string& url) { webdav::put_bytes(url, bytes); });
}

bool remove_resource(const ResourcePath& location) {
  if (location.is_remote()) {
    check_writable(location);
    if (const int err = io_fault(IoStep::kRemove))
      throw IoError(fmt::format("removing {}: {} (injected I/O fault)", location.str(), std::strerror(err)));
    const auto head = webdav::head(location.http_url());
    if (!head) return false;
    if (head->is_directory) {
      spdlog::warn("not removing {}: it is a folder now, not a file", location.str());
      return false;
    }
    return webdav::remove(location.http_url());
  }
  std::error_code ec;
  if (const int err = io_fault(IoStep::kRemove)) ec = std::error_code(err, std::generic_category());
  const bool removed = !ec && fs::remove(location.local_path(), ec);
  if (ec) throw IoError(fmt::format("removing {}: {}", location.str(), ec.message()));
  return removed;
}

std::vector<ResourceEntry> list_resource_files(const ResourcePath& folder) {
  std::vector<ResourceEntry> out;
  if (folder.is_local()) {
    std::error_code ec;
    if (!fs::is_directory(folder.local_path(), ec))
      throw NotFoundError(fmt::format("{}: no such folder", folder.str()));
    for (auto it = fs::recursive_directory_iterator(folder.local_path(), fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec)) continue;
      out.push_back({ResourcePath(it->path()), static_cast<std::int64_t>(it->file_size(ec))});
    }
    if (ec) throw IoError(fmt::format("listing {}: {}", folder.str(), ec.message()));
  } else {
    const ResourcePath top = folder.path().ends_with('/') ? folder : folder.join("./");
    std::vector<ResourcePath> pending{top};
    std::set<std::string> visited{top.path()};
    bool first = true;
    while (!pending.empty()) {
      const ResourcePath dir = pending.back();
      pending.pop_back();
      std::vector<DavEntry> entries;
      try {
        entries = webdav::list(dir.http_url());
      } catch (const NotFoundError&) {
        if (first) throw NotFoundError(fmt::format("{}: no such folder", folder.str()));
        continue;  // removed while we walked
      }
      first = false;
      for (const auto& e : entries) {
        const ResourcePath p = dir.join(e.path);  // an absolute server path replaces the folder's
        // Only what lies below the folder being listed (not the folder itself under another
        // spelling, nor anything a server names elsewhere); each folder once.
        if (!p.relative_to(dir)) continue;
        if (e.is_directory) {
          if (visited.insert(p.path()).second) pending.push_back(p);
        } else {
          out.push_back({p, e.size});
        }
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const ResourceEntry& a, const ResourceEntry& b) { return a.path < b.path; });
  return out;
}

LocalCopy::LocalCopy(const ResourcePath& location) {
  if (location.is_local()) {
    path_ = location.local_path();
    return;
  }
  const std::string name = location.name();
  const auto dot = name.find('.');
  path_ = fs::temp_directory_path() / fmt::format("majordome-{}{}", temporary_name("copy").substr(1),
                                                  dot == std::string::npos ? "" : name.substr(dot));
  temporary_ = true;
  try {
    download_resource(location, path_);
  } catch (...) {
    std::error_code ec;
    fs::remove(path_, ec);
    throw;
  }
}

LocalCopy::~LocalCopy() {
  if (!temporary_) return;
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace majordome::datastore
