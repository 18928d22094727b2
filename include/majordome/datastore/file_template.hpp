// File templates: how a dataset's path inside the datastore is built from its data ID,
// run and dataset type — Rubin's FileTemplate syntax (spec/butler.md §6, docs/datastore.md).
//
//   "{run:/}/{datasetType}/{visit:05d}/{physical_filter}_{detector.full_name:?}"
//
// Fields are Python str.format replacement fields over TemplateValues names, with the
// Rubin extensions: ":?" optional, ":/" keep '/' in the value, "a|b.c|d" alternates.
#pragma once

#include "majordome/datastore/template_values.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::datastore {

// Rubin's default template (daf_butler configs/datastores/fileDatastore.yaml, key
// "default"): every dimension a dataset may have, optional, plus the run.
inline constexpr std::string_view kDefaultTemplate =
    "{run:/}/{datasetType}.{component:?}/{tract:?}/{patch:?}/"
    "{day_obs|visit.day_obs|exposure.day_obs:?}/{band:?}/{subfilter:?}/{physical_filter:?}/"
    "{visit:?}/{exposure.obs_id|group:?}/{datasetType}_{component:?}_{instrument:?}_{tract:?}_"
    "{patch:?}_{band:?}_{physical_filter:?}_{visit:?}_{exposure.obs_id|group:?}_"
    "{detector.full_name:?}_{skymap:?}_{skypix:?}_{ssp_hypothesis_table:?}_"
    "{ssp_hypothesis_bundle:?}_{ssp_balanced_index:?}_{run}";

// Rubin's template for raw-like datasets (lookup key "physical_filter+detector+exposure"):
// no band or filter directory level.
inline constexpr std::string_view kRawTemplate =
    "{run:/}/{datasetType}.{component:?}/{day_obs|exposure.day_obs}/{exposure.obs_id}/"
    "{datasetType}_{component:?}_{instrument:?}_{physical_filter}_{exposure.obs_id}_"
    "{detector.full_name}_{run}";

// The lookup key under which Rubin's configuration holds kRawTemplate.
inline constexpr std::string_view kRawTemplateKey = "physical_filter+detector+exposure";

// What template lookup and validation need to know about a dataset type, as plain names
// so that this module does not depend on the dimension classes.
struct DatasetTypeInfo {
  std::string name;                          // full name: "calexp", or "calexp.wcs" for a component
  std::string storage_class;                 // "ExposureF"; empty if unknown
  std::set<std::string> required_dimensions;  // e.g. {instrument, detector, visit}
  std::set<std::string> implied_dimensions;   // e.g. {band, day_obs, physical_filter}

  bool is_component() const { return name.find('.') != std::string::npos; }
};

// Which field names FileTemplate::fields() reports. By default: the dimensions used by
// non-optional fields, "a.b" reported as "a".
struct FieldSelection {
  bool optionals = false;  // include fields marked ":?"
  bool specials = false;   // include "run", "id", "datasetType", "component"
  bool subfields = false;  // report "a.b" as "a.b" rather than "a"
};

// A parsed template. Immutable after parse(); safe to share between threads.
class FileTemplate {
 public:
  // Parses and checks `text` once. Throws InvalidConfigError, naming the template and the
  // problem, for: unbalanced or nested braces, an empty or malformed field name, an
  // unsupported conversion (only "!s") or format spec, no "run" and no "id" field, no
  // dimension field (unless "id" is used), "{id}" used but not in the file name,
  // "../" in the text, or the retired "collection" field.
  static FileTemplate parse(std::string_view text);

  FileTemplate(const FileTemplate&);
  FileTemplate(FileTemplate&&) noexcept;
  FileTemplate& operator=(const FileTemplate&);
  FileTemplate& operator=(FileTemplate&&) noexcept;
  ~FileTemplate();

  const std::string& text() const { return text_; }

  // The path for one dataset, relative to the datastore root, POSIX separators, without
  // a file extension (the formatter appends it). Rules, in order:
  //   * alternates: the first whose dimension (the part before any '.') has a value;
  //   * a missing optional field is dropped together with the literal text before it,
  //     unless that text contains '/';
  //   * string values: ' ', '<', '>', ':', '"', '\', '|', '?', '*' become '_', and '/'
  //     becomes '_' unless the field has ":/"; then the format spec and "!s" apply;
  //   * in the last path component '.' becomes '_' and '#' becomes "HASH";
  //   * the path is normalised ("a//b/./c" → "a/b/c") and leading '/' removed.
  // Throws NotFoundError naming the field and the template for a missing non-optional
  // field; InvalidArgumentError if a record field is asked of a dimension whose record
  // is not attached, or if the result would be empty or outside the root (a value such
  // as "../x" with ":/"); InvalidConfigError if "component" is set but the template does
  // not use it, or a value does not suit its format spec ("{visit:05d}" of a string).
  std::string format(const TemplateValues& values) const;

  // The field names used, as selected (alternates each count).
  std::set<std::string> fields(FieldSelection selection = {}) const;

  // Checks that this template suits `dataset_type`: a component dataset type needs a
  // "component" field, a non-component one must not require it; every non-optional
  // dimension field is a dimension of the dataset type; and every required dimension is
  // used (optionally) — otherwise two datasets could get the same path. A sky-pixel
  // dimension may be used as "skypix". Throws InvalidConfigError saying what is wrong.
  void validate(const DatasetTypeInfo& dataset_type) const;

  friend bool operator==(const FileTemplate& a, const FileTemplate& b) { return a.text_ == b.text_; }

 private:
  struct Part;
  FileTemplate();

  std::string text_;
  std::vector<Part> parts_;
};

}  // namespace majordome::datastore
