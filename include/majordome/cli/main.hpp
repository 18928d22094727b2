// The `majordome` command line. The binary looks at the name it was started by: as
// `butler` it is Rubin's butler command, as `pipetask` the pipeline runner, as
// `majordome` it offers both (`majordome butler …`) plus its own tools.
#pragma once

namespace majordome::cli {

// Runs the command line; returns the process exit status (0 success, 1 usage error,
// otherwise majordome::exit_status() of the error's code).
int main(int argc, char** argv);

}  // namespace majordome::cli
