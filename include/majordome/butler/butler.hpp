// The Butler: a data repository = a registry (SQL) + a datastore (files under a root).
//
// A repository directory holds `butler.yaml` (its configuration; `<butlerRoot>` in it
// stands for the directory, so a repository can be moved) and, for SQLite, the registry
// file `gen3.sqlite3`. Dataset files live under the root at paths from the file
// templates, or anywhere for `direct` ingest.
//
// Crash safety: a command that creates files first records their paths in a pending table
// under a token whose lock file it holds (flock) for its whole run; the dataset rows and
// their datastore records then commit in one transaction, which also clears the pending
// rows. If the process dies, the lock is released by the kernel; the next command that
// opens the repository for writing removes the files of every abandoned token that no
// dataset references. Deleted datasets' files go through a trash table and are removed
// only after the deletion committed.
//
// Threads: a Butler (with its Registry's database connection) is used by one thread at a
// time. Threads and server requests each open their own Butler on the same repository (the
// FormatterRegistry, filled once, is shared read-only between them); the database and the
// write journals keep concurrent writers consistent. Results and deferred handles belong to
// the Butler that made them.
#pragma once

#include <filesystem>
#include <functional>
#include <any>
#include <concepts>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "majordome/butler/queries.hpp"
#include "majordome/core/progress.hpp"
#include "majordome/datastore/formatter.hpp"
#include "majordome/datastore/in_memory_dataset.hpp"
#include "majordome/datastore/resource.hpp"
#include "majordome/registry/registry.hpp"

namespace YAML {
class Node;
}

namespace majordome::butler {

using registry::CollectionType;
using registry::DatasetRef;
using registry::DatasetType;
using registry::Registry;
using registry::DataId;
using datastore::InMemoryDataset;
using datastore::FormatterRegistry;

// Read parameters by name ("bbox" → image::Box2I, "columns" → std::vector<std::string>).
using ReadParameters = std::map<std::string, std::any>;

// Options of `butler create`.
struct CreateOptions {
  std::optional<std::filesystem::path> seed_config;  // YAML merged over the defaults
  std::optional<std::string> dimension_config;        // another universe YAML (text)
};

enum class Access { kReadOnly, kReadWrite };

// How edit_chain() changes a CHAINED collection's children.
enum class ChainEdit {
  kRedefine,  // the children become `children`
  kExtend,    // `children` are appended (those already in the chain move to the end, as Rubin)
  kPrepend,   // `children` come first, the others follow
  kRemove,    // `children` are removed (one that is not a child is ignored with a warning, as Rubin)
  kPop        // the children at `positions` are removed (default: the first; negative from the end)
};

struct ChainRequest {
  std::string parent;  // created as CHAINED by kRedefine/kExtend/kPrepend if absent
  std::vector<std::string> children;
  ChainEdit edit = ChainEdit::kRedefine;
  bool flatten = false;  // store the flattened list of the children's collections
  std::vector<long> positions;  // for kPop
  std::string doc;              // of a new chain
};

struct CertifyRequest {
  std::string input;   // a RUN, or a chain (its first child unless search_all_inputs)
  std::string output;  // CALIBRATION collection, created if absent
  std::string dataset_type;
  Timespan validity;  // default: unbounded on both sides
  bool search_all_inputs = false;
};

struct RunSummary {
  registry::CollectionRecord run;
  std::int64_t datasets = 0;
};

// One file to ingest and the datasets it holds.
struct FileDataset {
  std::filesystem::path path;  // relative paths resolve in IngestOptions::source_folder
  std::vector<DatasetRef> refs;  // dataset_type, data_id (id and run are filled in)
  std::string formatter;
};

struct IngestOptions {
  std::string transfer = "auto";
  registry::IdGenerationMode id_mode = registry::IdGenerationMode::kUnique;
  bool skip_existing = false;  // a dataset already present with the same ID is not an error
  // The folder the user named for the files (ingest-files --prefix, or the current directory):
  // relative paths resolve inside it and may not leave it, and a "move" takes only files
  // inside it (datastore::resolve_source). Unset: paths are taken as given (the caller
  // found the files itself, as ingest-raws does).
  std::optional<std::filesystem::path> source_folder;
};

class Butler {
 public:
  // Creates a repository at `root` (a directory, created if absent, that must not already
  // hold a butler.yaml). The registry is SQLite at <root>/gen3.sqlite3 unless the seed
  // config names another database.
  static void create(const std::filesystem::path& root, const CreateOptions& options = {});
  // `formatters` gives the storage classes and formatters get() and put() use; the shells
  // pass the full set (image, instrument…), unset gives datastore::add_basic_formatters only.
  static std::unique_ptr<Butler> open(const std::filesystem::path& root, Access access,
                                      std::shared_ptr<const FormatterRegistry> formatters = nullptr);
  ~Butler();

