// Import and export in daf_butler's YAML export format (version 1.0.2; older versions and
// universes are migrated on import). See docs/export_format.md.
#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "butler_impl.hpp"
#include "write_token.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/core/executor.hpp"
#include "majordome/datastore/resource.hpp"
#include "majordome/datastore/atomic_file.hpp"
#include "majordome/datastore/checksum.hpp"
#include "majordome/datastore/remove_artifact.hpp"
#include "majordome/datastore/transfer.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;
using dimensions::Bytes;
using dimensions::DimensionRecord;
using dimensions::FieldType;
using dimensions::FieldValue;
using registry::CollectionType;
using registry::StoredFile;

namespace {

const Uuid kLegacyIntIdNamespace = Uuid::get("4d4851f4-2890-4d41-8779-5f38a3f5062b");
constexpr const char* kBinaryTag = "tag:yaml.org,2002:binary";

[[noreturn]] void bad(const fs::path& file, const YAML::Node& node, const std::string& what) {
  auto mark = node.Mark();
  throw CorruptFileError(fmt::format("{}{}: {}", file.string(),
                                     mark.is_null() ? "" : fmt::format(" line {}", mark.line + 1), what));
}

std::vector<std::uint8_t> from_hex(const std::string& hex, const fs::path& file, const YAML::Node& node) {
  if (hex.size() % 2) bad(file, node, "region encoding has an odd number of hex digits");
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned v = 0;
    if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) bad(file, node, "region encoding is not hexadecimal");
    out[i] = static_cast<std::uint8_t>(v);
  }
  return out;
}

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::string region_tag(const std::vector<std::uint8_t>& bytes) {
  switch (bytes.empty() ? 0 : bytes[0]) {
    case 'p': return "lsst.sphgeom.ConvexPolygon";
    case 'c': return "lsst.sphgeom.Circle";
    case 'b': return "lsst.sphgeom.Box";
    case 'e': return "lsst.sphgeom.Ellipse";
    case 'u': return "lsst.sphgeom.UnionRegion";
    case 'i': return "lsst.sphgeom.IntersectionRegion";
    default: return "lsst.sphgeom.Region";
  }
}

// A time in an export: tagged TAI text, or (very old files) a plain timestamp read as UTC.
std::optional<TaiTime> read_time(const YAML::Node& node, const fs::path& file) {
  if (!node || node.IsNull()) return std::nullopt;
  std::string text = node.as<std::string>();
  std::string tag = node.Tag();
  std::optional<TaiTime> t;
  if (tag.find("butler_time") != std::string::npos) {
    t = TaiTime::parse_tai_iso(text);
  } else {
    t = TaiTime::parse_utc_iso(text);
  }
  if (!t) bad(file, node, fmt::format("'{}' is not a time", text));
  return t;
}

Uuid read_uuid(const YAML::Node& node, const fs::path& file) {
  std::string text = node.as<std::string>();
  if (auto u = Uuid::parse(text)) return *u;
  // Old exports used integer dataset IDs; Rubin maps them with uuid3.
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos)
    return Uuid::v3(kLegacyIntIdNamespace, text);
  bad(file, node, fmt::format("'{}' is not a dataset ID", text));
}

struct ImportedDataset {
  std::string dataset_type, run, path, formatter;
  std::vector<registry::DatasetRef> refs;
  // Not in daf_butler's exports: given by migrate-from-rubin from the datastore records.
  std::optional<std::int64_t> file_size;
  std::optional<std::string> checksum;
};

// Day offset of an instrument's observing day (Rubin instruments start the day at noon UTC).
std::int64_t day_offset_ns(const std::string& instrument) {
  static const std::set<std::string> kRubin{"LSSTCam", "LATISS", "LSSTComCam", "LSSTComCamSim", "LSST-TS8"};
  return kRubin.count(instrument) ? -12LL * 3600 * 1'000'000'000 : 0;
}

std::int64_t day_obs_of(TaiTime begin, const std::string& instrument) {
  auto text = TaiTime(begin.ns() + day_offset_ns(instrument)).utc_iso(0);
  return std::stoll(text.substr(0, 4) + text.substr(5, 2) + text.substr(8, 2));
}

}  // namespace

void Butler::import_yaml(const fs::path& directory, const fs::path& export_file, const ImportOptions& options) {
  fs::path file = export_file.is_absolute() || fs::exists(export_file) || datastore::is_remote_uri(export_file.native())
                      ? export_file
                      : directory / export_file;
  if (datastore::is_remote_uri(directory.native()) && !export_file.is_absolute() &&
      !datastore::is_remote_uri(export_file.native()) && !fs::exists(export_file))
    file = datastore::ResourcePath::parse(directory.native()).join(export_file.generic_string()).uri();
  try {
    import_yaml_file(directory, file, options);
  } catch (const YAML::Exception& e) {  // a value of the wrong kind where the format wants another
    throw CorruptFileError(fmt::format("{} is not a valid export: {}", file.string(), e.what()));
  }
}

void Butler::import_yaml_file(const fs::path& directory, const fs::path& file, const ImportOptions& options) {
  const auto location = datastore::ResourcePath::parse(file.native());
  if (!datastore::stat_resource(location).exists)
    throw NotFoundError(fmt::format("export file {} does not exist", location.str()));
  const std::string text = datastore::read_resource(location);
  // YAML has no end marker, so a file cut short at a line boundary can still parse; but every
  // writer (daf_butler's and ours) ends the file with a line break, and a file cut anywhere
  // else lacks it. Refuse it rather than import part of an export.
  {
    const auto size = text.size();
    if (size == 0 || text.back() != '\n')
      throw CorruptFileError(fmt::format("{} {}: it looks truncated (cut while being written or copied); export or "
                                         "copy it again in full (or, if it is complete, end it with a newline)",
                                         file.string(), size == 0 ? "is empty" : "does not end with a line break"));
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw CorruptFileError(fmt::format("{} is not valid YAML: {}", file.string(), e.what()));
  }
  import_document(directory, file, root, options);
}

