#include "majordome/butler/butler.hpp"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "butler_impl.hpp"
#include "write_token.hpp"
#include "majordome/butler/db_auth.hpp"
#include "majordome/core/error.hpp"
#include "majordome/core/executor.hpp"
#include "majordome/core/redact.hpp"
#include "majordome/datastore/atomic_file.hpp"
#include "majordome/datastore/checksum.hpp"
#include "majordome/datastore/datastore_path.hpp"
#include "majordome/datastore/remove_artifact.hpp"
#include "majordome/datastore/resource.hpp"
#include "majordome/datastore/transfer.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;
using registry::StoredFile;

namespace {

constexpr const char* kDefaultConfig = R"yaml(datastore:
  root: <butlerRoot>
  checksum: false
registry:
  db: sqlite:///<butlerRoot>/gen3.sqlite3
)yaml";

// Deep-merges `over` into `base` (maps merge key by key; anything else replaces).
void merge(YAML::Node base, const YAML::Node& over) {
  for (const auto& item : over) {
    auto key = item.first.as<std::string>();
    if (item.second.IsMap() && base[key] && base[key].IsMap()) {
      merge(base[key], item.second);
    } else {
      base[key] = YAML::Clone(item.second);
    }
  }
}

std::string replace_root(std::string text, const fs::path& root) {
  const std::string token = "<butlerRoot>";
  for (auto pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos))
    text.replace(pos, token.size(), root.string());
  return text;
}

// A repository on a server keeps its write journals and locks (crash recovery, see
// write_token.hpp) in a folder of this user's on this machine, one per repository URI.
fs::path remote_state_root(const datastore::ResourcePath& repo) {
  fs::path base;
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
    base = state;
  else if (const char* home = std::getenv("HOME"); home && *home)
    base = fs::path(home) / ".local" / "state";
  else  // no home: a folder of this user's own in the temporary folder
    base = fs::temp_directory_path() / fmt::format("majordome-state-{}", ::getuid());
  const std::string uri = repo.uri();
  return base / "majordome" / "remote" / datastore::blake2b_hexdigest(uri).substr(0, 32);
}

// The remote repository `given` names ("davs://host/path", or its butler.yaml), or nullopt.
std::optional<datastore::ResourcePath> remote_repo(const fs::path& given) {
  if (!datastore::is_remote_uri(given.native())) return std::nullopt;
  auto where = datastore::ResourcePath::parse(given.native());
  if (where.name() == "butler.yaml") where = where.parent();
  if (!where.path().ends_with('/')) where = where.join("./");
  return where;
}

fs::path repo_root(const fs::path& given) {
  // A user may name the repository directory or its butler.yaml.
  if (given.extension() == ".yaml" && fs::is_regular_file(given)) return fs::absolute(given).parent_path();
  return fs::absolute(given).lexically_normal();
}

// The SQLite database file the configuration names, if the registry is one.
std::optional<fs::path> sqlite_file(const YAML::Node& config, const fs::path& root) {
  std::string db = replace_root(config["registry"]["db"].as<std::string>(), root);
  if (db.rfind("sqlite:///", 0) != 0) return std::nullopt;
  return fs::path(db.substr(std::string("sqlite:///").size() - 1));
}

}  // namespace

std::unique_ptr<registry::Database> open_database(const YAML::Node& config, const fs::path& root, bool create) {
  std::string db = replace_root(config["registry"]["db"].as<std::string>(), root);
  if (db.rfind("sqlite:///", 0) == 0) {
    std::string path = db.substr(std::string("sqlite:///").size() - 1);
    return registry::open_sqlite(path, create);
  }
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0) {
    registry::PostgresOptions options;
    options.url = db;
    if (config["registry"]["namespace"]) options.namespace_ = config["registry"]["namespace"].as<std::string>();
    // Credentials in the URL win; otherwise the db-auth file may supply them.
    if (!url_has_password(db)) {
      if (auto auth = find_db_auth(db)) {
        options.user = auth->username;
        options.password = auth->password;
      }
    }
    return registry::open_postgres(options, create);
  }
  throw InvalidConfigError(fmt::format("registry.db '{}' is not a database URL this majordome supports; use "
                                       "sqlite:///PATH or postgresql://HOST:PORT/DATABASE", redact_url(db)));
}

// ---- moves that survive failures

datastore::TransferResult stage_file(datastore::PlacementBatch& batch, const fs::path& source,
                                     const fs::path& destination, datastore::TransferMode mode,
                                     std::vector<fs::path>& sources_to_remove) {
  if (mode != datastore::TransferMode::kMove) return batch.add(source, destination, mode);
  std::error_code ec;
  fs::path real = fs::canonical(source, ec);  // a move moves the file a link points to
  if (ec) real = source;
  datastore::TransferResult result;
  try {
    result = batch.add(real, destination, datastore::TransferMode::kHardlink);
  } catch (const IoError&) {  // e.g. across filesystems
    result = batch.add(real, destination, datastore::TransferMode::kCopy);
  }
  if (result.mode == datastore::TransferMode::kHardlink || result.mode == datastore::TransferMode::kCopy) {
    sources_to_remove.push_back(real);
    result.mode = datastore::TransferMode::kMove;
  }
  return result;
}

void remove_moved_sources(const std::vector<fs::path>& sources) {
  for (const auto& s : sources) {
    std::error_code ec;
    fs::remove(s, ec);
    if (ec) spdlog::warn("stored {} but could not remove the moved source: {}", s.string(), ec.message());
  }
}

// True if the folder of the datastore path `relative` really is inside `root`: no symbolic
// link among its folders leads elsewhere. (The file itself may be a link: a symlink dataset.)
static bool folder_inside_root(const fs::path& root, const std::string& relative,
                               RepositoryFiles::FolderCache* folders = nullptr) {
  fs::path folder = (root / relative).parent_path();
  fs::path real_folder, real_root;
  if (folders) {  // the same, each folder resolved once per operation
    auto f = folders->resolve(fs::absolute(folder).lexically_normal());
    auto r = folders->resolve(fs::absolute(root).lexically_normal());
    if (!f || !r) return false;
    real_folder = std::move(*f);
    real_root = std::move(*r);
  } else {
    std::error_code ec1;
    std::error_code ec2;
    real_folder = fs::weakly_canonical(folder, ec1);
    real_root = fs::weakly_canonical(root, ec2);
    if (ec1 || ec2) return false;
  }
  return real_folder == real_root || datastore::inside_root(real_folder, real_root).has_value();
}