  Registry& registry() { return *registry_; }
  const std::filesystem::path& root() const { return root_; }
  // The effective configuration as YAML text (with <butlerRoot> resolved).
  std::string config_yaml() const;

  // Absolute path (or URI) of a stored file.
  std::string artifact_uri(const registry::StoredFile& file) const;

  // Rubin's config-validate: what in this repository's configuration does not fit its
  // registered dataset types (those matching `dataset_types`, globs, all when empty; a type
  // whose name, storage class or one of whose dimensions is in `ignore` is skipped): a
  // storage class no formatter knows, no formatter to write it, a file template that cannot
  // name its datasets uniquely. One line per problem, naming the dataset type; empty: none.
  std::vector<std::string> validate_configuration(const std::vector<std::string>& dataset_types = {},
                                                  const std::vector<std::string>& ignore = {});
  // The datastore path (relative to the root, no extension) a dataset would be written to.
  std::string template_path(const DatasetRef& ref, const DatasetType& type);

  const FormatterRegistry& formatters() const { return *formatters_; }

  // ---- Datasets by meaning -------------------------------------------------------------
  //
  // put() writes `object` with the formatter of the dataset type's storage class and records
  // it in `run` (registered if needed): the file is written under a temporary name, made
  // durable and renamed into place, then the dataset row and its datastore record commit in
  // one transaction (a crash leaves neither a row without its file nor a file the next write
  // does not clean up). The dataset type must be registered; its storage class decides the
  // C++ type of `object` (InvalidArgumentError naming both when they differ). A dataset of
  // that type and data ID already in `run` is a ConflictError.
  DatasetRef put(const InMemoryDataset& object, const std::string& dataset_type, const DataId& data_id,
                 const std::string& run);
  template <class T>
    requires(!std::same_as<T, InMemoryDataset>)
  DatasetRef put(const T& object, const std::string& dataset_type, const DataId& data_id, const std::string& run) {
    return put(InMemoryDataset::borrow(object), dataset_type, data_id, run);
  }

  // Reads a dataset, or the component its type names ("calexp.wcs"), or the part the
  // parameters select; only what that needs is read from the file. NotFoundError when the
  // dataset has no stored file.
  InMemoryDataset get(const DatasetRef& ref, const ReadParameters& parameters = {});
  // Finds the dataset by type (a component allowed) and data ID in `collections` (first
  // match wins; a calibration is looked up at the time of the exposure or visit the data ID
  // names), then reads it. NotFoundError naming the type, data ID and collections.
  InMemoryDataset get(const std::string& dataset_type, const DataId& data_id,
                      const std::vector<std::string>& collections, const ReadParameters& parameters = {});
  // get() of a T: InvalidArgumentError naming both types when the dataset is not one.
  template <class T>
  T get_as(const DatasetRef& ref, const ReadParameters& parameters = {}) {
    return take_as<T>(get(ref, parameters));
  }
  template <class T>
  T get_as(const std::string& dataset_type, const DataId& data_id, const std::vector<std::string>& collections,
           const ReadParameters& parameters = {}) {
    return take_as<T>(get(dataset_type, data_id, collections, parameters));
  }
  // The dataset a get() with these arguments would read (no file is opened); nullopt if none.
  std::optional<DatasetRef> find_dataset(const std::string& dataset_type, const DataId& data_id,
                                         const std::vector<std::string>& collections);

  // A dataset to read later (a task with many inputs reads them one at a time). The handle
  // refers to this Butler, which must outlive it.
  class DeferredDatasetHandle {
   public:
    const DatasetRef& ref() const { return ref_; }
    InMemoryDataset get(const ReadParameters& parameters = {}) const { return butler_->get(ref_, parameters); }
    template <class T>
    T get_as(const ReadParameters& parameters = {}) const {
      return butler_->get_as<T>(ref_, parameters);
    }

   private:
    friend class Butler;
    DeferredDatasetHandle(Butler* butler, DatasetRef ref) : butler_(butler), ref_(std::move(ref)) {}
    Butler* butler_;
    DatasetRef ref_;
  };
  DeferredDatasetHandle get_deferred(const DatasetRef& ref);
  DeferredDatasetHandle get_deferred(const std::string& dataset_type, const DataId& data_id,
                                     const std::vector<std::string>& collections);

