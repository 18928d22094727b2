#include "majordome/datastore/webdav.hpp"

#include "majordome/core/error.hpp"
#include <spdlog/spdlog.h>
#include "majordome/core/redact.hpp"
#include "percent_encoding.hpp"

#include <curl/curl.h>
#include <pugixml.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace majordome::datastore {
namespace fs = std::filesystem;

// ---- settings

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// A credential file must be readable by its owner only (as ssh and Rubin's resources layer
// require): refused, naming the file and the fix, when group or others can read it.
void check_private(const fs::path& file, std::string_view what) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    throw InvalidConfigError(fmt::format("{}: {} does not exist or cannot be read", file.string(), what));
  if ((st.st_mode & 077) != 0)
    throw PermissionDeniedError(fmt::format("{}: {} is readable by others (mode {:o}); run `chmod 600 {}`",
                                            file.string(), what, st.st_mode & 0777, file.string()));
}

long env_seconds(const char* name, long fallback) {
  const std::string v = env(name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || s <= 0)
    throw InvalidConfigError(fmt::format("{}={}: not a positive number of seconds", name, v));
  return std::max(1L, static_cast<long>(s));
}

std::mutex g_settings_mutex;
std::shared_ptr<const HttpSettings> g_settings;

std::shared_ptr<const HttpSettings> current_settings() {
  std::lock_guard lock(g_settings_mutex);
  if (!g_settings) g_settings = std::make_shared<const HttpSettings>(HttpSettings::from_environment());
  return g_settings;
}

}  // namespace

HttpSettings HttpSettings::from_environment() {
  HttpSettings s;
  if (std::string token = env("LSST_HTTP_AUTH_BEARER_TOKEN"); !token.empty()) {
    std::error_code ec;
    if (fs::is_regular_file(token, ec)) {
      check_private(token, "the bearer-token file (LSST_HTTP_AUTH_BEARER_TOKEN)");
      std::ifstream in(token);
      std::getline(in, s.bearer_token);
      while (!s.bearer_token.empty() && std::isspace(static_cast<unsigned char>(s.bearer_token.back())))
        s.bearer_token.pop_back();
      if (s.bearer_token.empty())
        throw InvalidConfigError(fmt::format("{}: the bearer-token file (LSST_HTTP_AUTH_BEARER_TOKEN) is empty", token));
    } else {
      s.bearer_token = token;
    }
  }
  const std::string cert = env("LSST_HTTP_AUTH_CLIENT_CERT"), key = env("LSST_HTTP_AUTH_CLIENT_KEY");
  if (!cert.empty() || !key.empty()) {
    if (cert.empty() || key.empty())
      throw InvalidConfigError("LSST_HTTP_AUTH_CLIENT_CERT and LSST_HTTP_AUTH_CLIENT_KEY go together (for an X.509 "
                               "proxy, set both to the proxy file)");
    if (!fs::exists(cert))
      throw InvalidConfigError(fmt::format("{}: the client certificate (LSST_HTTP_AUTH_CLIENT_CERT) does not exist", cert));
    check_private(key, "the client key (LSST_HTTP_AUTH_CLIENT_KEY)");
    s.client_cert = cert;
    s.client_key = key;
  }
  if (std::string ca = env("LSST_HTTP_CACERT_BUNDLE"); !ca.empty()) {
    if (!fs::exists(ca))
      throw InvalidConfigError(fmt::format("{}: the CA certificates (LSST_HTTP_CACERT_BUNDLE) do not exist", ca));
    s.ca_bundle = ca;
  }
  fs::path netrc = env("NETRC");
  if (netrc.empty() && !env("HOME").empty()) netrc = fs::path(env("HOME")) / ".netrc";
  if (!netrc.empty() && fs::exists(netrc)) {
    check_private(netrc, "the .netrc file");
    s.netrc = netrc;
  }
  s.connect_timeout_s = env_seconds("LSST_HTTP_TIMEOUT_CONNECT", s.connect_timeout_s);
  s.read_timeout_s = env_seconds("LSST_HTTP_TIMEOUT_READ", s.read_timeout_s);
  if (std::string r = env("MAJORDOME_HTTP_RETRIES"); !r.empty()) {
    char* end = nullptr;
    const long n = std::strtol(r.c_str(), &end, 10);
    if (end == r.c_str() || *end != '\0' || n < 0 || n > 20)
      throw InvalidConfigError(fmt::format("MAJORDOME_HTTP_RETRIES={}: give a number of retries from 0 to 20", r));
    s.retries = static_cast<int>(n);
  }
  return s;
}

