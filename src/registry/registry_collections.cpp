// Collections (RUN, TAGGED, CHAINED, CALIBRATION) and dataset types.
#include <algorithm>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "registry_impl.hpp"

namespace majordome::registry {
namespace {

constexpr std::size_t kMaxCollectionName = 64;

CollectionRecord collection_from_row(const std::vector<SqlValue>& row) {
  return {as_int(row[0]), as_string(row[1]), static_cast<CollectionType>(as_int(row[2])),
          is_null(row[3]) ? std::string() : as_string(row[3])};
}

}  // namespace

bool Registry::register_collection(const std::string& name, CollectionType type, const std::string& doc) {
  validate_collection_name(name);
  Transaction txn(*db_, TransactionMode::kWrite);
  if (auto existing = find_collection(name)) {
    if (existing->type != type)
      throw ConflictError(fmt::format("collection '{}' already exists as a {} collection, not {}", name,
                                      collection_type_name(existing->type), collection_type_name(type)));
    txn.commit();
    return false;
  }
  db_->execute("INSERT INTO collection (name, type, doc) VALUES (?, ?, ?)",
               {name, std::int64_t{static_cast<int>(type)}, doc.empty() ? SqlValue{} : SqlValue{doc}});
  if (type == CollectionType::kRun) {
    auto id = get_collection(name).id;
    db_->execute("INSERT INTO run (collection_id, host, timespan_begin, timespan_end) VALUES (?, NULL, NULL, NULL)",
                 {id});
  }
  txn.commit();
  return true;
}

std::optional<CollectionRecord> Registry::find_collection(const std::string& name) {
  auto rows = db_->query("SELECT collection_id, name, type, doc FROM collection WHERE name = ?", {name});
  if (rows.empty()) return std::nullopt;
  return collection_from_row(rows.rows[0]);
}

CollectionRecord Registry::get_collection(const std::string& name) {
  if (auto c = find_collection(name)) return *c;
  // Suggest a close name: many typos are a missing or extra path component.
  std::string hint;
  std::size_t best = 4;
  for (const auto& row : db_->query("SELECT name FROM collection").rows) {
    const auto& candidate = as_string(row[0]);
    std::size_t d = 0, n = std::max(candidate.size(), name.size());
    for (std::size_t i = 0; i < n; ++i)
      d += i >= candidate.size() || i >= name.size() || candidate[i] != name[i];
    if (d < best) {
      best = d;
      hint = candidate;
    }
  }
  throw NotFoundError(fmt::format("collection '{}' does not exist{}", name,
                                  hint.empty() ? "; list them with 'butler query-collections REPO'"
                                               : "; did you mean '" + hint + "'?"));
}

std::vector<CollectionRecord> Registry::query_collections(const std::vector<std::string>& globs,
                                                          std::optional<CollectionType> type) {
  std::vector<CollectionRecord> out;
  for (const auto& row : db_->query("SELECT collection_id, name, type, doc FROM collection ORDER BY name").rows) {
    auto c = collection_from_row(row);
    if (type && c.type != *type) continue;
    bool match = globs.empty();
    for (const auto& g : globs) match = match || g == "*" || glob_match(g, c.name);
    if (match) out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> Registry::chain_children(const std::string& parent) {
  auto c = get_collection(parent);
  if (c.type != CollectionType::kChained)
    throw CollectionTypeError(fmt::format("collection '{}' is a {} collection, not CHAINED", parent,
                                          collection_type_name(c.type)));
  std::vector<std::string> out;
  for (const auto& row : db_->query("SELECT c.name FROM collection_chain h JOIN collection c ON c.collection_id = h.child "
                                    "WHERE h.parent = ? ORDER BY h.position", {c.id}).rows)
    out.push_back(as_string(row[0]));
  return out;
}

std::vector<std::string> Registry::chain_parents(const std::string& child) {
  auto c = get_collection(child);
  std::vector<std::string> out;
  for (const auto& row : db_->query("SELECT DISTINCT c.name FROM collection_chain h JOIN collection c ON "
                                    "c.collection_id = h.parent WHERE h.child = ? ORDER BY c.name", {c.id}).rows)
    out.push_back(as_string(row[0]));
  return out;
}

std::vector<std::string> Registry::flatten_names(const std::string& name, std::vector<std::string>& stack) {
  auto c = get_collection(name);
  if (c.type != CollectionType::kChained) return {name};
  if (std::find(stack.begin(), stack.end(), name) != stack.end())
    throw ConflictError(fmt::format("collection chain cycle: {} -> {}", fmt::join(stack, " -> "), name));
  stack.push_back(name);
  std::vector<std::string> out;
  for (const auto& child : chain_children(name))
    for (auto& n : flatten_names(child, stack)) out.push_back(std::move(n));
  stack.pop_back();
  return out;
}

std::vector<CollectionRecord> Registry::flatten(const std::vector<std::string>& names) {
  std::vector<CollectionRecord> out;
  std::set<std::string> seen;
  for (const auto& name : names) {
    std::vector<std::string> stack;
    for (const auto& n : flatten_names(name, stack))
      if (seen.insert(n).second) out.push_back(get_collection(n));
  }
  return out;
}

void Registry::set_chain(const std::string& parent, const std::vector<std::string>& children) {
  Transaction txn(*db_, TransactionMode::kWrite);
  // Two concurrent redefinitions could each pass the cycle check; on PostgreSQL (READ
  // COMMITTED) take the chain table's lock first. SQLite's write transaction already is one.
  if (db_->dialect() == Dialect::kPostgres)
    db_->execute_script("LOCK TABLE collection_chain IN SHARE ROW EXCLUSIVE MODE");
  auto p = get_collection(parent);
  if (p.type != CollectionType::kChained)
    throw CollectionTypeError(fmt::format("collection '{}' is a {} collection; only a CHAINED collection has children",
                                          parent, collection_type_name(p.type)));
  std::vector<std::int64_t> ids;
  std::set<std::string> unique;
  for (const auto& child : children) {
    if (!unique.insert(child).second)
      throw InvalidArgumentError(fmt::format("collection '{}' appears twice in the chain for '{}'", child, parent));
    auto c = get_collection(child);
    // A cycle exists if the parent is reachable from the new child.
    if (child == parent)
      throw ConflictError(fmt::format("collection chain cycle: '{}' cannot contain itself", parent));
    if (c.type == CollectionType::kChained) {
      std::vector<std::string> todo{child};
      std::set<std::string> visited;
      while (!todo.empty()) {
        auto n = todo.back();
        todo.pop_back();
        if (!visited.insert(n).second) continue;
        if (get_collection(n).type != CollectionType::kChained) continue;
        for (const auto& grandchild : chain_children(n)) {
          if (grandchild == parent)
            throw ConflictError(fmt::format("collection chain cycle: '{}' would contain '{}', which contains '{}'",
                                            parent, child, parent));
          todo.push_back(grandchild);
        }
      }
    }
    ids.push_back(c.id);
  }
  db_->execute("DELETE FROM collection_chain WHERE parent = ?", {p.id});
  for (std::size_t i = 0; i < ids.size(); ++i)
    db_->execute("INSERT INTO collection_chain (parent, position, child) VALUES (?, ?, ?)",
                 {p.id, static_cast<std::int64_t>(i), ids[i]});
  txn.commit();
}

void Registry::set_collection_doc(const std::string& name, const std::string& doc) {
  auto c = get_collection(name);
  db_->execute("UPDATE collection SET doc = ? WHERE collection_id = ?", {doc, c.id});
}

void Registry::remove_collection(const std::string& name) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto c = get_collection(name);
  if (c.type == CollectionType::kRun)
    throw CollectionTypeError(fmt::format("'{}' is a RUN collection; remove it with 'butler remove-runs', which "
                                          "also removes its datasets", name));
  auto parents = chain_parents(name);
  if (!parents.empty())
    throw ConflictError(fmt::format("collection '{}' is a child of chain(s) {}; remove it from them first "
                                    "(butler collection-chain --mode remove)", name, fmt::join(parents, ", ")));
  db_->execute("DELETE FROM collection WHERE collection_id = ?", {c.id});
  txn.commit();
}

CollectionSummary Registry::collection_summary(const std::string& name) {
  CollectionSummary summary;
  std::set<std::string> types;
  std::map<std::string, std::set<std::string>> governors;
  for (const auto& c : flatten({name})) {
    for (const auto& row : db_->query("SELECT t.name FROM collection_summary_dataset_type s JOIN dataset_type t "
                                      "ON t.dataset_type_id = s.dataset_type_id WHERE s.collection_id = ?", {c.id}).rows)
      types.insert(as_string(row[0]));
    for (const auto& g : universe_->governors())
      for (const auto& row : db_->query(fmt::format("SELECT {0} FROM collection_summary_{0} WHERE collection_id = ?", g),
                                        {c.id}).rows)
        governors[g].insert(as_string(row[0]));
  }
  summary.dataset_types.assign(types.begin(), types.end());
  for (auto& [g, values] : governors) summary.governors[g].assign(values.begin(), values.end());
  return summary;
}

// ---- dataset types

std::string DatasetType::parent_name() const { return name.substr(0, name.find('.')); }

std::string DatasetType::component() const {
  auto dot = name.find('.');
  return dot == std::string::npos ? std::string() : name.substr(dot + 1);
}

void validate_dataset_type_name(const std::string& name) {
  static const std::regex kPattern(R"(^[a-zA-Z_]\w*(\.[a-zA-Z_]\w*)*$)");
  if (name.size() > 128 || !std::regex_match(name, kPattern))
    throw InvalidArgumentError(fmt::format(
        "'{}' is not a valid dataset type name: use letters, digits and underscores, not starting with a "
        "digit, at most 128 characters (a '.' separates a component, as in calexp.wcs)", printable(name)));
}

void validate_collection_name(const std::string& name) {
  auto refuse = [&](std::string_view why) {
    throw InvalidArgumentError(fmt::format("'{}' is not a valid collection name: {}", printable(name), why));
  };
  if (name.empty() || name.size() > kMaxCollectionName)
    refuse(fmt::format("it must have 1 to {} characters", kMaxCollectionName));
  if (!is_valid_utf8(name)) refuse("it is not valid UTF-8");
  if (has_control_characters(name)) refuse("it contains a control character (newline, tab, ...)");
  // Invisible characters and direction overrides (U+200B-U+200F, U+202A-U+202E, U+2060-U+2069,
  // U+FEFF) would let one name pass for another in tables and messages.
  for (std::size_t i = 0; i + 2 < name.size(); ++i) {
    auto b0 = static_cast<unsigned char>(name[i]), b1 = static_cast<unsigned char>(name[i + 1]),
         b2 = static_cast<unsigned char>(name[i + 2]);
    bool invisible = (b0 == 0xe2 && b1 == 0x80 && ((b2 >= 0x8b && b2 <= 0x8f) || (b2 >= 0xaa && b2 <= 0xae))) ||
                     (b0 == 0xe2 && b1 == 0x81 && b2 >= 0xa0 && b2 <= 0xa9) || (b0 == 0xef && b1 == 0xbb && b2 == 0xbf);
    if (invisible) refuse("it contains an invisible or text-direction character (U+200B-U+200F, U+202A-U+202E, "
                          "U+2060-U+2069 or U+FEFF)");
  }
  if (is_glob(name)) refuse("it contains a wildcard character (*, ? or [)");
  // A RUN's name is the first folder of its files' paths: every segment must be a plain name.
  for (std::size_t begin = 0;;) {
    auto end = name.find('/', begin);
    std::string_view segment(name.data() + begin, (end == std::string::npos ? name.size() : end) - begin);
    if (segment.empty())
      refuse("it starts or ends with '/' or has '//' (a '/' separates two non-empty parts, as in HSC/runs/RC2)");
    if (segment == "." || segment == "..") refuse("'.' and '..' cannot be parts of a collection name");
    if (end == std::string::npos) break;
    begin = end + 1;
  }
}

std::int64_t Registry::group_id(const DimensionGroup& group, bool create) {
  std::string key = fmt::format("{}", fmt::join(group.required(), ","));
  auto rows = db_->query("SELECT group_id FROM dimension_group WHERE names = ?", {key});
  if (!rows.empty()) return as_int(rows.rows[0][0]);
  if (!create) return -1;
  db_->execute("INSERT INTO dimension_group (names) VALUES (?)", {key});
  return as_int(db_->query("SELECT group_id FROM dimension_group WHERE names = ?", {key}).rows[0][0]);
}

void Registry::ensure_group_tables(std::int64_t gid, const DimensionGroup& group, bool calibration) {
  const std::string tags = fmt::format("tags_{:08d}", gid);
  const std::string calibs = fmt::format("calibs_{:08d}", gid);
  std::vector<std::string> dims, dim_names;
  for (const auto& d : group.required()) {
    const auto& key = universe_->get(d).keys()[0];
    dims.push_back(fmt::format("{} {} NOT NULL", quote(d),
                               key.type == dimensions::FieldType::kInt ? "BIGINT" : varchar_type(*db_, key.length)));
    dim_names.push_back(quote(d));
  }
  std::string dim_defs = dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", "));
  std::string dim_list = dim_names.empty() ? "" : fmt::format(", {}", fmt::join(dim_names, ", "));
  const std::string uuid = db_->uuid_type();
  if (!db_->table_exists(tags)) {
    db_->execute_script(fmt::format(
        "CREATE TABLE {0} (dataset_type_id BIGINT NOT NULL REFERENCES dataset_type (dataset_type_id), "
        "collection_id BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE, "
        "dataset_id {1} NOT NULL REFERENCES dataset (dataset_id) ON DELETE CASCADE{2}, "
        "PRIMARY KEY (collection_id, dataset_id), UNIQUE (dataset_type_id, collection_id{3})); "
        "CREATE INDEX {0}_dataset ON {0} (dataset_id);",
        tags, uuid, dim_defs, dim_list));
    // The unique key serves lookups by full data ID; constraints on one dimension (a range
    // of exposures, a detector) need their own index or they scan the whole collection.
    for (const auto& d : group.required()) {
      if (universe_->get(d).is_governor()) continue;
      db_->execute_script(fmt::format("CREATE INDEX {0}_{1} ON {0} ({2}, collection_id)", tags, d, quote(d)));
    }
  }
  if (calibration && !db_->table_exists(calibs)) {
    db_->execute_script(fmt::format(
        "CREATE TABLE {0} (id {1}, dataset_type_id BIGINT NOT NULL REFERENCES dataset_type (dataset_type_id), "
        "collection_id BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE, "
        "dataset_id {2} NOT NULL REFERENCES dataset (dataset_id) ON DELETE CASCADE{3}, "
        "timespan_begin BIGINT NOT NULL, timespan_end BIGINT NOT NULL); "
        "CREATE INDEX {0}_lookup ON {0} (dataset_type_id, collection_id{4}); "
        "CREATE INDEX {0}_dataset ON {0} (dataset_id);",
        calibs, db_->autoincrement_primary_key(), uuid, dim_defs, dim_list));
  }
}

