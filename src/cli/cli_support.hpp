// What the butler command files share (cli_support.cpp). Shell helpers only: parsing and
// printing. TODO(issue 12): find_datasets and read_table_file are domain logic that belongs
// behind the Butler's query facade and a library table reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "majordome/query/query.hpp"
#include "majordome/registry/registry.hpp"
#include "progress_bar.hpp"

namespace majordome::cli {

// --progress/--no-progress of a long command (--no-progress wins; neither: a bar on a
// terminal, a log line every few seconds otherwise). Read the result when the command runs.
std::shared_ptr<ProgressDisplay> add_progress_option(CLI::App* command);

// Options given as "a,b c" become ["a", "b", "c"].
std::vector<std::string> split_commas(const std::vector<std::string>& items);
// --bind NAME=VALUE items; InvalidArgumentError for another form.
query::Binds parse_binds(const std::vector<std::string>& items);
// Asks a yes/no question on the terminal; no answer (end of input) is no.
bool confirm(const std::string& question);
std::string value_text(const registry::DataIdValue& v);
// Registers `name` as a collection of `type` for a command that writes into it, refusing an
// existing collection of another type with the command's own advice.
void require_collection_type(registry::Registry& reg, const std::string& name, registry::CollectionType type,
                             const std::string& command);
// Datasets of the types matching `globs` in `collections`, per type. With a limit, at most
// that many in all; `more` (when given) tells whether more exist. `explanation` (when given)
// receives why nothing was found.
std::vector<std::pair<registry::DatasetType, std::vector<registry::DatasetRef>>> find_datasets(
    registry::Registry& reg, const std::vector<std::string>& globs, const std::vector<std::string>& collections,
    const std::string& where, const query::Binds& binds, bool find_first, std::int64_t limit,
    const std::vector<std::string>& order_by = {}, bool* more = nullptr, std::vector<std::string>* explanation = nullptr);
// "No results." and the reasons, as Rubin's commands print an empty result.
void print_no_results(const std::vector<std::string>& explanation);
void print_query_collections(registry::Registry& reg, const std::vector<std::string>& globs,
                             const std::string& chains_mode, const std::vector<std::string>& types);
// Reads an ECSV or CSV table: the header row names the columns.
std::vector<std::map<std::string, std::string>> read_table_file(const std::filesystem::path& path);

}  // namespace majordome::cli