HttpSettings http_settings() { return *current_settings(); }

void set_http_settings(HttpSettings settings) {
  std::lock_guard lock(g_settings_mutex);
  g_settings = std::make_shared<const HttpSettings>(std::move(settings));
}

// ---- libcurl plumbing

namespace {

std::atomic<std::uint64_t> g_requests{0}, g_retries{0}, g_received{0}, g_sent{0};

CURLSH* g_share = nullptr;
std::array<std::mutex, CURL_LOCK_DATA_LAST> g_share_locks;

void share_lock(CURL*, curl_lock_data data, curl_lock_access, void*) { g_share_locks[data].lock(); }
void share_unlock(CURL*, curl_lock_data data, void*) { g_share_locks[data].unlock(); }

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_share = curl_share_init();
    curl_share_setopt(g_share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(g_share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    // Only DNS answers: libcurl does not support sharing connections (nor, in later
    // versions, TLS sessions) between threads that use them at once. Each thread's handle
    // keeps its own connections open instead.
    curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  });
}

// One easy handle per thread: reset before each request; its connections stay open in it.
CURL* thread_handle() {
  struct Holder {
    CURL* curl = nullptr;
    ~Holder() {
      if (curl) curl_easy_cleanup(curl);
    }
  };
  thread_local Holder holder;
  global_init();
  if (!holder.curl) holder.curl = curl_easy_init();
  if (!holder.curl) throw IoError("libcurl could not make a handle (out of memory?)");
  curl_easy_reset(holder.curl);
  return holder.curl;
}

struct Request {
  std::string method;
  std::string url;
  std::vector<std::string> headers;
  // Body: bytes, or a local file.
  std::string_view body;
  const fs::path* upload = nullptr;
  bool has_body = false;
  // Where the response body goes: a string, a local file, or nowhere.
  std::string* into = nullptr;
  const fs::path* download = nullptr;
  std::optional<std::pair<std::int64_t, std::size_t>> range;
};

struct Response {
  long status = 0;
  bool retried = false;  // an earlier attempt of this request may have reached the server
  std::int64_t content_length = -1;  // from the response's header, -1 if none
  std::int64_t received = 0;
};

struct Transfer {
  const Request* request = nullptr;
  std::string* into = nullptr;
  std::FILE* out = nullptr;
  std::FILE* in = nullptr;
  std::size_t body_offset = 0;
  std::int64_t received = 0;
  std::size_t limit = SIZE_MAX;  // a ranged read that the server answered with the whole file
};

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t bytes = size * n;
  t->received += static_cast<std::int64_t>(bytes);
  if (t->out) return std::fwrite(data, 1, bytes, t->out);
  if (t->into) {
    if (t->into->size() >= t->limit) return 0;  // enough: abort the transfer
    t->into->append(data, std::min(bytes, t->limit - t->into->size()));
  }
  return bytes;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t room = size * n;
  std::size_t got = 0;
  if (t->in) {
    got = std::fread(buffer, 1, room, t->in);
    if (got == 0 && std::ferror(t->in)) return CURL_READFUNC_ABORT;
  } else {
    got = std::min(room, t->request->body.size() - t->body_offset);
    std::memcpy(buffer, t->request->body.data() + t->body_offset, got);
    t->body_offset += got;
  }
  g_sent += got;
  return got;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  if (t->in) return std::fseek(t->in, static_cast<long>(offset), SEEK_SET) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
  if (static_cast<std::size_t>(offset) > t->request->body.size()) return CURL_SEEKFUNC_FAIL;
  t->body_offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool transient_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool transient_status(long status) {
  return status == 429 || (status >= 500 && status != 501 && status != 505 && status != 507);
}