bool remove_unreferenced(Registry& registry, const fs::path& root, const RepositoryFiles& files,
                         const std::string& relative, std::string_view purpose,
                         const std::optional<datastore::ResourcePath>& remote) {
  // The last line of defence: whatever a journal, the trash or a failed write names, only a
  // datastore file strictly inside the root, and never the repository's own, is removed.
  if (auto problem = datastore::datastore_path_problem(relative)) {
    spdlog::warn("not removing '{}' for {}: {}", printable(relative), purpose, *problem);
    return false;
  }
  if (auto what = files.identify(root / relative)) {
    spdlog::warn("not removing '{}' for {}: it is {}", printable(relative), purpose, *what);
    return false;
  }
  if (!folder_inside_root(root, relative)) {
    spdlog::warn("not removing '{}' for {}: a symbolic link takes it outside the datastore", printable(relative),
                 purpose);
    return false;
  }
  if (registry.path_is_referenced(relative)) return false;
  // A record may name the same file by its absolute URI (a `direct` ingest of a file that lies
  // in the datastore's folder): such a file is never the repository's to delete.
  if (registry.path_is_referenced(remote ? remote->join(relative).uri() : datastore::file_uri(root / relative)))
    return false;
  if (remote) return datastore::remove_resource(remote->join(relative));
  return datastore::remove_artifact(root / relative, root);
}

std::vector<Uploaded> upload_files(const datastore::ResourcePath& root, const fs::path& local_root,
                                   const std::vector<RemoteUpload>& uploads, WriteToken& token, bool checksums,
                                   std::vector<fs::path>& placed) {
  std::vector<Uploaded> out(uploads.size());
  std::vector<datastore::ResourcePath> temporaries;
  std::vector<std::pair<std::string, std::string>> journal;
  for (const auto& u : uploads) {
    temporaries.push_back(datastore::temporary_for(root.join(u.relative)));
    journal.emplace_back(*temporaries.back().relative_to(root), u.relative);
  }
  if (!journal.empty()) token.announce_remote(journal);
  std::mutex mutex;  // the token and `placed`
  std::exception_ptr failure;
  try {
    Executor executor(static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(uploads.size(), 1), 4)));
    executor.for_each(uploads.size(), [&](std::size_t i) {
      const auto& u = uploads[i];
      std::optional<datastore::LocalCopy> copy;
      if (u.from) copy.emplace(*u.from);  // server to server, through this machine
      const fs::path& local = copy ? copy->path() : u.local;
      out[i].size = static_cast<std::int64_t>(fs::file_size(local));
      if (checksums) out[i].checksum = datastore::blake2b_file_hexdigest(local);
      datastore::UploadSteps steps;
      steps.after_put = [&] {
        std::lock_guard lock(mutex);
        token.put_done(journal[i].first);
      };
      steps.before_discard = [&] {
        std::lock_guard lock(mutex);
        token.refused(u.relative);
      };
      datastore::upload_resource_via(local, temporaries[i], root.join(u.relative), steps);
      std::lock_guard lock(mutex);
      placed.push_back(local_root / u.relative);
    });
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) std::rethrow_exception(failure);
  return out;
}

void check_remote_destinations(Registry& registry, const datastore::ResourcePath& root,
                               const std::vector<std::string>& relative) {
  if (relative.empty()) return;
  const auto trashed = registry.trashed_paths();
  const std::set<std::string> in_trash(trashed.begin(), trashed.end());
  for (const auto& r : relative)
    if (in_trash.count(r))
      throw ConflictError(fmt::format("{} is still in the trash (its old file may not be deleted yet); run `butler "
                                      "cleanup` on the repository, then write again",
                                      root.join(r).str()));
  std::vector<char> exists(relative.size(), 0);
  Executor executor(static_cast<int>(std::min<std::size_t>(relative.size(), 8)));
  executor.for_each(relative.size(),
                    [&](std::size_t i) { exists[i] = datastore::stat_resource(root.join(relative[i])).exists; });
  std::size_t count = static_cast<std::size_t>(std::count(exists.begin(), exists.end(), 1));
  for (std::size_t i = 0; i < relative.size(); ++i)
    if (exists[i])
      throw ConflictError(fmt::format(
          "{} exists already on the server{}; it may be another writer's, not committed yet, or left by a writer that "
          "was killed (`butler cleanup` on the machine that wrote it removes it then); nothing was written",
          root.join(relative[i]).str(), count > 1 ? fmt::format(" (and {} more of this write's files)", count - 1) : ""));
}

bool will_create(const fs::path& destination) {
  struct stat st {};
  return !destination.empty() && ::lstat(destination.c_str(), &st) != 0 && errno == ENOENT;
}

void discard_placed_files(Registry& registry, const fs::path& root, const RepositoryFiles& files,
                          const std::vector<fs::path>& placed, const std::optional<datastore::ResourcePath>& remote) {
  for (const auto& path : placed) {
    try {
      // After an ambiguous commit failure some rows may have committed: keep their files.
      remove_unreferenced(registry, root, files, path.lexically_relative(root).generic_string(), "a failed write",
                          remote);
    } catch (const std::exception& e) {
      spdlog::warn("could not remove {} after a failed write ({}); 'butler cleanup' will retry", path.string(), e.what());
    }
  }
}

