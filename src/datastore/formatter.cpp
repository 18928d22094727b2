#include "majordome/datastore/formatter.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"

namespace majordome::datastore {

namespace {

template <class Map>
std::vector<std::string> keys(const Map& map) {
  std::vector<std::string> out;
  for (const auto& [k, v] : map) out.push_back(k);
  return out;
}

}  // namespace

void FormatterRegistry::add_storage_class(StorageClass storage_class) {
  if (storage_class.name.empty()) throw InvalidArgumentError("a storage class needs a name");
  std::string name = storage_class.name;
  storage_classes_.insert_or_assign(std::move(name), std::move(storage_class));
}

void FormatterRegistry::add_formatter(std::shared_ptr<const Formatter> formatter,
                                      const std::vector<std::string>& storage_classes) {
  std::string name(formatter->name());
  for (const auto& sc : storage_classes) default_for_class_.insert_or_assign(sc, name);
  formatters_.insert_or_assign(std::move(name), std::move(formatter));
}

void FormatterRegistry::add_alias(const std::string& alias, const std::string& formatter_name) {
  aliases_.insert_or_assign(alias, formatter_name);
}

void FormatterRegistry::set_formatter_for_dataset_type(const std::string& dataset_type,
                                                       const std::string& formatter_name) {
  if (!find_formatter(formatter_name))
    throw NotFoundError(fmt::format("no formatter named '{}' for dataset type {}; known: {}", printable(formatter_name),
                                    dataset_type, fmt::join(formatter_names(), ", ")));
  for_dataset_type_.insert_or_assign(dataset_type, formatter_name);
}

const StorageClass* FormatterRegistry::find_storage_class(std::string_view name) const {
  auto it = storage_classes_.find(name);
  return it == storage_classes_.end() ? nullptr : &it->second;
}

const StorageClass& FormatterRegistry::get_storage_class(std::string_view name) const {
  if (const auto* sc = find_storage_class(name)) return *sc;
  throw NotFoundError(fmt::format("unknown storage class '{}'; known: {}", printable(name),
                                  fmt::join(storage_class_names(), ", ")));
}

const Formatter* FormatterRegistry::find_formatter(std::string_view name) const {
  auto it = formatters_.find(name);
  if (it != formatters_.end()) return it->second.get();
  auto alias = aliases_.find(name);
  if (alias == aliases_.end()) return nullptr;
  it = formatters_.find(alias->second);
  return it == formatters_.end() ? nullptr : it->second.get();
}

const Formatter& FormatterRegistry::formatter_for_write(std::string_view dataset_type,
                                                        std::string_view storage_class) const {
  std::string_view parent = dataset_type.substr(0, dataset_type.find('.'));
  if (auto it = for_dataset_type_.find(parent); it != for_dataset_type_.end()) return *find_formatter(it->second);
  if (auto it = default_for_class_.find(storage_class); it != default_for_class_.end())
    if (const auto* f = find_formatter(it->second)) return *f;
  get_storage_class(storage_class);  // names the known classes when this one is unknown
  throw NotFoundError(fmt::format("no formatter writes storage class {} (dataset type {}); storage classes with "
                                  "one: {}",
                                  storage_class, dataset_type, fmt::join(keys(default_for_class_), ", ")));
}

const Formatter& FormatterRegistry::formatter_for_read(std::string_view recorded_name,
                                                       std::string_view storage_class) const {
  if (!recorded_name.empty()) {
    if (const auto* f = find_formatter(recorded_name)) return *f;
  }
  if (auto it = default_for_class_.find(storage_class); it != default_for_class_.end() && recorded_name.empty())
    if (const auto* f = find_formatter(it->second)) return *f;
  throw NotFoundError(fmt::format("no formatter can read a file recorded with formatter '{}' and storage class {}; "
                                  "known formatters: {}",
                                  printable(recorded_name), storage_class, fmt::join(formatter_names(), ", ")));
}

std::vector<std::string> FormatterRegistry::storage_class_names() const { return keys(storage_classes_); }
std::vector<std::string> FormatterRegistry::formatter_names() const { return keys(formatters_); }

}  // namespace majordome::datastore
