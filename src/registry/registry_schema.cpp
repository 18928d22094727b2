// Schema creation, attributes, dimension records.
#include <fnmatch.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/region.hpp"
#include "registry_impl.hpp"

namespace majordome::registry {

using dimensions::FieldSpec;
using dimensions::FieldType;
using dimensions::FieldValue;

std::string quote(const std::string& identifier) { return "\"" + identifier + "\""; }

SqlValue to_sql(const DataIdValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  return std::get<std::string>(value);
}

DataIdValue data_id_value_from_sql(const SqlValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  throw InternalError("a data ID column holds neither an integer nor a string");
}

std::string varchar_type(const Database& db, int length) {
  return fmt::format("VARCHAR({}){}", length, db.dialect() == Dialect::kPostgres ? " COLLATE \"C\"" : "");
}

std::vector<std::string> field_columns(const FieldSpec& spec) {
  if (spec.type == FieldType::kTimespan) return {spec.name + "_begin", spec.name + "_end"};
  return {spec.name};
}

void append_field_sql(const FieldSpec& spec, const FieldValue& value, Params& out) {
  if (spec.type == FieldType::kTimespan) {
    if (const auto* t = std::get_if<Timespan>(&value)) {
      out.emplace_back(t->begin_ns());
      out.emplace_back(t->end_ns());
    } else {
      out.emplace_back(std::monostate{});
      out.emplace_back(std::monostate{});
    }
    return;
  }
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out.emplace_back(std::monostate{});
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          if (spec.type == FieldType::kFloat) out.emplace_back(static_cast<double>(v));
          else out.emplace_back(v);
        } else if constexpr (std::is_same_v<T, double>) {
          out.emplace_back(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.emplace_back(std::int64_t{v ? 1 : 0});
        } else if constexpr (std::is_same_v<T, std::string>) {
          out.emplace_back(v);
        } else if constexpr (std::is_same_v<T, dimensions::Bytes>) {
          out.emplace_back(Blob{v.data});
        } else {
          throw InternalError("a timespan value in a non-timespan field '" + spec.name + "'");
        }
      },
      value);
}

FieldValue field_from_sql(const FieldSpec& spec, const std::vector<SqlValue>& row, std::size_t& column) {
  if (spec.type == FieldType::kTimespan) {
    const auto& b = row[column++];
    const auto& e = row[column++];
    if (is_null(b) || is_null(e)) return std::monostate{};
    return Timespan(as_int(b), as_int(e));
  }
  const auto& v = row[column++];
  if (is_null(v)) return std::monostate{};
  switch (spec.type) {
    case FieldType::kInt: return as_int(v);
    case FieldType::kFloat: return as_double(v);
    case FieldType::kBool: return as_int(v) != 0;
    case FieldType::kString: return as_string(v);
    case FieldType::kHash:
    case FieldType::kRegion: return dimensions::Bytes{std::get<Blob>(v).bytes};
    case FieldType::kTimespan: break;
  }
  throw InternalError("unhandled field type");
}

bool is_glob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  return fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), 0) == 0;
}

std::string_view collection_type_name(CollectionType type) {
  switch (type) {
    case CollectionType::kRun: return "RUN";
    case CollectionType::kTagged: return "TAGGED";
    case CollectionType::kChained: return "CHAINED";
    case CollectionType::kCalibration: return "CALIBRATION";
  }
  return "?";
}

CollectionType parse_collection_type(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "RUN") return CollectionType::kRun;
  if (upper == "TAGGED") return CollectionType::kTagged;
  if (upper == "CHAINED") return CollectionType::kChained;
  if (upper == "CALIBRATION") return CollectionType::kCalibration;
  throw InvalidArgumentError(fmt::format(
      "unknown collection type '{}'; use RUN, TAGGED, CHAINED or CALIBRATION", name));
}

Registry::Registry(std::unique_ptr<Database> db, std::shared_ptr<const Universe> universe)
    : db_(std::move(db)), universe_(std::move(universe)), cache_(std::make_unique<Cache>()) {}

Registry::~Registry() = default;

Database& sql_database(Registry& registry) { return *registry.db_; }

