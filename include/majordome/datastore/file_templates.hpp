// FileTemplates: which template a dataset type uses, from the datastore configuration's
// "templates" mapping (Rubin's lookup rules, spec/butler.md §6).
//
//   templates:
//     default: "{run:/}/{datasetType}…"              # fallback; false or "" disables it
//     calexp: "{run:/}/{datasetType}/{visit:08d}/…"  # by dataset type name
//     ExposureF: "…"                                  # by storage class name
//     physical_filter+detector+exposure: "…"          # by dimensions ('+'-joined)
//     instrument<HSC>:                                # overrides for data IDs with instrument=HSC
//       calexp: "…"
#pragma once

#include "majordome/datastore/file_template.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace majordome::datastore {

// The template a lookup found, and the configuration key that matched ("calexp",
// "physical_filter+detector+exposure", "instrument<HSC>:calexp", "default"). The pointer
// stays valid as long as the FileTemplates it came from.
struct TemplateMatch {
  std::string key;
  const FileTemplate* file_template = nullptr;
};

// Immutable after construction; const member functions are safe to call concurrently.
class FileTemplates {
 public:
  // Maps a set of dimension names to the form in which two sets are compared, so that a
  // key "physical_filter+detector+exposure" can match a dataset type whose dimensions
  // are {instrument, detector, exposure, physical_filter, band, day_obs, group}. The
  // butler passes the universe's expansion (required + implied names); the default is
  // the identity, under which a key matches only the exact set of names given.
  using DimensionNormalizer = std::function<std::set<std::string>(const std::set<std::string>&)>;

  // Templates with only a default (or none: then every lookup misses).
  explicit FileTemplates(std::optional<FileTemplate> default_template = std::nullopt,
                         DimensionNormalizer normalizer = {});

  // From a "templates" mapping as above. `fallback_default` is used when the mapping has
  // no "default" key (a "default: false" still disables it). Throws InvalidConfigError
  // for a malformed mapping, a hierarchical key other than instrument<Name>, a key given
  // twice, `default: true`, or any template parse() rejects (the message names the key).
  static FileTemplates from_yaml(const YAML::Node& templates, DimensionNormalizer normalizer = {},
                                 std::optional<std::string> fallback_default = std::nullopt);
  // As above, from YAML text (the content of the "templates" mapping).
  static FileTemplates from_yaml_text(std::string_view yaml, DimensionNormalizer normalizer = {},
                                      std::optional<std::string> fallback_default = std::nullopt);

  // Rubin's shipped configuration: kDefaultTemplate as default and kRawTemplate under
  // kRawTemplateKey.
  static FileTemplates rubin_defaults(DimensionNormalizer normalizer = {});

  // Adds or replaces a template. `key` is a dataset type or storage class name, '+'-joined
  // dimension names, or "default"; `instrument` makes it an instrument<Name> override.
  void add(std::string_view key, FileTemplate file_template,
           std::optional<std::string> instrument = std::nullopt);

  // The template for a dataset of `dataset_type` whose data ID has `instrument` (if any).
  // Keys are tried in Rubin's order, instrument overrides first, then the same keys
  // without override: the full dataset type name, the parent name for a component, the
  // dimensions (only if the dataset type has any), the storage class; then "default".
  std::optional<TemplateMatch> find(const DatasetTypeInfo& dataset_type,
                                    std::optional<std::string_view> instrument = std::nullopt) const;
  // As find(), but throws NotFoundError naming the dataset type when nothing matches.
  const FileTemplate& get(const DatasetTypeInfo& dataset_type,
                          std::optional<std::string_view> instrument = std::nullopt) const;

  // Finds and validates (FileTemplate::validate) the template of each dataset type;
  // throws one InvalidConfigError listing every failure with the key that matched.
  void validate(std::span<const DatasetTypeInfo> dataset_types) const;

  const std::optional<FileTemplate>& default_template() const { return default_; }

 private:
  struct Entry {
    std::string key;                               // as written in the configuration
    std::optional<std::string> instrument;         // set for instrument<Name> overrides
    std::optional<std::string> name;               // dataset type or storage class name
    std::optional<std::set<std::string>> dimensions;  // normalised, for '+' keys
    FileTemplate file_template;
  };
  // The entry with exactly this instrument and name (or normalised dimensions).
  std::optional<std::size_t> find_entry(const std::optional<std::string>& instrument, const std::string* name,
                                        const std::set<std::string>* dimensions) const;

  std::optional<FileTemplate> default_;
  DimensionNormalizer normalizer_;
  std::vector<Entry> entries_;
};

}  // namespace majordome::datastore
