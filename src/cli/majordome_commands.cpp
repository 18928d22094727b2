// majordome's own commands (beyond Rubin's butler and pipetask).
#include <iostream>

#include "commands.hpp"

namespace majordome::cli {

void add_majordome_commands(CLI::App& app) {
  auto* version = app.add_subcommand("version", "Print majordome's version.");
  on_run(version, [] { std::cout << "majordome " << MAJORDOME_VERSION << "\n"; });
}

}  // namespace majordome::cli
