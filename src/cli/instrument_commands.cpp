// register-instrument, ingest-raws, define-visits, write-curated-calibrations: not written yet (placeholder so that the command line links).
#include "commands.hpp"

namespace majordome::cli {

void add_instrument_commands(CLI::App& /*butler*/) {}

}  // namespace majordome::cli