namespace {

// Schema v2 → v3 on PostgreSQL: every VARCHAR column becomes COLLATE "C" (varchar_type()).
// The type stays (no table rewrite); the indexes holding the columns are rebuilt. SQLite
// already compares text by bytes: its schema is unchanged.
void collate_text_columns(Database& db) {
  if (db.dialect() != Dialect::kPostgres) return;
  auto columns = db.query(
      "SELECT table_name::text, column_name::text, character_maximum_length::integer FROM information_schema.columns "
      "WHERE table_schema = current_schema() AND data_type = 'character varying' AND collation_name IS NULL "
      "ORDER BY table_name, ordinal_position");
  std::map<std::string, std::vector<std::string>> changes;  // table → ALTER COLUMN clauses
  for (const auto& row : columns.rows) {
    const std::string type = is_null(row[2]) ? std::string("VARCHAR COLLATE \"C\"")
                                             : varchar_type(db, static_cast<int>(as_int(row[2])));
    changes[as_string(row[0])].push_back(fmt::format("ALTER COLUMN {} TYPE {}", quote(as_string(row[1])), type));
  }
  // A column's new type drops its statistics: without them PostgreSQL guessed plans that scan
  // whole collections.
  for (const auto& [table, clauses] : changes)
    db.execute_script(fmt::format("ALTER TABLE {0} {1}; ANALYZE {0}", quote(table), fmt::join(clauses, ", ")));
}

}  // namespace

std::unique_ptr<Registry> Registry::create(std::unique_ptr<Database> db,
                                           std::shared_ptr<const Universe> universe) {
  if (db->table_exists("attributes"))
    throw ConflictError(fmt::format("{} already holds a registry; refusing to create another in it",
                                    db->describe()));
  std::unique_ptr<Registry> r(new Registry(std::move(db), std::move(universe)));
  Transaction txn(*r->db_, TransactionMode::kWrite);
  r->create_schema();
  txn.commit();
  return r;
}

std::unique_ptr<Registry> Registry::open(std::unique_ptr<Database> db) {
  if (!db->table_exists("attributes"))
    throw NotFoundError(fmt::format("{} holds no majordome registry; create one with 'butler create'",
                                    db->describe()));
  auto rows = db->query("SELECT name, value FROM attributes WHERE name IN ('schema_version', 'universe')");
  std::string version, universe_yaml;
  for (const auto& row : rows.rows) {
    if (as_string(row[0]) == "schema_version") version = as_string(row[1]);
    else universe_yaml = as_string(row[1]);
  }
  // Older versions are upgraded in place: v1 lacked the overlap tables (derived data), v2's
  // PostgreSQL text columns sorted in the database's collation.
  const bool from_v1 = version == "1", from_v2 = version == "2";
  if (version != std::to_string(kSchemaVersion) && !from_v1 && !from_v2)
    throw UnsupportedError(fmt::format("{} has registry schema version {}, this majordome reads "
                                       "version {}; use a matching majordome release",
                                       db->describe(), version, kSchemaVersion));
  auto universe = Universe::from_yaml(universe_yaml);
  std::unique_ptr<Registry> r(new Registry(std::move(db), std::move(universe)));
  if (from_v1 || from_v2) {
    Transaction txn(*r->db_, TransactionMode::kWrite);
    collate_text_columns(*r->db_);
    if (from_v1) r->migrate_from_v1();  // its overlap tables are created collated
    r->set_attribute("schema_version", std::to_string(kSchemaVersion));
    txn.commit();
  }
  return r;
}

void Registry::migrate_from_v1() {
  Transaction txn(*db_, TransactionMode::kWrite);
  for (const auto* e : universe_->elements()) {
    if (!e->has_table()) continue;
    create_implied_indexes(*e);
    if (!e->spatial()) continue;
    create_overlap_table(*e);
    const auto records = query_records(e->name());
    std::vector<const DimensionRecord*> pointers;
    for (const auto& record : records) pointers.push_back(&record);
    write_overlaps(*e, pointers, OnConflict::kFail);  // the table is new
  }
  txn.commit();
}

std::optional<std::string> Registry::attribute(const std::string& name) {
  auto rows = db_->query("SELECT value FROM attributes WHERE name = ?", {name});
  if (rows.empty()) return std::nullopt;
  return as_string(rows.rows[0][0]);
}

void Registry::set_attribute(const std::string& name, const std::string& value) {
  db_->execute("INSERT INTO attributes (name, value) VALUES (?, ?) "
               "ON CONFLICT (name) DO UPDATE SET value = excluded.value", {name, value});
}

