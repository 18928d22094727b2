// The registry: collections, dataset types, datasets and dimension records in SQL.
//
// One Registry object owns one Database connection and is used by one thread at a time.
// Every method that writes runs in a transaction: it either completes or leaves the
// database exactly as it was. Several processes may use the same repository; on SQLite
// writers wait for each other (busy timeout), on PostgreSQL a conflicting concurrent
// change is reported as ConflictError.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "majordome/core/time.hpp"
#include "majordome/core/uuid.hpp"
#include "majordome/dimensions/data_id.hpp"
#include "majordome/dimensions/universe.hpp"
#include "majordome/registry/database.hpp"

namespace majordome::registry {

using dimensions::DataId;
using dimensions::DataIdValue;
using dimensions::DimensionElement;
using dimensions::DimensionGroup;
using dimensions::DimensionRecord;
using dimensions::Universe;

// The version of majordome's SQL schema (docs/schema.md). Bumped on any change.
inline constexpr int kSchemaVersion = 3;  // 2: htm7 overlap tables, implied-dimension indexes; 3: PostgreSQL text COLLATE "C"

// The sky pixelization whose pixels index the regions of spatial records (Rubin's common
// skypix, htm7): each record of a spatial element has one row per level-7 HTM pixel of its
// region's envelope in `<element>_skypix_overlap`.
inline constexpr int kOverlapLevel = 7;

enum class CollectionType { kRun = 1, kTagged = 2, kChained = 3, kCalibration = 4 };
std::string_view collection_type_name(CollectionType type);  // "RUN", "TAGGED", …
CollectionType parse_collection_type(std::string_view name);  // any case; throws

struct CollectionRecord {
  std::int64_t id = 0;
  std::string name;
  CollectionType type = CollectionType::kRun;
  std::string doc;
};

// A named kind of dataset: its dimensions and storage class. A component type
// ("calexp.wcs") is derived from its parent and never registered itself.
struct DatasetType {
  std::string name;
  DimensionGroup dimensions;
  std::string storage_class;
  bool is_calibration = false;

