#include "majordome/image/catalog.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>

#include "majordome/core/error.hpp"

namespace majordome::image {

std::string_view column_type_name(ColumnType type) {
  switch (type) {
    case ColumnType::kBool: return "bool";
    case ColumnType::kInt32: return "int32";
    case ColumnType::kInt64: return "int64";
    case ColumnType::kFloat: return "float";
    case ColumnType::kDouble: return "double";
    case ColumnType::kString: return "string";
  }
  return "?";
}

Schema& Schema::add(ColumnSpec spec) {
  if (spec.name.empty()) throw InvalidArgumentError("a column needs a name");
  if (find_index(spec.name)) {
    throw ConflictError("the schema already has a column named '" + spec.name + "'");
  }
  const bool is_string = spec.type == ColumnType::kString;
  if (spec.count < (is_string ? 0 : 1)) {
    throw InvalidArgumentError("column '" + spec.name + "': count " + std::to_string(spec.count) +
                               " is not allowed");
  }
  if (!spec.shape.empty()) {
    const long product = std::accumulate(spec.shape.begin(), spec.shape.end(), 1L,
                                         std::multiplies<long>());
    if (is_string || product != spec.count) {
      throw InvalidArgumentError("column '" + spec.name + "': shape does not match count " +
                                 std::to_string(spec.count));
    }
  }
  columns_.push_back(std::move(spec));
  return *this;
}

Schema& Schema::add(std::string name, ColumnType type, std::string doc, std::string unit,
                    int count) {
  ColumnSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.count = type == ColumnType::kString && count == 1 ? 0 : count;
  spec.unit = std::move(unit);
  spec.doc = std::move(doc);
  return add(std::move(spec));
}

std::optional<std::size_t> Schema::find_index(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

const ColumnSpec& Schema::get(std::string_view name) const {
  if (auto i = find_index(name)) return columns_[*i];
  std::string known;
  for (const auto& c : columns_) known += (known.empty() ? "" : ", ") + c.name;
  throw NotFoundError("no column '" + std::string(name) + "' (columns: " +
                      (known.empty() ? "none" : known) + ")");
}

BoolArray::BoolArray(std::size_t n) : data_(std::make_unique<bool[]>(n)), size_(n) {}

BoolArray::BoolArray(const BoolArray& other) : BoolArray(other.size_) {
  if (size_ > 0) std::copy_n(other.data_.get(), size_, data_.get());
}

BoolArray& BoolArray::operator=(const BoolArray& other) {
  if (this != &other) *this = BoolArray(other);
  return *this;
}

void BoolArray::resize(std::size_t n) {
  auto fresh = std::make_unique<bool[]>(n);
  if (size_ > 0) std::copy_n(data_.get(), std::min(n, size_), fresh.get());
  data_ = std::move(fresh);
  size_ = n;
}

namespace {

std::size_t elements_per_row(const ColumnSpec& spec) {
  return spec.type == ColumnType::kString ? 1 : static_cast<std::size_t>(spec.count);
}

template <typename T>
constexpr ColumnType column_type_of() {
  if constexpr (std::is_same_v<T, bool>) return ColumnType::kBool;
  if constexpr (std::is_same_v<T, std::int32_t>) return ColumnType::kInt32;
  if constexpr (std::is_same_v<T, std::int64_t>) return ColumnType::kInt64;
  if constexpr (std::is_same_v<T, float>) return ColumnType::kFloat;
  if constexpr (std::is_same_v<T, double>) return ColumnType::kDouble;
}

}  // namespace

Catalog::Catalog(Schema schema, std::size_t rows) : schema_(std::move(schema)) {
  for (const auto& spec : schema_.columns()) {
    switch (spec.type) {
      case ColumnType::kBool: data_.emplace_back(BoolArray()); break;
      case ColumnType::kInt32: data_.emplace_back(std::vector<std::int32_t>()); break;
      case ColumnType::kInt64: data_.emplace_back(std::vector<std::int64_t>()); break;
      case ColumnType::kFloat: data_.emplace_back(std::vector<float>()); break;
      case ColumnType::kDouble: data_.emplace_back(std::vector<double>()); break;
      case ColumnType::kString: data_.emplace_back(std::vector<std::string>()); break;
    }
  }
  resize(rows);
}

void Catalog::resize(std::size_t rows) {
  for (std::size_t i = 0; i < data_.size(); ++i) {
    const std::size_t n = rows * elements_per_row(schema_[i]);
    std::visit([n](auto& v) { v.resize(n); }, data_[i]);
  }
  rows_ = rows;
}

Catalog::Storage& Catalog::storage(std::string_view name, ColumnType expected) {
  const auto& self = *this;
  return const_cast<Storage&>(self.storage(name, expected));
}

const Catalog::Storage& Catalog::storage(std::string_view name, ColumnType expected) const {
  const auto& spec = schema_.get(name);
  if (spec.type != expected) {
    throw InvalidArgumentError("column '" + spec.name + "' holds " +
                               std::string(column_type_name(spec.type)) + ", not " +
                               std::string(column_type_name(expected)));
  }
  return data_[*schema_.find_index(name)];
}

template <typename T>
std::span<T> Catalog::column(std::string_view name) {
  auto& s = storage(name, column_type_of<T>());
  if constexpr (std::is_same_v<T, bool>) {
    auto& b = std::get<BoolArray>(s);
    return std::span<bool>(b.data(), b.size());
  } else {
    return std::span<T>(std::get<std::vector<T>>(s));
  }
}

template <typename T>
std::span<const T> Catalog::column(std::string_view name) const {
  const auto& s = storage(name, column_type_of<T>());
  if constexpr (std::is_same_v<T, bool>) {
    const auto& b = std::get<BoolArray>(s);
    return std::span<const bool>(b.data(), b.size());
  } else {
    return std::span<const T>(std::get<std::vector<T>>(s));
  }
}

std::vector<std::string>& Catalog::strings(std::string_view name) {
  return std::get<std::vector<std::string>>(storage(name, ColumnType::kString));
}

const std::vector<std::string>& Catalog::strings(std::string_view name) const {
  return std::get<std::vector<std::string>>(storage(name, ColumnType::kString));
}

template std::span<bool> Catalog::column<bool>(std::string_view);
template std::span<std::int32_t> Catalog::column<std::int32_t>(std::string_view);
template std::span<std::int64_t> Catalog::column<std::int64_t>(std::string_view);
template std::span<float> Catalog::column<float>(std::string_view);
template std::span<double> Catalog::column<double>(std::string_view);
template std::span<const bool> Catalog::column<bool>(std::string_view) const;
template std::span<const std::int32_t> Catalog::column<std::int32_t>(std::string_view) const;
template std::span<const std::int64_t> Catalog::column<std::int64_t>(std::string_view) const;
template std::span<const float> Catalog::column<float>(std::string_view) const;
template std::span<const double> Catalog::column<double>(std::string_view) const;

}  // namespace majordome::image