// Runs `request`, retrying what may pass. Returns the final response whatever its status;
// throws IoError when no response came (or only transient failures, all attempts spent).
Response perform(const Request& request) {
  const auto settings = current_settings();
  const std::string shown = redact_url(request.url);
  std::string last_problem;
  const int attempts = 1 + settings->retries;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      ++g_retries;
      const double wait = std::min(8.0, settings->first_backoff_s * static_cast<double>(1 << (attempt - 1)));
      spdlog::warn("{} {}: {}; retrying in {:.2g} s ({} of {})", request.method, shown, last_problem, wait, attempt,
                settings->retries);
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
    ++g_requests;
    CURL* curl = thread_handle();
    Transfer t;
    t.request = &request;
    t.into = request.into;
    if (t.into) t.into->clear();
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(nullptr, std::fclose), in(nullptr, std::fclose);
    if (request.download) {
      out.reset(std::fopen(request.download->c_str(), "wb"));
      if (!out) throw IoError(fmt::format("{}: cannot be written: {}", request.download->string(), std::strerror(errno)));
      t.out = out.get();
    }
    if (request.upload) {
      in.reset(std::fopen(request.upload->c_str(), "rb"));
      if (!in) throw IoError(fmt::format("{}: cannot be read: {}", request.upload->string(), std::strerror(errno)));
      t.in = in.get();
    }
    char errors[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl, CURLOPT_SHARE, g_share);
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errors);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    const bool tls = request.url.rfind("https://", 0) == 0;
    // A TLS server may redirect only to TLS; credentials never travel in clear text.
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, tls ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, settings->connect_timeout_s);
    // A transfer that stalls (under 1 byte/s) for the read timeout is given up.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, settings->read_timeout_s);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    if (!settings->ca_bundle.empty()) {
      if (fs::is_directory(settings->ca_bundle))
        curl_easy_setopt(curl, CURLOPT_CAPATH, settings->ca_bundle.c_str());
      else
        curl_easy_setopt(curl, CURLOPT_CAINFO, settings->ca_bundle.c_str());
    }
    if (!settings->client_cert.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, settings->client_cert.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, settings->client_key.c_str());
    }
    if (tls && !settings->netrc.empty()) {
      curl_easy_setopt(curl, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
      curl_easy_setopt(curl, CURLOPT_NETRC_FILE, settings->netrc.c_str());
    }
    struct curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    if (request.method == "PUT") headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    const std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_guard(headers, curl_slist_free_all);
    if (tls && !settings->bearer_token.empty()) {
      // libcurl sends it to this host only, never to another one a redirect names.
      curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
      curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, settings->bearer_token.c_str());
    }
    if (request.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method == "PUT") {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(curl, CURLOPT_READDATA, &t);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
      curl_off_t size = static_cast<curl_off_t>(request.body.size());
      if (request.upload) size = static_cast<curl_off_t>(fs::file_size(*request.upload));
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
    } else if (request.method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (request.has_body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      }
    }
    std::string range_text;
    if (request.range) {
      range_text = fmt::format("{}-{}", request.range->first,
                               request.range->first + static_cast<std::int64_t>(request.range->second) - 1);
      curl_easy_setopt(curl, CURLOPT_RANGE, range_text.c_str());
      t.limit = request.range->second;
    }
    if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    const CURLcode code = curl_easy_perform(curl);
    // The handle outlives this attempt's buffer and header list: forget them now.
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    g_received += static_cast<std::uint64_t>(t.received);
    Response response;
    response.retried = attempt > 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_off_t length = -1;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    response.content_length = length;
    response.received = t.received;
    if (out && std::fflush(out.get()) != 0)
      throw IoError(fmt::format("{}: cannot be written: {}", request.download->string(), std::strerror(errno)));
    const bool cut_short = code == CURLE_WRITE_ERROR && t.into && t.into->size() >= t.limit;  // our own abort
    if (code != CURLE_OK && !cut_short) {
      const std::string reason = errors[0] ? std::string(errors) : std::string(curl_easy_strerror(code));
      if (code == CURLE_WRITE_ERROR && request.download)
        throw IoError(fmt::format("{} {}: writing {} failed ({})", request.method, shown, request.download->string(),
                                  reason));
      if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
        throw IoError(fmt::format("{} {}: the server's certificate is not accepted ({}): if it is signed by a CA this "
                                  "machine does not know, point LSST_HTTP_CACERT_BUNDLE at that CA's certificate; if "
                                  "it names another host, use the host it names",
                                  request.method, shown, reason));
      if (code == CURLE_SSL_CONNECT_ERROR)
        throw IoError(fmt::format("{} {}: the TLS connection failed ({}): is the port a TLS one (davs://, https://), "
                                  "and does the server accept the client certificate (LSST_HTTP_AUTH_CLIENT_CERT)?",
                                  request.method, shown, reason));
      if (!transient_curl_error(code))
        throw IoError(fmt::format("{} {}: {}", request.method, shown, reason));
      last_problem = reason;
      continue;
    }
    if (transient_status(response.status)) {
      last_problem = fmt::format("HTTP {}", response.status);
      continue;
    }
    if (request.download && response.status / 100 == 2 && response.content_length >= 0 &&
        response.received != response.content_length) {
      last_problem = fmt::format("received {} of {} bytes", response.received, response.content_length);
      continue;
    }
    return response;
  }
  throw IoError(fmt::format("{} {}: {} (gave up after {} attempts; set MAJORDOME_HTTP_RETRIES to try longer)",
                            request.method, shown, last_problem, attempts));
}

