// butler migrate-from-rubin: a daf_butler repository read in place becomes a majordome one.
//
// The Rubin registry's rows (registry::RubinRegistryReader) are turned into the export
// document daf_butler's own YAML exporter would write for the whole repository, with the
// universe version the registry records, and imported as `butler import --transfer direct`
// would: the same migrations from older universes, the same checks, one transaction. Two
// keys daf_butler's exports lack carry the datastore records' sizes and checksums, and files
// the registry knows but the disk lacks are recorded anyway (nothing in the registry is lost).
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "butler_impl.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/core/time.hpp"
#include "majordome/datastore/transfer.hpp"
#include "majordome/registry/rubin_registry.hpp"
#include "majordome/sphere/codec.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;
using registry::ResultSet;
using registry::SqlValue;

namespace {

constexpr const char* kSourceAttribute = "migrated_from_rubin";

// The registry managers (and major.minor versions) whose tables this reader knows, as
// daf_butler names them in butler_attributes.
const std::map<std::string, std::vector<std::string>> kKnownManagers{
    {"lsst.daf.butler.registry.attributes.DefaultButlerAttributeManager", {"1.0"}},
    {"lsst.daf.butler.registry.collections.synthIntKey.SynthIntKeyCollectionManager", {"2.0"}},
    {"lsst.daf.butler.registry.datasets.byDimensions._manager.ByDimensionsDatasetRecordStorageManagerUUID", {"1.0"}},
    {"lsst.daf.butler.registry.opaque.ByNameOpaqueTableStorageManager", {"0.2"}},
    {"lsst.daf.butler.registry.bridge.monolithic.MonolithicDatastoreRegistryBridgeManager", {"0.2"}},
    {"lsst.daf.butler.registry.dimensions.static.StaticDimensionRecordStorageManager", {"6.0"}},
};

// daf_butler's TAI nanoseconds for an unbounded begin and end (TimeConverter min/max).
constexpr std::int64_t kRubinMinNs = 0;
constexpr std::int64_t kRubinMaxNs = 4102444800000000000;

// Rubin's CollectionType values.
std::string collection_type_name(std::int64_t value, const std::string& name) {
  switch (value) {
    case 1: return "RUN";
    case 2: return "TAGGED";
    case 3: return "CHAINED";
    case 4: return "CALIBRATION";
    default: throw CorruptFileError(fmt::format("collection '{}' has unknown type {}", name, value));
  }
}

std::size_t column(const ResultSet& rs, const std::string& name) {
  for (std::size_t i = 0; i < rs.columns.size(); ++i)
    if (rs.columns[i] == name) return i;
  throw CorruptFileError(fmt::format("a Rubin registry table lacks its '{}' column", name));
}

// An integer from its decimal text; CorruptFileError for anything else.
std::int64_t parse_integer(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (error != std::errc() || end != text.data() + text.size() || text.empty())
    throw CorruptFileError(fmt::format("a Rubin registry holds '{}' where daf_butler writes an integer", text));
  return v;
}

std::int64_t integer(const SqlValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* s = std::get_if<std::string>(&v)) return parse_integer(*s);
  throw CorruptFileError("a Rubin registry holds a non-integer where daf_butler writes an integer");
}

std::string text(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* b = std::get_if<registry::Blob>(&v)) return std::string(b->bytes.begin(), b->bytes.end());
  return "";
}

// A row the registry's own tables name: CorruptFileError when it is not there (a registry edited
// by hand, with its foreign keys off).
template <class Map>
const typename Map::mapped_type& named(const Map& map, const typename Map::key_type& key, std::string_view what) {
  auto it = map.find(key);
  if (it == map.end()) throw CorruptFileError(fmt::format("the Rubin registry names {} {}, which it does not hold", what, key));
  return it->second;
}

