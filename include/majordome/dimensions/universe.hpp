// The dimension universe: the elements (instrument, visit, detector, …) that identify
// data, their keys and fields, and how they depend on one another.
//
// A Universe is immutable after construction and safe to share between threads; it is
// held through std::shared_ptr<const Universe>. Element names, key types, required and
// implied dimensions follow daf_butler's universe version 8 (data/universe.yaml).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::dimensions {

enum class FieldType { kInt, kFloat, kBool, kString, kHash, kRegion, kTimespan };

std::string_view field_type_name(FieldType type);

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kInt;
  int length = 0;         // maximum length for strings, byte count for hashes
  bool nullable = true;   // metadata may be NULL unless declared otherwise
};

// One element of the universe: a dimension (it has keys) or a join element (it has none).
class DimensionElement {
 public:
  const std::string& name() const { return name_; }
  const std::string& doc() const { return doc_; }
  bool is_dimension() const { return !keys_.empty(); }
  bool is_skypix() const { return skypix_level_ >= 0; }
  bool is_governor() const { return governor_; }
  bool always_join() const { return always_join_; }
  // False for band (a view of physical_filter.band) and for sky pixelizations.
  bool has_table() const { return !is_skypix() && view_of_.empty(); }
  const std::string& view_of() const { return view_of_; }
  const std::string& populated_by() const { return populated_by_; }
  bool spatial() const { return spatial_; }    // records carry a region
  bool temporal() const { return temporal_; }  // records carry a timespan
  // For skypix dimensions: system ("htm", "healpix") and level; otherwise empty / -1.
  const std::string& skypix_system() const { return skypix_system_; }
  int skypix_level() const { return skypix_level_; }

  // Direct dependencies as declared.
  const std::vector<std::string>& direct_required() const { return requires_; }
  const std::vector<std::string>& direct_implied() const { return implies_; }
  // All dimensions whose values identify one record: the transitive closure of
  // `requires` plus the element itself when it is a dimension, in universe order.
  const std::vector<std::string>& required() const { return required_; }

  const std::vector<FieldSpec>& keys() const { return keys_; }  // keys()[0] is the primary key
  const std::vector<FieldSpec>& metadata() const { return metadata_; }

  // A record's fields in Rubin's order: required dimensions (the element's own primary key
  // under its key name, e.g. "id"), implied dimensions, alternate keys, metadata, region,
  // timespan.
  const std::vector<FieldSpec>& record_fields() const { return record_fields_; }
  // Index of a record field by name, if present.
  std::optional<std::size_t> field_index(std::string_view field) const;
  // The name a record field has when it refers to a dimension: "id" of visit → "visit".
  std::string dimension_of_field(std::size_t index) const;

 private:
  friend class Universe;
  std::string name_, doc_, view_of_, populated_by_, skypix_system_;
  int skypix_level_ = -1;
  bool governor_ = false, always_join_ = false, spatial_ = false, temporal_ = false;
  std::vector<std::string> requires_, implies_, required_;
  std::vector<FieldSpec> keys_, metadata_, record_fields_;
  std::size_t required_count_ = 0;  // how many of record_fields_ are required dimensions
};

class Universe;

// A set of dimensions, closed under their requirements and implications, split into
// the required ones (which identify data) and the implied ones (which follow from them).
class DimensionGroup {
 public:
  DimensionGroup() = default;
  const std::vector<std::string>& names() const { return names_; }        // universe order
  const std::vector<std::string>& required() const { return required_; }  // universe order
  const std::vector<std::string>& implied() const { return implied_; }    // universe order
  // required() followed by implied(): the keys of a full data ID.
  std::vector<std::string> data_id_keys() const;
  bool contains(std::string_view name) const;
  bool empty() const { return names_.empty(); }
  // "{instrument, detector}" (the required dimensions, as Rubin prints groups).
  std::string str() const;
  friend bool operator==(const DimensionGroup& a, const DimensionGroup& b) {
    return a.names_ == b.names_;
  }

 private:
  friend class Universe;
  std::vector<std::string> names_, required_, implied_;
};

class Universe {
 public:
  // Parses a universe in majordome's YAML format; throws InvalidConfigError.
  static std::shared_ptr<const Universe> from_yaml(const std::string& text);
  // The universe this build of majordome creates new repositories with.
  static std::shared_ptr<const Universe> make_default();
  static const std::string& default_yaml();

  const std::string& namespace_name() const { return namespace_; }
  int version() const { return version_; }
  const std::string& yaml() const { return yaml_; }  // the text it was made from
  const std::string& common_skypix() const { return common_skypix_; }

  // All elements in universe order (Rubin's topological order, ties by name).
  const std::vector<const DimensionElement*>& elements() const { return ordered_; }
  const DimensionElement* find(std::string_view name) const;
  // Throws NotFoundError naming the element and suggesting the nearest name.
  const DimensionElement& get(std::string_view name) const;
  std::size_t order_of(std::string_view name) const;
  bool is_dimension(std::string_view name) const;
  // The governor dimensions (instrument, skymap).
  std::vector<std::string> governors() const;

  // The group spanned by these dimension names (any order, unknown names throw).
  DimensionGroup group(const std::vector<std::string>& names) const;
  // The closest known element names to `name`, for "did you mean" messages.
  std::string suggest(std::string_view name) const;

 private:
  std::string namespace_, yaml_, common_skypix_;
  int version_ = 0;
  std::map<std::string, std::unique_ptr<DimensionElement>, std::less<>> by_name_;
  std::vector<const DimensionElement*> ordered_;
  std::map<std::string, std::size_t, std::less<>> order_;
};

}  // namespace majordome::dimensions