// The error for a status the caller does not expect.
[[noreturn]] void fail(const Request& request, const Response& response) {
  const std::string shown = redact_url(request.url);
  switch (response.status) {
    case 401:
      throw PermissionDeniedError(fmt::format(
          "{} {}: 401 Unauthorized: the server wants credentials it did not get or refused (set "
          "LSST_HTTP_AUTH_BEARER_TOKEN, LSST_HTTP_AUTH_CLIENT_CERT and _KEY, or a ~/.netrc entry){}",
          request.method, shown,
          request.url.rfind("https://", 0) == 0 ? "" : "; credentials are sent over TLS only: use davs:// or https://"));
    case 403:
      throw PermissionDeniedError(fmt::format("{} {}: 403 Forbidden: the server does not allow this here (a read-only "
                                              "share, or credentials without that right)",
                                              request.method, shown));
    case 404:
      throw NotFoundError(fmt::format("{} {}: 404 Not Found", request.method, shown));
    case 405:
      throw UnsupportedError(fmt::format("{} {}: 405 Method Not Allowed: the server does not offer {} here (is it a "
                                         "WebDAV server?)",
                                         request.method, shown, request.method));
    case 412:
      throw ConflictError(fmt::format("{} {}: 412 Precondition Failed: the destination exists already", request.method,
                                      shown));
    case 507:
      throw IoError(fmt::format("{} {}: 507 Insufficient Storage: the server is full", request.method, shown));
    default:
      throw IoError(fmt::format("{} {}: HTTP {}", request.method, shown, response.status));
  }
}

Response run(const Request& request, std::initializer_list<long> ok) {
  Response response = perform(request);
  for (long s : ok)
    if (response.status == s) return response;
  fail(request, response);
}

// A server's href, decoded; one with a malformed escape is taken as written.
std::string decode(std::string_view s) { return detail::percent_decode(s).value_or(std::string(s)); }

