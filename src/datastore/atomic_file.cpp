#include "majordome/datastore/atomic_file.hpp"

#include "majordome/core/error.hpp"
#include "posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <ctime>
#include <system_error>

namespace majordome::datastore {

AtomicFile::AtomicFile(std::filesystem::path destination, WriteOptions options)
    : destination_(detail::absolute_normal(destination)), options_(std::move(options)) {
  if (!destination_.has_filename() || !destination_.has_relative_path()) {
    throw InvalidArgumentError(fmt::format("'{}' is not a file path", destination.string()));
  }
  detail::make_directories(destination_.parent_path());
  temporary_ = detail::temporary_path_for(destination_);
}

AtomicFile::~AtomicFile() {
  if (!committed_) ::unlink(temporary_.c_str());
}

void AtomicFile::commit() {
  // The caller's writer (cfitsio, a formatter) wrote the bytes without our primitives: its
  // write is the step a failing disk makes fail, leaving a partial temporary behind.
  if (written_by_caller_) {
    if (int err = io_fault(IoStep::kWrite)) detail::throw_injected(err, "write", temporary_);
  }
  int fd = ::open(temporary_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      throw IoError(fmt::format("nothing was written for '{}' (temporary '{}' does not exist)", destination_.string(),
                                temporary_.string()));
    }
    detail::throw_io_error(err, "open", temporary_);
  }
  detail::FileDescriptor file(fd);
  // fsync applies to the file, whichever descriptor wrote it.
  detail::sync_file(file.get(), temporary_);
  file.close(temporary_);
  if (options_.before_place) options_.before_place(temporary_);
  detail::place(temporary_, destination_, options_.overwrite);
  committed_ = true;
  detail::sync_directory(destination_.parent_path());
}

void atomic_write(const std::filesystem::path& path, std::string_view bytes, WriteOptions options) {
  AtomicFile file(path, std::move(options));
  file.written_by_caller_ = false;  // write_all() below is the write step
  int fd = ::open(file.temporary_path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) detail::throw_io_error(errno, "create", file.temporary_path());
  detail::FileDescriptor out(fd);
  detail::write_all(out.get(), bytes, file.temporary_path());
  out.close(file.temporary_path());
  file.commit();
}

bool is_temporary_name(std::string_view file_name) {
  constexpr std::string_view kMarker = ".tmp-";
  constexpr std::size_t kHexDigits = 16;
  if (file_name.size() < 1 + 1 + kMarker.size() + kHexDigits || file_name[0] != '.') return false;
  std::string_view hex = file_name.substr(file_name.size() - kHexDigits);
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return file_name.substr(file_name.size() - kHexDigits - kMarker.size(), kMarker.size()) == kMarker;
}

std::size_t cleanup_temporaries(const std::filesystem::path& directory, std::chrono::seconds min_age) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it(directory, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return 0;
    throw IoError(fmt::format("cannot list '{}': {}", directory.string(), ec.message()));
  }
  const std::time_t now = std::time(nullptr);
  std::size_t removed = 0;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw IoError(fmt::format("cannot list '{}': {}", directory.string(), ec.message()));
    const fs::path& path = it->path();
    if (!is_temporary_name(path.filename().string())) continue;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    // ctime, not mtime: a hard-linked temporary keeps its source's old mtime.
    if (now - st.st_ctim.tv_sec < min_age.count()) continue;
    if (::unlink(path.c_str()) == 0) {
      ++removed;
    } else if (errno != ENOENT) {
      detail::throw_io_error(errno, "remove temporary", path);
    }
  }
  if (ec) throw IoError(fmt::format("cannot list '{}': {}", directory.string(), ec.message()));
  return removed;
}

}  // namespace majordome::datastore