void Butler::Impl::check_source(const fs::path& source, datastore::TransferMode mode, const fs::path& root,
                                RepositoryFiles::FolderCache* folders) const {
  if (auto what = files.identify(source, folders))
    throw InvalidArgumentError(fmt::format("'{}' is {}: the repository's own files can never be datasets",
                                           printable(source.string()), *what));
  // A file already in the datastore may be some dataset's, under any of the names that links
  // give it: a move never takes one (use auto to register it in place, or copy).
  if (mode == datastore::TransferMode::kMove && datastore::inside_root(source, root))
    throw InvalidArgumentError(fmt::format("'{}' is already inside the repository; 'move' takes files from outside "
                                           "it only: use auto to register it where it is, or copy",
                                           printable(source.string())));
}

fs::path Butler::Impl::destination(const fs::path& root, const std::string& template_path, const std::string& extension,
                                   const std::string& what, RepositoryFiles::FolderCache* folders) const {
  std::string relative = template_path + extension;
  if (auto problem = datastore::datastore_path_problem(relative))
    throw InvalidArgumentError(fmt::format("the file template gives {} the path '{}', which cannot be used: {}; check "
                                           "the data ID values and the templates in butler.yaml",
                                           what, printable(relative), *problem));
  fs::path path = root / relative;
  if (auto is = files.identify(path, folders))
    throw InvalidArgumentError(fmt::format("the file template gives {} the path '{}', which is {}; change the "
                                           "templates in butler.yaml", what, printable(relative), *is));
  if (!folder_inside_root(root, relative, folders))
    throw InvalidArgumentError(fmt::format("{} would be written to '{}', but a symbolic link in that path leads "
                                           "outside the repository; remove the link", what, printable(relative)));
  return path;
}

// Datastore paths that writers still running may be creating.
static std::set<std::string> live_journal_paths(const fs::path& root) {
  std::set<std::string> out;
  fs::path dir = root / datastore::kPrivateFolder / "locks";
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".lock" || !writer_is_alive(entry.path())) continue;
    fs::path journal = entry.path();
    journal.replace_extension(".pending");
    if (auto entries = read_journal_entries(journal)) {
      out.insert(entries->paths.begin(), entries->paths.end());
      for (const auto& [t, d] : entries->remote) out.insert({t, d});
    }
  }
  return out;
}

// ---- create / open

// The configuration a new repository starts with: the defaults, with the seed config's
// values on top; it must name a registry.
static YAML::Node initial_config(const CreateOptions& options) {
  YAML::Node config = YAML::Load(kDefaultConfig);
  if (options.seed_config) {
    if (!fs::exists(*options.seed_config))
      throw NotFoundError(fmt::format("seed config {} does not exist", options.seed_config->string()));
    try {
      merge(config, YAML::LoadFile(options.seed_config->string()));
    } catch (const YAML::Exception& e) {
      throw InvalidConfigError(fmt::format("seed config {} is not valid YAML: {}", options.seed_config->string(), e.what()));
    }
  }
  if (!config["registry"] || !config["registry"]["db"])
    throw InvalidConfigError("the configuration has no registry.db");
  return config;
}

void Butler::create(const fs::path& given_root, const CreateOptions& options) {
  if (auto remote = remote_repo(given_root)) return create_remote(*remote, options);
  fs::path root = repo_root(given_root);
  if (fs::exists(root / "butler.yaml"))
    throw ConflictError(fmt::format("{} already holds a repository (butler.yaml exists); choose another directory",
                                    root.string()));
  YAML::Node config = initial_config(options);
  if (fs::exists(root / "gen3.sqlite3"))
    throw ConflictError(fmt::format("{} already holds a registry database (gen3.sqlite3) but no butler.yaml; refusing "
                                    "to touch it: move it away or choose another directory", root.string()));
  bool created_dir = !fs::exists(root);
  fs::create_directories(root);
  auto universe = options.dimension_config ? dimensions::Universe::from_yaml(*options.dimension_config)
                                           : dimensions::Universe::make_default();
  try {
    auto db = open_database(config, root, true);
    Registry::create(std::move(db), universe);
    std::ostringstream text;
    text << "# majordome repository configuration; <butlerRoot> is this directory.\n" << YAML::Dump(config) << "\n";
    datastore::atomic_write(root / "butler.yaml", text.str());
  } catch (...) {
    // Leave nothing half-made behind.
    std::error_code ec;
    fs::remove(root / "gen3.sqlite3", ec);
    fs::remove(root / "gen3.sqlite3-wal", ec);
    fs::remove(root / "gen3.sqlite3-shm", ec);
    if (created_dir) fs::remove(root, ec);
    throw;
  }
}

void Butler::create_remote(const datastore::ResourcePath& repo, const CreateOptions& options) {
  const auto config_file = repo.join("butler.yaml");
  if (datastore::stat_resource(config_file).exists)
    throw ConflictError(fmt::format("{} already holds a repository (butler.yaml exists); choose another folder",
                                    repo.str()));
  YAML::Node config = initial_config(options);
  const auto db = config["registry"]["db"].as<std::string>();
  if (db.rfind("postgresql://", 0) != 0 && db.rfind("postgres://", 0) != 0)
    throw InvalidConfigError(fmt::format("a repository on a server ({}) needs its registry in PostgreSQL: give "
                                         "registry.db: postgresql://… in the seed config (--seed-config), as "
                                         "RTN-103 does; '{}' cannot live on a WebDAV server",
                                         repo.str(), redact_url(db)));
  if (config["datastore"] && config["datastore"]["root"]) {
    const auto given = config["datastore"]["root"].as<std::string>();
    if (given != "<butlerRoot>" && datastore::ResourcePath::parse(given) != repo &&
        datastore::ResourcePath::parse(given).join("./") != repo)
      throw UnsupportedError(fmt::format("datastore.root {} differs from the repository's location {}; majordome keeps "
                                         "the datastore at the repository's root (remove datastore.root)",
                                         given, repo.str()));
  }
  auto universe = options.dimension_config ? dimensions::Universe::from_yaml(*options.dimension_config)
                                           : dimensions::Universe::make_default();
  // A registry already there (an earlier create interrupted after making it) is named, not
  // overwritten.
  bool registry_there = false;
  try {
    Registry::open(open_database(config, remote_state_root(repo), false));
    registry_there = true;
  } catch (const std::exception&) {  // none there: the usual case
  }
  if (registry_there)
    throw ConflictError(fmt::format("the registry {} (namespace {}) already holds a repository's tables, with no "
                                    "butler.yaml at {}: choose another registry.namespace, or drop that schema if "
                                    "it is what an interrupted create left",
                                    redact_url(db),
                                    config["registry"]["namespace"] ? config["registry"]["namespace"].as<std::string>()
                                                                    : std::string("(default)"),
                                    repo.str()));
  // butler.yaml first (a server that refuses writes refuses before anything else is made),
  // then the registry; a failure of the latter takes butler.yaml away again.
  std::ostringstream text;
  text << "# majordome repository configuration; <butlerRoot> is the repository's location.\n"
       << YAML::Dump(config) << "\n";
  datastore::write_resource(text.str(), config_file);
  try {
    Registry::create(open_database(config, remote_state_root(repo), true), universe);
  } catch (...) {
    try {
      datastore::remove_resource(config_file);
    } catch (const std::exception& e) {
      spdlog::warn("could not remove {} after the failed create: {}", config_file.str(), e.what());
    }
    throw;
  }
}

