// Butler::put / get and friends: datasets by meaning, through the formatters.
#include <cxxabi.h>

#include <cstdlib>
#include <algorithm>
#include <memory>
#include <typeindex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "butler_impl.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/resource.hpp"
#include "majordome/datastore/atomic_file.hpp"
#include "majordome/datastore/checksum.hpp"
#include "write_token.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;

namespace {

std::string type_name(std::type_index type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? name.get() : type.name();
}

std::string parent_of(const std::string& dataset_type) { return dataset_type.substr(0, dataset_type.find('.')); }

std::string component_of(const std::string& dataset_type) {
  auto dot = dataset_type.find('.');
  return dot == std::string::npos ? "" : dataset_type.substr(dot + 1);
}

// The time a calibration is looked up at: the timespan of the exposure (or visit) the data
// ID names, as Rubin's Butler.get does.
std::optional<Timespan> lookup_time(Registry& registry, const DataId& data_id) {
  for (const char* element : {"exposure", "visit"}) {
    if (!data_id.count(element) || !data_id.count("instrument")) continue;
    const auto& universe = registry.universe();
    if (!universe.find(element)) continue;
    DataId key = registry.conform_data_id(data_id, universe.group({element}));
    auto record = registry.find_record(element, key);
    if (!record) continue;
    const auto& span = record->get("timespan");
    if (const auto* t = std::get_if<Timespan>(&span)) return *t;
  }
  return std::nullopt;
}

}  // namespace

void Butler::throw_wrong_type(const std::type_info& wanted, const InMemoryDataset& got) {
  throw InvalidArgumentError(
      fmt::format("the dataset read is a {}, not a {}", type_name(got.type()), type_name(std::type_index(wanted))));
}

DatasetRef Butler::put(const InMemoryDataset& object, const std::string& dataset_type, const DataId& data_id,
                       const std::string& run) {
  registry::validate_collection_name(run);
  auto type = registry_->find_dataset_type(dataset_type);
  if (!type)
    throw NotFoundError(fmt::format("dataset type '{}' is not registered; register it first (butler "
                                    "register-dataset-type REPO {} STORAGE_CLASS DIMENSION...)",
                                    printable(dataset_type), printable(dataset_type)));
  if (type->is_component())
    throw InvalidArgumentError(fmt::format("cannot put the component {}; put the whole {} dataset", dataset_type,
                                           type->parent_name()));
  const auto& storage_class = formatters_->get_storage_class(type->storage_class);
  if (object.type() != storage_class.type)
    throw InvalidArgumentError(fmt::format("dataset type {} has storage class {}, whose objects are {}; the object "
                                           "given is a {}",
                                           type->name, storage_class.name, storage_class.cpp_type,
                                           type_name(object.type())));
  const auto& formatter = formatters_->formatter_for_write(type->name, type->storage_class);

  DatasetRef ref;
  ref.dataset_type = type->name;
  ref.run = run;
  DataId conformed = registry_->conform_data_id(data_id, type->dimensions);
  ref.data_id = registry_->expand_data_id(conformed, type->dimensions);
  if (auto existing = registry_->find_collection(run)) {
    if (existing->type == CollectionType::kRun && registry_->find_dataset(type->name, conformed, {run}))
      throw ConflictError(fmt::format("run '{}' already has a {} dataset for {}; remove it first (butler "
                                      "prune-datasets) or put into another run",
                                      printable(run), type->name,
                                      dimensions::format_data_id(conformed, type->dimensions.required())));
  }
  ref.id = registry::make_dataset_id(registry::IdGenerationMode::kUnique, type->name, run, conformed);
  fs::path destination = impl_->destination(root_, template_path(ref, *type), std::string(formatter.extension()),
                                            fmt::format("dataset {} of run '{}'", type->name, printable(run)));
  const std::string relative = destination.lexically_relative(root_).generic_string();

  auto token = std::make_unique<WriteToken>(root_);
  if (impl_->remote) {
    check_remote_destinations(*registry_, *impl_->remote, {relative});  // journalled as it is sent
  } else if (will_create(destination)) {
    token->announce({relative});
  }
  std::vector<fs::path> created;
  try {
    datastore::ArtifactInfo info;
    const auto checksum = impl_->checksum ? datastore::ChecksumMode::kBlake2b : datastore::ChecksumMode::kNone;
    if (impl_->remote) {
      // Written here by the formatter, then sent (PUT to a temporary name, MOVE into place).
      const auto local = fs::temp_directory_path() / fmt::format("majordome-put-{}{}", Uuid::v4().str(),
                                                                  formatter.extension());
      struct Remove {
        fs::path p;
        ~Remove() {
          std::error_code ec;
          fs::remove(p, ec);
        }
      } remove_local{local};
      formatter.write(object, local);
      info = datastore::artifact_info(local, checksum);
      upload_files(*impl_->remote, root_, {{relative, local, std::nullopt}}, *token, false, created);
    } else {
      {
        datastore::AtomicFile file(destination);
        formatter.write(object, file.temporary_path());
        file.commit();
      }
      created.push_back(destination);
      info = datastore::artifact_info(destination, checksum);
    }
    auto txn = registry_->transaction();
    registry_->register_collection(run, CollectionType::kRun);
    registry_->import_datasets(type->name, run, {ref}, false);
    registry_->insert_stored_files({{ref.id, "", relative, std::string(formatter.name()), storage_class.name,
                                     info.checksum, info.size_bytes}});
    txn.commit();
  } catch (...) {
    discard_placed_files(*registry_, root_, impl_->files, created, impl_->remote);
    throw;
  }
  if (impl_->batch_depth > 0) impl_->deferred.push_back({std::move(token), std::move(created), {}});
  return ref;
}