  std::string parent_name() const;     // "calexp" for "calexp.wcs"
  std::string component() const;      // "wcs" for "calexp.wcs", "" otherwise
  bool is_component() const { return !component().empty(); }
  friend bool operator==(const DatasetType& a, const DatasetType& b) {
    return a.name == b.name && a.dimensions == b.dimensions && a.storage_class == b.storage_class &&
           a.is_calibration == b.is_calibration;
  }
};

// Checks a dataset type name against Rubin's rule (^[a-zA-Z_]\w*(\.[a-zA-Z_]\w*)*$, ≤128).
void validate_dataset_type_name(const std::string& name);

// Checks a collection name (docs/names_and_paths.md): 1 to 64 characters; no control
// character, no wildcard (*, ?, [); read as a path (a RUN's files go to a folder of that
// name), its '/'-separated segments are neither empty nor "." nor "..", so the name can
// neither start nor end with '/'. Throws InvalidArgumentError naming the rule broken.
void validate_collection_name(const std::string& name);

// How a new dataset's ID is made (Rubin's DatasetIdGenEnum).
enum class IdGenerationMode {
  kUnique,          // random UUIDv7
  kDataIdType,      // uuid5 of dataset type and data ID
  kDataIdTypeRun,   // uuid5 of dataset type, run and data ID (raw ingest)
};
IdGenerationMode parse_id_generation_mode(std::string_view name);

// The reproducible dataset ID of Rubin's recipe: uuid5(840b31d9-05cd-5161-b2c8-00d32b280d0f,
// "dataset_type=<name>[,run=<run>],k=v…") over the required data ID sorted by key.
Uuid make_dataset_id(IdGenerationMode mode, const std::string& dataset_type, const std::string& run,
                     const DataId& required_data_id);

struct DatasetRef {
  Uuid id;
  std::string dataset_type;  // may name a component ("calexp.wcs")
  DataId data_id;            // required values, plus implied ones when expanded
  std::string run;
};

// A file belonging to a dataset, as recorded by the datastore.
struct StoredFile {
  Uuid dataset_id;
  std::string component;  // "" for the whole dataset
  std::string path;       // relative to the datastore root, or an absolute URI
  std::string formatter;
  std::string storage_class;
  std::optional<std::string> checksum;
  std::optional<std::int64_t> file_size;
};

// Reading SQL rows (for the query engine, which writes its own SELECTs).
DataIdValue data_id_value_from_sql(const SqlValue& value);
// Column names of a record field in SQL (two for a timespan: <name>_begin, <name>_end).
std::vector<std::string> field_columns(const dimensions::FieldSpec& spec);
// Reads a record field from a row starting at `column`; advances `column`.
dimensions::FieldValue field_from_sql(const dimensions::FieldSpec& spec, const std::vector<SqlValue>& row,
                                      std::size_t& column);

struct CollectionSummary {
  std::vector<std::string> dataset_types;
  std::map<std::string, std::vector<std::string>> governors;  // "instrument" → ["HSC"]
};

// A simple dataset constraint: each entry is dimension-or-field = any of the values.
// (The full where-language compiles through the query module.)
struct DatasetQuery {
  std::vector<std::string> collections;  // searched in order; chains are flattened
  bool find_first = false;
  // Equality constraints on dimensions of the dataset type: name → allowed values.
  std::map<std::string, std::vector<DataIdValue>> equals;
  // A raw SQL predicate over the tags table (alias t) and dimension tables, with
  // parameters, produced by the query compiler. Empty for none.
  std::string sql_predicate;
  Params sql_params;
  std::vector<std::string> sql_joins;  // JOIN clauses (aliases e_<element>) the predicate needs
  std::optional<Timespan> timespan;    // for CALIBRATION collections
  std::int64_t limit = 0;              // 0 = no limit
};

class Registry {
 public:
  // Creates the schema in an empty database and records the universe.
  static std::unique_ptr<Registry> create(std::unique_ptr<Database> db,
                                          std::shared_ptr<const Universe> universe);
  // Opens an existing registry with the universe recorded in it.
  static std::unique_ptr<Registry> open(std::unique_ptr<Database> db);
  ~Registry();

  const Universe& universe() const { return *universe_; }
  std::shared_ptr<const Universe> universe_ptr() const { return universe_; }
  // A transaction on the registry's database: changes made until commit() stand or fall
  // together (nested ones join the enclosing one). Rolled back if destroyed uncommitted.
  Transaction transaction(TransactionMode mode = TransactionMode::kWrite) { return Transaction(*db_, mode); }
  std::optional<std::string> attribute(const std::string& name);
  void set_attribute(const std::string& name, const std::string& value);

  // ---- collections
  // Registers a collection; returns false if one with that name and type already exists,
  // throws ConflictError if it exists with another type.
  bool register_collection(const std::string& name, CollectionType type, const std::string& doc = "");
  std::optional<CollectionRecord> find_collection(const std::string& name);
  CollectionRecord get_collection(const std::string& name);  // NotFoundError with a suggestion
  // All collections, or those whose names match a glob (*, ?, [...]), sorted by name.
  std::vector<CollectionRecord> query_collections(const std::vector<std::string>& globs = {},
                                                  std::optional<CollectionType> type = std::nullopt);
  std::vector<std::string> chain_children(const std::string& parent);
  std::vector<std::string> chain_parents(const std::string& child);
  // Replaces a chain's children; refuses cycles and missing children.
  void set_chain(const std::string& parent, const std::vector<std::string>& children);
  // Depth-first flattening in child order, first occurrence kept; non-chains pass through.
  std::vector<CollectionRecord> flatten(const std::vector<std::string>& names);
  void set_collection_doc(const std::string& name, const std::string& doc);
  // Removes a non-RUN collection; refuses while a chain references it.
  void remove_collection(const std::string& name);
  CollectionSummary collection_summary(const std::string& name);

