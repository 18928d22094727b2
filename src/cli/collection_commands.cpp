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
    cmd->add_flag("--flatten", *flatten, "Store the flattened list of the children's collections");
    cmd->add_option("--doc", *doc, "Documentation string for a new chain");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto& reg = b->registry();
      auto kids = split_commas(*children);
      registry::Transaction txn(reg.db(), registry::TransactionMode::kWrite);
      if (*mode == "redefine" || *mode == "extend" || *mode == "prepend") {
        if (!reg.find_collection(*parent)) reg.register_collection(*parent, CollectionType::kChained, *doc);
      }
      if (*flatten) {
        std::vector<std::string> flat;
        for (const auto& c : reg.flatten(kids)) flat.push_back(c.name);
        kids = flat;
      }
      std::vector<std::string> current = reg.chain_children(*parent);
      std::vector<std::string> result;
      if (*mode == "redefine") {
        result = kids;
      } else if (*mode == "extend") {
        result = current;
        for (const auto& k : kids)
          if (std::find(result.begin(), result.end(), k) == result.end()) result.push_back(k);
      } else if (*mode == "prepend") {
        result = kids;
        for (const auto& c : current)
          if (std::find(kids.begin(), kids.end(), c) == kids.end()) result.push_back(c);
      } else if (*mode == "remove") {
        for (const auto& k : kids)
          if (std::find(current.begin(), current.end(), k) == current.end())
            throw NotFoundError(fmt::format("'{}' is not a child of '{}'", k, *parent));
        for (const auto& c : current)
          if (std::find(kids.begin(), kids.end(), c) == kids.end()) result.push_back(c);
      } else {  // pop: by index (default 0)
        std::vector<long> indices;
        for (const auto& k : kids) {
          try {
            indices.push_back(std::stol(k));
          } catch (const std::exception&) {
            throw InvalidArgumentError(fmt::format("--mode pop takes child positions (integers), not '{}'", k));
          }
        }
        if (indices.empty()) indices.push_back(0);
        std::set<std::size_t> drop;
        for (auto i : indices) {
          long n = static_cast<long>(current.size());
          long idx = i < 0 ? n + i : i;
          if (idx < 0 || idx >= n)
            throw InvalidArgumentError(fmt::format("position {} is outside the chain '{}' of {} children", i, *parent, n));
          drop.insert(static_cast<std::size_t>(idx));
        }
        for (std::size_t i = 0; i < current.size(); ++i)
          if (!drop.count(i)) result.push_back(current[i]);
      }
      reg.set_chain(*parent, result);
      txn.commit();
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
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      print_query_collections(b->registry(), split_commas(*globs), *chains, split_commas(*types));
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
    cmd->add_flag("--find-first", *find_first);
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto& reg = b->registry();
      registry::Transaction txn(reg.db(), registry::TransactionMode::kWrite);  // a refused association leaves no new collection
      require_collection_type(reg, *tagged, CollectionType::kTagged, "associate");
      std::vector<DatasetRef> all;
      for (auto& [type, refs] : find_datasets(reg, split_commas(*types), split_commas(*collections), *where, {}, *find_first, 0))
        all.insert(all.end(), refs.begin(), refs.end());
      reg.associate(*tagged, all);
      txn.commit();
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
      auto& reg = b->registry();
      std::optional<TaiTime> tb, te;
      if (!begin->empty()) tb = TaiTime::from_tai_iso(*begin);
      if (!end->empty()) te = TaiTime::from_tai_iso(*end);
      std::vector<std::string> search{*input};
      auto in = reg.get_collection(*input);
      if (in.type == CollectionType::kChained && !*search_all) {
        auto kids = reg.chain_children(*input);
        search = kids.empty() ? std::vector<std::string>{} : std::vector<std::string>{kids.front()};
      }
      registry::DatasetQuery q;
      q.collections = search;
      q.find_first = true;
      auto refs = reg.query_datasets(*type, q);
      if (refs.empty())
        throw NotFoundError(fmt::format("no '{}' datasets in '{}' to certify", *type, *input));
      registry::Transaction txn(reg.db(), registry::TransactionMode::kWrite);
      require_collection_type(reg, *output, CollectionType::kCalibration, "certify-calibrations");
      reg.certify(*output, refs, Timespan::between(tb, te));
      txn.commit();
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
    cmd->add_flag("--force", *force, "Also remove the runs from the chains that contain them");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto& reg = b->registry();
      auto runs = reg.query_collections(split_commas(*globs), CollectionType::kRun);
      if (runs.empty()) {
        std::cout << "No RUN collections match.\n";
        return;
      }
      Table table({"Run", "Datasets"});
      for (const auto& r : runs) {
        auto count = registry::as_int(reg.db().query("SELECT COUNT(*) FROM dataset WHERE run_id = ?", {r.id}).rows[0][0]);
        table.add_row({r.name, std::to_string(count)});
      }
      table.print(std::cout, Align::kLeft);
      if (!*no_confirm && !confirm("Continue removing these runs and all their datasets?")) {
        std::cout << "Aborted.\n";
        return;
      }
      for (const auto& r : runs) {
        if (*force)
          for (const auto& parent : reg.chain_parents(r.name)) {
            auto kids = reg.chain_children(parent);
            kids.erase(std::remove(kids.begin(), kids.end(), r.name), kids.end());
            reg.set_chain(parent, kids);
          }
        b->remove_run(r.name);
      }
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
      auto& reg = b->registry();
      std::vector<registry::CollectionRecord> targets;
      for (const auto& c : reg.query_collections(split_commas(*globs)))
        if (c.type != CollectionType::kRun) targets.push_back(c);
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
      registry::Transaction txn(reg.db(), registry::TransactionMode::kWrite);
      for (const auto& c : targets) {
        if (*from_parents)
          for (const auto& parent : reg.chain_parents(c.name)) {
            auto kids = reg.chain_children(parent);
            kids.erase(std::remove(kids.begin(), kids.end(), c.name), kids.end());
            reg.set_chain(parent, kids);
          }
        reg.remove_collection(c.name);
      }
      txn.commit();
    });
  }
}

}  // namespace majordome::cli