void Registry::create_schema() {
  const std::string autoinc = db_->autoincrement_primary_key();
  const std::string uuid = db_->uuid_type();
  const std::string collate = db_->dialect() == Dialect::kPostgres ? " COLLATE \"C\"" : "";  // see varchar_type()
  db_->execute_script(fmt::format(R"sql(
CREATE TABLE attributes (name VARCHAR(1024){2} PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE collection (
  collection_id {0},
  name VARCHAR(64){2} NOT NULL UNIQUE,
  type SMALLINT NOT NULL,
  doc TEXT);
CREATE TABLE run (
  collection_id BIGINT PRIMARY KEY REFERENCES collection (collection_id) ON DELETE CASCADE,
  host VARCHAR(128){2},
  timespan_begin BIGINT,
  timespan_end BIGINT);
CREATE TABLE collection_chain (
  parent BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  child BIGINT NOT NULL REFERENCES collection (collection_id),
  PRIMARY KEY (parent, position));
CREATE INDEX collection_chain_child ON collection_chain (child);
CREATE TABLE dimension_group (
  group_id {0},
  names TEXT NOT NULL UNIQUE);
CREATE TABLE dataset_type (
  dataset_type_id {0},
  name VARCHAR(128){2} NOT NULL UNIQUE,
  storage_class VARCHAR(64){2} NOT NULL,
  group_id BIGINT NOT NULL REFERENCES dimension_group (group_id),
  is_calibration BOOLEAN NOT NULL);
CREATE TABLE dataset (
  dataset_id {1} PRIMARY KEY,
  dataset_type_id BIGINT NOT NULL REFERENCES dataset_type (dataset_type_id),
  run_id BIGINT NOT NULL REFERENCES run (collection_id) ON DELETE CASCADE,
  ingest_date BIGINT NOT NULL);
CREATE INDEX dataset_run ON dataset (run_id, dataset_type_id);
CREATE TABLE collection_summary_dataset_type (
  collection_id BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
  dataset_type_id BIGINT NOT NULL REFERENCES dataset_type (dataset_type_id) ON DELETE CASCADE,
  PRIMARY KEY (collection_id, dataset_type_id));
CREATE TABLE datastore_record (
  dataset_id {1} NOT NULL REFERENCES dataset (dataset_id) ON DELETE CASCADE,
  component VARCHAR(64){2} NOT NULL,
  path TEXT NOT NULL,
  formatter VARCHAR(128){2},
  storage_class VARCHAR(64){2},
  checksum VARCHAR(128){2},
  file_size BIGINT,
  PRIMARY KEY (dataset_id, component));
CREATE INDEX datastore_record_path ON datastore_record (path);
CREATE TABLE datastore_trash (path TEXT PRIMARY KEY, trashed BIGINT NOT NULL);
)sql", autoinc, uuid, collate));
  for (const auto& governor : universe_->governors()) {
    const auto& key = universe_->get(governor).keys().at(0);
    db_->execute_script(fmt::format(
        "CREATE TABLE collection_summary_{0} ("
        "collection_id BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE, "
        "{0} {1} NOT NULL, PRIMARY KEY (collection_id, {0}))",
        governor, varchar_type(*db_, key.length)));
  }
  create_dimension_tables();
  set_attribute("schema_version", std::to_string(kSchemaVersion));
  set_attribute("universe", universe_->yaml());
  set_attribute("universe_namespace", universe_->namespace_name());
  set_attribute("universe_version", std::to_string(universe_->version()));
}

namespace {

std::string sql_column_type(const FieldSpec& f, Database& db) {
  switch (f.type) {
    case FieldType::kInt: return "BIGINT";
    case FieldType::kFloat: return "DOUBLE PRECISION";
    case FieldType::kBool: return "BOOLEAN";
    case FieldType::kString:
      if (db.dialect() == Dialect::kSqlite)
        return fmt::format("VARCHAR({0}) CHECK (length({1}) <= {0} AND length({1}) >= 1)", f.length,
                           quote(f.name));
      return varchar_type(db, f.length);
    case FieldType::kHash:
    case FieldType::kRegion: return db.blob_type();
    case FieldType::kTimespan: return "BIGINT";
  }
  return "TEXT";
}

}  // namespace

void Registry::create_dimension_tables() {
  for (const auto* e : universe_->elements()) {
    if (!e->has_table()) continue;
    std::vector<std::string> columns, pk;
    const auto& fields = e->record_fields();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto& f = fields[i];
      for (const auto& c : field_columns(f)) {
        std::string def = quote(c) + " " + sql_column_type(f, *db_);
        bool required_or_implied = i < e->required().size() + e->direct_implied().size();
        if (required_or_implied || !f.nullable) def += " NOT NULL";
        columns.push_back(def);
      }
    }
    for (const auto& d : e->required()) pk.push_back(quote(d == e->name() ? e->keys()[0].name : d));
    std::string sql = fmt::format("CREATE TABLE {} ({}, PRIMARY KEY ({})", quote(dimension_table(e->name())),
                                  fmt::join(columns, ", "), fmt::join(pk, ", "));
    // Alternate keys are unique within the element's required dependencies.
    for (std::size_t k = 1; k < e->keys().size(); ++k) {
      std::vector<std::string> unique;
      for (const auto& d : e->required())
        if (d != e->name()) unique.push_back(quote(d));
      unique.push_back(quote(e->keys()[k].name));
      sql += fmt::format(", UNIQUE ({})", fmt::join(unique, ", "));
    }
    // Foreign keys to the records this one depends on.
    auto add_fk = [&](const std::string& dep) {
      const auto& d = universe_->get(dep);
      if (!d.has_table()) return;
      std::vector<std::string> local, remote;
      for (const auto& r : d.required()) {
        local.push_back(quote(r));
        remote.push_back(quote(r == dep ? d.keys()[0].name : r));
      }
      sql += fmt::format(", FOREIGN KEY ({}) REFERENCES {} ({})", fmt::join(local, ", "),
                         quote(dimension_table(dep)), fmt::join(remote, ", "));
    };
    for (const auto& dep : e->direct_required()) add_fk(dep);
    for (const auto& dep : e->direct_implied()) add_fk(dep);
    sql += ")";
    db_->execute_script(sql);
    create_implied_indexes(*e);
    if (e->spatial()) create_overlap_table(*e);
  }
}

// Constraints on implied dimensions (exposure.day_obs, visit.physical_filter) select few
// records of large tables: index them within the element's other required dimensions.
void Registry::create_implied_indexes(const DimensionElement& e) {
  for (const auto& d : e.direct_implied()) {
    std::vector<std::string> columns;
    for (const auto& r : e.required())
      if (r != e.name()) columns.push_back(quote(r));
    columns.push_back(quote(d));
    db_->execute_script(fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                                    quote(dimension_table(e.name()) + "_" + d), quote(dimension_table(e.name())),
                                    fmt::join(columns, ", ")));
  }
}