  // True if the registry knows the dataset and its file is present.
  bool exists(const DatasetRef& ref);
  // The URI of the dataset's file ("file:///…", or the absolute URI it was ingested from).
  // NotFoundError when it has none.
  std::string get_uri(const DatasetRef& ref);

  // Ingests files: transfers them into the datastore (per options.transfer) and records
  // their datasets in `run` (registered if needed), all-or-nothing. The repository's own
  // files (butler.yaml, the registry, .majordome) are refused as sources by every mode, and
  // a "move" never takes the file of a stored dataset (docs/names_and_paths.md).
  std::vector<DatasetRef> ingest(const std::vector<FileDataset>& files, const std::string& run,
                                 const IngestOptions& options);

  // Several writes as one: registry changes and the files ingest() places between construction
  // and commit() stand or fall together. Until commit() the placed files stay announced in
  // their write journals (recovery removes them if the process dies); destroyed without
  // commit(), the batch rolls the registry back and removes them.
  class WriteBatch {
   public:
    explicit WriteBatch(Butler& butler);
    ~WriteBatch();
    WriteBatch(const WriteBatch&) = delete;
    WriteBatch& operator=(const WriteBatch&) = delete;
    void commit();

   private:
    Butler& butler_;
    std::optional<registry::Transaction> txn_;
    std::size_t first_deferred_ = 0;  // the writes of this batch (an enclosing one keeps earlier ones)
  };

  // Puts a copy of (or a link to) a stored file under `directory` (outside the repository):
  // at its datastore path, or by file name when not `preserve_path`. `mode` is copy, auto
  // (a copy), link, hardlink, symlink or relsymlink: nothing is taken from the repository.
  // Returns the path written. InvalidArgumentError for another mode or a directory inside
  // the repository; ConflictError for an existing file unless `overwrite`.
  std::filesystem::path retrieve_artifact(const registry::StoredFile& file, const std::filesystem::path& directory,
                                          bool preserve_path, const std::string& mode, bool overwrite);

  // Removes datasets (their files go to the trash, then are deleted).
  void remove_datasets(const std::vector<Uuid>& ids);
  void remove_run(const std::string& run);
  // Deletes the datasets' files (through the trash) and keeps the datasets, without files.
  void unstore_datasets(const std::vector<Uuid>& ids);
  // Deletes the files in the trash that nothing references any more; returns how many.
  std::size_t empty_trash();
  // Removes files left by writers that died; returns how many files were removed.
  std::size_t recover_interrupted_writes();

  // Import/export in Rubin's YAML format (1.0.2).
  struct ImportOptions {
    std::string transfer = "auto";  // for the files; ignored with without_datastore
    bool skip_dimensions = false;
    bool without_datastore = false;
    std::vector<std::string> skip_elements;  // --skip-dimensions ELEMENT,…
    // A file the export names that does not exist is refused (the default), or, when this is
    // set, recorded anyway at its place with the size the export gives (a repository
    // migrated in place: its registry knows files that were deleted or never copied).
    bool record_missing_files = false;
  };
  void import_yaml(const std::filesystem::path& directory, const std::filesystem::path& export_file,
                   const ImportOptions& options);
  // Makes a majordome repository at `destination` from a daf_butler (Rubin) repository read in
  // place at `source` (its butler.yaml, its SQLite registry, its datastore records): the same
  // collections, chains, calibration validity ranges, dataset types, dataset IDs, data IDs and
  // dimension records, the files left where they are (direct). The repository is built beside
  // `destination` and renamed into place: an interrupted run leaves no `destination`. Running
  // it again on a repository it made from the same source does nothing (already_done).
  // UnsupportedError names a registry manager or version this majordome does not read.
  struct MigrationResult {
    bool already_done = false;
    std::size_t collections = 0, dataset_types = 0, datasets = 0, dimension_records = 0;
    std::size_t missing_files = 0;  // recorded in the source, absent on disk, recorded here too
  };
  static MigrationResult migrate_from_rubin(const std::filesystem::path& source,
                                            const std::filesystem::path& destination);