void Butler::import_document(const fs::path& directory, const fs::path& file, const YAML::Node& root,
                             const ImportOptions& options) {
  if (!root.IsMap() || !root["data"] || !root["data"].IsSequence())
    throw CorruptFileError(fmt::format("{} is not a butler export (no 'data' list)", file.string()));
  std::string version = root["version"] ? root["version"].as<std::string>() : "0";
  if (version != "0" && version.rfind("1.", 0) != 0)
    throw UnsupportedError(fmt::format("{} has export format version {}; this majordome reads 1.x", file.string(), version));
  int universe_version = root["universe_version"] ? root["universe_version"].as<int>() : 0;
  std::string ns = root["universe_namespace"] ? root["universe_namespace"].as<std::string>() : "daf_butler";
  auto& u = registry_->universe();
  if (ns != u.namespace_name())
    throw UnsupportedError(fmt::format("{} uses dimension universe namespace '{}', this repository '{}'",
                                       file.string(), ns, u.namespace_name()));

  // ---- parse everything first; nothing is written if the file is bad
  std::vector<registry::DatasetType> types;
  struct Collection {
    std::string name, doc;
    CollectionType type;
    std::vector<std::string> children;
  };
  std::vector<Collection> collections;
  std::map<std::string, std::vector<DimensionRecord>> records;
  std::vector<ImportedDataset> datasets;
  struct Association {
    std::string collection;
    CollectionType type;
    std::vector<Uuid> ids;
    Timespan timespan;
  };
  std::vector<Association> associations;
  std::set<std::string> skip(options.skip_elements.begin(), options.skip_elements.end());
  std::map<std::string, std::set<std::int64_t>> needed_day_obs;  // instrument → day_obs (migrations)
  std::set<std::string> dropped_visit_system;  // dataset types that lost visit_system (universe < 2)
  bool warned_day_obs = false;

  auto add_record = [&](const std::string& element, std::map<std::string, YAML::Node>& fields, const YAML::Node& where) {
    const auto& e = u.get(element);
    std::vector<FieldValue> values;
    for (const auto& f : e.record_fields()) {
      const std::string& key = f.name;
      if (f.type == FieldType::kTimespan) {
        auto b = fields.count("datetime_begin") ? read_time(fields["datetime_begin"], file) : std::nullopt;
        auto en = fields.count("datetime_end") ? read_time(fields["datetime_end"], file) : std::nullopt;
        if (fields.count("timespan") && fields["timespan"].IsMap()) {
          b = read_time(fields["timespan"]["begin"], file);
          en = read_time(fields["timespan"]["end"], file);
        }
        values.push_back(b || en ? FieldValue(Timespan::between(b, en)) : FieldValue(std::monostate{}));
        fields.erase("datetime_begin");
        fields.erase("datetime_end");
        fields.erase("timespan");
        continue;
      }
      auto it = fields.find(key);
      if (it == fields.end() || it->second.IsNull()) {
        if (!f.nullable) bad(file, where, fmt::format("{} record lacks its '{}' value", element, key));
        values.emplace_back(std::monostate{});
        if (it != fields.end()) fields.erase(it);
        continue;
      }
      const YAML::Node& n = it->second;
      try {
        switch (f.type) {
          case FieldType::kInt: values.emplace_back(n.as<std::int64_t>()); break;
          case FieldType::kFloat: values.emplace_back(n.as<double>()); break;
          case FieldType::kBool: values.emplace_back(n.as<bool>()); break;
          case FieldType::kString: values.emplace_back(n.as<std::string>()); break;
          case FieldType::kHash: {
            auto bin = n.as<YAML::Binary>();
            values.emplace_back(Bytes{std::vector<std::uint8_t>(bin.data(), bin.data() + bin.size())});
            break;
          }
          case FieldType::kRegion:
            if (!n.IsMap() || !n["encoded"]) bad(file, n, "a region must be a tagged mapping with 'encoded'");
            values.emplace_back(Bytes{from_hex(n["encoded"].as<std::string>(), file, n)});
            break;
          case FieldType::kTimespan: break;
        }
      } catch (const YAML::Exception&) {
        bad(file, n, fmt::format("{}.{} has a value of the wrong type for a {}", element, key,
                                 dimensions::field_type_name(f.type)));
      }
      fields.erase(it);
    }
    for (const auto& [k, v] : fields)
      spdlog::debug("{}: dropping field '{}' of {} (not in universe {})", file.string(), k, element, u.version());
    records[element].emplace_back(e, std::move(values));
  };

  for (const auto& entry : root["data"]) {
    if (!entry.IsMap() || !entry["type"]) bad(file, entry, "an entry of 'data' has no 'type'");
    std::string type = entry["type"].as<std::string>();
    try {
      if (type == "dimension") {
        std::string element = entry["element"].as<std::string>();
        if (!u.find(element)) {
          std::string hint = u.suggest(element);
          bad(file, entry, fmt::format("unknown dimension element '{}'{}", element,
                                       hint.empty() ? "" : "; did you mean '" + hint + "'?"));
        }
        if (!u.get(element).has_table() || options.skip_dimensions || skip.count(element)) continue;
        for (const auto& rec : entry["records"]) {
          std::map<std::string, YAML::Node> fields;
          for (const auto& kv : rec) fields[kv.first.as<std::string>()] = kv.second;
          // Migrations from older universes (daf_butler's own rules).
          if (element == "visit") {
            fields.erase("seeing");
            if (fields.count("visit_system")) {  // universe < 2
              std::map<std::string, YAML::Node> m{{"instrument", fields["instrument"]},
                                                  {"visit_system", fields["visit_system"]},
                                                  {"visit", fields["id"]}};
              fields.erase("visit_system");
              add_record("visit_system_membership", m, rec);
            }
          }
          if (element == "exposure" && fields.count("group_name")) {  // universe < 6
            std::map<std::string, YAML::Node> g{{"instrument", fields["instrument"]}, {"name", fields["group_name"]}};
            add_record("group", g, rec);
            fields["group"] = fields["group_name"];
            fields.erase("group_name");
            fields.erase("group_id");
          }
          if ((element == "exposure" || element == "visit") && universe_version < 6) {
            std::string instrument = fields["instrument"].as<std::string>();
            if (!fields.count("day_obs") || fields["day_obs"].IsNull()) {
              auto begin = fields.count("datetime_begin") ? read_time(fields["datetime_begin"], file) : std::nullopt;
              if (!begin) bad(file, rec, fmt::format("{} record has neither day_obs nor a start time", element));
              fields["day_obs"] = YAML::Node(day_obs_of(*begin, instrument));
            }
            needed_day_obs[instrument].insert(fields["day_obs"].as<std::int64_t>());
          }
          add_record(element, fields, rec);
        }
      } else if (type == "collection" || type == "run") {
        Collection c;
        c.name = entry["name"].as<std::string>();
        c.type = type == "run" ? CollectionType::kRun : registry::parse_collection_type(entry["collection_type"].as<std::string>());
        if (entry["doc"] && !entry["doc"].IsNull()) c.doc = entry["doc"].as<std::string>();
        if (c.type == CollectionType::kChained) {
          for (const auto& child : entry["children"])
            c.children.push_back(child.IsSequence() ? child[0].as<std::string>() : child.as<std::string>());
        }
        collections.push_back(std::move(c));
      } else if (type == "dataset_type") {
        std::vector<std::string> dims;
        for (const auto& d : entry["dimensions"]) dims.push_back(d.as<std::string>());
        // Universe < 2: visit implied visit_system, which dataset types then listed beside it.
        // A visit now belongs to several systems, so such types keep visit alone (daf_butler's
        // YAML importer does the same).
        if (universe_version < 2 && std::count(dims.begin(), dims.end(), "visit") &&
            std::count(dims.begin(), dims.end(), "visit_system")) {
          dims.erase(std::remove(dims.begin(), dims.end(), "visit_system"), dims.end());
          dropped_visit_system.insert(entry["name"].as<std::string>());
        }
        types.push_back({entry["name"].as<std::string>(), u.group(dims), entry["storage_class"].as<std::string>(),
                         entry["is_calibration"] && entry["is_calibration"].as<bool>()});
      } else if (type == "dataset") {
        std::string dataset_type = entry["dataset_type"].as<std::string>();
        std::string run = entry["run"].as<std::string>();
        for (const auto& rec : entry["records"]) {
          ImportedDataset d{dataset_type, run, rec["path"] ? rec["path"].as<std::string>() : "",
                            rec["formatter"] && !rec["formatter"].IsNull() ? rec["formatter"].as<std::string>() : "", {},
                            std::nullopt, std::nullopt};
          if (rec["file_size"] && !rec["file_size"].IsNull()) d.file_size = rec["file_size"].as<std::int64_t>();
          if (rec["checksum"] && !rec["checksum"].IsNull()) d.checksum = rec["checksum"].as<std::string>();
          std::vector<YAML::Node> ids, data_ids;
          if (rec["dataset_id"].IsSequence()) for (const auto& x : rec["dataset_id"]) ids.push_back(x);
          else ids.push_back(rec["dataset_id"]);
          if (rec["data_id"].IsSequence()) for (const auto& x : rec["data_id"]) data_ids.push_back(x);
          else data_ids.push_back(rec["data_id"]);
          if (ids.size() != data_ids.size()) bad(file, rec, "dataset_id and data_id lists differ in length");
          for (std::size_t i = 0; i < ids.size(); ++i) {
            registry::DatasetRef ref;
            ref.id = read_uuid(ids[i], file);
            ref.dataset_type = dataset_type;
            ref.run = run;
            for (const auto& kv : data_ids[i]) {
              const auto& v = kv.second;
              std::int64_t n = 0;
              if (v.Tag() != "!" && YAML::convert<std::int64_t>::decode(v, n)) ref.data_id[kv.first.as<std::string>()] = n;
              else ref.data_id[kv.first.as<std::string>()] = v.as<std::string>();
            }
            if (dropped_visit_system.count(dataset_type)) ref.data_id.erase("visit_system");
            d.refs.push_back(std::move(ref));
          }
          datasets.push_back(std::move(d));
        }
      } else if (type == "associations") {
        Association a{entry["collection"].as<std::string>(),
                      registry::parse_collection_type(entry["collection_type"].as<std::string>()), {}, Timespan()};
        if (a.type == CollectionType::kTagged) {
          for (const auto& id : entry["dataset_ids"]) a.ids.push_back(read_uuid(id, file));
          associations.push_back(std::move(a));
        } else if (a.type == CollectionType::kCalibration) {
          for (const auto& range : entry["validity_ranges"]) {
            Association c = a;
            const auto& ts = range["timespan"] ? range["timespan"] : range;
            if (ts.IsScalar() && ts.as<std::string>() == "EMPTY") continue;
            c.timespan = Timespan::between(read_time(ts["begin"], file), read_time(ts["end"], file));
            for (const auto& id : range["dataset_ids"]) c.ids.push_back(read_uuid(id, file));
            associations.push_back(std::move(c));
          }
        } else {
          bad(file, entry, "associations must be for a TAGGED or CALIBRATION collection");
        }
      } else {
        bad(file, entry, fmt::format("unknown entry type '{}'", type));
      }
    } catch (const YAML::Exception& e) {
      bad(file, entry, fmt::format("malformed '{}' entry: {}", type, e.what()));
    } catch (const InvalidArgumentError& e) {
      bad(file, entry, e.what());
    } catch (const NotFoundError& e) {
      bad(file, entry, e.what());
    }
  }
  // Universe < 6 had no day_obs records: make them (without timespans, as Rubin does).
  for (const auto& [instrument, days] : needed_day_obs) {
    if (!warned_day_obs) {
      spdlog::warn("{}: constructing day_obs records with no timespans (export from universe version {})",
                   file.string(), universe_version);
      warned_day_obs = true;
    }
    for (auto day : days) {
      std::map<std::string, YAML::Node> f{{"instrument", YAML::Node(instrument)}, {"id", YAML::Node(day)}};
      add_record("day_obs", f, root);
    }
  }

  // ---- plan file transfers (outside the transaction), then write everything at once
  bool with_files = !options.without_datastore;
  auto mode = datastore::parse_transfer_mode(options.transfer);
  if (impl_->remote && with_files && mode != datastore::TransferMode::kCopy && mode != datastore::TransferMode::kAuto &&
      mode != datastore::TransferMode::kDirect && mode != datastore::TransferMode::kSplit)
    throw InvalidArgumentError(fmt::format("--transfer {} cannot put files into {}: a datastore on a server holds "
                                           "copies (copy, auto) or records files where they are (direct, split)",
                                           options.transfer, impl_->remote->str()));
  struct Transfer {
    fs::path source, destination;
    const ImportedDataset* dataset;
    std::optional<datastore::ResourcePath> remote;  // a file on a server (source is its URI)
    std::int64_t remote_size = 0;
  };
  std::vector<Transfer> transfers;
  std::vector<StoredFile> missing;  // files recorded without being there (record_missing_files)

  auto txn = registry_->transaction();
  for (const auto& t : types) registry_->register_dataset_type(t);
  for (const auto& c : collections) registry_->register_collection(c.name, c.type, c.doc);
  for (const auto& c : collections)
    if (c.type == CollectionType::kChained) registry_->set_chain(c.name, c.children);
  for (const auto* e : u.elements()) {
    auto it = records.find(e->name());
    if (it == records.end()) continue;
    registry_->insert_records(e->name(), it->second, registry::Registry::OnConflict::kSkip);
  }
  std::map<std::pair<std::string, std::string>, std::vector<registry::DatasetRef>> refs_by_type_run;
  for (const auto& d : datasets)
    for (const auto& r : d.refs) refs_by_type_run[{d.dataset_type, d.run}].push_back(r);
  // Every data ID must name records that exist (in the repository or in this file): a dataset
  // of an instrument nobody registered is refused here, with the fix, not stored dangling.
  registry::Registry::RecordCache record_cache;
  for (const auto& [key, refs] : refs_by_type_run) {
    const auto type = registry_->get_dataset_type(key.first);
    const auto& group = type.dimensions;
    std::vector<registry::DataId> ids;
    for (const auto& r : refs) ids.push_back(r.data_id);
    registry_->prefetch_records(ids, group, record_cache);
    for (const auto& r : refs) {
      try {
        registry_->expand_data_id(r.data_id, group, record_cache);
      } catch (const NotFoundError& e) {
        throw NotFoundError(fmt::format("{}: dataset {} ({} {}) cannot be imported: {}; or import an export that "
                                        "includes these dimension records",
                                        file.string(), r.id.str(), key.first,
                                        dimensions::format_data_id(r.data_id, group.required()), e.what()));
      }
    }
  }
  for (const auto& [key, refs] : refs_by_type_run) {
    registry_->register_collection(key.second, CollectionType::kRun);
    registry_->import_datasets(key.first, key.second, refs, true);
  }
  if (with_files) {
    RepositoryFiles::FolderCache folders;  // the checks of this import resolve each folder once
    // Files on a server (the export's folder is a davs:// URL, or a path is a URI): looked up
    // several at a time, then recorded where they are (direct, split) or copied in.
    const bool remote_folder = datastore::is_remote_uri(directory.native());
    std::vector<std::optional<datastore::ResourcePath>> remote(datasets.size());
    std::vector<datastore::ResourceInfo> remote_info(datasets.size());
    {
      std::vector<std::size_t> todo;
      for (std::size_t i = 0; i < datasets.size(); ++i) {
        const auto& d = datasets[i];
        if (d.path.empty() || !(remote_folder || datastore::is_remote_uri(d.path))) continue;
        const auto where = [&] {
          if (datastore::ResourcePath::looks_like_uri(d.path)) return datastore::ResourcePath::parse(d.path);
          const auto folder = datastore::ResourcePath::parse(directory.native());
          const auto joined = folder.join(d.path);
          if (d.path.front() == '/' || !joined.relative_to(folder))
            throw InvalidArgumentError(fmt::format("{}: dataset {} ({}): path '{}' leaves the export's folder {}",
                                                   file.string(), d.refs.front().id.str(), d.dataset_type,
                                                   printable(d.path), folder.str()));
          return joined;
        }();
        if (where.is_local()) continue;
        if (mode != datastore::TransferMode::kDirect && mode != datastore::TransferMode::kSplit &&
            mode != datastore::TransferMode::kCopy && mode != datastore::TransferMode::kAuto)
          throw InvalidArgumentError(fmt::format("--transfer {} cannot take {}: files on a server are copied in (copy, "
                                                 "auto) or used where they are (direct, split)",
                                                 options.transfer, where.str()));
        remote[i] = where;
        todo.push_back(i);
      }
      Executor executor(static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(todo.size(), 1), 8)));
      executor.for_each(todo.size(), [&](std::size_t k) { remote_info[todo[k]] = datastore::stat_resource(*remote[todo[k]]); });
    }
    for (const auto& d : datasets) {
      if (d.path.empty()) continue;
      if (const std::size_t i = static_cast<std::size_t>(&d - datasets.data()); remote[i]) {
        const auto& where = *remote[i];
        if (!remote_info[i].exists || remote_info[i].is_directory) {
          if (!options.record_missing_files)
            throw NotFoundError(fmt::format("file {} of dataset {} ({}) named in {} does not exist; import with "
                                            "--without-datastore to import the registry content only",
                                            where.str(), d.refs.front().id.str(), d.dataset_type, file.string()));
          for (const auto& ref : d.refs)
            missing.push_back({ref.id, "", where.uri(), d.formatter,
                               registry_->get_dataset_type(ref.dataset_type).storage_class, d.checksum, d.file_size});
          continue;
        }
        fs::path destination;
        if (mode == datastore::TransferMode::kCopy || mode == datastore::TransferMode::kAuto) {
          std::string ext;
          const auto name = where.name();
          if (auto dot = name.find('.'); dot != std::string::npos) ext = name.substr(dot);
          destination = impl_->destination(
              root_, template_path(d.refs.front(), registry_->get_dataset_type(d.dataset_type)), ext,
              fmt::format("dataset {} ({}) of run '{}'", d.refs.front().id.str(), d.dataset_type, printable(d.run)),
              &folders);
        }
        transfers.push_back({where.uri(), destination, &d, where, remote_info[i].size});
        continue;
      }
      fs::path source;
      try {
        source = datastore::resolve_source(d.path, directory);
        if (fs::exists(source)) impl_->check_source(source, mode, root_, &folders);
        if (mode == datastore::TransferMode::kMove) datastore::check_move_source(source, directory);
      } catch (const InvalidArgumentError& e) {
        throw InvalidArgumentError(fmt::format("{}: dataset {} ({}): {}", file.string(), d.refs.front().id.str(),
                                               d.dataset_type, e.what()));
      }
      if (!fs::exists(source) && options.record_missing_files) {
        spdlog::debug("{}: file {} of dataset {} ({}) does not exist; recorded anyway", file.string(),
                      source.string(), d.refs.front().id.str(), d.dataset_type);
        for (const auto& ref : d.refs)
          missing.push_back({ref.id, "", datastore::file_uri(source), d.formatter,
                             registry_->get_dataset_type(ref.dataset_type).storage_class, d.checksum, d.file_size});
        continue;
      }
      if (!fs::exists(source))
        throw NotFoundError(fmt::format("file {} of dataset {} ({}) named in {} does not exist; import with "
                                        "--without-datastore to import the registry content only",
                                        printable(source.string()), d.refs.front().id.str(), d.dataset_type,
                                        file.string()));
      std::string ext;
      auto name = source.filename().string();
      if (auto dot = name.find('.'); dot != std::string::npos) ext = name.substr(dot);
      // direct and split leave the file where it is, as auto does with a file already in the
      // datastore: no path in the datastore to make.
      const bool in_place = mode == datastore::TransferMode::kDirect || mode == datastore::TransferMode::kSplit ||
                            (mode == datastore::TransferMode::kAuto && datastore::inside_root(source, root_));
      fs::path destination =
          in_place
              ? fs::path()
              : impl_->destination(root_, template_path(d.refs.front(), registry_->get_dataset_type(d.dataset_type)),
                                   ext, fmt::format("dataset {} ({}) of run '{}'", d.refs.front().id.str(),
                                                    d.dataset_type, printable(d.run)),
                                   &folders);
      transfers.push_back({source, destination, &d});
    }
  }
  for (const auto& a : associations) {
    registry_->register_collection(a.collection, a.type);
    std::vector<registry::DatasetRef> refs;
    for (const auto& id : a.ids) refs.push_back({id, "", {}, ""});
    if (a.type == CollectionType::kTagged) registry_->associate(a.collection, refs);
    else registry_->certify(a.collection, refs, a.timespan);
  }
  if (!missing.empty()) registry_->insert_stored_files(missing);
  if (transfers.empty()) {
    txn.commit();
    return;
  }
  // Files go in after the registry content is written but before it commits; the journal
  // lets the next writer remove them if this process dies before the commit.
  WriteToken token(root_);
  {
    std::vector<std::string> paths;
    if (impl_->remote) {
      // Journalled as they are sent (upload_files); refused now if taken. Datasets already
      // imported are skipped below, their files not looked at.
      std::vector<std::string> sent;
      for (const auto& t : transfers)
        if (!t.destination.empty() && registry_->stored_files(t.dataset->refs.front().id).empty())
          sent.push_back(t.destination.lexically_relative(root_).generic_string());
      check_remote_destinations(*registry_, *impl_->remote, sent);
    } else {
      for (const auto& t : transfers)
        if (will_create(t.destination)) paths.push_back(t.destination.lexically_relative(root_).generic_string());
    }
    token.announce(paths);
  }
  std::vector<fs::path> created, moved_sources;
  try {
    // Staged, then made durable at once before the commit (see PlacementBatch).
    std::vector<std::pair<const Transfer*, datastore::TransferResult>> results;
    std::map<std::size_t, std::optional<std::string>> remote_checksums;  // by result
    if (impl_->remote) {
      // A datastore on a server: every file is sent (PUT, MOVE) before the rows commit.
      datastore::PlacementBatch batch;  // only for what stays where it is (direct, split)
      std::vector<RemoteUpload> uploads;
      std::vector<std::size_t> result_of;
      for (const auto& t : transfers) {
        if (progress) progress->check_cancelled();
        if (registry_->stored_files(t.dataset->refs.front().id).size() > 0) continue;  // already imported
        if (t.remote && t.destination.empty()) {
          results.emplace_back(&t, datastore::TransferResult{datastore::TransferMode::kDirect, {}, t.remote->uri(),
                                                             t.remote_size});
        } else if (t.destination.empty()) {  // a local file recorded where it is
          results.emplace_back(&t, stage_file(batch, t.source, t.destination, datastore::TransferMode::kDirect,
                                              moved_sources));
        } else {
          const auto relative = t.destination.lexically_relative(root_).generic_string();
          uploads.push_back({relative, t.remote ? fs::path() : t.source, t.remote});
          results.emplace_back(&t, datastore::TransferResult{datastore::TransferMode::kCopy,
                                                             t.remote ? fs::path() : t.source, relative, 0});
          result_of.push_back(results.size() - 1);
        }
      }
      const auto sent = upload_files(*impl_->remote, root_, uploads, token, impl_->checksum, created);
      for (std::size_t k = 0; k < sent.size(); ++k) {
        results[result_of[k]].second.size_bytes = sent[k].size;
        results[result_of[k]].second.artifact.clear();
        remote_checksums[result_of[k]] = sent[k].checksum;
      }
      if (progress) progress->advance(results.size());
    } else {
      datastore::TransferOptions topts;
      topts.root = root_;
      datastore::PlacementBatch batch(topts);
      for (const auto& t : transfers) {
        if (progress) progress->check_cancelled();
        if (registry_->stored_files(t.dataset->refs.front().id).size() > 0) continue;  // already imported
        if (t.remote && t.destination.empty())  // direct or split: the record holds the URI
          results.emplace_back(&t, datastore::TransferResult{datastore::TransferMode::kDirect, {}, t.remote->uri(),
                                                             t.remote_size});
        else if (t.remote)
          results.emplace_back(&t, batch.add_download(*t.remote, t.destination));
        else
          results.emplace_back(&t, stage_file(batch, t.source, t.destination, mode, moved_sources));
        if (progress) progress->advance();
      }
      batch.place();
      for (const auto& [t, result] : results)
        if (result.mode != datastore::TransferMode::kDirect && result.mode != datastore::TransferMode::kNone)
          created.push_back(result.artifact);
    }
    std::vector<StoredFile> stored;
    for (std::size_t k = 0; k < results.size(); ++k) {
      const auto& [t, result] = results[k];
      // The size is known from the transfer; only a checksum needs the file read again.
      datastore::ArtifactInfo info{result.size_bytes, std::nullopt};
      if (auto sent = remote_checksums.find(k); sent != remote_checksums.end())
        info.checksum = sent->second;
      else if (impl_->checksum && !result.artifact.empty())
        info = datastore::artifact_info(result.artifact, datastore::ChecksumMode::kBlake2b);
      if (!info.checksum) info.checksum = t->dataset->checksum;  // as the source recorded it
      for (const auto& ref : t->dataset->refs)
        stored.push_back({ref.id, "", result.stored_path, t->dataset->formatter,
                          registry_->get_dataset_type(ref.dataset_type).storage_class, info.checksum, info.size_bytes});
    }
    registry_->insert_stored_files(stored);
    txn.commit();
  } catch (...) {
    discard_placed_files(*registry_, root_, impl_->files, created, impl_->remote);
    throw;
  }
  remove_moved_sources(moved_sources);
}