  // ---- dataset types
  // Returns true if newly registered, false if identical already present; ConflictError if
  // a different definition exists.
  bool register_dataset_type(const DatasetType& type);
  std::optional<DatasetType> find_dataset_type(const std::string& name);
  DatasetType get_dataset_type(const std::string& name);
  std::vector<DatasetType> query_dataset_types(const std::vector<std::string>& globs = {});
  // Removes a dataset type with no datasets; ConflictError otherwise.
  void remove_dataset_type(const std::string& name);

  // ---- dimension records
  enum class OnConflict { kFail, kSkip, kReplace };
  void insert_records(const std::string& element, const std::vector<DimensionRecord>& records,
                      OnConflict on_conflict = OnConflict::kFail);
  // Inserts the record if absent; returns true if inserted; ConflictError if a record with
  // the same key differs (unless `update`, which replaces it).
  bool sync_record(const DimensionRecord& record, bool update = false);
  std::vector<DimensionRecord> query_records(const std::string& element, const DataId& where = {});
  std::optional<DimensionRecord> find_record(const std::string& element, const DataId& data_id);
  // Records of `element` (table alias e_<element>) with extra JOIN clauses and a WHERE
  // predicate built by the query compiler; parameters are bound, never pasted.
  std::vector<DimensionRecord> query_records_sql(const std::string& element, const std::string& joins,
                                                 const std::string& predicate, const Params& params);
  // Fills the implied dimensions of a data ID for the given group, checking required values
  // exist; NotFoundError naming the missing record.
  DataId expand_data_id(const DataId& data_id, const DimensionGroup& group);
  // As above, looking each record up at most once per `cache` (keyed by element and key
  // values); for expanding many data IDs in one operation.
  using RecordCache = std::map<std::string, std::optional<DimensionRecord>>;
  DataId expand_data_id(const DataId& data_id, const DimensionGroup& group, RecordCache& cache);
  // Reads into `cache`, with a few queries per element, every record that expand_data_id
  // will look up for these data IDs, so expanding many data IDs costs a few round trips
  // rather than one per distinct record. Data IDs that are incomplete or invalid are left
  // for expand_data_id to report.
  void prefetch_records(const std::vector<DataId>& data_ids, const DimensionGroup& group, RecordCache& cache);
  // Converts user values to the key types and checks all required dimensions are given.
  DataId conform_data_id(const DataId& data_id, const DimensionGroup& group);

  // ---- datasets
  // Inserts new datasets into a RUN. Data IDs are conformed and expanded.
  std::vector<DatasetRef> insert_datasets(const std::string& dataset_type, const std::string& run,
                                          const std::vector<DataId>& data_ids,
                                          IdGenerationMode mode = IdGenerationMode::kUnique);
  // Inserts datasets with given IDs (import); existing identical ones are skipped when
  // `skip_existing`, a different dataset with the same ID is a ConflictError.
  void import_datasets(const std::string& dataset_type, const std::string& run,
                       const std::vector<DatasetRef>& refs, bool skip_existing = true);
  std::optional<DatasetRef> get_dataset(const Uuid& id);
  // Finds one dataset by type and data ID through the collections in order (find-first).
  std::optional<DatasetRef> find_dataset(const std::string& dataset_type, const DataId& data_id,
                                         const std::vector<std::string>& collections,
                                         std::optional<Timespan> timespan = std::nullopt);
  std::vector<DatasetRef> query_datasets(const std::string& dataset_type, const DatasetQuery& query);
  void associate(const std::string& tagged, const std::vector<DatasetRef>& refs);
  void disassociate(const std::string& tagged, const std::vector<DatasetRef>& refs);
  void certify(const std::string& calibration, const std::vector<DatasetRef>& refs, const Timespan& span);
  void decertify(const std::string& calibration, const std::string& dataset_type, const Timespan& span,
                 const std::vector<DataId>& data_ids = {});
  struct Certification {
    DatasetRef ref;
    Timespan timespan;
  };
  std::vector<Certification> query_certifications(const std::string& calibration,
                                                  const std::string& dataset_type);
  // Datasets of the given IDs are deleted with their associations and datastore records;
  // the files they had are moved to the trash table in the same transaction.
  void remove_datasets(const std::vector<Uuid>& ids);
  // Forgets where the datasets' files are (their datastore records), keeping the datasets;
  // the files' relative paths go to the trash in the same transaction.
  void unstore_datasets(const std::vector<Uuid>& ids);
  // Removes a RUN with all its datasets (trash as above).
  void remove_run(const std::string& name);
  // The number of datasets whose run is `run` (NotFoundError if there is no such RUN).
  std::int64_t count_datasets(const std::string& run);