bool Registry::register_dataset_type(const DatasetType& type) {
  validate_dataset_type_name(type.name);
  if (type.is_component())
    throw InvalidArgumentError(fmt::format("'{}' is a component; register its parent '{}' instead", type.name,
                                           type.parent_name()));
  if (type.storage_class.empty() || type.storage_class.size() > 64)
    throw InvalidArgumentError(fmt::format("dataset type '{}' needs a storage class name of 1 to 64 characters", type.name));
  if (db_->transaction_depth() == 0) {
    try {
      return register_dataset_type_once(type);
    } catch (const ConflictError&) {
      // Another writer registered the name between our check and our insert (PostgreSQL
      // reports the unique key). If its definition is ours, the type is registered as asked.
      cache_->dataset_types.erase(type.name);
      if (auto existing = find_dataset_type(type.name); existing && *existing == type) return false;
      throw;
    }
  }
  return register_dataset_type_once(type);
}

bool Registry::register_dataset_type_once(const DatasetType& type) {
  Transaction txn(*db_, TransactionMode::kWrite);
  if (auto existing = find_dataset_type(type.name)) {
    if (*existing == type) {
      txn.commit();
      return false;
    }
    throw ConflictError(fmt::format(
        "dataset type '{}' is already registered as dimensions {}, storage class {}{}; it cannot be "
        "redefined as dimensions {}, storage class {}{} (remove it first if it has no datasets)",
        type.name, existing->dimensions.str(), existing->storage_class,
        existing->is_calibration ? ", calibration" : "", type.dimensions.str(), type.storage_class,
        type.is_calibration ? ", calibration" : ""));
  }
  auto gid = group_id(type.dimensions, true);
  ensure_group_tables(gid, type.dimensions, type.is_calibration);
  db_->execute("INSERT INTO dataset_type (name, storage_class, group_id, is_calibration) VALUES (?, ?, ?, ?)",
               {type.name, type.storage_class, gid, std::int64_t{type.is_calibration ? 1 : 0}});
  txn.commit();
  cache_->dataset_types.erase(type.name);
  return true;
}

