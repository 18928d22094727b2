// Butler::transfer_from: Rubin's transfer-datasets, datasets with their files from one
// repository into another.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "butler_impl.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/resource.hpp"

namespace majordome::butler {

namespace {

// The data ID a record stands for: its required dimensions' values.
DataId data_id_of(const dimensions::DimensionRecord& record) {
  const auto& e = record.element();
  DataId out;
  const auto& required = e.required();
  for (std::size_t i = 0; i < e.record_fields().size(); ++i) {
    const auto d = e.dimension_of_field(i);
    if (std::find(required.begin(), required.end(), d) == required.end()) continue;
    const auto& v = record.values()[i];
    if (const auto* n = std::get_if<std::int64_t>(&v)) out[d] = *n;
    else if (const auto* t = std::get_if<std::string>(&v)) out[d] = *t;
  }
  return out;
}

// Copies dimension records from one registry to another with everything they stand on:
// the records of their required and implied dimensions first, then, for a dimension, the
// records its definition populates (a visit's visit_definition, visit_detector_region and
// visit_system_membership rows), as Rubin's transfer does. Records already there are kept.
class RecordCopier {
 public:
  RecordCopier(registry::Registry& source, registry::Registry& destination) : src_(source), dst_(destination) {}

  void copy(const std::string& name, const DataId& values) {
    const auto& element = dst_.universe().get(name);
    if (!element.has_table()) return;
    DataId key;
    for (const auto& d : element.required()) {
      auto it = values.find(d);
      if (it == values.end()) return;
      key[d] = it->second;
    }
    if (!done_.insert(name + dimensions::format_data_id(key, element.required())).second) return;
    const auto record = src_.find_record(name, key);
    if (!record) return;
    for (const auto& d : element.required())
      if (d != name) copy(d, key);
    DataId with_implied = key;
    for (const auto& d : element.direct_implied()) {
      const auto& v = record->get(d);
      if (const auto* n = std::get_if<std::int64_t>(&v)) with_implied[d] = *n;
      else if (const auto* t = std::get_if<std::string>(&v)) with_implied[d] = *t;
      else continue;
      copy(d, with_implied);
    }
    // Made again with this repository's universe (the element objects are per universe).
    dst_.insert_records(name, {dimensions::DimensionRecord(element, record->values())},
                        registry::Registry::OnConflict::kSkip);
    if (!element.is_dimension()) return;
    for (const auto* populated : dst_.universe().elements())
      if (populated->populated_by() == name && populated->has_table())
        for (const auto& r : src_.query_records(populated->name(), key)) copy(populated->name(), data_id_of(r));
  }

 private:
  registry::Registry& src_;
  registry::Registry& dst_;
  std::set<std::string> done_;
};

}  // namespace

Butler::TransferDatasetsResult Butler::transfer_from(Butler& source, const DatasetsRequest& query,
                                                     const TransferDatasetsOptions& options) {
  // Files that stay the other repository's (direct, split, none) or leave it (move) would be
  // lost to one of the two when the other removes or prunes them: copies or links only.
  const auto mode = datastore::parse_transfer_mode(options.transfer);
  using datastore::TransferMode;
  if (mode != TransferMode::kAuto && mode != TransferMode::kCopy && mode != TransferMode::kLink &&
      mode != TransferMode::kHardlink && mode != TransferMode::kSymlink && mode != TransferMode::kRelsymlink)
    throw InvalidArgumentError(fmt::format("transfer-datasets cannot use -t {}: the files belong to the source "
                                           "repository; use auto, copy, link, hardlink, symlink or relsymlink",
                                           options.transfer));
  if (&source == this) throw InvalidArgumentError("transfer-datasets needs two different repositories");
  if (source.registry().universe().yaml() != registry_->universe().yaml())
    throw UnsupportedError(fmt::format("the two repositories have different dimension universes ({} {} and {} {}); "
                                       "datasets can be transferred only between repositories of the same universe",
                                       source.registry().universe().namespace_name(),
                                       source.registry().universe().version(), registry_->universe().namespace_name(),
                                       registry_->universe().version()));
  TransferDatasetsResult result;
  auto& src = source.registry();
  auto& dst = *registry_;

  // The datasets, each once (a dataset is found in each collection that holds it).
  std::vector<DatasetRef> refs;
  {
    std::set<Uuid> seen;
    auto found = source.query_datasets(query);
    while (auto ref = found.next())
      if (seen.insert(ref->id).second) refs.push_back(std::move(*ref));
  }
  result.found = refs.size();

  // Dataset types: the same definition here, registered when asked.
  std::map<std::string, DatasetType> types;
  std::vector<std::string> missing_types;
  for (const auto& ref : refs) {
    if (types.count(ref.dataset_type)) continue;
    const auto type = src.get_dataset_type(ref.dataset_type);
    types.emplace(type.name, type);
    if (auto here = dst.find_dataset_type(type.name)) {
      if (here->storage_class != type.storage_class || !(here->dimensions == type.dimensions) ||
          here->is_calibration != type.is_calibration)
        throw ConflictError(fmt::format("dataset type {} is defined differently here ({} {}) and in the source ({} {})",
                                        type.name, here->storage_class, here->dimensions.str(), type.storage_class,
                                        type.dimensions.str()));
    } else if (!options.register_dataset_types) {
      missing_types.push_back(type.name);
    }
  }
  if (!missing_types.empty())
    throw NotFoundError(fmt::format("dataset type(s) {} are not registered in the destination; register them (butler "
                                    "register-dataset-type) or pass --register-dataset-types",
                                    fmt::join(missing_types, ", ")));

  // What is already here is skipped; a dataset without a file has nothing to transfer.
  std::map<std::string, std::vector<FileDataset>> by_run;
  for (const auto& ref : refs) {
    if (dst.get_dataset(ref.id)) {
      ++result.already_here;
      continue;
    }
    const auto files = src.stored_files(ref.id);
    // A record whose file is gone is skipped like a dataset without one (Rubin's skip_missing).
    if (files.empty() || !datastore::stat_resource(datastore::ResourcePath::parse(source.artifact_uri(files.front())))
                              .exists) {
      ++result.without_file;
      continue;
    }
    if (files.size() > 1)
      throw UnsupportedError(fmt::format("dataset {} ({}) is stored as {} files (disassembled); transferring such "
                                         "datasets is not supported yet",
                                         ref.id.str(), ref.dataset_type, files.size()));
    FileDataset f;
    // Its absolute location (a path, or the URI of a file on a server).
    f.path = datastore::ResourcePath::parse(source.artifact_uri(files.front())).str();
    f.formatter = files.front().formatter;
    DatasetRef copy = ref;
    f.refs.push_back(std::move(copy));
    by_run[ref.run].push_back(std::move(f));
    ++result.transferred;
  }
  if (options.dry_run || result.transferred == 0) return result;

  WriteBatch batch(*this);
  for (const auto& [name, type] : types)
    if (options.register_dataset_types) dst.register_dataset_type(type);
  if (options.transfer_dimensions) {
    RecordCopier copier(src, dst);
    for (const auto& [run, files] : by_run)
      for (const auto& f : files) {
        const auto& ref = f.refs.front();
        const auto expanded = src.expand_data_id(ref.data_id, types.at(ref.dataset_type).dimensions);
        for (const auto& name : types.at(ref.dataset_type).dimensions.names()) copier.copy(name, expanded);
      }
  }
  IngestOptions ingest_options;
  ingest_options.transfer = options.transfer;
  for (const auto& [run, files] : by_run) ingest(files, run, ingest_options);
  batch.commit();
  return result;
}

}  // namespace majordome::butler
