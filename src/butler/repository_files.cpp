#include "repository_files.hpp"

#include <sys/stat.h>

#include <cerrno>

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
  auto add = [&](const fs::path& path, std::string what) {
    files_.push_back({absolute_normal(path), resolved(absolute_normal(path)), std::move(what)});
  };
  add(top / "butler.yaml", "the repository's configuration butler.yaml");
  if (registry_file) {
    fs::path db = absolute_normal(*registry_file);
    std::string name = db.filename().string();
    add(db, fmt::format("the repository's registry database {}", name));
    for (const char* suffix : {"-wal", "-shm", "-journal"})
      add(fs::path(db.string() + suffix), fmt::format("the registry's {}{} file", name, suffix));
  }
  private_dir_ = top / datastore::kPrivateFolder;
  real_private_dir_ = resolved(private_dir_);
}

std::optional<fs::path> RepositoryFiles::FolderCache::resolve(const fs::path& path) {
  auto canonical = [](const fs::path& p) -> std::optional<fs::path> {
    std::error_code ec;
    fs::path r = fs::weakly_canonical(p, ec);
    if (ec) return std::nullopt;
    return r;
  };
  // realpath(folder/name) is realpath(folder)/name unless name is itself a link (or the
  // path cannot be inspected): then the whole path is resolved as before.
  if (!path.has_filename() || !path.has_parent_path()) return canonical(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 ? S_ISLNK(st.st_mode) : errno != ENOENT) return canonical(path);
  const fs::path folder = path.parent_path();
  auto [it, inserted] = folders_.try_emplace(folder.string());
  if (inserted) it->second = canonical(folder);
  if (!it->second) return std::nullopt;
  return *it->second / path.filename();
}

std::optional<std::string> RepositoryFiles::identify(const fs::path& path, FolderCache* folders) const {
  if (files_.empty()) return std::nullopt;
  // Called once per file of an ingest: one path resolution (per folder, with `folders`) and
  // a few stats, against the resolved names computed once.
  const fs::path written = absolute_normal(path);
  const fs::path real = folders ? folders->resolve(written).value_or(written) : resolved(written);
  if (is_within(written, private_dir_) || is_within(real, real_private_dir_))
    return fmt::format("inside the repository's private folder {}", datastore::kPrivateFolder);
  for (const auto& f : files_)
    if (written == f.path || real == f.real_path) return f.what;
  // Another name for the same file (a hard link, a bind mount). The files' identities are
  // read now, not when the repository was opened: the -wal file comes and goes.
  struct stat st {};
  if (::stat(written.c_str(), &st) != 0) return std::nullopt;
  for (const auto& f : files_) {
    struct stat fst {};
    if (::stat(f.path.c_str(), &fst) == 0 && fst.st_dev == st.st_dev && fst.st_ino == st.st_ino) return f.what;
  }
  return std::nullopt;
}

}  // namespace majordome::butler