bool null_value(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

// A dataset ID as the registry stores it (32 hex digits in SQLite, a UUID in PostgreSQL).
std::string dataset_id(const SqlValue& v) {
  std::string hex = text(v);
  if (auto u = Uuid::parse(hex)) return u->str();
  if (hex.size() == 32) {
    std::string dashed = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                         hex.substr(16, 4) + "-" + hex.substr(20);
    if (auto u = Uuid::parse(dashed)) return u->str();
  }
  throw CorruptFileError(fmt::format("'{}' is not a dataset ID", hex));
}

YAML::Node string_node(const std::string& s) {
  YAML::Node n(s);
  n.SetTag("!");  // a string even when it looks like a number ("3019053000001")
  return n;
}

YAML::Node time_node(std::int64_t ns) {
  YAML::Node n(TaiTime(ns).tai_iso(9));
  n.SetTag("!butler_time/tai/iso");
  return n;
}

YAML::Node timespan_node(const SqlValue& begin, const SqlValue& end) {
  YAML::Node ts(YAML::NodeType::Map);
  ts["begin"] = null_value(begin) || integer(begin) <= kRubinMinNs ? YAML::Node(YAML::NodeType::Null)
                                                                 : time_node(integer(begin));
  ts["end"] = null_value(end) || integer(end) >= kRubinMaxNs ? YAML::Node(YAML::NodeType::Null) : time_node(integer(end));
  return ts;
}

// A dimension record's column as the export's YAML would hold it. `spec` is the field of that
// name in this majordome's universe, if it has one (it may not: fields older universes had).
YAML::Node field_node(const SqlValue& value, const dimensions::FieldSpec* spec) {
  if (null_value(value)) return YAML::Node(YAML::NodeType::Null);
  using dimensions::FieldType;
  if (spec && spec->type == FieldType::kRegion) {
    std::vector<std::uint8_t> bytes;
    if (const auto* b = std::get_if<registry::Blob>(&value)) bytes = b->bytes;
    else bytes = sphere::from_base64(text(value));  // daf_butler's Base64Region column
    std::string hex;
    for (auto byte : bytes) hex += fmt::format("{:02x}", byte);
    YAML::Node region(YAML::NodeType::Map);
    region["encoded"] = hex;
    return region;
  }
  if (spec && spec->type == FieldType::kHash) {
    if (const auto* b = std::get_if<registry::Blob>(&value)) return YAML::Node(sphere::to_base64(b->bytes));
    return YAML::Node(text(value));
  }
  if (spec && spec->type == FieldType::kBool) return YAML::Node(integer(value) != 0);
  return std::visit(
      [](const auto& v) -> YAML::Node {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
          return YAML::Node(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return string_node(v);
        } else if constexpr (std::is_same_v<T, registry::Blob>) {
          return YAML::Node(sphere::to_base64(v.bytes));
        } else {
          return YAML::Node(YAML::NodeType::Null);
        }
      },
      value);
}

struct Source {
  std::string records_table = "file_datastore_records";  // datastore.records.table
  fs::path root;            // the repository folder (<butlerRoot>)
  fs::path datastore_root;  // where relative datastore paths start
  fs::path sqlite;          // the registry file, when it is SQLite
  YAML::Node config;        // butler.yaml
};

// daf_butler's PostgreSQL timespan column (int8range text: "[a,b)", "(,b)", "[a,)", "(,)",
// "empty") as the begin and end columns SQLite registries have (NULL: unbounded).
std::pair<SqlValue, SqlValue> split_range(const SqlValue& value) {
  if (std::holds_alternative<std::monostate>(value)) return {std::monostate{}, std::monostate{}};
  const std::string range = text(value);
  if (range == "empty") return {std::int64_t{1}, std::int64_t{1}};  // begin == end: empty
  const auto comma = range.find(',');
  if (range.size() < 3 || comma == std::string::npos)
    throw CorruptFileError(fmt::format("'{}' is not a daf_butler timespan range", range));
  auto bound = [&](const std::string& digits, bool upper) -> SqlValue {
    if (digits.empty()) return std::monostate{};
    std::int64_t v = parse_integer(digits);
    // int8range is canonical [a,b); anything else is adjusted to it.
    if (!upper && range.front() == '(') ++v;
    if (upper && range.back() == ']') ++v;
    return v;
  };
  return {bound(range.substr(1, comma - 1), false), bound(range.substr(comma + 1, range.size() - comma - 2), true)};
}

// Reads SOURCE/butler.yaml: where the registry and the datastore are.
Source read_butler_yaml(const fs::path& given) {
  Source s;
  s.root = fs::absolute(given).lexically_normal();
  fs::path config = s.root / "butler.yaml";
  if (fs::is_regular_file(s.root)) {
    config = s.root;
    s.root = s.root.parent_path();
  }
  if (!fs::exists(config))
    throw NotFoundError(fmt::format("{} has no butler.yaml: give the folder of a daf_butler repository",
                                    s.root.string()));
  YAML::Node y;
  try {
    y = YAML::LoadFile(config.string());
  } catch (const YAML::Exception& e) {
    throw CorruptFileError(fmt::format("{} is not valid YAML: {}", config.string(), e.what()));
  }
  auto resolve = [&](std::string value) {
    for (std::size_t at; (at = value.find("<butlerRoot>")) != std::string::npos;)
      value.replace(at, std::string("<butlerRoot>").size(), s.root.string());
    return value;
  };
  const std::string cls = y["datastore"] && y["datastore"]["cls"] ? y["datastore"]["cls"].as<std::string>() : "";
  if (!cls.empty() && cls.find("FileDatastore") == std::string::npos)
    throw UnsupportedError(fmt::format("{}: datastore class {} is not read by migrate-from-rubin (it reads a "
                                       "FileDatastore)", config.string(), cls));
  std::string root = y["datastore"] && y["datastore"]["root"] ? resolve(y["datastore"]["root"].as<std::string>())
                                                              : s.root.string();
  if (root.rfind("file://", 0) == 0) root = datastore::path_from_file_uri(root).string();
  if (root.find("://") != std::string::npos)
    throw UnsupportedError(fmt::format("{}: datastore root {} is not a local folder; migrate-from-rubin reads "
                                       "file datastores", config.string(), root));
  s.datastore_root = fs::absolute(root).lexically_normal();
  if (y["datastore"] && y["datastore"]["records"] && y["datastore"]["records"]["table"])
    s.records_table = y["datastore"]["records"]["table"].as<std::string>();
  if (!y["registry"] || !y["registry"]["db"]) y["registry"]["db"] = "sqlite:///<butlerRoot>/gen3.sqlite3";
  s.config = y;
  const std::string db = resolve(y["registry"]["db"].as<std::string>());
  if (db.rfind("sqlite:///", 0) == 0) {
    s.sqlite = db.substr(std::string("sqlite:///").size() - 1);
    if (!fs::exists(s.sqlite))
      throw NotFoundError(fmt::format("{}: registry file {} does not exist", config.string(), s.sqlite.string()));
  } else if (db.rfind("postgresql://", 0) != 0 && db.rfind("postgres://", 0) != 0) {
    throw UnsupportedError(fmt::format("{}: the registry is a {} database; migrate-from-rubin reads SQLite and "
                                       "PostgreSQL registries", config.string(), db.substr(0, db.find(':'))));
  }
  return s;
}

// Refuses a registry whose managers or versions this reader does not know.
void check_managers(const std::map<std::string, std::string>& attributes, const std::string& where) {
  for (const auto& [name, value] : attributes) {
    if (name.rfind("version:", 0) != 0) continue;
    const auto bar = value.find('|');
    const std::string manager = name.substr(8), version = bar == std::string::npos ? value : value.substr(bar + 1);
    // daf_butler writes "version:<manager>" → "<version>"; older ones "<manager>|<version>".
    const std::string key = manager.find('|') == std::string::npos ? manager : manager.substr(0, manager.find('|'));
    const std::string ver = manager.find('|') == std::string::npos ? version : manager.substr(manager.find('|') + 1);
    auto it = kKnownManagers.find(key);
    std::string known;
    for (const auto& [m, versions] : kKnownManagers) known += fmt::format("\n  {} {}.x", m, fmt::join(versions, ".x, "));
    if (it == kKnownManagers.end())
      throw UnsupportedError(fmt::format("{} uses registry manager {} (version {}), whose tables migrate-from-rubin "
                                         "does not read; it reads:{}", where, key, ver, known));
    bool ok = false;
    for (const auto& v : it->second) ok = ok || ver.rfind(v + ".", 0) == 0 || ver == v;
    if (!ok)
      throw UnsupportedError(fmt::format("{} uses registry manager {} version {}, which migrate-from-rubin does not "
                                         "read; it reads:{}", where, key, ver, known));
  }
}

struct Built {
  YAML::Node document;
  Butler::MigrationResult counts;
};

// The whole registry as one export document.
Built build_document(registry::RubinRegistryReader& rubin, const Source& source, const dimensions::Universe& u) {
  const std::string where = rubin.describe();
  std::map<std::string, std::string> attributes;
  {
    auto rs = rubin.table("butler_attributes");
    const auto n = column(rs, "name"), v = column(rs, "value");
    for (const auto& row : rs.rows) attributes[text(row[n])] = text(row[v]);
  }
  // Two layouts of the version attribute: "version:<manager>" = "<v>", or the key holding both.
  std::map<std::string, std::string> versions;
  for (const auto& [k, v] : attributes) {
    if (k.rfind("version:", 0) != 0) continue;
    auto bar = k.find('|');
    if (bar != std::string::npos) versions["version:" + k.substr(8, bar - 8)] = k.substr(bar + 1);
    else versions[k] = v;
  }
  check_managers(versions, where);
  auto dims = attributes.find("config:dimensions.json");
  if (dims == attributes.end())
    throw CorruptFileError(fmt::format("{} holds no dimension configuration (config:dimensions.json)", where));
  nlohmann::json universe;
  try {
    universe = nlohmann::json::parse(dims->second);
  } catch (const nlohmann::json::exception& e) {
    throw CorruptFileError(fmt::format("{}: its dimension configuration is not JSON: {}", where, e.what()));
  }
  if (!universe.is_object() || (universe.contains("version") && !universe["version"].is_number_integer()) ||
      (universe.contains("namespace") && !universe["namespace"].is_string()))
    throw CorruptFileError(fmt::format("{}: its dimension configuration has no integer version and string namespace",
                                       where));
  const std::string ns = universe.value("namespace", "daf_butler");
  const int version = universe.value("version", 0);
  if (ns != u.namespace_name() || version > u.version())
    throw UnsupportedError(fmt::format("{} uses dimension universe {} version {}; this majordome reads {} up to "
                                       "version {}", where, ns, version, u.namespace_name(), u.version()));

  Built out;
  YAML::Node& doc = out.document;
  doc["description"] = fmt::format("migrated from the Rubin repository {}", source.root.string());
  doc["version"] = "1.0.2";
  doc["universe_version"] = version;
  doc["universe_namespace"] = ns;
  YAML::Node data(YAML::NodeType::Sequence);

  // ---- dimension records, element by element as the source universe lists them
  if (!universe.contains("elements") || !universe["elements"].is_object())
    throw CorruptFileError(fmt::format("{}: its dimension configuration lists no elements", where));
  for (const auto& [element, config] : universe["elements"].items()) {
    if (!rubin.has_table(element)) continue;  // skypix dimensions and elements without records
    auto rs = rubin.table(element);
    if (rs.rows.empty()) continue;
    const auto* ours = u.find(element);
    YAML::Node entry;
    entry["type"] = "dimension";
    entry["element"] = element;
    YAML::Node records(YAML::NodeType::Sequence);
    std::optional<std::size_t> begin, end, range;
    for (std::size_t c = 0; c < rs.columns.size(); ++c) {
      if (rs.columns[c] == "timespan_begin") begin = c;
      if (rs.columns[c] == "timespan_end") end = c;
      if (rs.columns[c] == "timespan") range = c;
    }
    for (const auto& row : rs.rows) {
      YAML::Node rec(YAML::NodeType::Map);
      for (std::size_t c = 0; c < rs.columns.size(); ++c) {
        if (c == begin || c == end || c == range) continue;
        const dimensions::FieldSpec* spec = nullptr;
        if (ours)
          for (const auto& f : ours->record_fields())
            if (f.name == rs.columns[c]) spec = &f;
        rec[rs.columns[c]] = field_node(row[c], spec);
      }
      if (begin && end) rec["timespan"] = timespan_node(row[*begin], row[*end]);
      if (range) {
        const auto [b, e] = split_range(row[*range]);
        rec["timespan"] = timespan_node(b, e);
      }
      records.push_back(rec);
      ++out.counts.dimension_records;
    }
    entry["records"] = records;
    data.push_back(entry);
  }

  // ---- collections (chains after their children: the importer sets chains at the end anyway)
  auto collections = rubin.table("collection", {"collection_id"});
  std::map<std::int64_t, std::pair<std::string, std::string>> collection_by_id;  // id → (name, type)
  {
    const auto id = column(collections, "collection_id"), name = column(collections, "name"),
               type = column(collections, "type"), doc_col = column(collections, "doc");
    for (const auto& row : collections.rows)
      collection_by_id[integer(row[id])] = {text(row[name]), collection_type_name(integer(row[type]), text(row[name]))};
    std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::int64_t>>> children;  // parent → (position, child)
    if (rubin.has_table("collection_chain")) {
      auto chain = rubin.table("collection_chain", {"parent", "position"});
      const auto parent = column(chain, "parent"), position = column(chain, "position"), child = column(chain, "child");
      for (const auto& row : chain.rows) children[integer(row[parent])].push_back({integer(row[position]), integer(row[child])});
    }
    for (const auto& row : collections.rows) {
      const auto& [cname, ctype] = named(collection_by_id, integer(row[id]), "collection");
      YAML::Node c;
      c["type"] = ctype == "RUN" ? "run" : "collection";
      c["name"] = string_node(cname);
      if (ctype != "RUN") c["collection_type"] = ctype;
      if (!null_value(row[doc_col]) && !text(row[doc_col]).empty()) c["doc"] = string_node(text(row[doc_col]));
      if (ctype == "CHAINED") {
        YAML::Node list(YAML::NodeType::Sequence);
        for (const auto& [position, child] : children[integer(row[id])]) {
          auto it = collection_by_id.find(child);
          if (it == collection_by_id.end())
            throw CorruptFileError(fmt::format("{}: chain '{}' names collection id {}, which does not exist", where,
                                               cname, child));
          list.push_back(string_node(it->second.first));
        }
        c["children"] = list;
      }
      data.push_back(c);
      ++out.counts.collections;
    }
  }

  // ---- dataset types: dimensions from the dimension-graph tables
  std::map<std::int64_t, std::vector<std::string>> graphs;
  {
    auto rs = rubin.table("dimension_graph_definition");
    const auto g = column(rs, "dimension_graph_id"), d = column(rs, "dimension_name");
    for (const auto& row : rs.rows) graphs[integer(row[g])].push_back(text(row[d]));
  }
  struct TypeInfo {
    std::string name, tags, calibs;
    std::vector<std::string> dimensions;
  };
  std::map<std::int64_t, TypeInfo> types;
  {
    auto rs = rubin.table("dataset_type", {"id"});
    const auto id = column(rs, "id"), name = column(rs, "name"), sc = column(rs, "storage_class"),
               key = column(rs, "dimensions_key"), tags = column(rs, "tag_association_table"),
               calibs = column(rs, "calibration_association_table");
    for (const auto& row : rs.rows) {
      TypeInfo t{text(row[name]), text(row[tags]), null_value(row[calibs]) ? "" : text(row[calibs]),
                 graphs[integer(row[key])]};
      YAML::Node e;
      e["type"] = "dataset_type";
      e["name"] = string_node(t.name);
      YAML::Node list(YAML::NodeType::Sequence);
      for (const auto& d : t.dimensions) list.push_back(d);
      e["dimensions"] = list;
      e["storage_class"] = string_node(text(row[sc]));
      e["is_calibration"] = !t.calibs.empty();
      data.push_back(e);
      types.emplace(integer(row[id]), std::move(t));
      ++out.counts.dataset_types;
    }
  }

  // ---- datastore records, by dataset
  struct FileRecord {
    std::string path, formatter;
    std::optional<std::string> checksum;
    std::optional<std::int64_t> size;
  };
  std::map<std::string, FileRecord> files;
  if (rubin.has_table(source.records_table)) {
    auto rs = rubin.table(source.records_table, {"dataset_id"});
    const auto id = column(rs, "dataset_id"), path = column(rs, "path"), formatter = column(rs, "formatter"),
               component = column(rs, "component"), checksum = column(rs, "checksum"), size = column(rs, "file_size");
    for (const auto& row : rs.rows) {
      const std::string ds = dataset_id(row[id]);
      const std::string comp = null_value(row[component]) ? "" : text(row[component]);
      if (!comp.empty() && comp != "__NULL_STRING__")
        throw UnsupportedError(fmt::format("{}: dataset {} is stored as separate component files ({}); "
                                           "migrate-from-rubin does not read disassembled datasets yet",
                                           where, ds, comp));
      std::string p = text(row[path]);
      if (p.rfind("file://", 0) == 0) p = datastore::path_from_file_uri(p).string();
      else if (p.find("://") != std::string::npos)
        throw UnsupportedError(fmt::format("{}: dataset {} is stored at {}, not in a local folder", where, ds, p));
      if (!fs::exists(fs::path(p).is_absolute() ? fs::path(p) : source.datastore_root / p)) ++out.counts.missing_files;
      files[ds] = {p, text(row[formatter]), null_value(row[checksum]) ? std::nullopt : std::optional(text(row[checksum])),
                   null_value(row[size]) ? std::nullopt : std::optional(integer(row[size]))};
    }
  }

  // ---- datasets: their data IDs from their run's rows of the tags tables
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> datasets;  // id → (type id, run id)
  {
    auto rs = rubin.table("dataset", {"id"});
    const auto id = column(rs, "id"), type = column(rs, "dataset_type_id"), run = column(rs, "run_id");
    for (const auto& row : rs.rows) datasets[dataset_id(row[id])] = {integer(row[type]), integer(row[run])};
  }
  if (!datasets.empty() && !rubin.has_table(source.records_table))
    throw UnsupportedError(fmt::format("{} holds datasets but no datastore records table '{}' (butler.yaml "
                                       "datastore.records.table); their files cannot be found",
                                       where, source.records_table));
  std::map<std::string, ResultSet> tag_tables;
  for (const auto& [type_id, t] : types)
    if (!tag_tables.count(t.tags)) tag_tables[t.tags] = rubin.table(t.tags, {"collection_id", "dataset_id"});
  std::map<std::pair<std::int64_t, std::int64_t>, YAML::Node> by_type_run;  // (type, run) → records
  std::map<std::int64_t, std::vector<std::string>> tagged;                    // collection → ids
  std::set<std::string> with_data_id;
  for (const auto& [table, rs] : tag_tables) {
    const auto type = column(rs, "dataset_type_id"), id = column(rs, "dataset_id"), coll = column(rs, "collection_id");
    for (const auto& row : rs.rows) {
      const std::int64_t type_id = integer(row[type]), collection = integer(row[coll]);
      const std::string ds = dataset_id(row[id]);
      auto d = datasets.find(ds);
      if (d == datasets.end()) throw CorruptFileError(fmt::format("{}: {} names dataset {}, which does not exist", where, table, ds));
      if (collection != d->second.second) {
        tagged[collection].push_back(ds);
        continue;
      }
      const auto& t = named(types, type_id, "dataset type");
      YAML::Node data_id(YAML::NodeType::Map);
      for (const auto& dim : t.dimensions) {
        const auto c = column(rs, dim);
        if (const auto* s = std::get_if<std::string>(&row[c])) data_id[dim] = string_node(*s);
        else data_id[dim] = integer(row[c]);
      }
      YAML::Node rec;
      YAML::Node ids(YAML::NodeType::Sequence), data_ids(YAML::NodeType::Sequence);
      ids.push_back(ds);
      data_ids.push_back(data_id);
      rec["dataset_id"] = ids;
      rec["data_id"] = data_ids;
      if (auto f = files.find(ds); f != files.end()) {
        rec["path"] = string_node(f->second.path);
        rec["formatter"] = string_node(f->second.formatter);
        if (f->second.size) rec["file_size"] = *f->second.size;
        if (f->second.checksum) rec["checksum"] = string_node(*f->second.checksum);
      }
      by_type_run[{type_id, collection}].push_back(rec);
      with_data_id.insert(ds);
    }
  }
  for (const auto& [ds, info] : datasets)
    if (!with_data_id.count(ds))
      throw CorruptFileError(fmt::format("{}: dataset {} has no row in its run's tags table", where, ds));
  for (const auto& [key, records] : by_type_run) {
    YAML::Node e;
    e["type"] = "dataset";
    e["dataset_type"] = string_node(named(types, key.first, "dataset type").name);
    e["run"] = string_node(named(collection_by_id, key.second, "collection").first);
    e["records"] = records;
    data.push_back(e);
    out.counts.datasets += records.size();
  }
  for (const auto& [collection, ids] : tagged) {
    const auto& [name, type] = named(collection_by_id, collection, "collection");
    if (type != "TAGGED")
      throw CorruptFileError(fmt::format("{}: {} collection '{}' holds datasets of another run", where, type, name));
    YAML::Node e;
    e["type"] = "associations";
    e["collection"] = string_node(name);
    e["collection_type"] = "TAGGED";
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& id : ids) list.push_back(id);
    e["dataset_ids"] = list;
    data.push_back(e);
  }

  // ---- calibration validity ranges
  std::set<std::string> calib_tables;
  for (const auto& [type_id, t] : types)
    if (!t.calibs.empty()) calib_tables.insert(t.calibs);
  std::map<std::int64_t, std::map<std::pair<std::string, std::string>, std::pair<YAML::Node, std::vector<std::string>>>>
      ranges;  // collection → (begin, end) text → (timespan, ids)
  for (const auto& table : calib_tables) {
    auto rs = rubin.table(table, {"id"});
    const auto id = column(rs, "dataset_id"), coll = column(rs, "collection_id");
    const bool one_column = std::find(rs.columns.begin(), rs.columns.end(), "timespan") != rs.columns.end();
    for (const auto& row : rs.rows) {
      const auto [b, e] = one_column ? split_range(row[column(rs, "timespan")])
                                     : std::pair(row[column(rs, "timespan_begin")], row[column(rs, "timespan_end")]);
      auto key = std::make_pair(text(b), text(e));
      auto& slot = ranges[integer(row[coll])][key];
      if (slot.second.empty()) slot.first = timespan_node(b, e);
      slot.second.push_back(dataset_id(row[id]));
    }
  }
  for (const auto& [collection, by_range] : ranges) {
    YAML::Node e;
    e["type"] = "associations";
    e["collection"] = string_node(named(collection_by_id, collection, "collection").first);
    e["collection_type"] = "CALIBRATION";
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& [key, value] : by_range) {
      YAML::Node r;
      r["timespan"] = value.first;
      YAML::Node ids(YAML::NodeType::Sequence);
      for (const auto& id : value.second) ids.push_back(id);
      r["dataset_ids"] = ids;
      list.push_back(r);
    }
    e["validity_ranges"] = list;
    data.push_back(e);
  }
  doc["data"] = data;
  return out;
}

