#include "majordome/datastore/transfer.hpp"

#include "majordome/core/error.hpp"
#include "percent_encoding.hpp"
#include "posix_file.hpp"
#include "staging.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <utility>

namespace majordome::datastore {
namespace {

namespace fs = std::filesystem;
using detail::FileDescriptor;

struct ModeName {
  TransferMode mode;
  std::string_view name;
};

// The CLI names, in the order `butler --help` lists them.
constexpr std::array<ModeName, 9> kModeNames{{
    {TransferMode::kAuto, "auto"},
    {TransferMode::kLink, "link"},
    {TransferMode::kSymlink, "symlink"},
    {TransferMode::kHardlink, "hardlink"},
    {TransferMode::kCopy, "copy"},
    {TransferMode::kMove, "move"},
    {TransferMode::kRelsymlink, "relsymlink"},
    {TransferMode::kDirect, "direct"},
    {TransferMode::kSplit, "split"},
}};

bool is_link_impossible(int err) {
  return err == EXDEV || err == EPERM || err == EMLINK || err == EOPNOTSUPP || err == ENOSYS;
}

// Renames a complete temporary into place and syncs its directory; the temporary is
// removed if that fails.
void place_temporary(const fs::path& temporary, const fs::path& destination, const TransferOptions& options) {
  detail::TemporaryGuard guard(temporary);
  if (options.before_place) options.before_place(temporary);
  detail::place(temporary, destination, options.overwrite);
  guard.release();
  detail::sync_directory(destination.parent_path());
}

detail::StagedTemporary stage_copy(const fs::path& source, const fs::path& destination, detail::ContentSync sync) {
  FileDescriptor in = detail::open_for_reading(source);
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) detail::throw_io_error(errno, "inspect", source);
  fs::path temporary;
  FileDescriptor out;
  int err = detail::create_temporary(
      destination,
      [&](const fs::path& candidate) {
        int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return errno;
        out = FileDescriptor(fd);
        return 0;
      },
      temporary);
  if (err != 0) detail::throw_io_error(err, "create a temporary file for", destination);
  detail::TemporaryGuard guard(temporary);
  detail::copy_contents(in.get(), out.get(), source, temporary);
  // As Python's shutil.copy: the copy has the source's permission bits.
  if (::fchmod(out.get(), st.st_mode & 0777) != 0) detail::throw_io_error(errno, "set the mode of", temporary);
  struct stat written {};
  if (::fstat(out.get(), &written) != 0) detail::throw_io_error(errno, "inspect", temporary);
  if (sync == detail::ContentSync::kNow) {
    detail::sync_file(out.get(), temporary);
  } else {
    detail::start_writeback(out.get());
  }
  out.close(temporary);
  guard.release();
  return {temporary, TransferMode::kCopy, true, static_cast<std::int64_t>(written.st_size)};
}

void copy_into_place(const fs::path& source, const fs::path& destination, const TransferOptions& options) {
  place_temporary(stage_copy(source, destination, detail::ContentSync::kNow).temporary, destination, options);
}

void move_into_place(const fs::path& source, const fs::path& destination, const TransferOptions& options) {
  if (int injected = io_fault(IoStep::kRename)) detail::throw_injected(injected, "move", destination);
  int err = 0;
  if (options.overwrite == Overwrite::kReplace) {
    if (::rename(source.c_str(), destination.c_str()) == 0) {
      detail::sync_directory(destination.parent_path());
      detail::sync_directory(source.parent_path());
      return;
    }
    err = errno;
  } else {
    if (::renameat2(AT_FDCWD, source.c_str(), AT_FDCWD, destination.c_str(), RENAME_NOREPLACE) == 0) {
      detail::sync_directory(destination.parent_path());
      detail::sync_directory(source.parent_path());
      return;
    }
    err = errno;
    if (err == EEXIST) throw ConflictError(detail::exists_message(destination));
    if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
      if (::linkat(AT_FDCWD, source.c_str(), AT_FDCWD, destination.c_str(), 0) == 0) {
        if (::unlink(source.c_str()) != 0) {
          int unlink_err = errno;
          ::unlink(destination.c_str());
          detail::throw_io_error(unlink_err, "remove the moved source", source);
        }
        detail::sync_directory(destination.parent_path());
        detail::sync_directory(source.parent_path());
        return;
      }
      err = errno;
      if (err == EEXIST) throw ConflictError(detail::exists_message(destination));
    }
  }
  if (err != EXDEV) detail::throw_io_error(err, fmt::format("move '{}' to", source.string()), destination);

  // Across filesystems: an atomic copy, then the source goes. If the source cannot be
  // removed the copy is taken back, so that a failed move changes nothing.
  copy_into_place(source, destination, options);
  if (::unlink(source.c_str()) != 0) {
    int unlink_err = errno;
    ::unlink(destination.c_str());
    detail::throw_io_error(unlink_err, "remove the moved source", source);
  }
  detail::sync_directory(source.parent_path());
}

