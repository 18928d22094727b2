// sim: not written yet (placeholder so that the command line links).
#include "commands.hpp"

namespace majordome::cli {

void add_sim_command(CLI::App& /*app*/) {}

}  // namespace majordome::cli