  // ---- datastore records and trash
  void insert_stored_files(const std::vector<StoredFile>& files);
  std::vector<StoredFile> stored_files(const Uuid& dataset_id);
  std::vector<std::string> trashed_paths();
  void forget_trashed(const std::vector<std::string>& paths);
  bool path_is_referenced(const std::string& path);

  // ---- helpers for import/export and queries
  std::vector<DatasetRef> datasets_in_collection(const std::string& collection,
                                                 const std::string& dataset_type);
  std::vector<std::string> dataset_types_in_run(const std::string& run);
  std::string tags_table(const DatasetType& type);     // SQL table name of its group
  // The calibration-validity table of a calibration type's group, if it was created.
  std::optional<std::string> calibs_table(const DatasetType& type);
  std::string dimension_table(const std::string& element) const { return "dim_" + element; }
  // The htm7 overlap table of a spatial element (columns skypix_system, skypix_level, the
  // element's required dimensions, skypix_index).
  std::string overlap_table(const std::string& element) const { return element + "_skypix_overlap"; }
  std::int64_t dataset_type_id(const std::string& name);

 private:
  friend Database& sql_database(Registry& registry);
  void forget_datasets(const std::vector<Uuid>& ids, const char* delete_sql);
  Registry(std::unique_ptr<Database> db, std::shared_ptr<const Universe> universe);
  void create_schema();
  void create_dimension_tables();
  void create_overlap_table(const DimensionElement& element);
  void create_implied_indexes(const DimensionElement& element);
  // Writes the overlap rows of records just inserted with `on_conflict` (called inside the
  // inserting transaction); kReplace replaces the records' old rows.
  void write_overlaps(const DimensionElement& element, const std::vector<const DimensionRecord*>& records,
                      OnConflict on_conflict);
  void migrate_from_v1();
  // Keeps the SQL planner's statistics fresh: a table this process grew by at least as many
  // rows as it had grown before the last ANALYZE (and by 100 or more) is analyzed again, so
  // statistics are refreshed O(log n) times while a repository fills.
  void note_inserted(const std::string& table, std::size_t rows);
  struct Growth {
    std::size_t since_analyze = 0, at_analyze = 0;
  };
  std::map<std::string, Growth> growth_;
  std::int64_t group_id(const DimensionGroup& group, bool create);
  void ensure_group_tables(std::int64_t gid, const DimensionGroup& group, bool calibration);
  bool register_dataset_type_once(const DatasetType& type);
  void update_summary(std::int64_t collection_id, std::int64_t dataset_type_id,
                      const DatasetType& type, const std::vector<DataId>& data_ids);
  // The datasets of these IDs with their types, runs and required data IDs; absent IDs are
  // missing from the map.
  std::map<Uuid, DatasetRef> find_datasets(const std::vector<DatasetRef>& refs);
  DatasetRef ref_from_tags_row(const DatasetType& type, const std::vector<SqlValue>& row, std::size_t first_dim);
  std::vector<std::string> flatten_names(const std::string& name, std::vector<std::string>& stack);

  std::unique_ptr<Database> db_;
  std::shared_ptr<const Universe> universe_;
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

// The SQL connection behind a registry, for the query module alone, which compiles the where
// language to its own SELECTs (and for the registry's and query's own tests). Everything else
// goes through Registry's methods and Registry::transaction(), so that SQL lives in two
// modules; scripts/check-layering refuses a use anywhere else.
Database& sql_database(Registry& registry);

}  // namespace majordome::registry
