// Registration of the command-line subcommands; each adds its own options and a callback
// that run_selected() invokes after parsing (so errors are reported uniformly).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace majordome::cli {

void add_butler_commands(CLI::App& app);      // create, config-dump, ingest-files, import, export, …
void add_dataset_commands(CLI::App& butler);    // dataset types, query-datasets/-data-ids/-dimension-records, prune
void add_collection_commands(CLI::App& butler); // collection-chain, query-collections, associate, certify, remove-*
void add_pipetask_commands(CLI::App& app);
void add_majordome_commands(CLI::App& app);

// Groups of subcommands, one file each (added to `butler` or to `majordome`).
void add_instrument_commands(CLI::App& butler);  // register-instrument, ingest-raws, define-visits, …
void add_skymap_commands(CLI::App& butler);      // register-skymap
void add_translate_command(CLI::App& app);       // majordome translate-header
void add_sim_command(CLI::App& app);             // majordome sim
void add_refcat_command(CLI::App& app);          // majordome convert-refcat
void add_query_commands(CLI::App& app);          // majordome parse-expression

// Registers the action of a subcommand.
void on_run(CLI::App* command, std::function<void()> action);
// Runs the action of the innermost selected subcommand.
void run_selected(CLI::App& app);

}  // namespace majordome::cli
