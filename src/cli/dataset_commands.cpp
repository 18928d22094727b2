// butler dataset commands: register-dataset-type, remove-dataset-type,
// query-dataset-types, query-datasets, query-data-ids, query-dimension-records, prune-datasets.
#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_support.hpp"
#include "commands.hpp"
#include "majordome/datastore/resource.hpp"
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

void add_dataset_commands(CLI::App& app) {
  // ---- register-dataset-type
  {
    auto* cmd = app.add_subcommand("register-dataset-type", "Register a dataset type.");
    auto repo = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto sc = std::make_shared<std::string>();
    auto dims = std::make_shared<std::vector<std::string>>();
    auto calib = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DATASET_TYPE", *name)->required();
    cmd->add_option("STORAGE_CLASS", *sc)->required();
    cmd->add_option("DIMENSIONS", *dims, "Dimensions (none for a dimensionless type)");
    cmd->add_flag("--is-calibration,!--no-is-calibration", *calib, "The dataset type is a calibration (certified with validity ranges)");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto& reg = b->registry();
      bool added = reg.register_dataset_type({*name, reg.universe().group(split_commas(*dims)), *sc, *calib});
      if (!added) std::cout << "Dataset type '" << *name << "' was already registered with this definition.\n";
    });
  }
  // ---- remove-dataset-type
  {
    auto* cmd = app.add_subcommand("remove-dataset-type", "Remove dataset types that have no datasets.");
    auto repo = std::make_shared<std::string>();
    auto names = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DATASET_TYPE", *names, "Names or globs")->required();
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto& reg = b->registry();
      for (const auto& n : split_commas(*names)) {
        auto matches = reg.query_dataset_types({n});
        if (matches.empty() && n.find_first_of("*?[") == std::string::npos) reg.get_dataset_type(n);  // throws
        for (const auto& t : matches) reg.remove_dataset_type(t.name);
      }
    });
  }
  // ---- query-dataset-types
  {
    auto* cmd = app.add_subcommand("query-dataset-types", "List dataset types.");
    auto repo = std::make_shared<std::string>();
    auto globs = std::make_shared<std::vector<std::string>>();
    auto verbose = std::make_shared<bool>(false);
    auto collections = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("GLOB", *globs);
    cmd->add_flag("-v,--verbose", *verbose, "Also show dimensions and storage class");
    cmd->add_option("--collections", *collections, "Only types with datasets in these collections");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      Table table(*verbose ? std::vector<std::string>{"name", "dimensions", "storage class"} : std::vector<std::string>{"name"});
      for (const auto& t : b->query_dataset_types({split_commas(*globs), split_commas(*collections)})) {
        if (*verbose) table.add_row({t.name, fmt::format("[{}]", fmt::join(t.dimensions.required(), ", ")), t.storage_class});
        else table.add_row({t.name});
      }
      if (table.empty()) std::cout << "No results. Try --help for more information.\n";
      else table.print(std::cout, Align::kLeft);
    });
  }
  // ---- query-datasets
  {
    auto* cmd = app.add_subcommand("query-datasets", "List datasets.");
    auto repo = std::make_shared<std::string>();
    auto globs = std::make_shared<std::vector<std::string>>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto binds = std::make_shared<std::vector<std::string>>();
    auto find_first = std::make_shared<bool>(false);
    auto limit = std::make_shared<std::int64_t>(-20000);
    auto show_uri = std::make_shared<bool>(false);
    auto order_by = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("GLOB", *globs, "Dataset types (names or globs)");
    cmd->add_option("--collections", *collections, "Collections to search (globs allowed without --find-first)");
    cmd->add_option("--where", *where, "A query expression, e.g. \"instrument='HSC' AND visit IN (903334, 903336)\"");
    cmd->add_option("--bind", *binds, "NAME=VALUE for :NAME in --where");
    cmd->add_flag("--find-first,!--no-find-first", *find_first, "Only the first dataset per data ID in collection order");
    cmd->add_option("--limit", *limit, "At most this many rows; 0 for all; negative: warn when more exist")->capture_default_str();
    cmd->add_option("--order-by", *order_by, "Dimensions or fields to sort by (-name for descending); default: by data ID");
    cmd->add_flag("--show-uri", *show_uri, "Show the file of each dataset");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      std::int64_t cap = *limit == 0 ? 0 : std::abs(*limit);
      butler::DatasetsRequest request;
      request.dataset_types = split_commas(*globs);
      request.collections = split_commas(*collections);
      request.where = *where;
      request.binds = parse_binds(*binds);
      request.find_first = *find_first ? butler::FindFirst::kYes : butler::FindFirst::kNo;
      request.order_by = butler::OrderBy::parse(split_commas(*order_by));
      request.limit = cap;
      auto results = b->query_datasets(request);
      // One table per dataset type, printed as each type's rows end (rows stream type by type).
      bool printed = false;
      std::optional<Table> table;
      std::string table_type;
      auto flush = [&] {
        if (!table) return;
        std::cout << "\n";
        table->print(std::cout);
        printed = true;
        table.reset();
      };
      std::vector<std::string> keys;
      while (auto ref = results.next()) {
        if (!table || ref->dataset_type != table_type) {
          flush();
          table_type = ref->dataset_type;
          const auto& type = b->registry().get_dataset_type(ref->dataset_type);
          keys = type.dimensions.data_id_keys();
          std::vector<std::string> columns{"type", "run", "id"};
          columns.insert(columns.end(), keys.begin(), keys.end());
          if (*show_uri) columns.emplace_back("URI");
          table.emplace(columns);
        }
        std::vector<std::string> row{ref->dataset_type, ref->run, ref->id.str()};
        for (const auto& k : keys) {
          auto it = ref->data_id.find(k);
          row.push_back(it == ref->data_id.end() ? "" : value_text(it->second));
        }
        if (*show_uri) {
          auto files = b->registry().stored_files(ref->id);
          // As Rubin prints them: "file:///…" or the server's URI, never a bare path.
          row.push_back(files.empty() ? "" : datastore::ResourcePath::parse(b->artifact_uri(files.front())).uri());
        }
        table->add_row(std::move(row));
      }
      flush();
      if (results.more() && *limit < 0)
        std::cerr << fmt::format("warning: more datasets are available than the limit of {}; use --limit 0 for all\n", cap);
      if (!printed) print_no_results(explain(results.why_empty()));
    });
  }
  // ---- query-data-ids
  {
    auto* cmd = app.add_subcommand("query-data-ids", "List data IDs.");
    auto repo = std::make_shared<std::string>();
    auto dims = std::make_shared<std::vector<std::string>>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto datasets = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto binds = std::make_shared<std::vector<std::string>>();
    auto limit = std::make_shared<std::int64_t>(-20000);
    auto offset = std::make_shared<std::int64_t>(0);
    auto order_by = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DIMENSIONS", *dims, "Dimensions of the data IDs");
    cmd->add_option("--collections", *collections, "Collections searched for --datasets (default: all)");
    cmd->add_option("--datasets", *datasets, "Only data IDs with datasets of these types");
    cmd->add_option("--where", *where, "A query expression");
    cmd->add_option("--bind", *binds, "NAME=VALUE for :NAME in --where");
    cmd->add_option("--limit", *limit, "At most this many rows; 0 for all; negative: warn when more exist")->capture_default_str();
    cmd->add_option("--offset", *offset, "Skip this many rows first");
    cmd->add_option("--order-by", *order_by, "Dimensions or fields to sort by (-name for descending); default: by data ID");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      std::int64_t cap = *limit == 0 ? 0 : std::abs(*limit);
      butler::DataIdsRequest request;
      request.dimensions = split_commas(*dims);
      if (request.dimensions.empty() && datasets->empty())
        throw InvalidArgumentError("give at least one dimension (e.g. visit detector)");
      request.dataset_types = split_commas(*datasets);
      request.collections = split_commas(*collections);
      request.where = *where;
      request.binds = parse_binds(*binds);
      request.order_by = butler::OrderBy::parse(split_commas(*order_by));
      request.limit = cap;
      request.offset = *offset;
      auto results = b->query_data_ids(request);
      auto keys = results.dimensions().data_id_keys();
      std::vector<std::vector<std::string>> rows;
      while (auto id = results.next()) {
        std::vector<std::string> row;
        for (const auto& k : keys) {
          auto it = id->find(k);
          row.push_back(it == id->end() ? "" : value_text(it->second));
        }
        rows.push_back(std::move(row));
      }
      if (results.more() && *limit < 0)
        std::cerr << fmt::format("warning: more data IDs are available than the limit of {}; use --limit 0 for all\n", cap);
      if (rows.empty()) {
        print_no_results(explain(results.why_empty()));
        return;
      }
      Table table(keys);
      for (auto& r : rows) table.add_row(std::move(r));
      table.print(std::cout);
    });
  }
  // ---- query-dimension-records
  {
    auto* cmd = app.add_subcommand("query-dimension-records", "List the records of a dimension element.");
    auto repo = std::make_shared<std::string>();
    auto element = std::make_shared<std::string>();
    auto where = std::make_shared<std::string>();
    auto binds = std::make_shared<std::vector<std::string>>();
    auto limit = std::make_shared<std::int64_t>(-20000);
    auto offset = std::make_shared<std::int64_t>(0);
    auto collections = std::make_shared<std::vector<std::string>>();
    auto datasets = std::make_shared<std::vector<std::string>>();
    auto order_by = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("ELEMENT", *element)->required();
    cmd->add_option("--where", *where, "A query expression");
    cmd->add_option("--bind", *binds, "NAME=VALUE for :NAME in --where");
    cmd->add_option("--limit", *limit, "At most this many rows; 0 for all; negative: warn when more exist")->capture_default_str();
    cmd->add_option("--offset", *offset, "Skip this many rows first");
    cmd->add_option("--collections", *collections, "Collections searched for --datasets (default: all)");
    cmd->add_option("--datasets", *datasets, "Only records of data IDs with datasets of this type");
    cmd->add_option("--order-by", *order_by, "Fields to sort by (e.g. -full_name for descending); default: by key");
    auto no_check = std::make_shared<bool>(false);
    cmd->add_flag("--no-check", *no_check, "Accepted for compatibility (no effect)");
    on_run(cmd, [=] {
      (void)no_check;  // accepted, unused: storage must outlive parsing
      auto b = Butler::open(*repo, Access::kReadOnly);
      butler::DimensionRecordsRequest request;
      request.element = *element;
      request.where = *where;
      request.binds = parse_binds(*binds);
      request.order_by = butler::OrderBy::parse(split_commas(*order_by));
      request.limit = *limit == 0 ? 0 : std::abs(*limit);
      request.offset = *offset;
      auto types = split_commas(*datasets);
      if (types.size() > 1) throw InvalidArgumentError("--datasets takes one dataset type here");
      if (!types.empty()) request.dataset_type = types[0];
      request.collections = split_commas(*collections);
      auto results = b->query_dimension_records(request);
      const auto& e = results.element();
      auto records = results.all();
      if (results.more() && *limit < 0)
        std::cerr << fmt::format("warning: more records are available than the limit of {}; use --limit 0 for all\n", request.limit);
      if (records.empty()) {
        print_no_results(explain(results.why_empty()));
        return;
      }
      std::vector<std::string> columns;
      for (const auto& f : e.record_fields())
        columns.push_back(f.type == dimensions::FieldType::kTimespan ? "timespan (TAI)" : f.name);
      Table table(columns);
      for (const auto& r : records) {
        std::vector<std::string> cells;
        for (std::size_t i = 0; i < e.record_fields().size(); ++i) {
          if (e.record_fields()[i].type == dimensions::FieldType::kRegion && !std::holds_alternative<std::monostate>(r.values()[i]))
            cells.emplace_back("(elided)");
          else
            cells.push_back(dimensions::to_string(r.values()[i]));
        }
        table.add_row(std::move(cells));
      }
      table.print(std::cout);
    });
  }
  // ---- prune-datasets
  {
    auto* cmd = app.add_subcommand("prune-datasets", "Remove datasets, or their files, or their tags.");
    auto repo = std::make_shared<std::string>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto types = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto find_all = std::make_shared<bool>(false);
    auto disassociate = std::make_shared<std::vector<std::string>>();
    auto purge = std::make_shared<std::string>();
    auto unstore = std::make_shared<bool>(false);
    auto dry_run = std::make_shared<bool>(false);
    auto no_confirm = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("COLLECTIONS", *collections);
    cmd->add_option("--datasets", *types, "Dataset types (globs)");
    cmd->add_option("--where", *where);
    cmd->add_flag("--find-all", *find_all, "All matching datasets, not only the first per data ID");
    cmd->add_option("--disassociate", *disassociate, "Remove from these TAGGED collections only");
    cmd->add_option("--purge", *purge, "Delete the datasets completely; RUN must be their run");
    cmd->add_flag("--unstore", *unstore, "Delete the files, keep the registry entries");
    cmd->add_flag("--dry-run", *dry_run, "Show what would be done");
    cmd->add_flag("!--confirm,--no-confirm", *no_confirm);
    cmd->add_flag("--quiet", *quiet);
    on_run(cmd, [=] {
      if (purge->empty() && disassociate->empty() && !*unstore)
        throw InvalidArgumentError("say what to do: --purge RUN, --disassociate TAG or --unstore");
      auto b = Butler::open(*repo, *dry_run ? Access::kReadOnly : Access::kReadWrite);
      butler::PruneRequest request;
      request.collections = split_commas(*collections);
      if (request.collections.empty() && purge->empty()) throw InvalidArgumentError("give the COLLECTIONS to search");
      request.dataset_types = split_commas(*types);
      request.where = *where;
      request.find_first = *find_all ? butler::FindFirst::kNo : butler::FindFirst::kYes;
      if (!purge->empty()) request.actions.insert(butler::PruneAction::kPurge);
      if (*unstore) request.actions.insert(butler::PruneAction::kUnstore);
      request.disassociate_from = split_commas(*disassociate);
      if (!request.disassociate_from.empty()) request.actions.insert(butler::PruneAction::kDisassociate);
      request.purge_run = *purge;
      auto all = b->prune_selection(request);
      if (!*quiet) {
        Table table({"type", "run", "id"});
        for (const auto& r : all) table.add_row({r.dataset_type, r.run, r.id.str()});
        if (table.empty()) std::cout << "No datasets match.\n";
        else table.print(std::cout);
      }
      if (*dry_run || all.empty()) return;
      if (!*no_confirm && !confirm("Continue?")) {
        std::cout << "Aborted.\n";
        return;
      }
      b->prune(request, all);
    });
  }
}

}  // namespace majordome::cli
