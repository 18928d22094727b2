// butler collection commands: collection-chain, query-collections, associate,
// certify-calibrations, remove-runs, remove-collections.
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

void add_collection_commands(CLI::App& app) {
  // ---- collection-chain
  {
    auto* cmd = app.add_subcommand("collection-chain", "Define or modify a CHAINED collection.");
    auto repo = std::make_shared<std::string>();
    auto parent = std::make_shared<std::string>();
    auto children = std::make_shared<std::vector<std::string>>();
    auto mode = std::make_shared<std::string>("redefine");
    auto flatten = std::make_shared<bool>(false);
    auto doc = std::make_shared<std::string>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("PARENT", *parent)->required();
    cmd->add_option("CHILDREN", *children, "Child collections (comma-separated or several arguments)");
    cmd->add_option("--mode", *mode, "redefine, extend, remove, prepend or pop")
        ->check(CLI::IsMember({"redefine", "extend", "remove", "prepend", "pop"}))
        ->capture_default_str();
    cmd->add_flag("--flatten,!--no-flatten", *flatten, "Store the flattened list of the children's collections");
    cmd->add_option("--doc", *doc, "Documentation string for a new chain");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      static const std::map<std::string, butler::ChainEdit> kEdits{
          {"redefine", butler::ChainEdit::kRedefine}, {"extend", butler::ChainEdit::kExtend},
          {"remove", butler::ChainEdit::kRemove},     {"prepend", butler::ChainEdit::kPrepend},
          {"pop", butler::ChainEdit::kPop}};
      butler::ChainRequest request;
      request.parent = *parent;
      request.edit = kEdits.at(*mode);
      request.flatten = *flatten;
      request.doc = *doc;
      if (request.edit == butler::ChainEdit::kPop) {
        for (const auto& k : split_commas(*children)) {
          try {
            request.positions.push_back(std::stol(k));
          } catch (const std::exception&) {
            throw InvalidArgumentError(fmt::format("--mode pop takes child positions (integers), not '{}'", k));
          }
        }
      } else {
        request.children = split_commas(*children);
        if (request.children.empty() && request.edit != butler::ChainEdit::kRemove)
          throw InvalidArgumentError(fmt::format("Must provide children when defining a collection chain in mode {} "
                                                 "(to empty '{}', use --mode remove with its children)",
                                                 *mode, *parent));
      }
      auto result = b->edit_chain(request);
      std::cout << "[" << fmt::format("{}", fmt::join(result, ", ")) << "]\n";
    });
  }
  // ---- query-collections
  {
    auto* cmd = app.add_subcommand("query-collections", "List collections.");
    auto repo = std::make_shared<std::string>();
    auto globs = std::make_shared<std::vector<std::string>>();
    auto chains = std::make_shared<std::string>("TREE");
    auto types = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("GLOB", *globs);
    cmd->add_option("--chains", *chains, "TABLE, INVERSE-TABLE, TREE, INVERSE-TREE, FLATTEN or NO-CHILDREN")->capture_default_str();
    cmd->add_option("--collection-type", *types, "Only collections of these types");
    auto show_types = std::make_shared<bool>(false);
    auto exclude = std::make_shared<std::vector<std::string>>();
    cmd->add_flag("-t,--show-dataset-types", *show_types, "Also list the dataset types in each collection");
    cmd->add_option("--exclude-dataset-types", *exclude,
                    "With -t, dataset types (globs, comma-separated or repeated) not to list");
    on_run(cmd, [=] {
      if (!exclude->empty() && !*show_types)
        throw InvalidArgumentError("--exclude-dataset-types applies with -t/--show-dataset-types only");
      auto b = Butler::open(*repo, Access::kReadOnly);
      print_query_collections(b->registry(), split_commas(*globs), *chains, split_commas(*types), *show_types,
                              split_commas(*exclude));
    });
  }
  // ---- associate
  {
    auto* cmd = app.add_subcommand("associate", "Add datasets to a TAGGED collection.");
    auto repo = std::make_shared<std::string>();
    auto tagged = std::make_shared<std::string>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto types = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto find_first = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("COLLECTION", *tagged, "TAGGED collection (created if needed)")->required();
    cmd->add_option("--collections", *collections);
    cmd->add_option("-d,--dataset-type", *types);
    cmd->add_option("--where", *where);
    cmd->add_flag("--find-first,!--no-find-first", *find_first, "Only the first dataset per data ID in collection order");
    auto limit = std::make_shared<std::int64_t>(0);
    cmd->add_option("--limit", *limit, "At most this many datasets (0: all)")->capture_default_str();
    on_run(cmd, [=] {
      if (*limit < 0) throw InvalidArgumentError("associate --limit takes 0 (all) or a positive number");
      auto b = Butler::open(*repo, Access::kReadWrite);
      butler::DatasetsRequest datasets;
      datasets.limit = *limit;
      datasets.dataset_types = split_commas(*types);
      datasets.collections = split_commas(*collections);
      datasets.where = *where;
      datasets.find_first = *find_first ? butler::FindFirst::kYes : butler::FindFirst::kNo;
      b->associate(*tagged, datasets);
    });
  }
  // ---- certify-calibrations
  {
    auto* cmd = app.add_subcommand("certify-calibrations", "Certify calibrations from a RUN into a CALIBRATION collection.");
    auto repo = std::make_shared<std::string>();
    auto input = std::make_shared<std::string>();
    auto output = std::make_shared<std::string>();
    auto type = std::make_shared<std::string>();
    auto begin = std::make_shared<std::string>();
    auto end = std::make_shared<std::string>();
    auto search_all = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("INPUT_COLLECTION", *input)->required();
    cmd->add_option("OUTPUT_COLLECTION", *output)->required();
    cmd->add_option("DATASET_TYPE", *type)->required();
    cmd->add_option("--begin-date", *begin, "Start of validity (ISO, TAI); default unbounded");
    cmd->add_option("--end-date", *end, "End of validity (ISO, TAI); default unbounded");
    cmd->add_flag("--search-all-inputs", *search_all, "Search every child of a CHAINED input, not only the first");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      std::optional<TaiTime> tb, te;
      if (!begin->empty()) tb = TaiTime::from_tai_iso(*begin);
      if (!end->empty()) te = TaiTime::from_tai_iso(*end);
      b->certify({*input, *output, *type, Timespan::between(tb, te), *search_all});
    });
  }
  // ---- remove-runs / remove-collections
  {
    auto* cmd = app.add_subcommand("remove-runs", "Remove RUN collections and their datasets.");
    auto repo = std::make_shared<std::string>();
    auto globs = std::make_shared<std::vector<std::string>>();
    auto no_confirm = std::make_shared<bool>(false);
    auto force = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("COLLECTION", *globs, "RUN names or globs")->required();
    cmd->add_flag("!--confirm,--no-confirm", *no_confirm, "Do not ask for confirmation");
    cmd->add_flag("--force", *force,
                  "With --no-confirm, also remove the runs from the chains that contain them (a confirmed removal "
                  "always does)");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto runs = b->run_summaries(split_commas(*globs));
      if (runs.empty()) {
        std::cout << "No RUN collections match.\n";
        return;
      }
      Table table({"Run", "Datasets"});
      std::vector<std::string> names;
      for (const auto& r : runs) {
        table.add_row({r.run.name, std::to_string(r.datasets)});
        names.push_back(r.run.name);
      }
      table.print(std::cout, Align::kLeft);
      std::set<std::string> parents;
      for (const auto& n : names)
        for (const auto& p : b->registry().chain_parents(n)) parents.insert(p);
      if (!parents.empty())
        std::cout << fmt::format("They will be removed from these chains: {}\n", fmt::join(parents, ", "));
      if (!*no_confirm && !confirm("Continue removing these runs and all their datasets?")) {
        std::cout << "Aborted.\n";
        return;
      }
      // As Rubin: a confirmed removal unlinks the runs from their chains; without the
      // question, --force must say so.
      b->remove_runs(names, *force || !*no_confirm);
    });
  }
  {
    auto* cmd = app.add_subcommand("remove-collections", "Remove non-RUN collections (their datasets stay in their runs).");
    auto repo = std::make_shared<std::string>();
    auto globs = std::make_shared<std::vector<std::string>>();
    auto no_confirm = std::make_shared<bool>(false);
    auto from_parents = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("COLLECTION", *globs)->required();
    cmd->add_flag("!--confirm,--no-confirm", *no_confirm);
    cmd->add_flag("--remove-from-parents", *from_parents, "Also remove them from the chains that contain them");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      std::vector<registry::CollectionRecord> targets;
      std::vector<std::string> names;
      for (auto& c : b->query_collections({.globs = split_commas(*globs)}))
        if (c.type != CollectionType::kRun) {
          names.push_back(c.name);
          targets.push_back(std::move(c));
        }
      if (targets.empty()) {
        std::cout << "No non-RUN collections match.\n";
        return;
      }
      Table table({"Collection", "Type"});
      for (const auto& c : targets) table.add_row({c.name, std::string(registry::collection_type_name(c.type))});
      table.print(std::cout, Align::kLeft);
      if (!*no_confirm && !confirm("Continue removing these collections?")) {
        std::cout << "Aborted.\n";
        return;
      }
      b->remove_collections(names, *from_parents);
    });
  }
}

}  // namespace majordome::cli
