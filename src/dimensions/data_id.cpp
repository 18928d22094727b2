#include "majordome/dimensions/data_id.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome::dimensions {
namespace {

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string to_string(const DataIdValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  return std::get<std::string>(value);
}

DataId parse_data_id(const std::string& text) {
  DataId id;
  std::string_view rest(text);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      throw InvalidArgumentError(fmt::format(
          "data ID item '{}' is not of the form key=value (e.g. instrument=HSC,visit=903334)",
          trim(item)));
    std::string key = trim(item.substr(0, eq));
    std::string value = trim(item.substr(eq + 1));
    if (key.empty())
      throw InvalidArgumentError(fmt::format("data ID item '{}' has an empty key", trim(item)));
    if (auto i = parse_int(value)) {
      id[key] = *i;
    } else {
      id[key] = value;
    }
  }
  return id;
}

std::string format_data_id(const DataId& id, const std::vector<std::string>& order) {
  std::string out = "{";
  bool first = true;
  auto emit = [&](const std::string& key, const DataIdValue& v) {
    if (!first) out += ", ";
    first = false;
    if (std::holds_alternative<std::int64_t>(v)) {
      out += fmt::format("{}: {}", key, std::get<std::int64_t>(v));
    } else {
      out += fmt::format("{}: '{}'", key, std::get<std::string>(v));
    }
  };
  for (const auto& key : order)
    if (auto it = id.find(key); it != id.end()) emit(key, it->second);
  for (const auto& [key, v] : id)
    if (std::find(order.begin(), order.end(), key) == order.end()) emit(key, v);
  return out + "}";
}

DataIdValue conform_value(const DimensionElement& dimension, const DataIdValue& value) {
  const auto& key = dimension.keys().at(0);
  if (key.type == FieldType::kInt) {
    if (std::holds_alternative<std::int64_t>(value)) return value;
    if (auto i = parse_int(std::get<std::string>(value))) return *i;
    throw InvalidArgumentError(fmt::format("dimension '{}' takes an integer, not '{}'",
                                           dimension.name(), std::get<std::string>(value)));
  }
  if (std::holds_alternative<std::string>(value)) return value;
  return std::to_string(std::get<std::int64_t>(value));
}

std::string to_string(const FieldValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "None"; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(bool v) const { return v ? "True" : "False"; }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const Bytes& v) const {
      std::string out = "0x";
      for (auto b : v.data) out += fmt::format("{:02x}", b);
      return out;
    }
    std::string operator()(const Timespan& v) const { return v.str(); }
  };
  return std::visit(Visitor{}, value);
}

DimensionRecord::DimensionRecord(const DimensionElement& element, std::vector<FieldValue> values)
    : element_(&element), values_(std::move(values)) {
  if (values_.size() != element.record_fields().size())
    throw InternalError(fmt::format("record for '{}' has {} values, expected {}", element.name(),
                                    values_.size(), element.record_fields().size()));
}

const FieldValue& DimensionRecord::get(std::string_view field) const {
  if (auto i = element_->field_index(field)) return values_[*i];
  throw NotFoundError(
      fmt::format("dimension element '{}' has no field '{}'", element_->name(), field));
}

DataId DimensionRecord::data_id() const {
  DataId id;
  for (std::size_t i = 0; i < element_->required().size(); ++i) {
    const auto& v = values_[i];
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      id[element_->required()[i]] = *n;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      id[element_->required()[i]] = *s;
    }
  }
  return id;
}

}  // namespace majordome::dimensions