std::unique_ptr<Butler> Butler::open(const fs::path& given_root, Access access,
                                     std::shared_ptr<const FormatterRegistry> formatters) {
  const auto remote = remote_repo(given_root);
  fs::path root = remote ? remote_state_root(*remote) : repo_root(given_root);
  fs::path config_path = root / "butler.yaml";
  std::string config_text;
  if (remote) {
    const auto where = remote->join("butler.yaml");
    config_path = where.uri();
    try {
      config_text = datastore::read_resource(where);
    } catch (const NotFoundError&) {
      throw NotFoundError(fmt::format("no repository at {} (there is no butler.yaml); create one with "
                                      "'butler create {}'", remote->str(), given_root.string()));
    }
    fs::create_directories(root);
  } else if (!fs::exists(config_path)) {
    throw NotFoundError(fmt::format("no repository at {} (there is no butler.yaml); create one with "
                                    "'butler create {}'", root.string(), given_root.string()));
  }
  std::unique_ptr<Butler> b(new Butler());
  b->impl_ = std::make_unique<Impl>();
  b->impl_->remote = remote;
  b->root_ = root;
  if (!formatters) {
    auto basic = std::make_shared<FormatterRegistry>();
    datastore::add_basic_formatters(*basic);
    formatters = std::move(basic);
  }
  b->formatters_ = std::move(formatters);
  try {
    b->impl_->config = remote ? YAML::Load(config_text) : YAML::LoadFile(config_path.string());
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("{} is not valid YAML: {}", config_path.string(), e.what()));
  }
  try {
    if (remote) {
      const auto& db = b->impl_->config["registry"]["db"];
      if (db && db.IsScalar() && db.as<std::string>().rfind("postgres", 0) != 0)
        throw InvalidConfigError(fmt::format("{} names a registry that is not in PostgreSQL ({}); a repository on a "
                                             "server keeps its registry in PostgreSQL (registry.db: postgresql://…)",
                                             config_path.string(), redact_url(db.as<std::string>())));
    }
    b->open_configured(root, access);
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("{} is not a valid repository configuration: {}; fix it or restore it from "
                                         "a copy", config_path.string(), e.what()));
  }
  return b;
}

void Butler::open_configured(const fs::path& root, Access access) {
  auto* b = this;
  if (!impl_->config.IsMap() || !impl_->config["registry"] || !impl_->config["registry"]["db"] ||
      !impl_->config["registry"]["db"].IsScalar())
    throw InvalidConfigError(fmt::format("{} has no registry.db (the database URL); fix it or restore it from a copy",
                                         (root / "butler.yaml").string()));
  b->registry_ = Registry::open(open_database(b->impl_->config, root, false));
  b->impl_->files = RepositoryFiles(root, sqlite_file(b->impl_->config, root));
  const auto& ds = b->impl_->config["datastore"];
  b->impl_->checksum = ds && ds["checksum"] && ds["checksum"].as<bool>();
  auto normalizer = [u = b->registry_->universe_ptr()](const std::set<std::string>& names) {
    auto g = u->group(std::vector<std::string>(names.begin(), names.end()));
    return std::set<std::string>(g.names().begin(), g.names().end());
  };
  if (ds && ds["templates"] && ds["templates"].size() > 0) {
    b->impl_->templates = datastore::FileTemplates::from_yaml(ds["templates"], normalizer);
  } else {
    b->impl_->templates = datastore::FileTemplates::rubin_defaults(normalizer);
  }
  if (access == Access::kReadWrite) {
    b->recover_interrupted_writes();
    b->empty_trash();
  }
}

Butler::~Butler() = default;

std::string Butler::config_yaml() const {
  YAML::Node shown = YAML::Clone(impl_->config);
  redact_config(shown);
  return replace_root(YAML::Dump(shown), impl_->remote ? fs::path(impl_->remote->uri()) : root_);
}

std::string Butler::artifact_uri(const StoredFile& file) const {
  if (file.path.find("://") != std::string::npos) return file.path;
  if (!file.path.empty() && file.path.front() == '/') return file.path;
  if (impl_->remote) return impl_->remote->join(file.path).uri();
  return (root_ / file.path).string();
}

// ---- templates

