// What the butler command files share: option parsing, confirmation, empty-result messages,
// and the registration of subcommand actions.
#include "cli_support.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "majordome/core/error.hpp"
#include "table.hpp"

namespace majordome::cli {

namespace fs = std::filesystem;
using registry::CollectionType;
using registry::DatasetRef;
using registry::DatasetType;

namespace {

std::map<const CLI::App*, std::function<void()>>& actions() {
  static std::map<const CLI::App*, std::function<void()>> registry;
  return registry;
}

}  // namespace

std::shared_ptr<ProgressDisplay> add_progress_option(CLI::App* command) {
  auto display = std::make_shared<ProgressDisplay>(ProgressDisplay::kAuto);
  command->add_flag_callback("--progress", [display] { *display = ProgressDisplay::kBar; },
                             "Show a progress bar (count, rate, ETA) even when standard error is not a terminal "
                             "(default: a bar on a terminal, a log line every few seconds otherwise)");
  command->add_flag_callback("--no-progress", [display] { *display = ProgressDisplay::kNone; },
                             "Show no progress");
  return display;
}

void add_track_file_attrs_flag(CLI::App* command) {
  command->add_flag_function("--track-file-attrs,!--no-track-file-attrs", [](std::int64_t) {},
                             "Accepted for Rubin compatibility: majordome records every file's size either way");
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

// The reasons of an empty result as lines, each with the dataset type it concerns and, for
// an element without records, the command that fills it.
std::vector<std::string> explain(const std::vector<query::EmptyReason>& reasons) {
  static const std::map<std::string, std::string> kHints{
      {"visit", "run 'butler define-visits REPO INSTRUMENT'"},
      {"visit_detector_region", "run 'butler define-visits REPO INSTRUMENT'"},
      {"visit_definition", "run 'butler define-visits REPO INSTRUMENT'"},
      {"exposure", "ingest raws with 'butler ingest-raws'"},
      {"group", "ingest raws with 'butler ingest-raws'"},
      {"day_obs", "ingest raws with 'butler ingest-raws'"},
      {"tract", "register a skymap with 'butler register-skymap'"},
      {"patch", "register a skymap with 'butler register-skymap'"},
      {"skymap", "register a skymap with 'butler register-skymap'"},
      {"instrument", "register an instrument with 'butler register-instrument'"},
      {"detector", "register an instrument with 'butler register-instrument'"},
      {"physical_filter", "register an instrument with 'butler register-instrument'"},
  };
  std::vector<std::string> lines;
  for (const auto& r : reasons) {
    std::string line = r.dataset_type.empty() ? r.message() : r.dataset_type + ": " + r.message();
    if (r.kind == query::EmptyReason::Kind::kNoRecords)
      if (auto it = kHints.find(r.names.at(0)); it != kHints.end()) line += "; " + it->second;
    lines.push_back(std::move(line));
  }
  return lines;
}

// "No results." and the reasons, as Rubin's commands print an empty result.
void print_no_results(const std::vector<std::string>& explanation) {
  std::cout << "No results. Try --help for more information.\n";
  for (const auto& line : explanation) std::cout << "  " << line << "\n";
}

void print_query_collections(registry::Registry& reg, const std::vector<std::string>& globs,
                             const std::string& chains_mode, const std::vector<std::string>& types,
                             bool show_dataset_types, const std::vector<std::string>& exclude_dataset_types) {
  std::string mode = chains_mode;
  // With --show-dataset-types, a last column lists the collection's dataset types, one per line.
  auto header = [&](std::vector<std::string> columns) {
    if (show_dataset_types) columns.emplace_back("Dataset Types");
    return Table(columns);
  };
  auto emit = [&](Table& table, std::vector<std::string> cells, const std::string& collection) {
    if (!show_dataset_types) {
      table.add_row(cells);
      return;
    }
    std::vector<std::string> shown;
    for (const auto& t : reg.collection_summary(collection).dataset_types) {
      bool excluded = false;
      for (const auto& g : exclude_dataset_types) excluded = excluded || ::fnmatch(g.c_str(), t.c_str(), 0) == 0;
      if (!excluded) shown.push_back(t);
    }
    if (shown.empty()) shown.emplace_back("");
    for (std::size_t i = 0; i < shown.size(); ++i) {
      std::vector<std::string> row = i == 0 ? cells : std::vector<std::string>(cells.size(), "");
      row.push_back(shown[i]);
      table.add_row(row);
    }
  };
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
    Table table = header({"Name", "Type", inverse ? "Parents" : "Children"});
    for (const auto& c : all) {
      std::vector<std::string> related = inverse ? reg.chain_parents(c.name)
                                                 : (c.type == CollectionType::kChained ? reg.chain_children(c.name)
                                                                                       : std::vector<std::string>{});
      if (related.empty()) related.emplace_back("");
      for (std::size_t i = 0; i < related.size(); ++i) {
        std::vector<std::string> cells{i == 0 ? c.name : "", i == 0 ? type_name(c.type) : "", related[i]};
        if (i == 0) emit(table, cells, c.name);
        else table.add_row(show_dataset_types ? std::vector<std::string>{"", "", related[i], ""} : cells);
      }
    }
    table.print(std::cout, Align::kLeft);
  } else if (mode == "TREE" || mode == "INVERSE-TREE") {
    bool inverse = mode == "INVERSE-TREE";
    Table table = header({"Name", "Type"});
    std::function<void(const std::string&, int, std::set<std::string>&)> add = [&](const std::string& name, int depth,
                                                                                  std::set<std::string>& path) {
      auto c = reg.get_collection(name);
      emit(table, {std::string(2 * static_cast<std::size_t>(depth), ' ') + name, type_name(c.type)}, name);
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
    Table table = header({"Name", "Type"});
    std::vector<std::string> names;
    for (const auto& c : all) names.push_back(c.name);
    for (const auto& c : reg.flatten(names)) emit(table, {c.name, type_name(c.type)}, c.name);
    table.print(std::cout, Align::kLeft);
  } else if (mode == "NO-CHILDREN") {
    Table table = header({"Name", "Type"});
    for (const auto& c : all) emit(table, {c.name, type_name(c.type)}, c.name);
    table.print(std::cout, Align::kLeft);
  } else {
    throw InvalidArgumentError(fmt::format("--chains '{}' is not one of TABLE, INVERSE-TABLE, TREE, INVERSE-TREE, "
                                           "FLATTEN, NO-CHILDREN", chains_mode));
  }
}

// Reads an ECSV or CSV table: the header row names the columns.
TextTable read_table_file(const fs::path& path) {
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
  return {header, std::move(rows)};
}


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

}  // namespace majordome::cli
