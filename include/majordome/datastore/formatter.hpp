// Storage classes and formatters: how a dataset's object becomes a file and back.
//
// A storage class (Rubin's name for it: "ExposureF", "SourceCatalog", "StructuredDataDict")
// names a C++ type, its components (an Exposure's "wcs", "psf", "bbox"…, each itself of a
// storage class) and the read parameters it accepts ("bbox", "columns"). A formatter writes
// objects of one or more storage classes to a file and reads them back, whole, one component,
// or a part selected by parameters, reading only what that needs.
//
// A FormatterRegistry holds both. It is filled by the modules that own the types
// (datastore::add_basic_formatters, image::add_formatters, instrument::…) and handed to the
// Butler when it opens, so the butler never depends on those modules. The formatter that
// wrote a file is recorded with it, so a file is always read by the formatter that wrote it,
// whatever the configuration says today.
//
// Thread safety: a FormatterRegistry is filled once, then shared read-only (const) between
// threads; formatters are stateless and their read/write may run concurrently on different
// files.
#pragma once

#include <any>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "majordome/datastore/in_memory_dataset.hpp"

namespace majordome::datastore {

struct StorageClass {
  std::string name;            // "ExposureF"
  std::type_index type = typeid(void);  // the C++ type of its objects
  std::string cpp_type;        // the C++ type's name, for messages ("majordome::image::Exposure")
  // Component name → storage class name ("wcs" → "Wcs").
  std::map<std::string, std::string> components;
  // Read parameters the formatters of this class accept ("bbox", "columns").
  std::vector<std::string> parameters;
};

// What to read: the whole object or one component, with parameters. Parameter values are
// the owning module's types (image::Box2I for "bbox", std::vector<std::string> for
// "columns"); a formatter throws InvalidArgumentError for a value of another type.
struct ReadRequest {
  std::string component;                     // "" = the whole dataset
  std::map<std::string, std::any> parameters;
};

class Formatter {
 public:
  virtual ~Formatter() = default;
  // The name recorded in the datastore ("majordome.image.ExposureFormatter").
  virtual std::string_view name() const = 0;
  // The file name extension of what it writes, with its dot (".fits", ".yaml").
  virtual std::string_view extension() const = 0;
  // Writes `object` to a new file at `path` (which does not exist; the caller makes it
  // durable and renames it into place). Throws InvalidArgumentError if the object is not of
  // a type it writes, UnsupportedError if it only reads, IoError for system errors.
  virtual void write(const InMemoryDataset& object, const std::filesystem::path& path) const = 0;
  // Reads the file, or the component/part `request` asks for. `storage_class` is the class
  // the dataset was stored as. Throws CorruptFileError naming the file when it cannot be
  // read, InvalidArgumentError for a component or parameter it does not know.
  virtual InMemoryDataset read(const std::filesystem::path& path, const StorageClass& storage_class,
                               const ReadRequest& request) const = 0;
};

class FormatterRegistry {
 public:
  // Adds (or replaces) a storage class.
  void add_storage_class(StorageClass storage_class);
  // Adds a formatter under its name() and makes it the default for `storage_classes`.
  void add_formatter(std::shared_ptr<const Formatter> formatter, const std::vector<std::string>& storage_classes);
  // Another name under which records may name a formatter (a Rubin class name, an older name).
  void add_alias(const std::string& alias, const std::string& formatter_name);
  // The formatter to write datasets of this type with (Rubin's per-dataset-type override).
  void set_formatter_for_dataset_type(const std::string& dataset_type, const std::string& formatter_name);

  const StorageClass* find_storage_class(std::string_view name) const;
  // NotFoundError naming the class and the known ones.
  const StorageClass& get_storage_class(std::string_view name) const;
  // The formatter that writes new datasets of `dataset_type` (its parent's, for a component)
  // stored as `storage_class`. NotFoundError naming the class and the known ones.
  const Formatter& formatter_for_write(std::string_view dataset_type, std::string_view storage_class) const;
  // The formatter recorded with a file (by name or alias); when the record names none, the
  // storage class's default. NotFoundError naming both and the known formatters.
  const Formatter& formatter_for_read(std::string_view recorded_name, std::string_view storage_class) const;
  const Formatter* find_formatter(std::string_view name) const;

  std::vector<std::string> storage_class_names() const;
  std::vector<std::string> formatter_names() const;

 private:
  std::map<std::string, StorageClass, std::less<>> storage_classes_;
  std::map<std::string, std::shared_ptr<const Formatter>, std::less<>> formatters_;
  std::map<std::string, std::string, std::less<>> aliases_;
  std::map<std::string, std::string, std::less<>> default_for_class_;
  std::map<std::string, std::string, std::less<>> for_dataset_type_;
};

// The storage classes and formatters the datastore itself owns, for types every module
// knows: StructuredDataDict (a JSON value, stored as YAML), Packages (name → version,
// YAML), and the Rubin aliases of their formatters.
void add_basic_formatters(FormatterRegistry& registry);

}  // namespace majordome::datastore