std::string Butler::template_path(const DatasetRef& ref, const DatasetType& type) {
  auto& u = registry_->universe();
  datastore::TemplateValues values;
  values.set("run", ref.run);
  values.set_dataset_type(ref.dataset_type);
  values.set("id", ref.id.str());
  DataId expanded = ref.data_id;
  if (expanded.size() < type.dimensions.names().size()) {
    try {
      expanded = registry_->expand_data_id(ref.data_id, type.dimensions);
    } catch (const NotFoundError&) {
      // Records may be absent (e.g. registry-only imports); optional fields are dropped.
    }
  }
  for (const auto& [k, v] : expanded)
    values.set(k, std::holds_alternative<std::int64_t>(v) ? datastore::TemplateValue(std::get<std::int64_t>(v))
                                                          : datastore::TemplateValue(std::get<std::string>(v)));
  for (const auto& name : type.dimensions.names()) {
    const auto& e = u.get(name);
    if (!e.has_table()) continue;
    std::string key = name + "|" + dimensions::format_data_id(expanded, e.required());
    auto it = impl_->record_cache.find(key);
    if (it == impl_->record_cache.end()) it = impl_->record_cache.emplace(key, registry_->find_record(name, expanded)).first;
    if (!it->second) continue;
    values.add_record(name);
    const auto& fields = e.record_fields();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto& v = it->second->values()[i];
      std::string field = fields[i].name == e.keys()[0].name ? "id" : fields[i].name;
      if (const auto* n = std::get_if<std::int64_t>(&v)) values.set(name + "." + field, *n);
      else if (const auto* s = std::get_if<std::string>(&v)) values.set(name + "." + field, *s);
      if (fields[i].name == e.keys()[0].name && fields[i].name != "id") {
        if (const auto* s2 = std::get_if<std::string>(&v)) values.set(name + "." + fields[i].name, *s2);
      }
    }
  }
  datastore::DatasetTypeInfo info;
  info.name = ref.dataset_type;
  info.storage_class = type.storage_class;
  info.required_dimensions = {type.dimensions.required().begin(), type.dimensions.required().end()};
  info.implied_dimensions = {type.dimensions.implied().begin(), type.dimensions.implied().end()};
  std::optional<std::string> instrument;
  if (auto it = expanded.find("instrument"); it != expanded.end()) instrument = dimensions::to_string(it->second);
  return impl_->templates.get(info, instrument).format(values);
}

// ---- configuration check