std::optional<DatasetType> Registry::find_dataset_type(const std::string& name) {
  std::string parent = name.substr(0, name.find('.'));
  auto it = cache_->dataset_types.find(parent);
  if (it == cache_->dataset_types.end()) {
    auto rows = db_->query("SELECT t.dataset_type_id, t.storage_class, t.group_id, t.is_calibration, g.names "
                           "FROM dataset_type t JOIN dimension_group g ON g.group_id = t.group_id WHERE t.name = ?",
                           {parent});
    if (rows.empty()) return std::nullopt;
    const auto& row = rows.rows[0];
    std::vector<std::string> dims;
    const std::string& names = as_string(row[4]);
    for (std::size_t start = 0; start < names.size();) {
      auto comma = names.find(',', start);
      dims.push_back(names.substr(start, comma - start));
      start = comma == std::string::npos ? names.size() : comma + 1;
    }
    DatasetType t{parent, universe_->group(dims), as_string(row[1]), as_int(row[3]) != 0};
    it = cache_->dataset_types.emplace(parent, Cache::TypeEntry{as_int(row[0]), as_int(row[2]), t}).first;
  }
  DatasetType t = it->second.type;
  if (parent != name) {
    t.name = name;  // a component keeps its parent's dimensions
  }
  return t;
}