std::int64_t insert_rows_naming_conflicts(Database& db, const BulkInsert& insert, const Params& values,
                                          const std::function<std::string(std::size_t, const std::string&)>& message) {
  {
    Transaction attempt(db, TransactionMode::kWrite);
    try {
      auto changed = db.insert_rows(insert, values);
      attempt.commit();
      return changed;
    } catch (const ConflictError&) {  // rolled back below; the replay finds the row
    }
  }
  Transaction replay(db, TransactionMode::kWrite);
  const std::size_t width = insert.columns.size();
  std::int64_t changed = 0;
  Params row;
  for (std::size_t i = 0; i * width < values.size(); ++i) {
    row.assign(values.begin() + static_cast<std::ptrdiff_t>(i * width),
               values.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
    try {
      changed += db.insert_rows(insert, row);
    } catch (const ConflictError& err) {
      throw ConflictError(message(i, err.what()));
    }
  }
  // The conflict did not come back (a concurrent writer's serialization failure, say).
  replay.commit();
  return changed;
}

void Registry::note_inserted(const std::string& table, std::size_t rows) {
  auto& g = growth_[table];
  g.since_analyze += rows;
  if (g.since_analyze < std::max<std::size_t>(100, g.at_analyze)) return;
  db_->execute_script(fmt::format("ANALYZE {}", quote(table)));
  g.at_analyze += g.since_analyze;
  g.since_analyze = 0;
}

void Registry::create_overlap_table(const DimensionElement& e) {
  std::vector<std::string> columns{"skypix_system " + varchar_type(*db_, 16) + " NOT NULL", "skypix_level SMALLINT NOT NULL"};
  std::vector<std::string> dims, remote;
  for (std::size_t i = 0; i < e.required().size(); ++i) {
    const auto& d = e.required()[i];
    FieldSpec spec = e.record_fields()[i];
    spec.name = d;
    columns.push_back(fmt::format("{} {} NOT NULL", quote(d), sql_column_type(spec, *db_)));
    dims.push_back(quote(d));
    remote.push_back(quote(e.record_fields()[i].name));
  }
  columns.emplace_back("skypix_index BIGINT NOT NULL");
  const std::string table = overlap_table(e.name());
  db_->execute_script(fmt::format(
      "CREATE TABLE {0} ({1}, PRIMARY KEY (skypix_system, skypix_level, {2}, skypix_index), "
      "FOREIGN KEY ({2}) REFERENCES {3} ({4}) ON DELETE CASCADE)",
      quote(table), fmt::join(columns, ", "), fmt::join(dims, ", "), quote(dimension_table(e.name())),
      fmt::join(remote, ", ")));
  // Spatial joins and constraints look rows up by pixel.
  db_->execute_script(fmt::format("CREATE INDEX {} ON {} (skypix_system, skypix_level, skypix_index)",
                                  quote(table + "_pixel"), quote(table)));
}

void Registry::write_overlaps(const DimensionElement& e, const std::vector<const DimensionRecord*>& records,
                              OnConflict on_conflict) {
  if (!e.spatial() || records.empty()) return;
  auto region_index = e.field_index("region");
  if (!region_index) return;
  const std::string table = overlap_table(e.name());
  // Only a skipped record can have overlap rows already: a new record has none (they cascade
  // away with a deleted one) and a replaced one loses its old ones first. The conflict check
  // is a quarter of the server's work on a skymap's millions of rows.
  const bool replace = on_conflict == OnConflict::kReplace;
  BulkInsert insert{quote(table), {"skypix_system", "skypix_level"},
                    on_conflict == OnConflict::kSkip ? "ON CONFLICT DO NOTHING" : ""};
  std::vector<std::string> keys;
  for (const auto& d : e.required()) {
    insert.columns.push_back(quote(d));
    keys.push_back(quote(d) + " = ?");
  }
  insert.columns.emplace_back("skypix_index");
  std::unique_ptr<Statement> remove;
  if (replace) remove = db_->prepare(fmt::format("DELETE FROM {} WHERE {}", quote(table), fmt::join(keys, " AND ")));
  const sphere::HtmPixelization htm(kOverlapLevel);
  const std::string system = "htm";
  Params key, rows;
  for (const auto* record : records) {
    key.clear();
    for (std::size_t i = 0; i < e.required().size(); ++i) append_field_sql(e.record_fields()[i], record->values()[i], key);
    if (remove) remove->execute(key);
    const auto* bytes = std::get_if<dimensions::Bytes>(&record->values()[*region_index]);
    if (!bytes || bytes->data.empty()) continue;
    std::unique_ptr<sphere::Region> region;
    try {
      region = sphere::Region::decode(bytes->data);
    } catch (const Error& err) {
      throw InvalidArgumentError(fmt::format("{} record {} has an unreadable region: {}", e.name(),
                                             dimensions::format_data_id(record->data_id(), e.required()), err.what()));
    }
    const auto pixels = htm.envelope(*region);
    for (const auto& range : pixels.ranges())
      for (std::uint64_t pixel = range.first; pixel < range.second; ++pixel) {
        rows.emplace_back(system);
        rows.emplace_back(std::int64_t{kOverlapLevel});
        rows.insert(rows.end(), key.begin(), key.end());
        rows.emplace_back(static_cast<std::int64_t>(pixel));
      }
    // Flushing every few statements' worth bounds memory on a skymap's millions of rows.
    if (rows.size() >= 16 * Database::kBulkRows * insert.columns.size()) {
      db_->insert_rows(insert, rows);
      rows.clear();
    }
  }
  if (!rows.empty()) db_->insert_rows(insert, rows);
}

// ---- dimension records

void Registry::insert_records(const std::string& element, const std::vector<DimensionRecord>& records,
                              OnConflict on_conflict) {
  const auto& e = universe_->get(element);
  if (!e.has_table())
    throw InvalidArgumentError(fmt::format(
        "dimension element '{}' has no records of its own ({}); insert records for '{}' instead",
        element, e.is_skypix() ? "it is a sky pixelization" : "it is a view", e.view_of()));
  if (records.empty()) return;
  BulkInsert insert{quote(dimension_table(element)), {}, ""};
  for (const auto& f : e.record_fields())
    for (const auto& c : field_columns(f)) insert.columns.push_back(quote(c));
  bool update = false;
  if (on_conflict == OnConflict::kSkip) {
    insert.suffix = "ON CONFLICT DO NOTHING";
  } else if (on_conflict == OnConflict::kReplace) {
    std::vector<std::string> pk, updates;
    for (std::size_t i = 0; i < e.required().size(); ++i) pk.push_back(quote(e.record_fields()[i].name));
    for (std::size_t i = e.required().size(); i < e.record_fields().size(); ++i)
      for (const auto& c : field_columns(e.record_fields()[i]))
        updates.push_back(fmt::format("{0} = excluded.{0}", quote(c)));
    update = !updates.empty();
    if (!update) insert.suffix = "ON CONFLICT DO NOTHING";
    else insert.suffix = fmt::format("ON CONFLICT ({}) DO UPDATE SET {}", fmt::join(pk, ", "), fmt::join(updates, ", "));
  }
  // One statement may not update a row twice: when replacing, the last record of a key wins,
  // as it would inserted one at a time.
  std::vector<const DimensionRecord*> rows;
  rows.reserve(records.size());
  std::map<std::string, std::size_t> position;
  for (const auto& record : records) {
    if (&record.element() != &e)
      throw InternalError("insert_records: record of '" + record.element().name() + "' given for '" +
                          element + "'");
    if (update) {
      std::string key;
      for (std::size_t i = 0; i < e.required().size(); ++i) key += dimensions::to_string(record.values()[i]) + '\x1f';
      auto [it, fresh] = position.emplace(std::move(key), rows.size());
      if (!fresh) {
        rows[it->second] = &record;
        continue;
      }
    }
    rows.push_back(&record);
  }
  Params values;
  values.reserve(rows.size() * insert.columns.size());
  for (const auto* record : rows)
    for (std::size_t i = 0; i < e.record_fields().size(); ++i)
      append_field_sql(e.record_fields()[i], record->values()[i], values);
  Transaction txn(*db_, TransactionMode::kWrite);
  insert_rows_naming_conflicts(*db_, insert, values, [&](std::size_t row, const std::string& what) {
    return fmt::format("cannot insert {} record {}: {}", element,
                       dimensions::format_data_id(rows[row]->data_id(), e.required()), what);
  });
  // A skipped record keeps its overlap rows (extra rows only widen the coarse filter).
  write_overlaps(e, rows, on_conflict);
  note_inserted(dimension_table(element), records.size());
  if (e.spatial()) note_inserted(overlap_table(element), records.size());
  txn.commit();
}

std::vector<DimensionRecord> Registry::query_records(const std::string& element, const DataId& where) {
  const auto& e = universe_->get(element);
  std::vector<DimensionRecord> out;
  if (e.name() == "band") {
    // band has no table: its values are the distinct physical_filter.band values.
    std::string sql = "SELECT DISTINCT band FROM dim_physical_filter";
    Params params;
    if (auto it = where.find("band"); it != where.end()) {
      sql += " WHERE band = ?";
      params.push_back(to_sql(it->second));
    }
    sql += " ORDER BY band";
    for (const auto& row : db_->query(sql, params).rows) out.emplace_back(e, std::vector<FieldValue>{as_string(row[0])});
    return out;
  }
  if (!e.has_table())
    throw InvalidArgumentError(fmt::format("'{}' is a sky pixelization; it has no stored records", element));
  std::vector<std::string> columns, conditions;
  Params params;
  for (const auto& f : e.record_fields())
    for (const auto& c : field_columns(f)) columns.push_back(quote(c));
  for (const auto& [key, value] : where) {
    std::string column = key == e.name() ? e.keys()[0].name : key;
    if (!e.field_index(column))
      throw InvalidArgumentError(fmt::format("'{}' records have no field or dimension '{}'", element, key));
    conditions.push_back(quote(column) + " = ?");
    params.push_back(to_sql(value));
  }
  std::vector<std::string> order;
  for (std::size_t i = 0; i < e.required().size(); ++i) order.push_back(quote(e.record_fields()[i].name));
  std::string sql = fmt::format("SELECT {} FROM {}", fmt::join(columns, ", "), quote(dimension_table(element)));
  if (!conditions.empty()) sql += " WHERE " + fmt::format("{}", fmt::join(conditions, " AND "));
  sql += " ORDER BY " + fmt::format("{}", fmt::join(order, ", "));
  for (const auto& row : db_->query(sql, params).rows) {
    std::vector<FieldValue> values;
    std::size_t column = 0;
    for (const auto& f : e.record_fields()) values.push_back(field_from_sql(f, row, column));
    out.emplace_back(e, std::move(values));
  }
  return out;
}

std::vector<DimensionRecord> Registry::query_records_sql(const std::string& element, const std::string& joins,
                                                         const std::string& predicate, const Params& params) {
  const auto& e = universe_->get(element);
  std::string alias = "e_" + element;
  std::vector<DimensionRecord> out;
  if (e.name() == "band") {
    std::string sql = "SELECT DISTINCT e_band.\"name\" FROM (SELECT DISTINCT \"band\" AS \"name\" FROM \"dim_physical_filter\") e_band " +
                      joins + (predicate.empty() ? "" : " WHERE " + predicate) + " ORDER BY e_band.\"name\"";
    for (const auto& row : db_->query(sql, params).rows) out.emplace_back(e, std::vector<FieldValue>{as_string(row[0])});
    return out;
  }
  if (!e.has_table())
    throw InvalidArgumentError(fmt::format("'{}' is a sky pixelization; it has no stored records", element));
  std::vector<std::string> columns, order;
  for (const auto& f : e.record_fields())
    for (const auto& c : field_columns(f)) columns.push_back(alias + "." + quote(c));
  for (std::size_t i = 0; i < e.required().size(); ++i) order.push_back(alias + "." + quote(e.record_fields()[i].name));
  std::string sql = fmt::format("SELECT DISTINCT {} FROM {} {} {}", fmt::join(columns, ", "), quote(dimension_table(element)),
                                alias, joins);
  if (!predicate.empty()) sql += " WHERE " + predicate;
  sql += fmt::format(" ORDER BY {}", fmt::join(order, ", "));
  for (const auto& row : db_->query(sql, params).rows) {
    std::vector<FieldValue> values;
    std::size_t column = 0;
    for (const auto& f : e.record_fields()) values.push_back(field_from_sql(f, row, column));
    out.emplace_back(e, std::move(values));
  }
  return out;
}

std::optional<DimensionRecord> Registry::find_record(const std::string& element, const DataId& data_id) {
  const auto& e = universe_->get(element);
  DataId where;
  for (const auto& d : e.required()) {
    auto it = data_id.find(d);
    if (it == data_id.end()) return std::nullopt;
    where[d] = dimensions::conform_value(universe_->get(d), it->second);
  }
  auto records = query_records(element, where);
  if (records.empty()) return std::nullopt;
  return records.front();
}

bool Registry::sync_record(const DimensionRecord& record, bool update) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto existing = find_record(record.element().name(), record.data_id());
  if (!existing) {
    insert_records(record.element().name(), {record});
    txn.commit();
    return true;
  }
  if (existing->values() == record.values()) {
    txn.commit();
    return false;
  }
  if (!update) {
    std::string diffs;
    const auto& fields = record.element().record_fields();
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (!(existing->values()[i] == record.values()[i]))
        diffs += fmt::format(" {}: {} != {};", fields[i].name, dimensions::to_string(existing->values()[i]),
                             dimensions::to_string(record.values()[i]));
    throw ConflictError(fmt::format("{} record {} already exists with different values:{} use --update to replace it",
                                    record.element().name(),
                                    dimensions::format_data_id(record.data_id(), record.element().required()), diffs));
  }
  insert_records(record.element().name(), {record}, OnConflict::kReplace);
  txn.commit();
  return true;
}

