#include "repository_files.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "majordome/datastore/datastore_path.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;

namespace {

fs::path absolute_normal(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return (ec ? p : a).lexically_normal();
}

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(p, ec);
  return ec ? p : r;
}

bool is_within(const fs::path& path, const fs::path& dir) {
  auto rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

RepositoryFiles::RepositoryFiles(const fs::path& root, const std::optional<fs::path>& registry_file) {
  fs::path top = absolute_normal(root);
  files_.push_back({top / "butler.yaml", "the repository's configuration butler.yaml"});
  if (registry_file) {
    fs::path db = absolute_normal(*registry_file);
    std::string name = db.filename().string();
    files_.push_back({db, fmt::format("the repository's registry database {}", name)});
    for (const char* suffix : {"-wal", "-shm", "-journal"})
      files_.push_back({fs::path(db.string() + suffix), fmt::format("the registry's {}{} file", name, suffix)});
  }
  private_dir_ = top / datastore::kPrivateFolder;
}

std::optional<std::string> RepositoryFiles::identify(const fs::path& path) const {
  if (files_.empty()) return std::nullopt;
  const fs::path written = absolute_normal(path);
  const fs::path real = resolved(written);
  for (const fs::path& p : {written, real}) {
    if (is_within(p, private_dir_) || is_within(p, resolved(private_dir_)))
      return fmt::format("inside the repository's private folder {}", datastore::kPrivateFolder);
    for (const auto& f : files_)
      if (p == f.path || p == resolved(f.path)) return f.what;
  }
  // Another name for the same file (a hard link, a bind mount).
  struct stat st {};
  if (::stat(written.c_str(), &st) != 0) return std::nullopt;
  for (const auto& f : files_) {
    struct stat fst {};
    if (::stat(f.path.c_str(), &fst) == 0 && fst.st_dev == st.st_dev && fst.st_ino == st.st_ino) return f.what;
  }
  return std::nullopt;
}

}  // namespace majordome::butler