DatasetType Registry::get_dataset_type(const std::string& name) {
  if (auto t = find_dataset_type(name)) return *t;
  std::string hint;
  std::size_t best = 4;
  for (const auto& row : db_->query("SELECT name FROM dataset_type").rows) {
    const auto& candidate = as_string(row[0]);
    std::size_t d = 0, n = std::max(candidate.size(), name.size());
    for (std::size_t i = 0; i < n; ++i) d += i >= candidate.size() || i >= name.size() || candidate[i] != name[i];
    if (d < best) {
      best = d;
      hint = candidate;
    }
  }
  throw NotFoundError(fmt::format("dataset type '{}' is not registered{}", name,
                                  hint.empty() ? "; register it with 'butler register-dataset-type'"
                                               : "; did you mean '" + hint + "'?"));
}

std::int64_t Registry::dataset_type_id(const std::string& name) {
  get_dataset_type(name);
  return cache_->dataset_types.at(name.substr(0, name.find('.'))).id;
}

std::string Registry::tags_table(const DatasetType& type) {
  get_dataset_type(type.parent_name());
  return fmt::format("tags_{:08d}", cache_->dataset_types.at(type.parent_name()).group_id);
}

std::optional<std::string> Registry::calibs_table(const DatasetType& type) {
  get_dataset_type(type.parent_name());
  auto gid = cache_->dataset_types.at(type.parent_name()).group_id;
  std::string table = fmt::format("calibs_{:08d}", gid);
  if (!db_->table_exists(table)) return std::nullopt;
  return table;
}

std::vector<DatasetType> Registry::query_dataset_types(const std::vector<std::string>& globs) {
  std::vector<DatasetType> out;
  for (const auto& row : db_->query("SELECT name FROM dataset_type ORDER BY name").rows) {
    const auto& name = as_string(row[0]);
    bool match = globs.empty();
    for (const auto& g : globs) match = match || glob_match(g, name);
    if (match) out.push_back(get_dataset_type(name));
  }
  return out;
}

void Registry::remove_dataset_type(const std::string& name) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto id = dataset_type_id(name);
  auto count = as_int(db_->query("SELECT COUNT(*) FROM dataset WHERE dataset_type_id = ?", {id}).rows[0][0]);
  if (count > 0)
    throw ConflictError(fmt::format("dataset type '{}' still has {} dataset(s); remove them first "
                                    "(butler prune-datasets or remove-runs)", name, count));
  db_->execute("DELETE FROM collection_summary_dataset_type WHERE dataset_type_id = ?", {id});
  db_->execute("DELETE FROM dataset_type WHERE dataset_type_id = ?", {id});
  txn.commit();
  cache_->dataset_types.erase(name);
}

}  // namespace majordome::registry
