// Butler::transfer_from: Rubin's transfer-datasets, datasets with their files from one
// repository into another.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "butler_impl.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/resource.hpp"

namespace majordome::butler {

Butler::TransferDatasetsResult Butler::transfer_from(Butler& source, const DatasetsRequest& query,
                                                     const TransferDatasetsOptions& options) {
  datastore::parse_transfer_mode(options.transfer);  // a bad mode fails before any work
  if (&source == this) throw InvalidArgumentError("transfer-datasets needs two different repositories");
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
    if (files.empty()) {
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
    // The records each data ID names, dependencies first (universe order), each once.
    std::set<std::pair<std::string, std::string>> done;
    const auto& universe = dst.universe();
    for (const auto& [run, files] : by_run)
      for (const auto& f : files) {
        const auto& ref = f.refs.front();
        const auto& group = types.at(ref.dataset_type).dimensions;
        const auto expanded = src.expand_data_id(ref.data_id, group);
        for (const auto& name : group.names()) {
          const auto& element = universe.get(name);
          if (!element.has_table()) continue;
          DataId key;
          for (const auto& d : element.required()) key[d] = expanded.at(d);
          if (!done.insert({name, dimensions::format_data_id(key, element.required())}).second) continue;
          // Made again with this repository's universe (the element objects are per universe).
          if (auto record = src.find_record(name, key))
            dst.sync_record(dimensions::DimensionRecord(element, record->values()));
        }
      }
  }
  IngestOptions ingest_options;
  ingest_options.transfer = options.transfer;
  for (const auto& [run, files] : by_run) ingest(files, run, ingest_options);
  batch.commit();
  return result;
}

}  // namespace majordome::butler
