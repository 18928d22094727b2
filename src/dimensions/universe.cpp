#include "majordome/dimensions/universe.hpp"

#include "majordome/core/suggest.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"

namespace majordome::dimensions {

extern const char* const kDefaultUniverseYaml;  // generated from data/universe.yaml

namespace {

// Names become SQL identifiers: only lower-case letters, digits and underscores.
void check_name(const std::string& name, const std::string& what) {
  static const std::regex kName("^[a-z_][a-z0-9_]{0,62}$");
  if (!std::regex_match(name, kName))
    throw InvalidConfigError(fmt::format("universe: {} name '{}' must match [a-z_][a-z0-9_]* (at most 63 characters)",
                                         what, name));
}

FieldSpec parse_field(const YAML::Node& node, const std::string& element) {
  FieldSpec f;
  f.name = node["name"].as<std::string>();
  check_name(f.name, "field");
  auto type = node["type"].as<std::string>();
  if (type == "int") {
    f.type = FieldType::kInt;
  } else if (type == "float") {
    f.type = FieldType::kFloat;
  } else if (type == "bool") {
    f.type = FieldType::kBool;
  } else if (type == "string") {
    f.type = FieldType::kString;
    f.length = node["length"].as<int>();
  } else if (type == "hash") {
    f.type = FieldType::kHash;
    f.length = node["nbytes"].as<int>();
  } else {
    throw InvalidConfigError(fmt::format("universe: field '{}.{}' has unknown type '{}'",
                                         element, f.name, type));
  }
  if (node["nullable"]) f.nullable = node["nullable"].as<bool>();
  return f;
}

std::vector<std::string> string_list(const YAML::Node& node) {
  std::vector<std::string> out;
  if (node) {
    for (const auto& item : node) out.push_back(item.as<std::string>());
  }
  return out;
}


}  // namespace

std::string_view field_type_name(FieldType type) {
  switch (type) {
    case FieldType::kInt: return "int";
    case FieldType::kFloat: return "float";
    case FieldType::kBool: return "bool";
    case FieldType::kString: return "string";
    case FieldType::kHash: return "hash";
    case FieldType::kRegion: return "region";
    case FieldType::kTimespan: return "timespan";
  }
  return "?";
}

std::optional<std::size_t> DimensionElement::field_index(std::string_view field) const {
  for (std::size_t i = 0; i < record_fields_.size(); ++i)
    if (record_fields_[i].name == field) return i;
  return std::nullopt;
}

std::string DimensionElement::dimension_of_field(std::size_t index) const {
  if (index < required_count_) return required_[index];
  return record_fields_[index].name;
}

std::vector<std::string> DimensionGroup::data_id_keys() const {
  std::vector<std::string> keys = required_;
  keys.insert(keys.end(), implied_.begin(), implied_.end());
  return keys;
}

bool DimensionGroup::contains(std::string_view name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

std::string DimensionGroup::str() const { return fmt::format("{{{}}}", fmt::join(required_, ", ")); }

std::shared_ptr<const Universe> Universe::make_default() { return from_yaml(default_yaml()); }

const std::string& Universe::default_yaml() {
  static const std::string text(kDefaultUniverseYaml);
  return text;
}

std::shared_ptr<const Universe> Universe::from_yaml(const std::string& text) {
  auto u = std::make_shared<Universe>();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(std::string("dimension universe is not valid YAML: ") + e.what());
  }
  try {
    u->yaml_ = text;
    u->namespace_ = root["namespace"].as<std::string>();
    u->version_ = root["version"].as<int>();
    u->common_skypix_ = root["skypix"]["common"].as<std::string>();

    for (const auto& item : root["elements"]) {
      auto e = std::make_unique<DimensionElement>();
      e->name_ = item.first.as<std::string>();
      check_name(e->name_, "element");
      const YAML::Node& spec = item.second;
      if (spec["doc"]) e->doc_ = spec["doc"].as<std::string>();
      e->governor_ = spec["governor"] && spec["governor"].as<bool>();
      e->always_join_ = spec["always_join"] && spec["always_join"].as<bool>();
      if (spec["view_of"]) e->view_of_ = spec["view_of"].as<std::string>();
      if (spec["populated_by"]) e->populated_by_ = spec["populated_by"].as<std::string>();
      e->requires_ = string_list(spec["requires"]);
      e->implies_ = string_list(spec["implies"]);
      for (const auto& k : spec["keys"]) e->keys_.push_back(parse_field(k, e->name_));
      for (const auto& m : spec["metadata"]) e->metadata_.push_back(parse_field(m, e->name_));
      u->by_name_.emplace(e->name_, std::move(e));
    }
    for (const auto& system : root["skypix"]["systems"]) {
      auto sys = system.first.as<std::string>();
      int max_level = system.second["max_level"].as<int>();
      for (int level = 1; level <= max_level; ++level) {
        auto e = std::make_unique<DimensionElement>();
        e->name_ = sys + std::to_string(level);
        e->doc_ = fmt::format("{} sky pixelization at level {}", sys, level);
        e->skypix_system_ = sys;
        e->skypix_level_ = level;
        e->spatial_ = true;
        e->keys_.push_back({"id", FieldType::kInt, 0, false});
        u->by_name_.emplace(e->name_, std::move(e));
      }
    }
    for (const auto& family : root["topology"]["spatial"])
      for (const auto& member : family.second)
        u->by_name_.at(member.as<std::string>())->spatial_ = true;
    for (const auto& family : root["topology"]["temporal"])
      for (const auto& member : family.second)
        u->by_name_.at(member.as<std::string>())->temporal_ = true;
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(std::string("dimension universe is malformed: ") + e.what());
  } catch (const std::out_of_range&) {
    throw InvalidConfigError("dimension universe: topology names an unknown element");
  }

  // Universe order: waves of elements whose dependencies are all placed, each wave
  // sorted by name (the order daf_butler derives, so listings match).
  std::set<std::string> placed;
  while (placed.size() < u->by_name_.size()) {
    std::vector<std::string> wave;
    for (const auto& [name, e] : u->by_name_) {
      if (placed.count(name)) continue;
      bool ready = true;
      for (const auto* deps : {&e->requires_, &e->implies_})
        for (const auto& d : *deps) {
          if (!u->by_name_.count(d))
            throw InvalidConfigError(
                fmt::format("universe: element '{}' depends on unknown '{}'", name, d));
          if (!placed.count(d)) ready = false;
        }
      if (ready) wave.push_back(name);
    }
    if (wave.empty()) throw InvalidConfigError("universe: dependency cycle among elements");
    for (const auto& name : wave) {  // std::map iteration is already sorted by name
      u->order_[name] = u->ordered_.size();
      u->ordered_.push_back(u->by_name_.at(name).get());
      placed.insert(name);
    }
  }

  // Derived structure: required closure and record field layout.
  for (const auto* ce : u->ordered_) {
    auto* e = u->by_name_.at(ce->name_).get();
    std::set<std::string> closure;
    std::function<void(const std::string&)> add = [&](const std::string& d) {
      if (!closure.insert(d).second) return;
      for (const auto& r : u->by_name_.at(d)->requires_) add(r);
    };
    for (const auto& r : e->requires_) add(r);
    if (e->is_dimension()) closure.insert(e->name_);
    e->required_.assign(closure.begin(), closure.end());
    std::sort(e->required_.begin(), e->required_.end(),
              [&](const auto& a, const auto& b) { return u->order_.at(a) < u->order_.at(b); });

    e->record_fields_.clear();
    for (const auto& d : e->required_) {
      const auto& dim = *u->by_name_.at(d);
      FieldSpec f = dim.keys_.at(0);
      if (d != e->name_) f.name = d;
      f.nullable = false;
      e->record_fields_.push_back(f);
    }
    e->required_count_ = e->record_fields_.size();
    std::vector<std::string> implied = e->implies_;
    std::sort(implied.begin(), implied.end(),
              [&](const auto& a, const auto& b) { return u->order_.at(a) < u->order_.at(b); });
    for (const auto& d : implied) {
      FieldSpec f = u->by_name_.at(d)->keys_.at(0);
      f.name = d;
      f.nullable = false;
      e->record_fields_.push_back(f);
    }
    for (std::size_t i = 1; i < e->keys_.size(); ++i) e->record_fields_.push_back(e->keys_[i]);
    for (const auto& m : e->metadata_) e->record_fields_.push_back(m);
    if (e->spatial_ && !e->is_skypix()) e->record_fields_.push_back({"region", FieldType::kRegion});
    if (e->temporal_) e->record_fields_.push_back({"timespan", FieldType::kTimespan});
  }
  return u;
}

const DimensionElement* Universe::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

std::string Universe::suggest(std::string_view name) const {
  std::string best;
  std::size_t best_distance = 4;  // suggest only close names
  for (const auto* e : ordered_) {
    if (e->is_skypix() && e->name() != common_skypix_) continue;
    auto d = edit_distance(name, e->name());
    if (d < best_distance) {
      best_distance = d;
      best = e->name();
    }
  }
  return best;
}

const DimensionElement& Universe::get(std::string_view name) const {
  if (const auto* e = find(name)) return *e;
  std::string hint = suggest(name);
  throw NotFoundError(fmt::format("unknown dimension element '{}'{}", name,
                                  hint.empty() ? "" : "; did you mean '" + hint + "'?"));
}

std::size_t Universe::order_of(std::string_view name) const {
  auto it = order_.find(name);
  if (it == order_.end()) return get(name), 0;  // throws
  return it->second;
}

bool Universe::is_dimension(std::string_view name) const {
  const auto* e = find(name);
  return e != nullptr && e->is_dimension();
}

std::vector<std::string> Universe::governors() const {
  std::vector<std::string> out;
  for (const auto* e : ordered_)
    if (e->is_governor()) out.push_back(e->name());
  return out;
}

DimensionGroup Universe::group(const std::vector<std::string>& names) const {
  std::set<std::string> members;
  std::function<void(const std::string&)> add = [&](const std::string& name) {
    const auto& e = get(name);
    if (!e.is_dimension())
      throw InvalidArgumentError(
          fmt::format("'{}' is a join element, not a dimension; it cannot be in a data ID", name));
    if (!members.insert(name).second) return;
    for (const auto& r : e.direct_required()) add(r);
    for (const auto& i : e.direct_implied()) add(i);
  };
  for (const auto& n : names) add(n);
  std::set<std::string> implied;
  for (const auto& m : members)
    for (const auto& i : by_name_.at(m)->implies_) implied.insert(i);
  DimensionGroup g;
  for (const auto* e : ordered_) {
    if (!members.count(e->name())) continue;
    g.names_.push_back(e->name());
    (implied.count(e->name()) ? g.implied_ : g.required_).push_back(e->name());
  }
  return g;
}

}  // namespace majordome::dimensions