std::string random_suffix() {
  std::random_device rd;
  return fmt::format("{:016x}", (static_cast<std::uint64_t>(rd()) << 32) | rd());
}

}  // namespace

Butler::MigrationResult Butler::migrate_from_rubin(const fs::path& source_path, const fs::path& destination) {
  const Source source = read_butler_yaml(source_path);
  fs::path dest = fs::absolute(destination).lexically_normal();
  if (!dest.has_filename()) dest = dest.parent_path();  // "out/" is "out"
  if (fs::exists(dest) && fs::equivalent(dest, source.root))
    throw InvalidArgumentError(fmt::format("DEST {} is the Rubin repository itself; give a new folder", dest.string()));
  const std::string source_id = fs::weakly_canonical(source.root).string();
  if (fs::exists(dest)) {
    // Only a majordome repository (it has its private folder) is opened: a Rubin one, or
    // anything else, is not touched.
    if (fs::exists(dest / "butler.yaml") && fs::is_directory(dest / ".majordome")) {
      auto existing = Butler::open(dest, Access::kReadOnly);
      if (existing->registry().attribute(kSourceAttribute) == source_id) {
        MigrationResult done;
        done.already_done = true;
        return done;
      }
    }
    if (!fs::is_directory(dest) || !fs::is_empty(dest))
      throw ConflictError(fmt::format("{} already exists and is not a migration of {}; give a new folder",
                                      dest.string(), source.root.string()));
  }
  // Read everything before anything is created: a registry this reader refuses leaves nothing.
  registry::RubinRegistryReader rubin(source.sqlite.empty() ? open_database(source.config, source.root, false)
                                                            : registry::open_sqlite_read_only(source.sqlite.string()));
  auto universe = dimensions::Universe::make_default();
  Built built = build_document(rubin, source, *universe);

  // Built beside the destination, then renamed into place.
  const fs::path staging = dest.parent_path() / fmt::format(".{}.migrating-{}", dest.filename().string(), random_suffix());
  fs::create_directories(dest.parent_path());
  try {
    Butler::create(staging);
    {
      auto b = Butler::open(staging, Access::kReadWrite);
      ImportOptions options;
      options.transfer = "direct";
      options.record_missing_files = true;
      b->import_document(source.datastore_root, source.root / "butler.yaml", built.document, options);
      b->registry().set_attribute(kSourceAttribute, source_id);
    }
    if (fs::exists(dest)) fs::remove(dest);  // the empty folder the user made
    fs::rename(staging, dest);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }
  return built.counts;
}

}  // namespace majordome::butler