// "https://host:port/a/b" → ("https://host:port", "/a/b").
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path_start == std::string::npos) return {url, "/"};
  return {url.substr(0, path_start), url.substr(path_start)};
}

std::string_view local_name(const char* name) {
  std::string_view n(name);
  const auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node child_named(pugi::xml_node node, std::string_view name) {
  for (auto c : node.children())
    if (local_name(c.name()) == name) return c;
  return {};
}

constexpr std::string_view kPropfindBody =
    R"(<?xml version="1.0" encoding="utf-8"?>)"
    R"(<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/></D:prop></D:propfind>)";

std::vector<DavEntry> propfind(const std::string& url, int depth) {
  std::string body;
  Request r{"PROPFIND", url, {fmt::format("Depth: {}", depth), "Content-Type: application/xml; charset=utf-8"}};
  r.body = kPropfindBody;
  r.has_body = true;
  r.into = &body;
  run(r, {207});
  return webdav::parse_multistatus(body, url);
}

// Makes every missing collection above `url` (for servers whose PUT does not).
void make_parents(const std::string& url) {
  auto [base, path] = split_url(url);
  std::size_t pos = 1;
  while ((pos = path.find('/', pos)) != std::string::npos) {
    Request r{"MKCOL", base + path.substr(0, pos + 1)};
    // 201 made; 405 exists already; 301 a redirect to the folder's name with a '/'.
    run(r, {200, 201, 204, 301, 405});
    ++pos;
  }
}

}  // namespace

HttpCounters http_counters() { return {g_requests.load(), g_retries.load(), g_received.load(), g_sent.load()}; }

namespace webdav {

std::vector<DavEntry> parse_multistatus(std::string_view body, const std::string& url) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed)
    throw CorruptFileError(fmt::format("PROPFIND {}: the server's answer is not XML ({})", redact_url(url),
                                       parsed.description()));
  pugi::xml_node root = doc.document_element();
  if (local_name(root.name()) != "multistatus")
    throw CorruptFileError(fmt::format("PROPFIND {}: the server's answer is not a DAV multistatus", redact_url(url)));
  std::vector<DavEntry> out;
  for (auto response : root.children()) {
    if (local_name(response.name()) != "response") continue;
    std::string href = child_named(response, "href").text().as_string();
    if (href.empty()) continue;
    if (href.find("://") != std::string::npos) href = split_url(href).second;
    DavEntry entry;
    entry.path = decode(href);
    for (auto propstat : response.children()) {
      if (local_name(propstat.name()) != "propstat") continue;
      const std::string status = child_named(propstat, "status").text().as_string();
      if (status.find(" 200") == std::string::npos) continue;
      const auto prop = child_named(propstat, "prop");
      if (child_named(child_named(prop, "resourcetype"), "collection")) entry.is_directory = true;
      if (auto length = child_named(prop, "getcontentlength")) entry.size = length.text().as_llong();
    }
    if (entry.is_directory && !entry.path.ends_with('/')) entry.path += '/';
    out.push_back(std::move(entry));
  }
  return out;
}

std::optional<Head> head(const std::string& url) {
  Request r{"PROPFIND", url, {"Depth: 0", "Content-Type: application/xml; charset=utf-8"}};
  std::string body;
  r.body = kPropfindBody;
  r.has_body = true;
  r.into = &body;
  Response response = perform(r);
  if (response.status == 404) return std::nullopt;
  if (response.status == 207) {
    const auto entries = parse_multistatus(body, url);
    if (entries.empty()) return std::nullopt;
    return Head{entries.front().size, entries.front().is_directory};
  }
  if (response.status != 400 && response.status != 403 && response.status != 405 && response.status != 501)
    fail(r, response);
  // Not a WebDAV server (https:// sources), or not one that lists here: a HEAD tells the size
  // of a file (and its own error is the one to report).
  Request h{"HEAD", url};
  response = perform(h);
  if (response.status == 404) return std::nullopt;
  if (response.status / 100 != 2) fail(h, response);
  return Head{std::max<std::int64_t>(0, response.content_length), false};
}

