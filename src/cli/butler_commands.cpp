// butler repository commands: create, config-dump, ingest-files, import, export,
// retrieve-artifacts, cleanup; and the groups of the other files.
#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_support.hpp"
#include "commands.hpp"
#include "majordome/image/formatters.hpp"
#include "majordome/instrument/formatters.hpp"
#include "majordome/skymap/formatters.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/transfer.hpp"
#include "majordome/query/query.hpp"
#include "table.hpp"

namespace majordome::cli {

namespace fs = std::filesystem;
using butler::Access;
using butler::Butler;
using registry::CollectionType;
using registry::DatasetRef;
using registry::DatasetType;

void add_butler_commands(CLI::App& app) {
  // ---- create
  {
    auto* cmd = app.add_subcommand("create", "Create an empty data repository.");
    auto repo = std::make_shared<std::string>();
    auto seed = std::make_shared<std::string>();
    auto dims = std::make_shared<std::string>();
    auto override_flag = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo, "Repository directory to create")->required();
    cmd->add_option("--seed-config", *seed, "YAML configuration merged over the defaults (e.g. a PostgreSQL registry)");
    cmd->add_option("--dimension-config", *dims, "A dimension universe YAML to use instead of the default");
    cmd->add_flag("--override", *override_flag, "Accepted for compatibility: seed values always override the defaults");
    auto standalone = std::make_shared<bool>(false);
    cmd->add_flag("--standalone", *standalone, "Accepted for compatibility (the configuration is always written in full)");
    on_run(cmd, [=] {
      (void)standalone;  // CLI11 writes accepted-but-unused options too: their storage must live on
      (void)override_flag;
      butler::CreateOptions options;
      if (!seed->empty()) options.seed_config = *seed;
      if (!dims->empty()) {
        std::ifstream in(*dims);
        if (!in) throw NotFoundError("dimension config " + *dims + " does not exist");
        options.dimension_config = std::string(std::istreambuf_iterator<char>(in), {});
      }
      Butler::create(*repo, options);
    });
  }
  // ---- config-dump
  {
    auto* cmd = app.add_subcommand("config-dump", "Print the repository configuration.");
    auto repo = std::make_shared<std::string>();
    auto subset = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("-s,--subset", *subset,
                    "Only this part of the configuration: a key path such as registry.db, or as Rubin writes it "
                    "with a leading delimiter (.registry.db, /registry/db)");
    cmd->add_option("--file", *file, "Write to this file instead of standard output");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      std::string text = b->config_yaml();
      if (!subset->empty()) {
        YAML::Node node = YAML::Load(text);
        // Rubin's Config keys: a leading non-alphanumeric character is the delimiter.
        std::string path = *subset;
        char delimiter = '.';
        if (!std::isalnum(static_cast<unsigned char>(path.front())) && path.front() != '_') {
          delimiter = path.front();
          path.erase(0, 1);
        }
        for (std::stringstream ss(path); std::getline(ss, text, delimiter);) {
          const YAML::Node child = node.IsMap() ? node[text] : YAML::Node();
          if (!child) throw NotFoundError(fmt::format("the configuration has no '{}'", *subset));
          node.reset(child);
        }
        YAML::Emitter out;
        out << node;
        text = std::string(out.c_str()) + "\n";
      }
      if (file->empty()) {
        std::cout << text;
        if (!text.empty() && text.back() != '\n') std::cout << "\n";
      } else {
        std::ofstream(*file) << text;
      }
    });
  }
  // ---- ingest-files
  {
    auto* cmd = app.add_subcommand("ingest-files", "Ingest files listed in a table (columns: the data ID and the file).");
    auto repo = std::make_shared<std::string>();
    auto type = std::make_shared<std::string>();
    auto run = std::make_shared<std::string>();
    auto table_file = std::make_shared<std::string>();
    auto prefix = std::make_shared<std::string>();
    auto transfer = std::make_shared<std::string>("auto");
    auto formatter = std::make_shared<std::string>();
    auto id_mode = std::make_shared<std::string>("UNIQUE");
    auto data_id = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DATASET_TYPE", *type)->required();
    cmd->add_option("RUN", *run)->required();
    cmd->add_option("TABLE_FILE", *table_file,
                    "ECSV or CSV: the file column (a column named URI, path, file or filename, else the first "
                    "column, as Rubin reads it) and data ID columns")
        ->required();
    cmd->add_option("--prefix", *prefix, "Folder that relative file paths in the table are inside (default: the current "
                    "directory); 'move' takes only files inside it");
    cmd->add_option("-t,--transfer", *transfer, "auto, copy, move, link, hardlink, symlink, relsymlink, direct, split")->capture_default_str();
    cmd->add_option("--formatter", *formatter, "Formatter name recorded with the files");
    cmd->add_option("--id-generation-mode", *id_mode, "UNIQUE, DATAID_TYPE or DATAID_TYPE_RUN")->capture_default_str();
    cmd->add_option("--data-id", *data_id, "KEY=VALUE added to every data ID (e.g. instrument=HSC)");
    add_track_file_attrs_flag(cmd);
    const auto display = add_progress_option(cmd);
    on_run(cmd, [=] {
      datastore::parse_transfer_mode(*transfer);  // fail before opening anything
      auto mode = registry::parse_id_generation_mode(*id_mode);
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto& reg = b->registry();
      auto dataset_type = reg.get_dataset_type(*type);
      const auto table = read_table_file(*table_file);
      std::string file_column = table.columns.front();  // Rubin: the first column, whatever its name
      for (const auto& c : table.columns)
        if (c == "URI" || c == "uri" || c == "path" || c == "file" || c == "filename") file_column = c;
      const auto& rows = table.rows;
      registry::DataId common;
      for (const auto& item : split_commas(*data_id))
        for (auto& [k, v] : dimensions::parse_data_id(item)) common[k] = v;
      std::vector<butler::FileDataset> files;
      for (const auto& row : rows) {
        std::string path;
        registry::DataId id = common;
        for (const auto& [column, value] : row) {
          if (column == file_column) {
            path = value;
          } else if (dataset_type.dimensions.contains(column)) {
            id[column] = value;
          } else if (reg.universe().is_dimension(column)) {
            id[column] = value;
          } else {
            throw InvalidArgumentError(fmt::format("table column '{}' is neither the file column ('{}') nor a "
                                                   "dimension of '{}' ({})", column, file_column, *type,
                                                   dataset_type.dimensions.str()));
          }
        }
        if (path.empty())
          throw InvalidArgumentError(fmt::format("{}: a row has an empty file column '{}'", *table_file, file_column));
        if (path.rfind("file://", 0) == 0) path = datastore::path_from_file_uri(path).string();
        butler::FileDataset f;
        f.path = path;
        f.formatter = *formatter;
        f.refs.push_back({Uuid(), *type, id, *run});
        files.push_back(std::move(f));
      }
      butler::IngestOptions options;
      options.transfer = *transfer;
      options.id_mode = mode;
      options.source_folder = prefix->empty() ? fs::current_path() : fs::path(*prefix);
      ProgressBar progress(*display);
      b->progress = &progress;
      progress.start("ingesting", files.size());
      std::vector<registry::DatasetRef> refs;
      run_cancellable(progress, "nothing was ingested", [&] { refs = b->ingest(files, *run, options); });
      progress.finish();
      std::cerr << fmt::format("Ingested {} dataset(s) of type '{}' into run '{}'.\n", refs.size(), *type, *run);
    });
  }
  // ---- import
  {
    auto* cmd = app.add_subcommand("import", "Import datasets and records from an export (export.yaml).");
    auto repo = std::make_shared<std::string>();
    auto directory = std::make_shared<std::string>();
    auto export_file = std::make_shared<std::string>("export.yaml");
    auto transfer = std::make_shared<std::string>("auto");
    auto skip = std::make_shared<std::vector<std::string>>();
    auto without = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DIRECTORY", *directory, "Directory the export's file paths are relative to")->required();
    cmd->add_option("--export-file", *export_file, "The export YAML (relative to DIRECTORY unless it exists as given)")->capture_default_str();
    cmd->add_option("-t,--transfer", *transfer)->capture_default_str();
    cmd->add_option("-s,--skip-dimensions", *skip, "Dimension elements whose records are not imported");
    cmd->add_flag("--without-datastore", *without, "Import registry content only, not the files");
    add_track_file_attrs_flag(cmd);
    const auto display = add_progress_option(cmd);
    on_run(cmd, [=] {
      datastore::parse_transfer_mode(*transfer);
      auto b = Butler::open(*repo, Access::kReadWrite);
      Butler::ImportOptions options;
      options.transfer = *transfer;
      options.skip_elements = split_commas(*skip);
      options.without_datastore = *without;
      ProgressBar progress(*display);
      b->progress = &progress;
      progress.start("importing files", 0);
      run_cancellable(progress, "nothing was imported", [&] { b->import_yaml(*directory, *export_file, options); });
      progress.finish();
    });
  }
  // ---- migrate-from-rubin (majordome's own)
  {
    auto* cmd = app.add_subcommand(
        "migrate-from-rubin",
        "Make a majordome repository from a Rubin (daf_butler) repository read in place: the same collections, "
        "dataset types, dataset IDs, data IDs and dimension records; the files stay where they are.");
    auto source = std::make_shared<std::string>();
    auto dest = std::make_shared<std::string>();
    cmd->add_option("SOURCE", *source, "The Rubin repository (the folder holding its butler.yaml)")->required();
    cmd->add_option("DEST", *dest, "The new majordome repository (a folder that does not exist yet, or is empty)")
        ->required();
    on_run(cmd, [=] {
      auto r = Butler::migrate_from_rubin(*source, *dest);
      if (r.already_done) {
        std::cout << fmt::format("{} is already a migration of {}; nothing to do.\n", *dest, *source);
        return;
      }
      std::cout << fmt::format("Migrated {} into {}: {} collection(s), {} dataset type(s), {} dataset(s), {} dimension "
                               "record(s).\n",
                               *source, *dest, r.collections, r.dataset_types, r.datasets, r.dimension_records);
      if (r.missing_files)
        std::cout << fmt::format("{} file(s) the Rubin registry records are not on disk; their datasets are kept "
                                 "(butler retrieve-artifacts or get will report them missing).\n",
                                 r.missing_files);
    });
  }
  // ---- export-calibs
  {
    auto* cmd = app.add_subcommand("export-calibs", "Export calibration collections (their certified datasets, runs "
                                                    "and validity ranges) to DIRECTORY/export.yaml, as Rubin's.");
    auto repo = std::make_shared<std::string>();
    auto directory = std::make_shared<std::string>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto types = std::make_shared<std::vector<std::string>>();
    auto transfer = std::make_shared<std::string>("copy");
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DIRECTORY", *directory, "Where export.yaml and the files go")->required();
    cmd->add_option("COLLECTIONS", *collections,
                    "Collections (globs, default all; chains flattened) whose CALIBRATION collections are exported");
    cmd->add_option("-d,--dataset-type", *types, "Only these dataset types (default: every calibration type)");
    cmd->add_option("-t,--transfer", *transfer, "copy (auto is copy), link, symlink, hardlink or none")
        ->capture_default_str();
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      Butler::ExportOptions options;
      options.collections = split_commas(*collections);
      options.dataset_types = split_commas(*types);
      options.transfer = *transfer == "auto" ? "copy" : *transfer;
      auto path = b->export_calibrations(*directory, options);
      std::cerr << "Wrote " << path.string() << "\n";
    });
  }
  // ---- export
  {
    auto* cmd = app.add_subcommand("export", "Export collections, datasets and records to DIRECTORY/export.yaml.");
    auto repo = std::make_shared<std::string>();
    auto directory = std::make_shared<std::string>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto types = std::make_shared<std::vector<std::string>>();
    auto transfer = std::make_shared<std::string>("none");
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DIRECTORY", *directory)->required();
    cmd->add_option("--collections", *collections, "Collections to export (globs; default all)");
    cmd->add_option("--dataset-types", *types, "Dataset types to export (globs; default all)");
    cmd->add_option("-t,--transfer", *transfer, "copy (files go under DIRECTORY), link, symlink, hardlink or none")->capture_default_str();
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      Butler::ExportOptions options;
      options.collections = split_commas(*collections);
      options.dataset_types = split_commas(*types);
      options.transfer = *transfer;
      auto path = b->export_yaml(*directory, options);
      std::cerr << "Wrote " << path.string() << "\n";
    });
  }
  // ---- retrieve-artifacts
  {
    auto* cmd = app.add_subcommand("retrieve-artifacts", "Copy the files of datasets to a directory.");
    auto repo = std::make_shared<std::string>();
    auto dest = std::make_shared<std::string>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto types = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto no_preserve = std::make_shared<bool>(false);
    auto transfer = std::make_shared<std::string>("copy");
    auto clobber = std::make_shared<bool>(false);
    auto find_first = std::make_shared<bool>(false);
    auto limit = std::make_shared<std::int64_t>(0);
    auto order_by = std::make_shared<std::vector<std::string>>();
    auto verbose = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DESTINATION", *dest)->required();
    cmd->add_option("--collections", *collections);
    cmd->add_option("-d,--dataset-type", *types);
    cmd->add_option("--where", *where);
    cmd->add_flag("--find-first,!--no-find-first", *find_first, "Only the first dataset per data ID in collection order");
    cmd->add_option("--limit", *limit, "At most this many datasets (0: all)")->capture_default_str();
    cmd->add_option("--order-by", *order_by, "Dimensions or fields to sort by (-name for descending)");
    cmd->add_flag("-v,--verbose", *verbose, "Print the path of each file retrieved");
    cmd->add_flag("!--preserve-path,--no-preserve-path", *no_preserve, "Flatten into DESTINATION instead of keeping datastore paths");
    cmd->add_option("-t,--transfer", *transfer, "copy, link, hardlink, symlink or relsymlink")->capture_default_str();
    cmd->add_flag("--clobber,!--no-clobber", *clobber, "Overwrite existing files");
    on_run(cmd, [=] {
      datastore::parse_transfer_mode(*transfer);  // fail before opening anything
      auto b = Butler::open(*repo, Access::kReadOnly);
      auto& reg = b->registry();
      std::size_t copied = 0;
      butler::DatasetsRequest request;
      request.dataset_types = split_commas(*types);
      request.collections = split_commas(*collections);
      request.where = *where;
      request.find_first = *find_first ? butler::FindFirst::kYes : butler::FindFirst::kNo;
      request.limit = *limit;
      request.order_by = butler::OrderBy::parse(split_commas(*order_by));
      auto results = b->query_datasets(request);
      std::set<Uuid> seen;  // a dataset found in several collections (its run, a CALIBRATION one) is one file
      while (auto ref = results.next())
        for (const auto& f : seen.insert(ref->id).second ? reg.stored_files(ref->id) : std::vector<registry::StoredFile>{}) {
          const auto path = b->retrieve_artifact(f, *dest, !*no_preserve, *transfer, *clobber);
          if (*verbose) std::cout << path.string() << "\n";
          ++copied;
        }
      std::cout << fmt::format("Number of artifacts retrieved into destination {}: {}\n", *dest, copied);
    });
  }
  // ---- transfer-datasets
  {
    auto* cmd = app.add_subcommand(
        "transfer-datasets",
        "Copy datasets with their files from the repository SOURCE into DEST, keeping their IDs, runs and data IDs.");
    auto source = std::make_shared<std::string>();
    auto dest = std::make_shared<std::string>();
    auto types = std::make_shared<std::vector<std::string>>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto find_first = std::make_shared<bool>(false);
    auto limit = std::make_shared<std::int64_t>(0);
    auto transfer = std::make_shared<std::string>("auto");
    auto register_types = std::make_shared<bool>(false);
    auto no_dimensions = std::make_shared<bool>(false);
    auto dry_run = std::make_shared<bool>(false);
    cmd->add_option("SOURCE", *source, "The repository the datasets come from")->required();
    cmd->add_option("DEST", *dest, "The repository they go to")->required();
    cmd->add_option("-d,--dataset-type", *types, "Dataset types (globs; repeatable or comma-separated); default all");
    cmd->add_option("--collections", *collections, "Collections to search (globs; repeatable or comma-separated)");
    cmd->add_option("--where", *where, "A query expression selecting the datasets");
    cmd->add_flag("--find-first,!--no-find-first", *find_first, "Only the first dataset per data ID in collection order");
    cmd->add_option("--limit", *limit, "At most this many datasets (0: all)")->capture_default_str();
    cmd->add_option("-t,--transfer", *transfer, "How files are placed (ingest's modes)")->capture_default_str();
    cmd->add_flag("--register-dataset-types", *register_types, "Register dataset types missing in DEST");
    cmd->add_flag("!--transfer-dimensions,--no-transfer-dimensions", *no_dimensions,
                  "Copy the dimension records the data IDs name (default: yes)");
    cmd->add_flag("--dry-run", *dry_run, "Report what would be transferred; write nothing");
    on_run(cmd, [=] {
      datastore::parse_transfer_mode(*transfer);  // fail before opening anything
      auto from = Butler::open(*source, Access::kReadOnly);
      auto to = Butler::open(*dest, Access::kReadWrite);
      butler::DatasetsRequest request;
      request.dataset_types = split_commas(*types);
      request.collections = split_commas(*collections);
      request.where = *where;
      request.find_first = *find_first ? butler::FindFirst::kYes : butler::FindFirst::kNo;
      request.limit = *limit;
      butler::Butler::TransferDatasetsOptions options;
      options.transfer = *transfer;
      options.register_dataset_types = *register_types;
      options.transfer_dimensions = !*no_dimensions;
      options.dry_run = *dry_run;
      const auto r = to->transfer_from(*from, request, options);
      if (*dry_run) std::cout << fmt::format("Number of datasets that would be transferred: {}\n", r.transferred);
      else std::cout << fmt::format("Number of datasets transferred: {}\n", r.transferred);
      if (r.already_here)
        std::cerr << fmt::format("{} dataset(s) were in {} already (skipped).\n", r.already_here, *dest);
      if (r.without_file)
        std::cerr << fmt::format("{} dataset(s) have no file (or their file is missing) in {} (skipped).\n",
                                 r.without_file, *source);
    });
  }
  // ---- cleanup (majordome's own)
  {
    auto* validate = app.add_subcommand(
        "config-validate",
        "Check the repository's configuration against its dataset types: every storage class known, a formatter\n"
        "to write it, a file template that names each dataset uniquely.");
    auto vrepo = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    auto vtypes = std::make_shared<std::vector<std::string>>();
    auto ignore = std::make_shared<std::vector<std::string>>();
    validate->add_option("REPO", *vrepo)->required();
    validate->add_flag("-q,--quiet", *quiet, "Do not list the problems (only say whether there are any)");
    validate->add_option("-d,--dataset-type", *vtypes, "Check only these dataset types (globs; repeatable or comma-separated)");
    validate->add_option("-i,--ignore", *ignore,
                         "Skip dataset types with these names, storage classes or dimensions (repeatable or comma-separated)");
    on_run(validate, [=] {
      // Every storage class this majordome knows: the formatters of every module.
      auto formatters = std::make_shared<datastore::FormatterRegistry>();
      datastore::add_basic_formatters(*formatters);
      image::add_formatters(*formatters);
      instrument::add_formatters(*formatters);
      skymap::add_formatters(*formatters);
      auto b = Butler::open(*vrepo, Access::kReadOnly, std::move(formatters));
      const auto problems = b->validate_configuration(split_commas(*vtypes), split_commas(*ignore));
      if (problems.empty()) {
        std::cout << "No problems encountered with configuration.\n";
        return;
      }
      if (!*quiet)
        for (const auto& p : problems) std::cerr << p << "\n";
      throw InvalidConfigError(fmt::format("{} problem(s) in the configuration of {}{}", problems.size(), *vrepo,
                                           *quiet ? " (run without -q to list them)" : " (listed above)"));
    });
  }
  {
    auto* cmd = app.add_subcommand("cleanup", "Remove files left by interrupted writes and empty the trash.");
    auto repo = std::make_shared<std::string>();
    cmd->add_option("REPO", *repo)->required();
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);  // open without the automatic clean-up, then do it loudly
      auto recovered = b->recover_interrupted_writes();
      auto trashed = b->empty_trash();
      std::cout << fmt::format("Removed {} file(s) left by interrupted writes and {} trashed file(s).\n", recovered, trashed);
    });
  }
  add_dataset_commands(app);
  add_collection_commands(app);
}

void add_pipetask_commands(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a pipeline (not available yet in this majordome).");
  on_run(cmd, [] {
    throw UnsupportedError("pipetask run is not implemented yet in this version of majordome");
  });
}

}  // namespace majordome::cli