DataId Registry::conform_data_id(const DataId& data_id, const DimensionGroup& group) {
  DataId out;
  for (const auto& [key, value] : data_id) {
    const auto* e = universe_->find(key);
    if (!e || !e->is_dimension()) {
      std::string hint = universe_->suggest(key);
      throw InvalidArgumentError(fmt::format("'{}' in the data ID is not a dimension{}", key,
                                             hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    if (!group.contains(key)) continue;  // extra keys are ignored, as Rubin does
    out[key] = dimensions::conform_value(*e, value);
  }
  for (const auto& r : group.required())
    if (!out.count(r))
      throw InvalidArgumentError(fmt::format("data ID {} lacks the required dimension '{}' (dimensions {})",
                                             dimensions::format_data_id(data_id, group.data_id_keys()), r,
                                             group.str()));
  return out;
}

DataId Registry::expand_data_id(const DataId& data_id, const DimensionGroup& group) {
  RecordCache cache;
  return expand_data_id(data_id, group, cache);
}

namespace {

// The key of a record in a RecordCache: the element and its required values.
std::optional<std::string> record_cache_key(const DimensionElement& e, const DataId& id) {
  std::string key = e.name();
  for (const auto& d : e.required()) {
    auto it = id.find(d);
    if (it == id.end()) return std::nullopt;
    key += '\x1f' + dimensions::to_string(it->second);
  }
  return key;
}

// Copies the implied values a record gives into a data ID (those it lacks).
void add_implied(const DimensionElement& e, const DimensionRecord& record, DataId& id) {
  for (const auto& implied : e.direct_implied()) {
    const auto& value = record.get(implied);
    if (const auto* i = std::get_if<std::int64_t>(&value)) id.emplace(implied, *i);
    else if (const auto* s = std::get_if<std::string>(&value)) id.emplace(implied, *s);
  }
}

}  // namespace

void Registry::prefetch_records(const std::vector<DataId>& data_ids, const DimensionGroup& group, RecordCache& cache) {
  if (data_ids.size() < 2) return;  // expand_data_id reads a lone data ID's records as cheaply
  std::vector<DataId> work;
  work.reserve(data_ids.size());
  for (const auto& id : data_ids) {
    try {
      work.push_back(conform_data_id(id, group));
    } catch (const Error&) {  // expand_data_id reports it
    }
  }
  constexpr std::size_t kChunk = 500;
  // Backwards through the group, as expand_data_id goes: records of later elements give the
  // implied values that key the earlier ones.
  for (auto name = group.names().rbegin(); name != group.names().rend(); ++name) {
    const auto& e = universe_->get(*name);
    if (!e.has_table()) continue;
    const auto& last = e.required().back();
    // Missing records grouped by their required values but the last, which goes in an IN list.
    std::map<std::vector<DataIdValue>, std::set<DataIdValue>> missing;
    for (const auto& id : work) {
      auto key = record_cache_key(e, id);
      if (!key || cache.count(*key)) continue;
      std::vector<DataIdValue> prefix;
      for (const auto& d : e.required())
        if (d != last) prefix.push_back(id.at(d));
      missing[prefix].insert(id.at(last));
    }
    std::vector<std::string> columns, conditions;
    for (const auto& f : e.record_fields())
      for (const auto& c : field_columns(f)) columns.push_back(quote(c));
    for (std::size_t i = 0; i + 1 < e.required().size(); ++i) conditions.push_back(quote(e.record_fields()[i].name) + " = ?");
    const std::string last_column = quote(e.record_fields()[e.required().size() - 1].name);
    for (const auto& [prefix, values] : missing) {
      std::vector<DataIdValue> all(values.begin(), values.end());
      for (std::size_t start = 0; start < all.size(); start += kChunk) {
        std::size_t stop = std::min(all.size(), start + kChunk);
        Params params;
        for (const auto& v : prefix) params.push_back(to_sql(v));
        for (std::size_t i = start; i < stop; ++i) params.push_back(to_sql(all[i]));
        auto where = conditions;
        where.push_back(fmt::format("{} IN ({})", last_column, fmt::join(std::vector<std::string>(stop - start, "?"), ", ")));
        // Every key asked for is cached, found or not, so expand_data_id asks no more.
        DataId probe;
        for (std::size_t i = 0; i + 1 < e.required().size(); ++i) probe[e.required()[i]] = prefix[i];
        for (std::size_t i = start; i < stop; ++i) {
          probe[last] = all[i];
          cache.emplace(*record_cache_key(e, probe), std::nullopt);
        }
        for (const auto& row : db_->query(fmt::format("SELECT {} FROM {} WHERE {}", fmt::join(columns, ", "),
                                                      quote(dimension_table(e.name())), fmt::join(where, " AND ")),
                                          params).rows) {
          std::vector<FieldValue> values_of;
          std::size_t column = 0;
          for (const auto& f : e.record_fields()) values_of.push_back(field_from_sql(f, row, column));
          DimensionRecord record(e, std::move(values_of));
          cache[*record_cache_key(e, record.data_id())] = std::move(record);
        }
      }
    }
    for (auto& id : work)
      if (auto key = record_cache_key(e, id))
        if (auto hit = cache.find(*key); hit != cache.end() && hit->second) add_implied(e, *hit->second, id);
  }
}

DataId Registry::expand_data_id(const DataId& data_id, const DimensionGroup& group, RecordCache& cache) {
  DataId out = conform_data_id(data_id, group);
  // Implications point from later elements to earlier ones (exposure → physical_filter →
  // band), so walking the group backwards fills every implied value.
  for (auto it_name = group.names().rbegin(); it_name != group.names().rend(); ++it_name) {
    const auto& name = *it_name;
    const auto& e = universe_->get(name);
    if (!e.has_table()) continue;
    std::string key = name;
    bool complete = true;
    for (const auto& d : e.required()) {
      auto it = out.find(d);
      if (it == out.end()) {
        complete = false;
        break;
      }
      key += '\x1f' + dimensions::to_string(it->second);
    }
    std::optional<DimensionRecord> record;
    if (complete) {
      auto hit = cache.find(key);
      if (hit == cache.end()) hit = cache.emplace(key, find_record(name, out)).first;
      record = hit->second;
    }
    if (!record) {
      // A data ID may name only some dimensions of the group in unexpanded form.
      bool has_all = true;
      for (const auto& d : e.required()) has_all = has_all && out.count(d);
      if (!has_all) continue;
      DataId missing;
      for (const auto& d : e.required()) missing[d] = out.at(d);
      throw NotFoundError(fmt::format("no {} record for {}; register it first (e.g. with "
                                      "register-instrument, ingest-raws or import)",
                                      name, dimensions::format_data_id(missing, e.required())));
    }
    for (const auto& implied : e.direct_implied()) {
      auto value = record->get(implied);
      DataIdValue v = std::holds_alternative<std::int64_t>(value) ? DataIdValue(std::get<std::int64_t>(value))
                                                                  : DataIdValue(std::get<std::string>(value));
      if (auto it = out.find(implied); it != out.end() && it->second != v)
        throw InvalidArgumentError(fmt::format("data ID gives {}={} but {} {} implies {}={}", implied,
                                               dimensions::to_string(it->second), name,
                                               dimensions::format_data_id(record->data_id(), e.required()),
                                               implied, dimensions::to_string(v)));
      out[implied] = v;
    }
  }
  return out;
}

}  // namespace majordome::registry
