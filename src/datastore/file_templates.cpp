#include "majordome/datastore/file_templates.hpp"

#include "majordome/core/error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <utility>

namespace majordome::datastore {
namespace {

constexpr std::string_view kDefaultKey = "default";
constexpr std::string_view kInstrumentPrefix = "instrument<";

// "physical_filter+detector+exposure" → its names; a key without '+' is a name.
std::optional<std::set<std::string>> dimension_key(std::string_view key) {
  if (key.find('+') == std::string_view::npos) return std::nullopt;
  std::set<std::string> names;
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t plus = key.find('+', start);
    if (plus == std::string_view::npos) plus = key.size();
    if (plus > start) names.emplace(key.substr(start, plus - start));
    start = plus + 1;
  }
  if (names.empty()) throw InvalidConfigError(fmt::format("file template key '{}' names no dimension", key));
  return names;
}

FileTemplate parse_keyed(std::string_view key, const std::string& text) {
  try {
    return FileTemplate::parse(text);
  } catch (const InvalidConfigError& e) {
    throw InvalidConfigError(fmt::format("file template key '{}': {}", key, e.what()));
  }
}

std::string scalar_text(const YAML::Node& value, std::string_view key) {
  if (!value.IsScalar()) {
    throw InvalidConfigError(fmt::format("file template key '{}' must map to a template string", key));
  }
  return value.Scalar();
}

}  // namespace

FileTemplates::FileTemplates(std::optional<FileTemplate> default_template, DimensionNormalizer normalizer)
    : default_(std::move(default_template)), normalizer_(std::move(normalizer)) {}

std::optional<std::size_t> FileTemplates::find_entry(const std::optional<std::string>& instrument,
                                                     const std::string* name,
                                                     const std::set<std::string>* dimensions) const {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.instrument != instrument) continue;
    if (name != nullptr && e.name == *name) return i;
    if (dimensions != nullptr && e.dimensions == *dimensions) return i;
  }
  return std::nullopt;
}

void FileTemplates::add(std::string_view key, FileTemplate file_template, std::optional<std::string> instrument) {
  if (key == kDefaultKey && !instrument) {
    default_ = std::move(file_template);
    return;
  }
  Entry entry{std::string(key), std::move(instrument), std::nullopt, std::nullopt, std::move(file_template)};
  if (auto names = dimension_key(key)) {
    entry.dimensions = normalizer_ ? normalizer_(*names) : *names;
  } else {
    entry.name = std::string(key);
  }
  if (entry.instrument) entry.key = fmt::format("{}{}>:{}", kInstrumentPrefix, *entry.instrument, key);
  auto existing = find_entry(entry.instrument, entry.name ? &*entry.name : nullptr,
                             entry.dimensions ? &*entry.dimensions : nullptr);
  if (existing) {
    entries_[*existing] = std::move(entry);
  } else {
    entries_.push_back(std::move(entry));
  }
}

FileTemplates FileTemplates::from_yaml(const YAML::Node& templates, DimensionNormalizer normalizer,
                                       std::optional<std::string> fallback_default) {
  FileTemplates out(std::nullopt, std::move(normalizer));
  if (!templates.IsNull() && !templates.IsMap()) {
    throw InvalidConfigError("the file templates configuration must be a mapping of keys to templates");
  }
  bool default_given = false;
  std::set<std::string> seen;
  auto add_checked = [&](const std::string& key, const std::string& text, const std::optional<std::string>& instrument) {
    // Two spellings of the same key ("a+b", "b+a") would silently shadow each other.
    std::string canonical = key;
    if (auto names = dimension_key(key)) {
      auto normal = out.normalizer_ ? out.normalizer_(*names) : *names;
      canonical = "+" + fmt::format("{}", fmt::join(normal, "+"));
    }
    if (!seen.insert((instrument ? *instrument : std::string()) + "\n" + canonical).second) {
      throw InvalidConfigError(fmt::format("file template key '{}' is given twice{}", key,
                                           instrument ? " under instrument<" + *instrument + ">" : ""));
    }
    out.add(key, parse_keyed(key, text), instrument);
  };

  for (const auto& item : templates) {
    const std::string key = item.first.as<std::string>();
    const YAML::Node& value = item.second;
    if (key == kDefaultKey) {
      default_given = true;
      bool enabled = false;
      if (value.IsNull() || (value.IsScalar() && value.Scalar().empty())) {
        out.default_.reset();
      } else if (value.IsScalar() && YAML::convert<bool>::decode(value, enabled)) {
        if (enabled) throw InvalidConfigError("file template 'default' must be a template string or false");
        out.default_.reset();
      } else {
        out.default_ = parse_keyed(key, scalar_text(value, key));
      }
      continue;
    }
    if (value.IsMap()) {
      bool is_override = key.size() > kInstrumentPrefix.size() + 1 && key.rfind(kInstrumentPrefix, 0) == 0 &&
                         key.back() == '>';
      if (!is_override) {
        throw InvalidConfigError(fmt::format(
            "file template key '{}' holds a mapping, but only instrument<Name> overrides may", key));
      }
      std::string instrument = key.substr(kInstrumentPrefix.size(), key.size() - kInstrumentPrefix.size() - 1);
      for (const auto& sub : value) {
        const std::string sub_key = sub.first.as<std::string>();
        add_checked(sub_key, scalar_text(sub.second, sub_key), instrument);
      }
      continue;
    }
    add_checked(key, scalar_text(value, key), std::nullopt);
  }
  if (!default_given && fallback_default) out.default_ = parse_keyed(kDefaultKey, *fallback_default);
  return out;
}

