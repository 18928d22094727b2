#include "majordome/cli/main.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "conventions.hpp"
#include "majordome/core/error.hpp"
#include "majordome/core/log.hpp"

namespace majordome::cli {

int main(int argc, char** argv) {
  std::string invoked = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "majordome";
  CLI::App app;
  LogOptions log;
  add_global_options(app, log);
  app.require_subcommand(1);

  if (invoked == "butler") {
    app.name("butler");
    app.description("majordome's butler: manage a data repository (compatible with Rubin's butler command).");
    add_butler_commands(app);
    add_instrument_commands(app);
    add_skymap_commands(app);
  } else if (invoked == "pipetask") {
    app.name("pipetask");
    app.description("Run pipelines over a data repository.");
    add_pipetask_commands(app);
  } else {
    app.name("majordome");
    app.description("majordome: a data repository and processing system for astronomical survey imaging.\n"
                    "Also installed as 'butler' and 'pipetask', which behave as Rubin's commands.");
    auto* butler = app.add_subcommand("butler", "Manage a data repository (Rubin's butler command)");
    butler->require_subcommand(1);
    add_butler_commands(*butler);
    add_instrument_commands(*butler);
    add_skymap_commands(*butler);
    auto* pipetask = app.add_subcommand("pipetask", "Run pipelines (Rubin's pipetask command)");
    pipetask->require_subcommand(1);
    add_pipetask_commands(*pipetask);
    add_majordome_commands(app);
    add_translate_command(app);
    add_sim_command(app);
    add_refcat_command(app);
    add_query_commands(app);
  }

  apply_conventions(app);

  if (auto wrong = misnamed_command(app, argc, argv)) {
    std::cerr << "Error: " << *wrong << "\n";
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "Error: " << explain_parse_error(app, e) << "\n";
    return 1;
  } catch (const Error& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return exit_status(e.code());
  }
  try {
    configure_logging(log);
    apply_options_files(app);
    run_selected(app);
  } catch (const Error& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return exit_status(e.code());
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return exit_status(ErrorCode::kIoError);
  } catch (const std::exception& e) {
    std::cerr << "Internal error (please report): " << e.what() << "\n";
    return exit_status(ErrorCode::kInternal);
  }
  return 0;
}

}  // namespace majordome::cli
