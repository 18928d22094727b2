// What the butler command files share (cli_support.cpp). Shell helpers only: parsing and
// printing. TODO(issue 12): read_table_file is domain logic that belongs in a library table
// reader shared with the reference-catalog conversion.
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

// Rubin's --track-file-attrs/--no-track-file-attrs, accepted: majordome records every file's
// size either way (known from the transfer; a checksum only when the repository asks for one).
void add_track_file_attrs_flag(CLI::App* command);

// Options given as "a,b c" become ["a", "b", "c"].
std::vector<std::string> split_commas(const std::vector<std::string>& items);
// --bind NAME=VALUE items; InvalidArgumentError for another form.
query::Binds parse_binds(const std::vector<std::string>& items);
// Asks a yes/no question on the terminal; no answer (end of input) is no.
bool confirm(const std::string& question);
std::string value_text(const registry::DataIdValue& v);
// The reasons of an empty result as the commands print them (with hints naming commands).
std::vector<std::string> explain(const std::vector<query::EmptyReason>& reasons);
// "No results." and the reasons, as Rubin's commands print an empty result.
void print_no_results(const std::vector<std::string>& explanation);
// With `show_dataset_types`, a last column lists each collection's dataset types (those
// matching no glob of `exclude_dataset_types`).
void print_query_collections(registry::Registry& reg, const std::vector<std::string>& globs,
                             const std::string& chains_mode, const std::vector<std::string>& types,
                             bool show_dataset_types = false,
                             const std::vector<std::string>& exclude_dataset_types = {});
// An ECSV or CSV table: the header row names the columns.
struct TextTable {
  std::vector<std::string> columns;                       // in file order
  std::vector<std::map<std::string, std::string>> rows;   // column → value
};
TextTable read_table_file(const std::filesystem::path& path);

}  // namespace majordome::cli