std::vector<std::string> Butler::validate_configuration(const std::vector<std::string>& dataset_types,
                                                        const std::vector<std::string>& ignore) {
  auto matches = [](const std::vector<std::string>& globs, const std::string& name) {
    for (const auto& g : globs)
      if (g == name || fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
    return false;
  };
  for (const auto& name : dataset_types)
    if (name.find_first_of("*?[") == std::string::npos && !registry_->find_dataset_type(name))
      throw NotFoundError(fmt::format("dataset type '{}' is not registered in this repository", printable(name)));
  std::vector<std::string> problems;
  for (const auto& type : registry_->query_dataset_types()) {
    if (type.is_component()) continue;
    if (!dataset_types.empty() && !matches(dataset_types, type.name)) continue;
    bool skipped = matches(ignore, type.name) || matches(ignore, type.storage_class);
    for (const auto& d : type.dimensions.names()) skipped = skipped || matches(ignore, d);
    if (skipped) continue;
    if (!formatters_->find_storage_class(type.storage_class)) {
      problems.push_back(fmt::format("dataset type {}: storage class {} is not known to this majordome (no "
                                     "formatter reads or writes it)",
                                     type.name, type.storage_class));
      continue;
    }
    try {
      formatters_->formatter_for_write(type.name, type.storage_class);
    } catch (const std::exception& e) {
      problems.push_back(fmt::format("dataset type {}: {}", type.name, e.what()));
    }
    datastore::DatasetTypeInfo info;
    info.name = type.name;
    info.storage_class = type.storage_class;
    info.required_dimensions = {type.dimensions.required().begin(), type.dimensions.required().end()};
    info.implied_dimensions = {type.dimensions.implied().begin(), type.dimensions.implied().end()};
    try {
      impl_->templates.validate(std::span<const datastore::DatasetTypeInfo>(&info, 1));
    } catch (const std::exception& e) {
      problems.push_back(fmt::format("dataset type {}: {}", type.name, e.what()));
    }
  }
  return problems;
}

// ---- ingest

std::vector<DatasetRef> Butler::ingest(const std::vector<FileDataset>& files, const std::string& run,
                                       const IngestOptions& options) {
  registry::validate_collection_name(run);  // before any work: the run's name is a folder's
  auto mode = datastore::parse_transfer_mode(options.transfer);
  const bool creates_files = mode != datastore::TransferMode::kDirect && mode != datastore::TransferMode::kNone &&
                             mode != datastore::TransferMode::kSplit;
  if (impl_->remote && ((creates_files && mode != datastore::TransferMode::kCopy && mode != datastore::TransferMode::kAuto) ||
                        mode == datastore::TransferMode::kNone))
    throw InvalidArgumentError(fmt::format("transfer mode '{}' cannot put files into {}: a datastore on a server holds "
                                           "copies (copy, auto) or records files where they are (direct, split)",
                                           options.transfer, impl_->remote->str()));
  // Resolve every ref (type, expanded data ID, ID) before touching any file.
  struct Planned {
    const FileDataset* file;
    fs::path source;  // a remote file's URI
    std::vector<DatasetRef> refs;
    fs::path destination;
    std::optional<datastore::ResourcePath> remote;
    std::int64_t remote_size = 0;
  };
  std::vector<Planned> plan;
  std::map<std::string, DatasetType> types;
  std::map<std::string, DataId> expansions;
  auto type_of = [&](const std::string& name) -> const DatasetType& {
    auto it = types.find(name);
    if (it == types.end()) it = types.emplace(name, registry_->get_dataset_type(name)).first;
    return it->second;
  };
  RepositoryFiles::FolderCache folders;  // the checks of this ingest resolve each folder once
  // Every record the data IDs need, read a few queries at a time rather than a few per file.
  registry::Registry::RecordCache record_cache;
  {
    std::map<std::string, std::vector<DataId>> ids_by_type;
    for (const auto& f : files)
      for (const auto& ref : f.refs) ids_by_type[ref.dataset_type].push_back(ref.data_id);
    for (const auto& [name, ids] : ids_by_type) registry_->prefetch_records(ids, type_of(name).dimensions, record_cache);
  }
  // Files on a server: named by URI, or by a path inside a source folder that is a URL
  // (ingest-files --prefix davs://…). Looked up first, several at a time: one round trip each.
  std::vector<std::optional<datastore::ResourcePath>> remote(files.size());
  std::vector<datastore::ResourceInfo> remote_info(files.size());
  {
    const bool remote_folder = options.source_folder && datastore::is_remote_uri(options.source_folder->native());
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < files.size(); ++i) {
      const std::string& name = files[i].path.native();
      if (datastore::is_remote_uri(name)) {
        remote[i] = datastore::ResourcePath::parse(name);
      } else if (remote_folder && !datastore::ResourcePath::looks_like_uri(name)) {
        const auto folder = datastore::ResourcePath::parse(options.source_folder->native());
        remote[i] = folder.join(name);
        if (name.empty() || name.front() == '/' || !remote[i]->relative_to(folder))
          throw InvalidArgumentError(fmt::format("'{}' leaves the folder {} the files are taken from (--prefix); name "
                                                 "files inside it",
                                                 printable(name), folder.str()));
      }
      if (remote[i]) todo.push_back(i);
    }
    if (!todo.empty()) {
      Executor executor(static_cast<int>(std::min<std::size_t>(todo.size(), 8)));
      executor.for_each(todo.size(), [&](std::size_t k) { remote_info[todo[k]] = datastore::stat_resource(*remote[todo[k]]); });
    }
  }
  for (const auto& f : files) {
    Planned p{&f, {}, {}, {}};
    if (const std::size_t index = static_cast<std::size_t>(&f - files.data()); remote[index]) {
      // A file on a server: used where it is (direct, split) or copied in (copy, auto).
      p.remote = remote[index];
      if (mode != datastore::TransferMode::kDirect && mode != datastore::TransferMode::kSplit &&
          mode != datastore::TransferMode::kCopy && mode != datastore::TransferMode::kAuto)
        throw InvalidArgumentError(fmt::format("transfer mode '{}' cannot take {}: a remote file is copied (copy, auto) "
                                               "or used where it is (direct, split)",
                                               options.transfer, p.remote->str()));
      const auto& info = remote_info[index];
      if (!info.exists || info.is_directory)
        throw NotFoundError(fmt::format("file to ingest does not exist: {}", p.remote->str()));
      p.remote_size = info.size;
      p.source = p.remote->uri();
      if (impl_->remote)
        if (auto inside = p.remote->relative_to(*impl_->remote);
            inside && (*inside == "butler.yaml" || datastore::datastore_path_problem(*inside)))
          throw InvalidArgumentError(fmt::format("'{}' is the repository's own file: it can never be a dataset",
                                                 p.remote->str()));
    } else {
      p.source = options.source_folder ? datastore::resolve_source(f.path.string(), *options.source_folder) : f.path;
      if (!fs::exists(p.source))
        throw NotFoundError(fmt::format("file to ingest does not exist: {}", printable(p.source.string())));
      impl_->check_source(p.source, mode, root_, &folders);
      if (mode == datastore::TransferMode::kMove && options.source_folder)
        datastore::check_move_source(p.source, *options.source_folder);
    }
    const fs::path& source = p.source;
    for (auto ref : f.refs) {
      const auto& type = type_of(ref.dataset_type);
      DataId conformed = registry_->conform_data_id(ref.data_id, type.dimensions);
      std::string key = type.dimensions.str() + dimensions::format_data_id(conformed, type.dimensions.required());
      auto e = expansions.find(key);
      if (e == expansions.end())
        e = expansions.emplace(key, registry_->expand_data_id(conformed, type.dimensions, record_cache)).first;
      ref.data_id = e->second;
      ref.run = run;
      DataId required;
      for (const auto& d : type.dimensions.required()) required[d] = ref.data_id.at(d);
      if (ref.id.is_nil()) ref.id = registry::make_dataset_id(options.id_mode, type.name, run, required);
      p.refs.push_back(std::move(ref));
    }
    if (p.refs.empty()) throw InvalidArgumentError(fmt::format("no dataset given for file {}", source.string()));
    std::string ext;
    for (auto e = p.remote ? p.remote->name() : source.filename().string(); e.find('.') != std::string::npos;) {
      ext = e.substr(e.find('.'));  // keeps ".fits.gz" whole
      break;
    }
    // direct, none and split leave files where they are, as auto does with a file already in
    // the datastore: no datastore path to make.
    const bool in_place = mode == datastore::TransferMode::kAuto && !p.remote && datastore::inside_root(source, root_);
    if (creates_files && !in_place) {
      const auto& ref = p.refs.front();
      p.destination = impl_->destination(root_, template_path(ref, types.at(ref.dataset_type)), ext,
                                         fmt::format("dataset {} of run '{}'", ref.dataset_type, printable(run)),
                                         &folders);
    }
    plan.push_back(std::move(p));
  }

  // Skip datasets that already exist identically when asked to.
  if (options.skip_existing) {
    std::vector<Planned> remaining;
    for (auto& p : plan) {
      auto have = registry_->get_dataset(p.refs.front().id);
      if (!have) remaining.push_back(std::move(p));
    }
    plan = std::move(remaining);
  }

  auto token = std::make_unique<WriteToken>(root_);
  if (creates_files && impl_->remote) {
    // Journalled as they are sent (upload_files); refused now if taken.
    std::vector<std::string> pending;
    for (const auto& p : plan)
      if (!p.destination.empty()) pending.push_back(p.destination.lexically_relative(root_).generic_string());
    check_remote_destinations(*registry_, *impl_->remote, pending);
  } else if (creates_files) {
    std::vector<std::string> pending;
    for (const auto& p : plan)
      if (will_create(p.destination)) pending.push_back(p.destination.lexically_relative(root_).generic_string());
    token->announce(pending);
  }
  std::vector<fs::path> created, moved_sources;
  std::vector<DatasetRef> out;
  try {
    // Every file is staged, then the batch is made durable at once (see PlacementBatch):
    // the rows below are committed only after every file they name is durable at its name.
    std::vector<datastore::TransferResult> results;
    results.reserve(plan.size());
    std::map<std::size_t, std::optional<std::string>> remote_checksums;  // by result
    if (impl_->remote) {
      // A datastore on a server: every file is sent (PUT, MOVE) before the rows commit.
      datastore::PlacementBatch batch;  // only for what stays where it is (direct, split)
      std::vector<RemoteUpload> uploads;
      std::vector<std::size_t> result_of;
      for (const auto& p : plan) {
        if (progress) progress->check_cancelled();
        if (p.remote && p.destination.empty()) {
          results.push_back({datastore::TransferMode::kDirect, {}, p.remote->uri(), p.remote_size});
        } else if (p.destination.empty()) {  // a local file recorded where it is
          results.push_back(stage_file(batch, p.source, p.destination, datastore::TransferMode::kDirect, moved_sources));
        } else {
          const auto relative = p.destination.lexically_relative(root_).generic_string();
          uploads.push_back({relative, p.remote ? fs::path() : p.source, p.remote});
          // The local source stands for the artifact when a checksum is wanted.
          results.push_back({datastore::TransferMode::kCopy, p.remote ? fs::path() : p.source, relative, 0});
          result_of.push_back(results.size() - 1);
        }
      }
      const auto sent = upload_files(*impl_->remote, root_, uploads, *token, impl_->checksum, created);
      for (std::size_t k = 0; k < sent.size(); ++k) {
        results[result_of[k]].size_bytes = sent[k].size;
        results[result_of[k]].artifact.clear();  // the checksum, if wanted, is that of the bytes sent
        remote_checksums[result_of[k]] = sent[k].checksum;
      }
      if (progress) progress->advance(plan.size());
    } else {
      datastore::TransferOptions topts;
      topts.root = root_;
      datastore::PlacementBatch batch(topts);
      for (const auto& p : plan) {
        if (progress) progress->check_cancelled();
        if (p.remote && p.destination.empty())  // direct or split: the record holds the URI
          results.push_back({datastore::TransferMode::kDirect, {}, p.remote->uri(), p.remote_size});
        else if (p.remote)
          results.push_back(batch.add_download(*p.remote, p.destination));
        else
          results.push_back(stage_file(batch, p.source, p.destination, mode, moved_sources));
        if (progress) progress->advance();
      }
      batch.place();
      for (const auto& result : results)
        if (result.mode != datastore::TransferMode::kDirect && result.mode != datastore::TransferMode::kNone)
          created.push_back(result.artifact);
    }
    std::vector<StoredFile> records;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const auto& p = plan[i];
      const auto& result = results[i];
      // The size is known from the transfer; only a checksum needs the file read again.
      datastore::ArtifactInfo info{result.size_bytes, std::nullopt};
      if (auto sent = remote_checksums.find(i); sent != remote_checksums.end())
        info.checksum = sent->second;
      else if (impl_->checksum && !result.artifact.empty())
        info = datastore::artifact_info(result.artifact, datastore::ChecksumMode::kBlake2b);
      for (const auto& ref : p.refs)
        records.push_back({ref.id, "", result.stored_path, p.file->formatter,
                           types.at(ref.dataset_type).storage_class, info.checksum, info.size_bytes});
    }
    auto txn = registry_->transaction();
    registry_->register_collection(run, CollectionType::kRun);
    std::map<std::string, std::vector<DatasetRef>> by_type;
    for (const auto& p : plan)
      for (const auto& ref : p.refs) by_type[ref.dataset_type].push_back(ref);
    for (const auto& [name, refs] : by_type) registry_->import_datasets(name, run, refs, false);
    registry_->insert_stored_files(records);
    txn.commit();
    for (const auto& p : plan) out.insert(out.end(), p.refs.begin(), p.refs.end());
  } catch (...) {
    discard_placed_files(*registry_, root_, impl_->files, created, impl_->remote);
    throw;
  }
  if (impl_->batch_depth > 0) {  // committed only when the batch commits
    impl_->deferred.push_back({std::move(token), std::move(created), std::move(moved_sources)});
    return out;
  }
  remove_moved_sources(moved_sources);
  return out;
}