std::string get(const std::string& url) {
  std::string body;
  Request r{"GET", url};
  r.into = &body;
  const Response response = run(r, {200});
  if (response.content_length >= 0 && static_cast<std::int64_t>(body.size()) != response.content_length)
    throw IoError(fmt::format("GET {}: received {} of {} bytes", redact_url(url), body.size(), response.content_length));
  return body;
}

std::string get_range(const std::string& url, std::int64_t offset, std::size_t length) {
  if (length == 0) return {};
  std::string body;
  Request r{"GET", url};
  r.into = &body;
  r.range = std::make_pair(offset, length);
  const Response response = perform(r);
  if (response.status == 416) return {};  // the range starts past the end
  if (response.status == 206) return body;
  if (response.status == 200) {
    // The server ignored the range and sent the file from its start (we stopped it there).
    if (offset == 0) return body;
    // Past the start, the file streams into a temporary file (never into memory).
    char name[] = "/tmp/majordome-range-XXXXXX";
    const int fd = ::mkstemp(name);
    if (fd < 0) throw IoError(fmt::format("GET {}: cannot make a temporary file: {}", redact_url(url), std::strerror(errno)));
    ::close(fd);
    const fs::path temporary(name);
    struct Remove {
      fs::path p;
      ~Remove() {
        std::error_code ec;
        fs::remove(p, ec);
      }
    } remove_it{temporary};
    get_to_file(url, temporary);
    std::ifstream in(temporary, std::ios::binary);
    in.seekg(offset);
    std::string out(length, '\0');
    in.read(out.data(), static_cast<std::streamsize>(length));
    out.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
    return out;
  }
  fail(r, response);
}

void get_to_file(const std::string& url, const fs::path& destination) {
  Request r{"GET", url};
  r.download = &destination;
  run(r, {200});
}

namespace {

void put(Request& r) {
  Response response = perform(r);
  if (response.status == 409) {  // a parent collection is missing
    make_parents(r.url);
    response = perform(r);
  }
  if (response.status != 200 && response.status != 201 && response.status != 204) fail(r, response);
}

}  // namespace

void put_file(const std::string& url, const fs::path& source) {
  Request r{"PUT", url};
  r.upload = &source;
  put(r);
}

void put_bytes(const std::string& url, std::string_view bytes) {
  Request r{"PUT", url};
  r.body = bytes;
  r.has_body = true;
  put(r);
}

void move(const std::string& from, const std::string& to, bool overwrite) {
  Request r{"MOVE", from, {"Destination: " + to, overwrite ? "Overwrite: T" : "Overwrite: F"}};
  Response response = perform(r);
  if (response.status == 409) {
    make_parents(to);
    response = perform(r);
  }
  if (response.status == 201 || response.status == 204) return;
  // MOVE is not idempotent: when an attempt whose answer was lost did move the file, the
  // retry finds no source (404) or, without overwrite, the destination (412).
  if (response.retried && (response.status == 404 || response.status == 412) && !head(from) && head(to)) return;
  fail(r, response);
}

bool remove(const std::string& url) {
  Request r{"DELETE", url};
  const Response response = run(r, {200, 202, 204, 404});
  // A 404 after a retry: the attempt whose answer was lost removed it.
  return response.status != 404 || response.retried;
}

std::vector<DavEntry> list(const std::string& url) {
  auto entries = propfind(url, 1);
  std::string self = decode(split_url(url).second);
  if (!self.ends_with('/')) self += '/';
  std::erase_if(entries, [&](const DavEntry& e) {
    std::string p = e.path;
    if (!p.ends_with('/')) p += '/';
    return p == self;
  });
  return entries;
}

}  // namespace webdav
}  // namespace majordome::datastore
