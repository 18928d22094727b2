// `butler` subcommands: thin wrappers over majordome::butler::Butler.
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

namespace {

std::map<const CLI::App*, std::function<void()>>& actions() {
  static std::map<const CLI::App*, std::function<void()>> registry;
  return registry;
}

// Options given as "a,b c" become ["a", "b", "c"].
std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::stringstream ss(item);
    for (std::string part; std::getline(ss, part, ',');)
      if (!part.empty()) out.push_back(part);
  }
  return out;
}

query::Binds parse_binds(const std::vector<std::string>& items) {
  query::Binds binds;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InvalidArgumentError(fmt::format("--bind '{}' must be NAME=VALUE", item));
    binds[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return binds;
}

bool confirm(const std::string& question) {
  std::cout << question << " [y/N]: " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) {
    std::cout << "\n";
    return false;
  }
  return answer == "y" || answer == "Y" || answer == "yes";
}

std::string value_text(const registry::DataIdValue& v) { return dimensions::to_string(v); }

// Registers `name` as a collection of `type` for a command that writes into it, refusing an
// existing collection of another type with the command's own advice.
void require_collection_type(registry::Registry& reg, const std::string& name, CollectionType type,
                             const std::string& command) {
  if (auto existing = reg.find_collection(name); existing && existing->type != type)
    throw CollectionTypeError(fmt::format(
        "'{}' is a {} collection; {} writes into a {} collection: give a new name (it is created as {}) or an "
        "existing {} collection", name, registry::collection_type_name(existing->type), command,
        registry::collection_type_name(type), registry::collection_type_name(type), registry::collection_type_name(type)));
  reg.register_collection(name, type);
}

// Datasets of the types matching `globs` in `collections`, constrained by `where`.
// Datasets of the types matching `globs` in `collections`, per type. With a limit, at most
// that many in all; `more` (when given) tells whether more exist. `explanation` (when given)
// receives why nothing was found.
std::vector<std::pair<DatasetType, std::vector<DatasetRef>>> find_datasets(
    registry::Registry& reg, const std::vector<std::string>& globs, const std::vector<std::string>& collections,
    const std::string& where, const query::Binds& binds, bool find_first, std::int64_t limit,
    const std::vector<std::string>& order_by = {}, bool* more = nullptr, std::vector<std::string>* explanation = nullptr) {
  std::vector<DatasetType> types;
  std::vector<std::string> patterns = globs.empty() ? std::vector<std::string>{"*"} : globs;
  for (const auto& g : patterns) {
    bool wildcard = g.find_first_of("*?[") != std::string::npos;
    if (wildcard) {
      for (auto& t : reg.query_dataset_types({g})) types.push_back(std::move(t));
    } else {
      types.push_back(reg.get_dataset_type(g));
    }
  }
  if (types.empty() && explanation)
    explanation->push_back(fmt::format("no dataset type matches {}", fmt::join(patterns, ", ")));
  std::vector<std::string> search = collections.empty() ? std::vector<std::string>{"*"} : collections;
  std::vector<std::pair<DatasetType, std::vector<DatasetRef>>> out;
  std::int64_t remaining = limit;
  for (const auto& t : types) {
    if (limit > 0 && remaining <= 0) {
      if (more) *more = true;
      break;
    }
    query::QuerySpec spec;
    spec.datasets = query::DatasetSearch{t.name, search, find_first};
    spec.where = where;
    spec.binds = binds;
    spec.order_by = order_by;
    spec.limit = limit > 0 ? remaining : 0;
    auto result = query::run_query(reg, spec);
    std::vector<DatasetRef> refs;
    for (auto& row : result.rows) refs.push_back(std::move(*row.dataset));
    if (more && result.more) *more = true;
    if (explanation && refs.empty())
      for (const auto& line : result.explanation) explanation->push_back(t.name + ": " + line);
    remaining -= static_cast<std::int64_t>(refs.size());
    out.emplace_back(t, std::move(refs));
  }
  return out;
}

// "No results." and the reasons, as Rubin's commands print an empty result.
void print_no_results(const std::vector<std::string>& explanation) {
  std::cout << "No results. Try --help for more information.\n";
  for (const auto& line : explanation) std::cout << "  " << line << "\n";
}