// Link modes: creates the link under a temporary name beside the destination.
detail::StagedTemporary stage_link(const fs::path& real_source, const fs::path& destination, TransferMode mode) {
  fs::path temporary;
  if (mode == TransferMode::kHardlink || mode == TransferMode::kLink) {
    int err = detail::create_temporary(
        destination,
        [&](const fs::path& candidate) {
          if (int injected = io_fault(IoStep::kLink)) return injected;
          return ::linkat(AT_FDCWD, real_source.c_str(), AT_FDCWD, candidate.c_str(), 0) == 0 ? 0 : errno;
        },
        temporary);
    if (err == 0) return {temporary, TransferMode::kHardlink, false};
    if (mode == TransferMode::kHardlink || !is_link_impossible(err)) {
      std::string hint = err == EXDEV ? " (they are on different filesystems; use copy or symlink)" : "";
      throw IoError(fmt::format("cannot hard-link '{}' to '{}': {}{}", real_source.string(), destination.string(),
                                detail::errno_message(err), hint));
    }
    mode = TransferMode::kSymlink;
  }
  fs::path target = real_source;
  if (mode == TransferMode::kRelsymlink) {
    target = real_source.lexically_relative(fs::canonical(destination.parent_path()));
    if (target.empty()) target = real_source;
  }
  int err = detail::create_temporary(
      destination,
      [&](const fs::path& candidate) {
        if (int injected = io_fault(IoStep::kLink)) return injected;
        return ::symlink(target.c_str(), candidate.c_str()) == 0 ? 0 : errno;
      },
      temporary);
  if (err != 0) {
    throw IoError(fmt::format("cannot create symbolic link '{}' to '{}': {}", destination.string(), target.string(),
                              detail::errno_message(err)));
  }
  return {temporary, mode, false};
}

std::string stored_path_for(const fs::path& artifact, const fs::path& root) {
  if (!root.empty()) {
    if (auto rel = detail::relative_inside(artifact, root)) return rel->generic_string();
  }
  return file_uri(artifact);
}

}  // namespace

std::string_view transfer_mode_name(TransferMode mode) {
  for (const auto& entry : kModeNames) {
    if (entry.mode == mode) return entry.name;
  }
  return "none";
}

std::optional<TransferMode> find_transfer_mode(std::string_view name) {
  for (const auto& entry : kModeNames) {  // in any case, as Rubin reads them
    if (entry.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), entry.name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return entry.mode;
  }
  return std::nullopt;
}

TransferMode parse_transfer_mode(std::string_view name) {
  if (auto mode = find_transfer_mode(name)) return *mode;
  std::string valid;
  for (const auto& entry : kModeNames) {
    if (!valid.empty()) valid += ", ";
    valid += entry.name;
  }
  throw InvalidArgumentError(fmt::format("unknown transfer mode '{}'; valid modes are: {}", name, valid));
}

namespace detail {

PreparedTransfer prepare_transfer(const fs::path& source, const fs::path& destination, TransferMode mode,
                                  const TransferOptions& options, RealPathCache* real_paths) {
  const fs::path root = options.root.empty() ? fs::path() : absolute_normal(options.root);
  const bool needs_root = mode == TransferMode::kAuto || mode == TransferMode::kSplit || mode == TransferMode::kNone;
  if (needs_root && root.empty()) {
    throw InvalidArgumentError(fmt::format("transfer mode '{}' needs the datastore root", transfer_mode_name(mode)));
  }

  PreparedTransfer out;
  const fs::path src = absolute_normal(source);
  if (::stat(src.c_str(), &out.source_stat) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      throw NotFoundError(fmt::format("transfer source '{}' does not exist", src.string()));
    }
    throw_io_error(err, "read transfer source", src);
  }
  if (!S_ISREG(out.source_stat.st_mode)) {
    throw InvalidArgumentError(fmt::format("transfer source '{}' is not a regular file", src.string()));
  }
  const auto source_size = static_cast<std::int64_t>(out.source_stat.st_size);

  if (needs_root) {
    if (auto rel = inside_root(src, root)) {
      out.result = TransferResult{TransferMode::kNone, src, rel->generic_string(), source_size};
      return out;
    }
    if (mode == TransferMode::kNone) {
      throw InvalidArgumentError(fmt::format(
          "transfer mode 'none' uses files in place, but '{}' is outside the datastore root '{}'", src.string(),
          root.string()));
    }
  }
  if (mode == TransferMode::kDirect || mode == TransferMode::kSplit) {
    out.result = TransferResult{TransferMode::kDirect, src, file_uri(src), source_size};
    return out;
  }
  if (mode == TransferMode::kAuto) mode = TransferMode::kCopy;

  fs::path dest = destination.is_relative() && !root.empty() ? root / destination : destination;
  dest = absolute_normal(dest);
  if (!dest.has_filename() || !dest.has_relative_path()) {
    throw InvalidArgumentError(fmt::format("transfer destination '{}' is not a file path", destination.string()));
  }
  std::error_code ec;
  out.real_source = real_paths ? real_paths->canonical(src, ec) : fs::canonical(src, ec);
  if (ec) throw IoError(fmt::format("cannot resolve transfer source '{}': {}", src.string(), ec.message()));