Butler::WriteBatch::WriteBatch(Butler& butler) : butler_(butler) {
  txn_.emplace(butler_.registry_->transaction());
  ++butler_.impl_->batch_depth;
  first_deferred_ = butler_.impl_->deferred.size();
}

void Butler::WriteBatch::commit() {
  txn_->commit();
  txn_.reset();
  if (--butler_.impl_->batch_depth > 0) return;  // an enclosing batch decides
  auto deferred = std::move(butler_.impl_->deferred);
  butler_.impl_->deferred.clear();
  for (auto& d : deferred) remove_moved_sources(d.moved_sources);
  // The journals go with the tokens: the files are referenced now.
}

Butler::WriteBatch::~WriteBatch() {
  if (!txn_) return;
  txn_.reset();  // rolls back (to the enclosing batch's savepoint when nested)
  --butler_.impl_->batch_depth;
  auto& deferred = butler_.impl_->deferred;
  for (std::size_t i = first_deferred_; i < deferred.size(); ++i)
    discard_placed_files(*butler_.registry_, butler_.root_, butler_.impl_->files, deferred[i].created,
                         butler_.impl_->remote);
  deferred.erase(deferred.begin() + static_cast<std::ptrdiff_t>(first_deferred_), deferred.end());
}

// ---- retrieval