void print_query_collections(registry::Registry& reg, const std::vector<std::string>& globs,
                             const std::string& chains_mode, const std::vector<std::string>& types) {
  std::string mode = chains_mode;
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::optional<CollectionType> type_filter;
  std::vector<registry::CollectionRecord> all;
  if (types.empty()) {
    all = reg.query_collections(globs);
  } else {
    for (const auto& t : types)
      for (auto& c : reg.query_collections(globs, registry::parse_collection_type(t))) all.push_back(std::move(c));
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  auto type_name = [](CollectionType t) { return std::string(registry::collection_type_name(t)); };
  if (mode == "TABLE" || mode == "INVERSE-TABLE") {
    bool inverse = mode == "INVERSE-TABLE";
    Table table({"Name", "Type", inverse ? "Parents" : "Children"});
    for (const auto& c : all) {
      std::vector<std::string> related = inverse ? reg.chain_parents(c.name)
                                                 : (c.type == CollectionType::kChained ? reg.chain_children(c.name)
                                                                                       : std::vector<std::string>{});
      if (related.empty()) related.emplace_back("");
      for (std::size_t i = 0; i < related.size(); ++i)
        table.add_row({i == 0 ? c.name : "", i == 0 ? type_name(c.type) : "", related[i]});
    }
    table.print(std::cout, Align::kLeft);
  } else if (mode == "TREE" || mode == "INVERSE-TREE") {
    bool inverse = mode == "INVERSE-TREE";
    Table table({"Name", "Type"});
    std::function<void(const std::string&, int, std::set<std::string>&)> add = [&](const std::string& name, int depth,
                                                                                  std::set<std::string>& path) {
      auto c = reg.get_collection(name);
      table.add_row({std::string(2 * static_cast<std::size_t>(depth), ' ') + name, type_name(c.type)});
      if (!path.insert(name).second) return;
      std::vector<std::string> next = inverse ? reg.chain_parents(name)
                                              : (c.type == CollectionType::kChained ? reg.chain_children(name)
                                                                                    : std::vector<std::string>{});
      for (const auto& n : next) add(n, depth + 1, path);
      path.erase(name);
    };
    for (const auto& c : all) {
      std::set<std::string> path;
      add(c.name, 0, path);
    }
    table.print(std::cout, Align::kLeft);
  } else if (mode == "FLATTEN") {
    Table table({"Name", "Type"});
    std::vector<std::string> names;
    for (const auto& c : all) names.push_back(c.name);
    for (const auto& c : reg.flatten(names)) table.add_row({c.name, type_name(c.type)});
    table.print(std::cout, Align::kLeft);
  } else if (mode == "NO-CHILDREN") {
    Table table({"Name", "Type"});
    for (const auto& c : all) table.add_row({c.name, type_name(c.type)});
    table.print(std::cout, Align::kLeft);
  } else {
    throw InvalidArgumentError(fmt::format("--chains '{}' is not one of TABLE, INVERSE-TABLE, TREE, INVERSE-TREE, "
                                           "FLATTEN, NO-CHILDREN", chains_mode));
  }
}

// Reads an ECSV or CSV table: the header row names the columns.
std::vector<std::map<std::string, std::string>> read_table_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw NotFoundError(fmt::format("table file {} does not exist or cannot be read", path.string()));
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  char delimiter = path.extension() == ".ecsv" ? ' ' : ',';
  std::size_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty() || line[0] == '#') {
      if (line.rfind("# delimiter:", 0) == 0) {
        auto d = line.substr(line.find(':') + 1);
        d.erase(0, d.find_first_not_of(" '\""));
        if (!d.empty()) delimiter = d[0];
      }
      continue;
    }
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == delimiter && !quoted) {
        if (!(delimiter == ' ' && cell.empty())) cells.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    if (!cell.empty() || delimiter != ' ') cells.push_back(cell);
    if (header.empty()) {
      header = cells;
      // Rows are keyed by column name: a second column of the same name would silently
      // replace the first one's values.
      for (std::size_t i = 0; i < header.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
          if (header[j] == header[i])
            throw CorruptFileError(fmt::format("{} line {}: column '{}' appears twice in the header row (columns {} "
                                               "and {}); rename one",
                                               path.string(), line_number, header[i], j + 1, i + 1));
      continue;
    }
    if (cells.size() != header.size())
      throw CorruptFileError(fmt::format("{} line {}: {} values for {} columns", path.string(), line_number,
                                         cells.size(), header.size()));
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  if (header.empty()) throw CorruptFileError(fmt::format("{} has no header row", path.string()));
  return rows;
}


}  // namespace