std::optional<DatasetRef> Butler::find_dataset(const std::string& dataset_type, const DataId& data_id,
                                               const std::vector<std::string>& collections) {
  if (collections.empty())
    throw InvalidArgumentError(fmt::format("no collections to search for {}; name at least one", dataset_type));
  auto type = registry_->get_dataset_type(parent_of(dataset_type));
  DataId conformed = registry_->conform_data_id(data_id, type.dimensions);
  std::optional<Timespan> when;
  if (type.is_calibration) when = lookup_time(*registry_, data_id);
  auto ref = registry_->find_dataset(type.name, conformed, collections, when);
  if (ref) ref->dataset_type = dataset_type;
  return ref;
}

InMemoryDataset Butler::get(const std::string& dataset_type, const DataId& data_id,
                            const std::vector<std::string>& collections, const ReadParameters& parameters) {
  auto ref = find_dataset(dataset_type, data_id, collections);
  if (!ref)
    throw NotFoundError(fmt::format("no {} dataset for {} in collections [{}]", printable(dataset_type),
                                    printable(dimensions::format_data_id(data_id, {})), fmt::join(collections, ", ")));
  return get(*ref, parameters);
}

InMemoryDataset Butler::get(const DatasetRef& given, const ReadParameters& parameters) {
  DatasetRef ref = given;
  if (ref.dataset_type.empty()) {
    auto found = registry_->get_dataset(given.id);
    if (!found) throw NotFoundError(fmt::format("no dataset with ID {}", given.id.str()));
    ref = *found;
  }
  const std::string component = component_of(ref.dataset_type);
  auto files = registry_->stored_files(ref.id);
  const registry::StoredFile* file = nullptr;
  for (const auto& f : files)
    if (f.component.empty() || f.component == component) file = &f;
  if (!file)
    throw NotFoundError(fmt::format("dataset {} {} (ID {}) has no stored file: it was ingested without one or its "
                                    "file was removed (prune-datasets --unstore)",
                                    ref.dataset_type, dimensions::format_data_id(ref.data_id, {}), ref.id.str()));
  std::string storage_class_name = file->storage_class;
  if (storage_class_name.empty()) storage_class_name = registry_->get_dataset_type(parent_of(ref.dataset_type)).storage_class;
  const auto& storage_class = formatters_->get_storage_class(storage_class_name);
  datastore::ReadRequest request;
  request.component = file->component.empty() ? component : "";
  if (!request.component.empty() && !storage_class.components.count(request.component)) {
    std::vector<std::string> known;
    for (const auto& [name, sc] : storage_class.components) known.push_back(name);
    throw InvalidArgumentError(fmt::format("storage class {} has no component '{}'; its components: {}",
                                           storage_class.name, printable(request.component),
                                           known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
  }
  // Parameters apply to what is read: the component's class when a component is asked for.
  const auto* target = &storage_class;
  if (!request.component.empty())
    if (const auto* sc = formatters_->find_storage_class(storage_class.components.at(request.component))) target = sc;
  for (const auto& [name, value] : parameters) {
    const auto& accepted = target->parameters;
    if (std::find(accepted.begin(), accepted.end(), name) == accepted.end())
      throw InvalidArgumentError(fmt::format("storage class {} takes no read parameter '{}'{}", target->name,
                                             printable(name),
                                             accepted.empty() ? "" : fmt::format("; it takes: {}", fmt::join(accepted, ", "))));
    request.parameters.emplace(name, value);
  }
  const auto location = datastore::ResourcePath::parse(artifact_uri(*file));
  auto missing = [&] {
    return NotFoundError(fmt::format("the file of dataset {} (ID {}) is missing: {}; the repository has lost it "
                                     "(restore it, or remove the dataset with prune-datasets)",
                                     ref.dataset_type, ref.id.str(), printable(location.str())));
  };
  if (location.is_local()) {
    std::error_code ec;
    if (!fs::exists(location.local_path(), ec)) throw missing();
  }
  const auto& formatter = formatters_->formatter_for_read(file->formatter, storage_class.name);
  std::optional<datastore::LocalCopy> local;
  try {
    local.emplace(location);  // a remote file is read from a temporary copy
  } catch (const NotFoundError&) {
    throw missing();
  }
  if (location.is_remote()) {
    // What came over the network is what was stored: size, and checksum when recorded.
    const auto size = static_cast<std::int64_t>(fs::file_size(local->path()));
    if (file->file_size && *file->file_size >= 0 && *file->file_size != size)  // negative: not recorded (Rubin's -1)
      throw CorruptFileError(fmt::format("the file of dataset {} (ID {}) at {} has {} bytes; {} were stored",
                                         ref.dataset_type, ref.id.str(), printable(location.str()), size,
                                         *file->file_size));
    if (file->checksum && datastore::blake2b_file_hexdigest(local->path()) != *file->checksum)
      throw CorruptFileError(fmt::format("the file of dataset {} (ID {}) at {} does not match the checksum recorded "
                                         "when it was stored; it was changed or damaged on the server",
                                         ref.dataset_type, ref.id.str(), printable(location.str())));
  }
  return formatter.read(local->path(), storage_class, request);
}

Butler::DeferredDatasetHandle Butler::get_deferred(const DatasetRef& ref) {
  return DeferredDatasetHandle(this, ref);
}

Butler::DeferredDatasetHandle Butler::get_deferred(const std::string& dataset_type, const DataId& data_id,
                                                   const std::vector<std::string>& collections) {
  auto ref = find_dataset(dataset_type, data_id, collections);
  if (!ref)
    throw NotFoundError(fmt::format("no {} dataset for {} in collections [{}]", printable(dataset_type),
                                    printable(dimensions::format_data_id(data_id, {})), fmt::join(collections, ", ")));
  return DeferredDatasetHandle(this, *ref);
}

bool Butler::exists(const DatasetRef& ref) {
  if (!registry_->get_dataset(ref.id)) return false;
  for (const auto& file : registry_->stored_files(ref.id)) {
    if (!datastore::stat_resource(datastore::ResourcePath::parse(artifact_uri(file))).exists) return false;
  }
  return !registry_->stored_files(ref.id).empty();
}

std::string Butler::get_uri(const DatasetRef& ref) {
  auto files = registry_->stored_files(ref.id);
  if (files.empty()) throw NotFoundError(fmt::format("dataset {} has no stored file", ref.id.str()));
  std::string uri = artifact_uri(files.front());
  if (uri.find("://") != std::string::npos) return uri;
  return "file://" + fs::absolute(uri).lexically_normal().string();
}

}  // namespace majordome::butler