fs::path Butler::export_calibrations(const fs::path& directory, const ExportOptions& options) {
  // As Rubin: the matches, chains flattened, keep their CALIBRATION collections (default: all).
  const std::vector<std::string> globs = options.collections.empty() ? std::vector<std::string>{"*"} : options.collections;
  ExportOptions calibs = options;
  calibs.collections.clear();
  std::vector<std::string> matched;
  for (const auto& c : registry_->query_collections(globs)) matched.push_back(c.name);
  if (matched.empty()) throw NotFoundError(fmt::format("no collection matches {}", fmt::join(globs, ", ")));
  for (const auto& c : registry_->flatten(matched))
    if (c.type == CollectionType::kCalibration) calibs.collections.push_back(c.name);
  if (calibs.collections.empty())
    throw InvalidArgumentError(fmt::format("no CALIBRATION collection in {} (chains flattened); export-calibs exports "
                                           "calibration collections (use export for others)",
                                           fmt::join(globs, ", ")));
  if (calibs.dataset_types.empty())
    for (const auto& t : registry_->query_dataset_types())
      if (t.is_calibration) calibs.dataset_types.push_back(t.name);
  if (calibs.dataset_types.empty())
    throw NotFoundError("this repository has no calibration dataset types to export");
  return export_yaml(directory, calibs);
}