void on_run(CLI::App* command, std::function<void()> action) { actions()[command] = std::move(action); }

void run_selected(CLI::App& app) {
  CLI::App* current = &app;
  while (true) {
    auto selected = current->get_subcommands();
    if (selected.empty()) break;
    current = selected.front();
  }
  auto it = actions().find(current);
  if (it == actions().end()) throw InvalidArgumentError("no command given; see --help");
  it->second();
}

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
    cmd->add_option("--subset", *subset, "Only this part of the configuration (e.g. registry)");
    cmd->add_option("--file", *file, "Write to this file instead of standard output");
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadOnly);
      std::string text = b->config_yaml();
      if (!subset->empty()) {
        YAML::Node node = YAML::Load(text);
        for (std::stringstream ss(*subset); std::getline(ss, text, '.');) {
          if (!node[text]) throw NotFoundError(fmt::format("the configuration has no '{}'", *subset));
          node = node[text];
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
    cmd->add_flag("--is-calibration", *calib, "The dataset type is a calibration (certified with validity ranges)");
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
      auto& reg = b->registry();
      std::set<std::string> in_collections;
      if (!collections->empty()) {
        for (const auto& c : reg.query_collections(split_commas(*collections)))
          for (const auto& t : reg.collection_summary(c.name).dataset_types) in_collections.insert(t);
      }
      Table table(*verbose ? std::vector<std::string>{"name", "dimensions", "storage class"} : std::vector<std::string>{"name"});
      for (const auto& t : reg.query_dataset_types(split_commas(*globs))) {
        if (!collections->empty() && !in_collections.count(t.name)) continue;
        if (*verbose) table.add_row({t.name, fmt::format("[{}]", fmt::join(t.dimensions.required(), ", ")), t.storage_class});
        else table.add_row({t.name});
      }
      if (table.empty()) std::cout << "No results. Try --help for more information.\n";
      else table.print(std::cout, Align::kLeft);
    });
  }
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
      auto& reg = b->registry();
      std::int64_t cap = *limit == 0 ? 0 : std::abs(*limit);
      bool more = false;
      std::vector<std::string> explanation;
      auto results = find_datasets(reg, split_commas(*globs), split_commas(*collections), *where, parse_binds(*binds),
                                   *find_first, cap, split_commas(*order_by), &more, &explanation);
      if (more && *limit < 0)
        std::cerr << fmt::format("warning: more datasets are available than the limit of {}; use --limit 0 for all\n", cap);
      bool printed = false;
      for (auto& [type, refs] : results) {
        if (refs.empty()) continue;
        std::vector<std::string> columns{"type", "run", "id"};
        auto keys = type.dimensions.data_id_keys();
        columns.insert(columns.end(), keys.begin(), keys.end());
        if (*show_uri) columns.emplace_back("URI");
        Table table(columns);
        for (const auto& ref : refs) {
          std::vector<std::string> row{type.name, ref.run, ref.id.str()};
          for (const auto& k : keys) {
            auto it = ref.data_id.find(k);
            row.push_back(it == ref.data_id.end() ? "" : value_text(it->second));
          }
          if (*show_uri) {
            auto files = reg.stored_files(ref.id);
            row.push_back(files.empty() ? "" : b->artifact_uri(files.front()));
          }
          table.add_row(std::move(row));
        }
        std::cout << "\n";
        table.print(std::cout);
        printed = true;
      }
      if (!printed) print_no_results(explanation);
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
      auto& reg = b->registry();
      auto names = split_commas(*dims);
      if (names.empty() && datasets->empty()) throw InvalidArgumentError("give at least one dimension (e.g. visit detector)");
      std::vector<std::string> types;
      for (const auto& g : split_commas(*datasets)) {
        if (g.find_first_of("*?[") != std::string::npos)
          for (const auto& t : reg.query_dataset_types({g})) types.push_back(t.name);
        else
          types.push_back(reg.get_dataset_type(g).name);
      }
      std::int64_t cap = *limit == 0 ? 0 : std::abs(*limit);
      std::vector<std::string> keys;
      std::vector<std::vector<std::string>> rows;
      std::set<std::vector<std::string>> seen;
      std::vector<std::string> explanation;
      bool more = false;
      // One query per dataset type (data IDs with a dataset of any of them), or one without.
      std::vector<std::optional<std::string>> searches;
      for (const auto& t : types) searches.emplace_back(t);
      if (searches.empty()) searches.emplace_back(std::nullopt);
      for (const auto& type : searches) {
        query::QuerySpec spec;
        spec.dimensions = names;
        if (type)
          spec.datasets = query::DatasetSearch{*type, collections->empty() ? std::vector<std::string>{"*"} : split_commas(*collections), false};
        spec.where = *where;
        spec.binds = parse_binds(*binds);
        spec.order_by = split_commas(*order_by);
        spec.offset = searches.size() == 1 ? *offset : 0;
        spec.limit = searches.size() == 1 ? cap : 0;
        if (names.empty() && type) spec.dimensions = reg.get_dataset_type(*type).dimensions.required();
        auto result = query::run_query(reg, spec);
        auto group = reg.universe().group(spec.dimensions);
        if (keys.empty()) keys = group.data_id_keys();
        more = more || result.more;
        for (const auto& line : result.explanation) explanation.push_back(type ? *type + ": " + line : line);
        for (const auto& r : result.rows) {
          std::vector<std::string> row;
          for (const auto& k : keys) {
            auto it = r.data_id.find(k);
            row.push_back(it == r.data_id.end() ? "" : value_text(it->second));
          }
          if (seen.insert(row).second) rows.push_back(std::move(row));
        }
      }
      if (searches.size() > 1) {  // several dataset types: offset and limit over the union
        std::int64_t skip = std::min<std::int64_t>(*offset, static_cast<std::int64_t>(rows.size()));
        rows.erase(rows.begin(), rows.begin() + skip);
        if (cap > 0 && static_cast<std::int64_t>(rows.size()) > cap) {
          rows.resize(static_cast<std::size_t>(cap));
          more = true;
        }
      }
      if (more && *limit < 0)
        std::cerr << fmt::format("warning: more data IDs are available than the limit of {}; use --limit 0 for all\n", cap);
      if (rows.empty()) {
        print_no_results(explanation);
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
      auto& reg = b->registry();
      const auto& e = reg.universe().get(*element);
      query::QuerySpec spec;
      spec.records_of = *element;
      spec.where = *where;
      spec.binds = parse_binds(*binds);
      spec.order_by = split_commas(*order_by);
      spec.limit = *limit == 0 ? 0 : std::abs(*limit);
      spec.offset = *offset;
      auto types = split_commas(*datasets);
      if (types.size() > 1) throw InvalidArgumentError("--datasets takes one dataset type here");
      if (!types.empty())
        spec.datasets = query::DatasetSearch{types[0], collections->empty() ? std::vector<std::string>{"*"} : split_commas(*collections), false};
      auto result = query::run_query(reg, spec);
      if (result.more && *limit < 0)
        std::cerr << fmt::format("warning: more records are available than the limit of {}; use --limit 0 for all\n", spec.limit);
      if (result.rows.empty()) {
        print_no_results(result.explanation);
        return;
      }
      std::vector<std::string> columns;
      for (const auto& f : e.record_fields())
        columns.push_back(f.type == dimensions::FieldType::kTimespan ? "timespan (TAI)" : f.name);
      Table table(columns);
      for (const auto& row : result.rows) {
        const auto& r = *row.record;
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
    cmd->add_option("TABLE_FILE", *table_file, "ECSV or CSV with a file column (first column, or named URI/path) and data ID columns")->required();
    cmd->add_option("--prefix", *prefix, "Folder that relative file paths in the table are inside (default: the current "
                    "directory); 'move' takes only files inside it");
    cmd->add_option("-t,--transfer", *transfer, "auto, copy, move, link, hardlink, symlink, relsymlink, direct, split")->capture_default_str();
    cmd->add_option("--formatter", *formatter, "Formatter name recorded with the files");
    cmd->add_option("--id-generation-mode", *id_mode, "UNIQUE, DATAID_TYPE or DATAID_TYPE_RUN")->capture_default_str();
    cmd->add_option("--data-id", *data_id, "KEY=VALUE added to every data ID (e.g. instrument=HSC)");
    on_run(cmd, [=] {
      datastore::parse_transfer_mode(*transfer);  // fail before opening anything
      auto mode = registry::parse_id_generation_mode(*id_mode);
      auto b = Butler::open(*repo, Access::kReadWrite);
      auto& reg = b->registry();
      auto dataset_type = reg.get_dataset_type(*type);
      auto rows = read_table_file(*table_file);
      registry::DataId common;
      for (const auto& item : split_commas(*data_id))
        for (auto& [k, v] : dimensions::parse_data_id(item)) common[k] = v;
      std::vector<butler::FileDataset> files;
      for (const auto& row : rows) {
        std::string path;
        registry::DataId id = common;
        for (const auto& [column, value] : row) {
          if (column == "URI" || column == "uri" || column == "path" || column == "file" || column == "filename") {
            path = value;
          } else if (dataset_type.dimensions.contains(column)) {
            id[column] = value;
          } else if (reg.universe().is_dimension(column)) {
            id[column] = value;
          } else {
            throw InvalidArgumentError(fmt::format("table column '{}' is neither a file column (URI, path, file) nor a "
                                                   "dimension of '{}' ({})", column, *type, dataset_type.dimensions.str()));
          }
        }
        if (path.empty()) throw InvalidArgumentError(fmt::format("{} has no URI/path/file column", *table_file));
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
      auto refs = b->ingest(files, *run, options);
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
    on_run(cmd, [=] {
      datastore::parse_transfer_mode(*transfer);
      auto b = Butler::open(*repo, Access::kReadWrite);
      Butler::ImportOptions options;
      options.transfer = *transfer;
      options.skip_elements = split_commas(*skip);
      options.without_datastore = *without;
      b->import_yaml(*directory, *export_file, options);
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
      auto& reg = b->registry();
      auto search = split_commas(*collections);
      if (!purge->empty() && search.empty()) search = {*purge};
      if (search.empty()) throw InvalidArgumentError("give the COLLECTIONS to search");
      std::vector<DatasetRef> all;
      for (auto& [type, refs] : find_datasets(reg, split_commas(*types), search, *where, {}, !*find_all, 0))
        all.insert(all.end(), refs.begin(), refs.end());
      if (!purge->empty())
        for (const auto& r : all)
          if (r.run != *purge)
            throw InvalidArgumentError(fmt::format("dataset {} is in run '{}', not '{}' given to --purge", r.id.str(), r.run, *purge));
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
      for (const auto& tag : split_commas(*disassociate)) reg.disassociate(tag, all);
      std::vector<Uuid> ids;
      for (const auto& r : all) ids.push_back(r.id);
      if (!purge->empty()) {
        b->remove_datasets(ids);
      } else if (*unstore) {
        b->unstore_datasets(ids);
      }
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
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("DESTINATION", *dest)->required();
    cmd->add_option("--collections", *collections);
    cmd->add_option("-d,--dataset-type", *types);
    cmd->add_option("--where", *where);
    cmd->add_flag("!--preserve-path,--no-preserve-path", *no_preserve, "Flatten into DESTINATION instead of keeping datastore paths");
    cmd->add_option("-t,--transfer", *transfer, "copy, link, hardlink, symlink or relsymlink")->capture_default_str();
    cmd->add_flag("--clobber", *clobber, "Overwrite existing files");
    on_run(cmd, [=] {
      datastore::parse_transfer_mode(*transfer);  // fail before opening anything
      auto b = Butler::open(*repo, Access::kReadOnly);
      auto& reg = b->registry();
      std::size_t copied = 0;
      for (auto& [type, refs] : find_datasets(reg, split_commas(*types), split_commas(*collections), *where, {}, false, 0))
        for (const auto& ref : refs)
          for (const auto& f : reg.stored_files(ref.id)) {
            std::cout << b->retrieve_artifact(f, *dest, !*no_preserve, *transfer, *clobber).string() << "\n";
            ++copied;
          }
      std::cerr << fmt::format("Retrieved {} file(s).\n", copied);
    });
  }
  // ---- cleanup (majordome's own)
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
}

void add_pipetask_commands(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a pipeline (not available yet in this majordome).");
  on_run(cmd, [] {
    throw UnsupportedError("pipetask run is not implemented yet in this version of majordome");
  });
}

}  // namespace majordome::cli