FileTemplates FileTemplates::from_yaml_text(std::string_view yaml, DimensionNormalizer normalizer,
                                            std::optional<std::string> fallback_default) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("file templates configuration is not valid YAML: {}", e.what()));
  }
  return from_yaml(node, std::move(normalizer), std::move(fallback_default));
}

FileTemplates FileTemplates::rubin_defaults(DimensionNormalizer normalizer) {
  FileTemplates out(FileTemplate::parse(kDefaultTemplate), std::move(normalizer));
  out.add(kRawTemplateKey, FileTemplate::parse(kRawTemplate));
  return out;
}

std::optional<TemplateMatch> FileTemplates::find(const DatasetTypeInfo& dataset_type,
                                                 std::optional<std::string_view> instrument) const {
  const std::string& full = dataset_type.name;
  std::optional<std::string> parent;
  if (auto dot = full.find('.'); dot != std::string::npos) parent = full.substr(0, dot);
  std::optional<std::set<std::string>> dimensions;
  std::set<std::string> names = dataset_type.required_dimensions;
  names.insert(dataset_type.implied_dimensions.begin(), dataset_type.implied_dimensions.end());
  if (!names.empty()) dimensions = normalizer_ ? normalizer_(names) : names;

  std::vector<std::optional<std::string>> passes;
  if (instrument) passes.emplace_back(std::string(*instrument));
  passes.emplace_back(std::nullopt);
  for (const auto& pass : passes) {
    std::optional<std::size_t> hit = find_entry(pass, &full, nullptr);
    if (!hit && parent) hit = find_entry(pass, &*parent, nullptr);
    if (!hit && dimensions) hit = find_entry(pass, nullptr, &*dimensions);
    if (!hit && !dataset_type.storage_class.empty()) hit = find_entry(pass, &dataset_type.storage_class, nullptr);
    if (hit) return TemplateMatch{entries_[*hit].key, &entries_[*hit].file_template};
  }
  if (default_) return TemplateMatch{std::string(kDefaultKey), &*default_};
  return std::nullopt;
}

const FileTemplate& FileTemplates::get(const DatasetTypeInfo& dataset_type,
                                       std::optional<std::string_view> instrument) const {
  auto match = find(dataset_type, instrument);
  if (!match) {
    throw NotFoundError(fmt::format(
        "no file template for dataset type '{}' (storage class '{}'): no configured key matches and there is "
        "no default template",
        dataset_type.name, dataset_type.storage_class));
  }
  return *match->file_template;
}

void FileTemplates::validate(std::span<const DatasetTypeInfo> dataset_types) const {
  std::vector<std::string> failures;
  for (const DatasetTypeInfo& dataset_type : dataset_types) {
    auto match = find(dataset_type);
    if (!match) {
      failures.push_back(fmt::format("no file template for dataset type '{}'", dataset_type.name));
      continue;
    }
    try {
      match->file_template->validate(dataset_type);
    } catch (const InvalidConfigError& e) {
      failures.push_back(fmt::format("{} (via key '{}')", e.what(), match->key));
    }
  }
  if (failures.size() == 1) throw InvalidConfigError(failures.front());
  if (!failures.empty()) {
    throw InvalidConfigError(
        fmt::format("{} file template validation failures: {}", failures.size(), fmt::join(failures, ";\n")));
  }
}

}  // namespace majordome::datastore
