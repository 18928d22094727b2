// Formatters for the storage classes every module knows (docs/formats/storage_classes.md):
// StructuredDataDict and Packages (YAML), Config (pex_config's Python text), TaskMetadata and
// ButlerLogRecords (Rubin's JSON).
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/datastore/butler_log_records.hpp"
#include "majordome/datastore/config.hpp"
#include "majordome/datastore/formatter.hpp"
#include "majordome/datastore/task_metadata.hpp"

namespace majordome::datastore {

namespace {

using Json = nlohmann::ordered_json;
using Packages = std::map<std::string, std::string>;

// A plain YAML scalar's value as YAML 1.2's core schema reads it: null, bool, int, float or
// string. Quoted scalars are always strings.
Json scalar_value(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  const std::size_t digits_from = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  const bool integer = s.size() > digits_from && s.find_first_not_of("0123456789", digits_from) == std::string::npos;
  if (integer) {
    try {
      std::size_t used = 0;
      long long v = std::stoll(s, &used);
      if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
  }
  if (s.find_first_of("0123456789") != std::string::npos &&
      s.find_first_not_of("+-0123456789.eE") == std::string::npos) {
    try {
      std::size_t used = 0;
      double v = std::stod(s, &used);
      if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
  }
  return s;
}

Json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_value(node);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = to_json(item.second);
      return out;
    }
  }
  return nullptr;
}

// A string that a reader would take for another type is written quoted.
bool needs_quotes(const std::string& s) {
  YAML::Node probe(s);
  return !scalar_value(probe).is_string();
}

void emit(YAML::Emitter& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      out << YAML::Null;
      break;
    case Json::value_t::boolean:
      out << value.get<bool>();
      break;
    case Json::value_t::number_integer:
      out << value.get<std::int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << value.get<std::uint64_t>();
      break;
    case Json::value_t::number_float: {
      double d = value.get<double>();
      if (std::isnan(d))
        out << ".nan";
      else if (std::isinf(d))
        out << (d > 0 ? ".inf" : "-.inf");
      else
        out << fmt::format("{}", d).append(std::floor(d) == d && std::abs(d) < 1e15 ? ".0" : "");
      break;
    }
    case Json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (needs_quotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : value) emit(out, item);
      out << YAML::EndSeq;
      break;
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : value.items()) {
        out << YAML::Key;
        if (needs_quotes(k)) out << YAML::DoubleQuoted;
        out << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::binary:
    case Json::value_t::discarded:
      throw InvalidArgumentError("a StructuredDataDict cannot hold binary or discarded JSON values");
  }
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw IoError(fmt::format("cannot write {}", path.string()));
}

YAML::Node load_yaml(const std::filesystem::path& path) {
  try {
    return YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw NotFoundError(fmt::format("cannot open {}", path.string()));
  } catch (const YAML::Exception& e) {
    throw CorruptFileError(fmt::format("{} is not valid YAML: {}", path.string(), e.what()));
  }
}

void no_component(const StorageClass& sc, const ReadRequest& request) {
  if (!request.component.empty())
    throw InvalidArgumentError(fmt::format("storage class {} has no component '{}'", sc.name, request.component));
  if (!request.parameters.empty())
    throw InvalidArgumentError(fmt::format("storage class {} takes no read parameters", sc.name));
}

InMemoryDataset read_task_metadata(const std::filesystem::path& path);

class StructuredDataFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.datastore.YamlFormatter"; }
  std::string_view extension() const override { return ".yaml"; }
  void write(const InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* value = object.as<Json>();
    if (!value) throw InvalidArgumentError("StructuredDataDict datasets are nlohmann::ordered_json values");
    YAML::Emitter out;
    emit(out, *value);
    write_text(path, std::string(out.c_str()) + "\n");
  }
  InMemoryDataset read(const std::filesystem::path& path, const StorageClass& sc,
                       const ReadRequest& request) const override {
    no_component(sc, request);
    // Rubin records TaskMetadata files with its generic JsonFormatter, aliased to this one.
    if (sc.name == "TaskMetadata") return read_task_metadata(path);
    return InMemoryDataset::own(to_json(load_yaml(path)));
  }
};

class PackagesFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.datastore.PackagesFormatter"; }
  std::string_view extension() const override { return ".yaml"; }
  void write(const InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* value = object.as<Packages>();
    if (!value) throw InvalidArgumentError("Packages datasets are std::map<std::string, std::string>");
    YAML::Emitter out;
    out << YAML::BeginMap;
    for (const auto& [k, v] : *value) out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
    out << YAML::EndMap;
    write_text(path, std::string(out.c_str()) + "\n");
  }
  InMemoryDataset read(const std::filesystem::path& path, const StorageClass& sc,
                       const ReadRequest& request) const override {
    no_component(sc, request);
    auto node = load_yaml(path);
    if (!node.IsMap()) throw CorruptFileError(fmt::format("{} is not a map of package versions", path.string()));
    Packages out;
    for (const auto& item : node) out[item.first.as<std::string>()] = item.second.as<std::string>();
    return InMemoryDataset::own(std::move(out));
  }
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFoundError(fmt::format("cannot open {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError(fmt::format("cannot read {}", path.string()));
  return text.str();
}

InMemoryDataset read_task_metadata(const std::filesystem::path& path) {
  try {
    return InMemoryDataset::own(TaskMetadata::from_json(read_text(path), path.string()));
  } catch (const InvalidArgumentError& e) {
    throw CorruptFileError(e.what());
  }
}

// pex_config's saved form: `config.NAME=VALUE` lines (config.hpp).
class ConfigFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.datastore.ConfigFormatter"; }
  std::string_view extension() const override { return ".py"; }
  void write(const InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* value = object.as<Config>();
    if (!value) throw InvalidArgumentError("Config datasets are datastore::Config objects");
    write_text(path, value->to_python());
  }
  InMemoryDataset read(const std::filesystem::path& path, const StorageClass& sc,
                       const ReadRequest& request) const override {
    no_component(sc, request);
    try {
      return InMemoryDataset::own(Config::from_python(read_text(path), path.string()));
    } catch (const InvalidArgumentError& e) {
      throw CorruptFileError(e.what());
    }
  }
};

class TaskMetadataFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.datastore.TaskMetadataFormatter"; }
  std::string_view extension() const override { return ".json"; }
  void write(const InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* value = object.as<TaskMetadata>();
    if (!value) throw InvalidArgumentError("TaskMetadata datasets are datastore::TaskMetadata objects");
    write_text(path, value->to_json() + "\n");
  }
  InMemoryDataset read(const std::filesystem::path& path, const StorageClass& sc,
                       const ReadRequest& request) const override {
    no_component(sc, request);
    return read_task_metadata(path);
  }
};

class ButlerLogRecordsFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.datastore.ButlerLogRecordsFormatter"; }
  std::string_view extension() const override { return ".json"; }
  void write(const InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* value = object.as<ButlerLogRecords>();
    if (!value) throw InvalidArgumentError("ButlerLogRecords datasets are datastore::ButlerLogRecords objects");
    write_text(path, value->to_json_lines());
  }
  InMemoryDataset read(const std::filesystem::path& path, const StorageClass& sc,
                       const ReadRequest& request) const override {
    no_component(sc, request);
    try {
      return InMemoryDataset::own(ButlerLogRecords::from_json(read_text(path), path.string()));
    } catch (const InvalidArgumentError& e) {
      throw CorruptFileError(e.what());
    }
  }
};

}  // namespace

void add_basic_formatters(FormatterRegistry& registry) {
  registry.add_storage_class({"StructuredDataDict", typeid(Json), "nlohmann::ordered_json", {}, {}});
  registry.add_storage_class({"Packages", typeid(Packages), "std::map<std::string, std::string>", {}, {}});
  // Types of components that are read, never stored on their own.
  registry.add_storage_class({"StringList", typeid(std::vector<std::string>), "std::vector<std::string>", {}, {}});
  registry.add_storage_class({"Integer", typeid(std::int64_t), "std::int64_t", {}, {}});
  registry.add_formatter(std::make_shared<StructuredDataFormatter>(), {"StructuredDataDict"});
  registry.add_formatter(std::make_shared<PackagesFormatter>(), {"Packages"});
  registry.add_storage_class({"Config", typeid(Config), "majordome::datastore::Config", {}, {}});
  registry.add_storage_class({"TaskMetadata", typeid(TaskMetadata), "majordome::datastore::TaskMetadata", {}, {}});
  registry.add_storage_class(
      {"ButlerLogRecords", typeid(ButlerLogRecords), "majordome::datastore::ButlerLogRecords", {}, {}});
  registry.add_formatter(std::make_shared<ConfigFormatter>(), {"Config"});
  registry.add_formatter(std::make_shared<TaskMetadataFormatter>(), {"TaskMetadata"});
  registry.add_formatter(std::make_shared<ButlerLogRecordsFormatter>(), {"ButlerLogRecords"});
  registry.add_alias("lsst.pipe.base.formatters.pexConfig.PexConfigFormatter", "majordome.datastore.ConfigFormatter");
  registry.add_alias("lsst.daf.butler.formatters.logs.ButlerLogRecordsFormatter",
                     "majordome.datastore.ButlerLogRecordsFormatter");
  registry.add_alias("lsst.daf.butler.formatters.yaml.YamlFormatter", "majordome.datastore.YamlFormatter");
  registry.add_alias("lsst.daf.butler.formatters.json.JsonFormatter", "majordome.datastore.YamlFormatter");
}

}  // namespace majordome::datastore
