// Catalog: a table with typed columns, described by a Schema (names, units, docs).
//
// Storage is by column (each column one contiguous array), which is what vectorized
// code and FITS binary tables want. FitsFile::write_catalog / read_catalog store it as a
// FITS BINTABLE that astropy's Table.read reads with names, dtypes, units, display
// formats and descriptions (see docs/image.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "majordome/image/header.hpp"

namespace majordome::image {

enum class ColumnType { kBool, kInt32, kInt64, kFloat, kDouble, kString };

// "bool", "int32", "int64", "float", "double", "string".
std::string_view column_type_name(ColumnType type);

struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kDouble;
  // Numeric and bool columns: elements per row (> 1 makes a fixed-length array column,
  // stored row-major: element j of row i at [i * count + j]).
  // String columns: the maximum length in bytes; 0 = the longest value, when writing.
  int count = 1;
  // Optional shape of an array cell (FITS TDIM, first axis varies fastest); its product
  // must equal count. Empty for scalars and 1-D arrays.
  std::vector<int> shape;
  std::string unit;            // FITS/astropy unit string ("deg", "nJy", "pixel", …)
  std::string doc;             // one-line description
  std::string display_format;  // FITS TDISP ("F10.4", "I8", "E15.7"), optional

  friend bool operator==(const ColumnSpec&, const ColumnSpec&) = default;
};

// An ordered list of uniquely named columns. Value type.
class Schema {
 public:
  // Appends a column. Throws ConflictError for a duplicate name, InvalidArgumentError for
  // an empty name, a count < 1 (or < 0 for strings) or a shape that does not match count.
  Schema& add(ColumnSpec spec);
  // Shortcut: add({name, type, count, {}, unit, doc}).
  Schema& add(std::string name, ColumnType type, std::string doc = {}, std::string unit = {},
              int count = 1);

  std::size_t size() const { return columns_.size(); }
  const ColumnSpec& operator[](std::size_t i) const { return columns_[i]; }
  const std::vector<ColumnSpec>& columns() const { return columns_; }
  std::optional<std::size_t> find_index(std::string_view name) const;
  // Throws NotFoundError listing the columns.
  const ColumnSpec& get(std::string_view name) const;

  friend bool operator==(const Schema&, const Schema&) = default;

 private:
  std::vector<ColumnSpec> columns_;
};

// A fixed-capacity array of bools (std::vector<bool> cannot be viewed as a span).
class BoolArray {
 public:
  BoolArray() = default;
  explicit BoolArray(std::size_t n);
  BoolArray(const BoolArray& other);
  BoolArray& operator=(const BoolArray& other);
  BoolArray(BoolArray&&) noexcept = default;
  BoolArray& operator=(BoolArray&&) noexcept = default;
  bool* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  void resize(std::size_t n);  // keeps the first min(n, size()) values, new ones false

 private:
  std::unique_ptr<bool[]> data_;
  std::size_t size_ = 0;
};

// Rows of values following a Schema. Value type (copies copy the data).
class Catalog {
 public:
  Catalog() = default;
  // `rows` rows of zeros / false / empty strings.
  explicit Catalog(Schema schema, std::size_t rows = 0);

  const Schema& schema() const { return schema_; }
  std::size_t size() const { return rows_; }
  // Grows (zero-filled) or shrinks every column.
  void resize(std::size_t rows);

  // The values of a numeric or bool column as one array of size() * count elements.
  // T must be the column's type: bool, std::int32_t, std::int64_t, float or double;
  // a mismatch throws InvalidArgumentError naming both types, an unknown name
  // NotFoundError. The span stays valid until resize().
  template <typename T>
  std::span<T> column(std::string_view name);
  template <typename T>
  std::span<const T> column(std::string_view name) const;
  // The values of a string column (one per row).
  std::vector<std::string>& strings(std::string_view name);
  const std::vector<std::string>& strings(std::string_view name) const;

  // Table-level header cards (written into the BINTABLE header, read back from it).
  Header& metadata() { return metadata_; }
  const Header& metadata() const { return metadata_; }

 private:
  using Storage = std::variant<BoolArray, std::vector<std::int32_t>, std::vector<std::int64_t>,
                               std::vector<float>, std::vector<double>, std::vector<std::string>>;
  Storage& storage(std::string_view name, ColumnType expected);
  const Storage& storage(std::string_view name, ColumnType expected) const;

  Schema schema_;
  std::vector<Storage> data_;
  std::size_t rows_ = 0;
  Header metadata_;
};

}  // namespace majordome::image
