#include "majordome/datastore/template_values.hpp"

#include "majordome/core/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace majordome::datastore {
namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

TemplateValues& TemplateValues::set(std::string_view name, TemplateValue value) {
  auto dot = name.find('.');
  bool malformed = name.empty() || (dot != std::string_view::npos &&
                                    (dot == 0 || dot + 1 == name.size() ||
                                     name.find('.', dot + 1) != std::string_view::npos));
  if (malformed) {
    throw InvalidArgumentError(
        fmt::format("template value name '{}' must be a name or 'element.field' (one dot)", name));
  }
  if (dot != std::string_view::npos) records_.emplace(name.substr(0, dot));
  values_.insert_or_assign(std::string(name), std::move(value));
  return *this;
}

TemplateValues& TemplateValues::set_dataset_type(std::string_view full_name) {
  auto dot = full_name.find('.');
  if (dot == std::string_view::npos) {
    set("datasetType", std::string(full_name));
    values_.erase("component");
  } else {
    set("datasetType", std::string(full_name.substr(0, dot)));
    set("component", std::string(full_name.substr(dot + 1)));
  }
  return *this;
}

TemplateValues& TemplateValues::add_record(std::string_view element) {
  records_.emplace(element);
  return *this;
}

std::optional<TemplateValue> TemplateValues::find(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

bool TemplateValues::contains(std::string_view name) const { return values_.find(name) != values_.end(); }

bool TemplateValues::has_record(std::string_view element) const { return records_.find(element) != records_.end(); }

std::optional<std::string> TemplateValues::skypix_dimension() const {
  std::optional<std::string> found;
  for (const auto& [name, value] : values_) {
    if (!is_skypix_dimension(name)) continue;
    if (found) return std::nullopt;  // ambiguous, as Rubin: no alias
    found = name;
  }
  return found;
}

bool TemplateValues::is_skypix_dimension(std::string_view name) {
  for (std::string_view family : {std::string_view("htm"), std::string_view("healpix")}) {
    if (name.substr(0, family.size()) == family && all_digits(name.substr(family.size()))) return true;
  }
  return false;
}

}  // namespace majordome::datastore
