// register-skymap: not written yet (placeholder so that the command line links).
#include "commands.hpp"

namespace majordome::cli {

void add_skymap_commands(CLI::App& /*butler*/) {}

}  // namespace majordome::cli