  // Rubin's transfer-datasets: the datasets `query` finds in `source` (each once), with their
  // files, into this repository, keeping their IDs, runs and data IDs. Files are placed as
  // `transfer` says (ingest's modes; "auto" copies a file from outside this repository).
  // Dataset types missing here are registered when `register_dataset_types` (else a
  // NotFoundError names them and the flag); the dimension records the data IDs name are
  // copied when `transfer_dimensions` (a record that differs here is a ConflictError).
  // Datasets already here (same ID) are skipped. All or nothing: one write batch. With
  // `dry_run` nothing is written.
  struct TransferDatasetsOptions {
    std::string transfer = "auto";
    bool register_dataset_types = false;
    bool transfer_dimensions = true;
    bool dry_run = false;
  };
  struct TransferDatasetsResult {
    std::size_t found = 0, transferred = 0, already_here = 0, without_file = 0;
  };
  TransferDatasetsResult transfer_from(Butler& source, const DatasetsRequest& query,
                                       const TransferDatasetsOptions& options);

  struct ExportOptions {
    std::vector<std::string> collections;    // empty: all; globs allowed
    std::vector<std::string> dataset_types;  // empty: all; globs allowed
    std::string transfer = "none";           // "copy" puts the files under the directory
  };
  // Writes <directory>/export.yaml (and the files when transferring); returns its path. The
  // datasets of exported TAGGED and CALIBRATION collections come with their runs (holding just
  // those datasets unless the run itself is exported).
  std::filesystem::path export_yaml(const std::filesystem::path& directory, const ExportOptions& options);
  // Rubin's export-calibs: the CALIBRATION collections among those matching `collections`
  // (globs, default all; chains flattened), with their certified datasets of `dataset_types`
  // (default: every calibration type), those datasets' runs and the validity ranges.
  std::filesystem::path export_calibrations(const std::filesystem::path& directory, const ExportOptions& options);

  // ---- Queries (queries.hpp) ---------------------------------------------------------
  DatasetResults query_datasets(const DatasetsRequest& request);
  DataIdResults query_data_ids(const DataIdsRequest& request);
  DimensionRecordResults query_dimension_records(const DimensionRecordsRequest& request);
  std::vector<registry::CollectionRecord> query_collections(const CollectionsRequest& request);
  std::vector<DatasetType> query_dataset_types(const DatasetTypesRequest& request);

  // ---- Collections (each one registry transaction) ------------------------------------
  // Returns the chain's new children.
  std::vector<std::string> edit_chain(const ChainRequest& request);
  // Adds the datasets `datasets` selects to the TAGGED collection `tagged` (created if absent;
  // CollectionTypeError if it exists with another type). Returns them.
  std::vector<DatasetRef> associate(const std::string& tagged, const DatasetsRequest& datasets);
  // Certifies the input's datasets of the type (first per data ID) into the output for the
  // validity range; NotFoundError when there are none. Returns them.
  std::vector<DatasetRef> certify(const CertifyRequest& request);
  // The RUN collections matching `globs`, with their dataset counts.
  std::vector<RunSummary> run_summaries(const std::vector<std::string>& globs);
  // Removes RUN collections with their datasets (files through the trash), first taking them
  // out of the chains that hold them when `unlink_from_chains`.
  void remove_runs(const std::vector<std::string>& runs, bool unlink_from_chains);
  // Removes non-RUN collections (their datasets stay in their runs).
  void remove_collections(const std::vector<std::string>& names, bool unlink_from_chains);

  // ---- Pruning: select, show, then act -------------------------------------------------
  // The datasets prune() would act on (InvalidArgumentError for an incomplete request or a
  // purge of datasets outside purge_run).
  std::vector<DatasetRef> prune_selection(const PruneRequest& request);
  // Disassociates, then purges or unstores `datasets` (from prune_selection).
  void prune(const PruneRequest& request, const std::vector<DatasetRef>& datasets);

  // Where ingest() and import_yaml() report, one unit per file placed (the caller start()s
  // the phase); not owned, may be null. Progress::cancel() stops them before the next file
  // with CancelledError, nothing of that call committed and its placed files removed.
  Progress* progress = nullptr;

 private:
  Butler() = default;
  void open_configured(const std::filesystem::path& root, Access access);
  static void create_remote(const datastore::ResourcePath& repo, const CreateOptions& options);
  void import_yaml_file(const std::filesystem::path& directory, const std::filesystem::path& file,
                        const ImportOptions& options);
  // The import of a parsed export document; `file` names it in messages.
  void import_document(const std::filesystem::path& directory, const std::filesystem::path& file,
                       const YAML::Node& root, const ImportOptions& options);
  template <class T>
  static T take_as(InMemoryDataset object) {
    if (!object.holds<T>()) throw_wrong_type(typeid(T), object);
    return std::move(object).template take<T>();
  }
  [[noreturn]] static void throw_wrong_type(const std::type_info& wanted, const InMemoryDataset& got);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<const FormatterRegistry> formatters_;
  std::filesystem::path root_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace majordome::butler