fs::path Butler::retrieve_artifact(const StoredFile& file, const fs::path& directory, bool preserve_path,
                                   const std::string& mode_name, bool overwrite) {
  using datastore::TransferMode;
  auto mode = datastore::parse_transfer_mode(mode_name);
  if (mode == TransferMode::kAuto) mode = TransferMode::kCopy;
  if (mode != TransferMode::kCopy && mode != TransferMode::kLink && mode != TransferMode::kHardlink &&
      mode != TransferMode::kSymlink && mode != TransferMode::kRelsymlink)
    throw InvalidArgumentError(fmt::format("retrieve-artifacts cannot use transfer mode '{}': use copy, link, "
                                           "hardlink, symlink or relsymlink (the repository keeps its files)",
                                           mode_name));
  if (datastore::inside_root(directory, root_) || datastore::inside_root(root_, directory) ||
      fs::weakly_canonical(fs::absolute(directory)) == fs::weakly_canonical(root_))
    throw InvalidArgumentError(fmt::format("the destination {} is inside the repository (or holds it); retrieve "
                                           "artifacts into a folder of their own", directory.string()));
  const bool stored_remotely = datastore::is_remote_uri(file.path) ||
                               (impl_->remote && file.path.find("://") == std::string::npos && !file.path.empty() &&
                                file.path.front() != '/');
  if (stored_remotely) {
    // A file on a server is copied down (there is nothing local to link to).
    const auto remote = datastore::ResourcePath::parse(artifact_uri(file));
    if (mode != TransferMode::kCopy)
      throw InvalidArgumentError(fmt::format("{} is on a server: retrieve it with --transfer copy", remote.str()));
    const bool relative = !datastore::is_remote_uri(file.path);
    if (preserve_path && relative && datastore::datastore_path_problem(file.path))
      throw InvalidArgumentError(fmt::format("cannot retrieve '{}': its stored path is not a plain relative path",
                                             printable(file.path)));
    const fs::path target = directory / (preserve_path && relative ? fs::path(file.path) : fs::path(remote.name()));
    datastore::AtomicFile out(target, {overwrite ? datastore::Overwrite::kReplace : datastore::Overwrite::kRefuse, {}});
    datastore::download_resource(remote, out.temporary_path());
    out.commit();
    return target;
  }
  const bool is_uri = file.path.find("://") != std::string::npos;
  fs::path source = is_uri ? datastore::path_from_file_uri(file.path) : fs::path(artifact_uri(file));
  fs::path relative = preserve_path && !is_uri && file.path.front() != '/' ? fs::path(file.path) : source.filename();
  if (datastore::datastore_path_problem(relative.generic_string()))
    throw InvalidArgumentError(fmt::format("cannot retrieve '{}': its stored path is not a plain relative path",
                                           printable(file.path)));
  datastore::TransferOptions options;
  if (overwrite) options.overwrite = datastore::Overwrite::kReplace;
  fs::path target = directory / relative;
  datastore::transfer_file(source, target, mode, options);
  return target;
}

// ---- removal, trash and recovery

void Butler::remove_datasets(const std::vector<Uuid>& ids) {
  registry_->remove_datasets(ids);
  empty_trash();
}

void Butler::unstore_datasets(const std::vector<Uuid>& ids) {
  registry_->unstore_datasets(ids);
  empty_trash();
}

void Butler::remove_run(const std::string& run) {
  registry_->remove_run(run);
  empty_trash();
}

std::size_t Butler::empty_trash() {
  auto paths = registry_->trashed_paths();
  std::vector<std::string> done;
  std::size_t removed = 0;
  // A live writer may be placing a new file at a trashed path: leave those for later.
  auto busy = paths.empty() ? std::set<std::string>() : live_journal_paths(root_);
  for (const auto& p : paths) {
    if (busy.count(p)) continue;
    try {
      if (remove_unreferenced(*registry_, root_, impl_->files, p, "the trash", impl_->remote)) ++removed;
      done.push_back(p);
    } catch (const std::exception& e) {
      spdlog::warn("could not delete trashed file {}: {} (kept in the trash; 'butler cleanup' retries)", p, e.what());
    }
  }
  if (!done.empty()) registry_->forget_trashed(done);
  return removed;
}

std::size_t Butler::recover_interrupted_writes() {
  fs::path dir = root_ / datastore::kPrivateFolder / "locks";
  if (!fs::exists(dir)) return 0;
  std::size_t removed = 0;
  const auto live = live_journal_paths(root_);
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".lock") continue;
    if (writer_is_alive(entry.path())) continue;
    fs::path journal = entry.path();
    journal.replace_extension(".pending");
    std::set<fs::path> dirs;
    bool all_done = true;
    const auto entries = read_journal_entries(journal);
    if (!entries && fs::exists(journal))
      spdlog::warn("{} is not a write journal of this majordome; the files it may name were kept", journal.string());
    std::vector<std::string> paths = entries ? entries->paths : std::vector<std::string>{};
    // Files a dead writer was sending to a server: its temporary goes if it is still there
    // (the MOVE never happened); otherwise the destination is its own only if the whole file
    // had reached the temporary and no failed MOVE was recorded (then the MOVE did it).
    if (entries && impl_->remote) {
      for (const auto& [temporary, destination] : entries->remote) {
        if (live.count(temporary) || live.count(destination)) continue;
        try {
          if (datastore::stat_resource(impl_->remote->join(temporary)).exists)
            paths.push_back(temporary);
          else if (entries->put_done.count(temporary) && !entries->refused.count(destination))
            paths.push_back(destination);
        } catch (const std::exception& e) {
          spdlog::warn("could not look at {} left by an interrupted write: {} (kept for the next clean-up)",
                       printable(temporary), e.what());
          all_done = false;
        }
      }
    }
    for (const auto& p : paths) {
      if (live.count(p)) continue;  // a running writer is placing a file there now
      try {
        if (remove_unreferenced(*registry_, root_, impl_->files, p, "an interrupted write", impl_->remote)) ++removed;
      } catch (const std::exception& e) {
        spdlog::warn("could not remove {} left by an interrupted write: {} (kept for the next clean-up)",
                     printable(p), e.what());
        all_done = false;
        continue;
      }
      // Its directory may also hold the writer's half-written temporary.
      if (!datastore::datastore_path_problem(p) && !impl_->files.identify(root_ / p) &&
          !registry_->path_is_referenced(p))
        dirs.insert((root_ / p).parent_path());
    }
    for (const auto& d : dirs)
      if (fs::exists(d)) removed += datastore::cleanup_temporaries(d);
    if (!all_done) continue;  // the journal stays, so the next clean-up retries
    std::error_code ec;
    fs::remove(journal, ec);
    fs::remove(entry.path(), ec);
  }
  if (removed) spdlog::warn("removed {} file(s) left by an interrupted write", removed);
  return removed;
}

}  // namespace majordome::butler
