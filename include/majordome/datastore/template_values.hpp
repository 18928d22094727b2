// The values a file template is formatted with: one dataset's data ID, the fields of its
// dimension records, and the dataset's run, type, component and ID.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

namespace majordome::datastore {

// A template value is an integer (visit 903334, day_obs 20130617, htm7 12345) or a string
// (instrument "HSC", physical_filter "HSC-R", run "HSC/runs/ci_hsc/…", a dataset ID).
using TemplateValue = std::variant<std::int64_t, std::string>;

// A name → value mapping, filled by the caller (the butler) from a DatasetRef. Names are:
//   * dimension names ("instrument", "visit", "htm7"): the data ID values, required and
//     implied ("visit" implies "day_obs" and "physical_filter"; give those too);
//   * dotted record fields ("exposure.obs_id", "detector.full_name", "visit.day_obs"): a
//     field of the dimension record of the element before the dot. A record's fields
//     are its primary key ("id" or "name"), its required and implied dimension values,
//     alternate keys and metadata;
//   * the specials "run", "datasetType" (the parent dataset type name), "component" (set
//     only for a component dataset) and "id" (the dataset UUID as text).
//
// Setting any "elem.field" marks elem's record as attached. A template that asks for a
// field of a dimension whose value is present but whose record is not attached fails
// (the caller forgot to expand the data ID); a field missing from an attached record is
// treated like a missing value. Sky-pixel dimensions (htm1..24, healpix1..17) need no
// record: "{htm7.id}" is the value of htm7.
//
// A plain value type; not synchronised (copy it per thread).
class TemplateValues {
 public:
  // Sets `name` (a dimension, special or "elem.field") to `value`, replacing any previous
  // value. Throws InvalidArgumentError if the name is empty or has more than one dot.
  TemplateValues& set(std::string_view name, TemplateValue value);

  // Sets "datasetType" and, for a component name such as "calexp.wcs", "component"
  // ("calexp" and "wcs"; "calexp.maskedimage.variance" → "calexp" and
  // "maskedimage.variance"). Clears "component" for a non-component name.
  TemplateValues& set_dataset_type(std::string_view full_name);

  // Declares that `element`'s record is attached even if none of its fields are set.
  TemplateValues& add_record(std::string_view element);

  // The value of `name` exactly as set (no alias or record resolution), if any.
  std::optional<TemplateValue> find(std::string_view name) const;
  bool contains(std::string_view name) const;
  bool has_record(std::string_view element) const;

  // The one sky-pixel dimension among the plain names, which "skypix" aliases; none if
  // there is no sky-pixel dimension or more than one.
  std::optional<std::string> skypix_dimension() const;

  // True for the names of sky-pixel dimensions: "htm" or "healpix" followed by digits.
  static bool is_skypix_dimension(std::string_view name);

 private:
  std::map<std::string, TemplateValue, std::less<>> values_;
  std::set<std::string, std::less<>> records_;
};

}  // namespace majordome::datastore
