#include "majordome/datastore/remove_artifact.hpp"

#include "majordome/core/error.hpp"
#include "posix_file.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

namespace majordome::datastore {

bool remove_artifact(const std::filesystem::path& path, const std::filesystem::path& root) {
  const std::filesystem::path file = detail::absolute_normal(path);
  const std::filesystem::path top = detail::absolute_normal(root);
  if (!detail::relative_inside(file, top)) {
    throw InvalidArgumentError(
        fmt::format("refusing to remove '{}': it is not inside the datastore root '{}'", file.string(), top.string()));
  }
  bool removed = true;
  if (int err = io_fault(IoStep::kRemove)) detail::throw_injected(err, "remove artifact", file);
  if (::unlink(file.c_str()) != 0) {
    int err = errno;
    if (err != ENOENT && err != ENOTDIR) detail::throw_io_error(err, "remove artifact", file);
    removed = false;
  }
  // Prune now-empty directories; stop at the first that is not empty (or that we may not
  // remove: pruning is tidiness, never a reason to fail a removal).
  for (std::filesystem::path dir = file.parent_path(); detail::relative_inside(dir, top); dir = dir.parent_path()) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) break;
  }
  return removed;
}

}  // namespace majordome::datastore