fs::path Butler::export_yaml(const fs::path& directory, const ExportOptions& options) {
  auto& u = registry_->universe();
  auto mode = options.transfer;
  if (mode != "none" && mode != "copy" && mode != "link" && mode != "symlink" && mode != "hardlink")
    throw InvalidArgumentError(fmt::format("export --transfer '{}' is not supported; use copy, link, symlink, "
                                           "hardlink or none", mode));
  std::set<fs::path> placed;  // files this export put under `directory`
  // Collections: the selected ones plus, recursively, the children of selected chains.
  std::vector<registry::CollectionRecord> selected = registry_->query_collections(options.collections);
  if (!options.collections.empty() && selected.empty())
    throw NotFoundError(fmt::format("no collection matches {}", fmt::format("{}", fmt::join(options.collections, ", "))));
  std::map<std::string, registry::CollectionRecord> chosen;
  std::vector<std::string> todo;
  for (const auto& c : selected) todo.push_back(c.name);
  while (!todo.empty()) {
    auto name = todo.back();
    todo.pop_back();
    if (chosen.count(name)) continue;
    auto c = registry_->get_collection(name);
    chosen[name] = c;
    if (c.type == CollectionType::kChained)
      for (const auto& child : registry_->chain_children(name)) todo.push_back(child);
  }
  auto wanted_type = [&](const std::string& name) {
    if (options.dataset_types.empty()) return true;
    for (const auto& g : options.dataset_types)
      if (g == name || fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
    return false;
  };
  std::vector<registry::DatasetType> types;
  for (const auto& t : registry_->query_dataset_types())
    if (wanted_type(t.name)) types.push_back(t);
  // The runs holding the datasets of the TAGGED and CALIBRATION collections exported: without
  // them the export would name datasets it does not hold, and could not be imported.
  // Such a run brings only those datasets, not all of its own (as Rubin's saveDatasets).
  std::map<std::string, std::set<Uuid>> partial_runs;
  {
    std::map<std::string, std::set<Uuid>> referenced;
    for (const auto& [name, c] : chosen) {
      if (c.type != CollectionType::kTagged && c.type != CollectionType::kCalibration) continue;
      for (const auto& t : types)
        for (const auto& ref : registry_->datasets_in_collection(name, t.name)) referenced[ref.run].insert(ref.id);
    }
    for (auto& [run, ids] : referenced) {
      if (chosen.count(run)) continue;
      chosen[run] = registry_->get_collection(run);
      partial_runs[run] = std::move(ids);
    }
  }

  fs::create_directories(directory);
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "description" << YAML::Value << "Butler Data Repository Export";
  out << YAML::Key << "version" << YAML::Value << "1.0.2";
  out << YAML::Key << "universe_version" << YAML::Value << u.version();
  out << YAML::Key << "universe_namespace" << YAML::Value << u.namespace_name();
  out << YAML::Key << "data" << YAML::Value << YAML::BeginSeq;

  auto emit_time = [&](std::optional<TaiTime> t) {
    if (!t) {
      out << YAML::Null;
    } else {
      out << YAML::LocalTag("butler_time/tai/iso") << YAML::SingleQuoted << t->tai_iso(9);
    }
  };
  // Dimension records, in universe order.
  for (const auto* e : u.elements()) {
    if (!e->has_table()) continue;
    auto recs = registry_->query_records(e->name());
    if (recs.empty()) continue;
    out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "dimension";
    out << YAML::Key << "element" << YAML::Value << e->name();
    out << YAML::Key << "records" << YAML::Value << YAML::BeginSeq;
    for (const auto& r : recs) {
      out << YAML::BeginMap;
      const auto& fields = e->record_fields();
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& v = r.values()[i];
        if (fields[i].type == FieldType::kTimespan) {
          const auto* ts = std::get_if<Timespan>(&v);
          out << YAML::Key << "datetime_begin" << YAML::Value;
          emit_time(ts ? ts->begin() : std::nullopt);
          out << YAML::Key << "datetime_end" << YAML::Value;
          emit_time(ts ? ts->end() : std::nullopt);
          continue;
        }
        out << YAML::Key << fields[i].name << YAML::Value;
        std::visit(
            [&](const auto& x) {
              using T = std::decay_t<decltype(x)>;
              if constexpr (std::is_same_v<T, std::monostate>) {
                out << YAML::Null;
              } else if constexpr (std::is_same_v<T, Bytes>) {
                if (fields[i].type == FieldType::kRegion) {
                  out << YAML::VerbatimTag(region_tag(x.data)) << YAML::BeginMap << YAML::Key << "encoded"
                      << YAML::Value << to_hex(x.data) << YAML::EndMap;
                } else {
                  out << YAML::Binary(x.data.data(), x.data.size());
                }
              } else if constexpr (std::is_same_v<T, double>) {
                out << fmt::format("{}", x);
              } else if constexpr (std::is_same_v<T, std::string>) {
                out << YAML::SingleQuoted << x;
              } else if constexpr (std::is_same_v<T, Timespan>) {
                out << YAML::Null;
              } else {
                out << x;
              }
            },
            v);
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  // Collections (RUNs first, chains last so their children precede them).
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [name, c] : chosen) {
      if ((c.type == CollectionType::kChained) != (pass == 1)) continue;
      out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "collection";
      out << YAML::Key << "collection_type" << YAML::Value << std::string(registry::collection_type_name(c.type));
      out << YAML::Key << "name" << YAML::Value << name;
      if (!c.doc.empty()) out << YAML::Key << "doc" << YAML::Value << c.doc;
      if (c.type == CollectionType::kRun) {
        out << YAML::Key << "host" << YAML::Value << YAML::Null;
        out << YAML::Key << "timespan_begin" << YAML::Value << YAML::Null;
        out << YAML::Key << "timespan_end" << YAML::Value << YAML::Null;
      }
      if (c.type == CollectionType::kChained) {
        out << YAML::Key << "children" << YAML::Value << YAML::Flow << registry_->chain_children(name);
      }
      out << YAML::EndMap;
    }
  }
  // Dataset types and datasets, per (type, run).
  std::set<Uuid> exported;
  for (const auto& t : types) {
    std::map<std::string, std::vector<registry::DatasetRef>> by_run;
    for (const auto& [name, c] : chosen) {
      if (c.type != CollectionType::kRun) continue;
      const auto partial = partial_runs.find(name);
      for (auto& ref : registry_->datasets_in_collection(name, t.name))
        if (partial == partial_runs.end() || partial->second.count(ref.id)) by_run[name].push_back(std::move(ref));
    }
    out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "dataset_type";
    out << YAML::Key << "name" << YAML::Value << t.name;
    // All dimensions, implied included, in universe order, as daf_butler writes them.
    out << YAML::Key << "dimensions" << YAML::Value << YAML::Flow << t.dimensions.names();
    out << YAML::Key << "storage_class" << YAML::Value << t.storage_class;
    out << YAML::Key << "is_calibration" << YAML::Value << t.is_calibration;
    out << YAML::EndMap;
    for (const auto& [run, refs] : by_run) {
      out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "dataset";
      out << YAML::Key << "dataset_type" << YAML::Value << t.name;
      out << YAML::Key << "run" << YAML::Value << run;
      out << YAML::Key << "records" << YAML::Value << YAML::BeginSeq;
      for (const auto& ref : refs) {
        exported.insert(ref.id);
        auto files = registry_->stored_files(ref.id);
        std::string path, formatter;
        if (!files.empty()) {
          path = files.front().path;
          formatter = files.front().formatter;
          if (mode != "none" && path.find("://") == std::string::npos) {
            datastore::TransferOptions topts;
            fs::path dest = directory / path;
            // One file may hold several datasets: it is placed once. Any other file already
            // there is a conflict (transfer_file names it), never silently left in the bundle.
            if (placed.insert(dest.lexically_normal()).second)
              datastore::transfer_file(root_ / path, dest, datastore::parse_transfer_mode(mode), topts);
          }
        }
        out << YAML::BeginMap;
        out << YAML::Key << "dataset_id" << YAML::Value << YAML::BeginSeq << YAML::LocalTag("uuid") << ref.id.str()
            << YAML::EndSeq;
        out << YAML::Key << "data_id" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
        for (const auto& d : t.dimensions.required()) {
          out << YAML::Key << d << YAML::Value;
          const auto& v = ref.data_id.at(d);
          if (std::holds_alternative<std::int64_t>(v)) out << std::get<std::int64_t>(v);
          else out << std::get<std::string>(v);
        }
        out << YAML::EndMap << YAML::EndSeq;
        out << YAML::Key << "path" << YAML::Value << (path.empty() ? std::string("placeholder") : path);
        if (!formatter.empty()) out << YAML::Key << "formatter" << YAML::Value << formatter;
        out << YAML::EndMap;
      }
      out << YAML::EndSeq << YAML::EndMap;
    }
  }
  // Associations.
  for (const auto& [name, c] : chosen) {
    if (c.type == CollectionType::kTagged) {
      std::vector<std::string> ids;
      for (const auto& t : types)
        for (const auto& ref : registry_->datasets_in_collection(name, t.name)) ids.push_back(ref.id.str());
      if (ids.empty()) continue;
      out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "associations";
      out << YAML::Key << "collection" << YAML::Value << name;
      out << YAML::Key << "collection_type" << YAML::Value << "TAGGED";
      out << YAML::Key << "dataset_ids" << YAML::Value << YAML::BeginSeq;
      for (const auto& id : ids) out << YAML::LocalTag("uuid") << id;
      out << YAML::EndSeq << YAML::EndMap;
    } else if (c.type == CollectionType::kCalibration) {
      std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::string>> ranges;
      for (const auto& t : types)
        for (const auto& cert : registry_->query_certifications(name, t.name))
          ranges[{cert.timespan.begin_ns(), cert.timespan.end_ns()}].push_back(cert.ref.id.str());
      if (ranges.empty()) continue;
      out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "associations";
      out << YAML::Key << "collection" << YAML::Value << name;
      out << YAML::Key << "collection_type" << YAML::Value << "CALIBRATION";
      out << YAML::Key << "validity_ranges" << YAML::Value << YAML::BeginSeq;
      for (const auto& [span, ids] : ranges) {
        Timespan ts(span.first, span.second);
        out << YAML::BeginMap << YAML::Key << "timespan" << YAML::Value << YAML::LocalTag("lsst.daf.butler.Timespan")
            << YAML::BeginMap << YAML::Key << "begin" << YAML::Value;
        emit_time(ts.begin());
        out << YAML::Key << "end" << YAML::Value;
        emit_time(ts.end());
        out << YAML::EndMap;
        out << YAML::Key << "dataset_ids" << YAML::Value << YAML::BeginSeq;
        for (const auto& id : ids) out << YAML::LocalTag("uuid") << id;
        out << YAML::EndSeq << YAML::EndMap;
      }
      out << YAML::EndSeq << YAML::EndMap;
    }
  }
  out << YAML::EndSeq << YAML::EndMap;
  if (!out.good()) throw InternalError(std::string("YAML emitter failed: ") + out.GetLastError());
  fs::path target = directory / "export.yaml";
  datastore::WriteOptions replace;
  replace.overwrite = datastore::Overwrite::kReplace;
  datastore::atomic_write(target, std::string(out.c_str()) + "\n", replace);
  return target;
}

}  // namespace majordome::butler