  out.result = TransferResult{mode, dest, stored_path_for(dest, root), source_size};
  struct stat dest_stat {};
  if (::lstat(dest.c_str(), &dest_stat) == 0) {
    if (dest_stat.st_dev == out.source_stat.st_dev && dest_stat.st_ino == out.source_stat.st_ino) {
      out.result.mode = TransferMode::kNone;  // already there (e.g. a repeated hard-link ingest)
      return out;
    }
    if (S_ISDIR(dest_stat.st_mode)) {
      throw ConflictError(fmt::format("destination '{}' is a directory", dest.string()));
    }
    if (options.overwrite == Overwrite::kRefuse) throw ConflictError(exists_message(dest));
  } else if (errno != ENOENT) {
    throw_io_error(errno, "inspect destination", dest);
  }
  out.creates_file = true;
  return out;
}

StagedTemporary stage_transfer(const PreparedTransfer& prepared, TransferMode mode, ContentSync sync,
                               std::vector<fs::path>* unsynced_directories) {
  const fs::path& dest = prepared.result.artifact;
  make_directories(dest.parent_path(), unsynced_directories);
  switch (mode) {
    case TransferMode::kCopy: return stage_copy(prepared.real_source, dest, sync);
    case TransferMode::kLink:
    case TransferMode::kHardlink:
    case TransferMode::kSymlink:
    case TransferMode::kRelsymlink: {
      auto staged = stage_link(prepared.real_source, dest, mode);
      staged.size_bytes = prepared.result.size_bytes;
      return staged;
    }
    default: throw InternalError(fmt::format("transfer mode '{}' cannot be staged", transfer_mode_name(mode)));
  }
}

}  // namespace detail

TransferResult transfer_file(const fs::path& source, const fs::path& destination, TransferMode mode,
                             const TransferOptions& options) {
  auto prepared = detail::prepare_transfer(source, destination, mode, options);
  if (!prepared.creates_file) return prepared.result;
  TransferResult& result = prepared.result;
  if (result.mode == TransferMode::kMove) {
    detail::make_directories(result.artifact.parent_path());
    move_into_place(prepared.real_source, result.artifact, options);
    return result;
  }
  auto staged = detail::stage_transfer(prepared, result.mode, detail::ContentSync::kNow, nullptr);
  place_temporary(staged.temporary, result.artifact, options);
  result.mode = staged.mode;
  if (staged.has_content) result.size_bytes = staged.size_bytes;
  return result;
}

fs::path resolve_source(std::string_view name, const fs::path& folder) {
  if (name.find("://") != std::string_view::npos) return path_from_file_uri(name);  // a clear error unless file://
  if (fs::path(name).is_absolute()) return fs::path(name);
  const fs::path top = detail::absolute_normal(folder.empty() ? fs::path(".") : folder);
  fs::path source = detail::absolute_normal(top / fs::path(name));
  if (!detail::relative_inside(source, top))
    throw InvalidArgumentError(fmt::format("the relative path '{}' leaves the folder it is relative to ({}); name "
                                           "files inside that folder, or give an absolute path",
                                           printable(name), top.string()));
  return source;
}

void check_move_source(const fs::path& source, const fs::path& folder) {
  const fs::path top = detail::absolute_normal(folder.empty() ? fs::path(".") : folder);
  if (!inside_root(source, top))
    throw InvalidArgumentError(fmt::format(
        "'{}' is not inside {}: 'move' takes only files inside the folder given for the import or ingest (it "
        "deletes them from there); copy it, or give that folder", printable(source.string()), top.string()));
}

std::optional<fs::path> inside_root(const fs::path& path, const fs::path& root) {
  std::error_code ec1;
  std::error_code ec2;
  fs::path real_path = fs::weakly_canonical(detail::absolute_normal(path), ec1);
  fs::path real_root = fs::weakly_canonical(detail::absolute_normal(root), ec2);
  if (!ec1 && !ec2) return detail::relative_inside(real_path, real_root);
  return detail::relative_inside(detail::absolute_normal(path), detail::absolute_normal(root));
}

std::string file_uri(const fs::path& path) {
  return "file://" + detail::percent_encode(detail::absolute_normal(path).generic_string());
}

fs::path path_from_file_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) != kScheme) {
    throw InvalidArgumentError(fmt::format("'{}' is not a file:// URI", uri));
  }
  std::string_view rest = uri.substr(kScheme.size());
  if (rest.substr(0, 10) == "localhost/") rest.remove_prefix(9);
  if (rest.empty() || rest[0] != '/') {
    throw InvalidArgumentError(fmt::format("file URI '{}' names a host; only local paths are supported", uri));
  }
  const auto decoded = detail::percent_decode(rest);
  if (!decoded) throw InvalidArgumentError(fmt::format("malformed escape in file URI '{}'", uri));
  return fs::path(*decoded);
}

}  // namespace majordome::datastore
