// Data IDs and dimension records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "majordome/core/time.hpp"
#include "majordome/dimensions/universe.hpp"

namespace majordome::dimensions {

// The value of one dimension in a data ID: an integer (visit, detector) or a string
// (instrument, physical_filter).
using DataIdValue = std::variant<std::int64_t, std::string>;

std::string to_string(const DataIdValue& value);

// A data ID as a user gives it: dimension name → value, in any combination.
using DataId = std::map<std::string, DataIdValue, std::less<>>;

// Parses "instrument=HSC,visit=903334" style lists; integers become ints.
DataId parse_data_id(const std::string& text);

// "{instrument: 'HSC', detector: 10}" in the given key order.
std::string format_data_id(const DataId& id, const std::vector<std::string>& order);

// Converts a value to the type of the dimension's primary key (e.g. "10" → 10 for an int
// key); throws InvalidArgumentError naming the dimension when it cannot.
DataIdValue conform_value(const DimensionElement& dimension, const DataIdValue& value);

struct Bytes {
  std::vector<std::uint8_t> data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// The value of one field of a dimension record. Regions are kept as their encoded bytes
// (the sphgeom byte layout) so they round-trip exactly.
using FieldValue =
    std::variant<std::monostate, std::int64_t, double, bool, std::string, Bytes, Timespan>;

std::string to_string(const FieldValue& value);  // as the CLI prints it (None, 0x…, [t0, t1))

// One row of a dimension element: values in element.record_fields() order.
class DimensionRecord {
 public:
  DimensionRecord(const DimensionElement& element, std::vector<FieldValue> values);
  const DimensionElement& element() const { return *element_; }
  const std::vector<FieldValue>& values() const { return values_; }
  // The value of a field by name; throws NotFoundError for an unknown field.
  const FieldValue& get(std::string_view field) const;
  // The data ID values of the record's required dimensions, named by dimension.
  DataId data_id() const;

 private:
  const DimensionElement* element_;
  std::vector<FieldValue> values_;
};

}  // namespace majordome::dimensions
