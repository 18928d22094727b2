// Rubin's command-line conventions (daf_butler's click commands) on our CLI11 command tree,
// where a user or a script would notice the difference (../shared/spec/cli_compat.md):
//
//   * global options: --log-level LEVEL|COMPONENT=LEVEL (repeatable), --long-log,
//     --log-file, --log-tty/--no-log-tty, --log-label KEY=VALUE, --progress/--no-progress;
//   * a repeatable option takes one value per occurrence (`--collections a blob`: blob is
//     the GLOB), commas still separating several;
//   * -@/--options-file FILE on every command: a YAML file whose top-level keys are command
//     names and whose entries are option values, used where the command line gives none;
//   * a mistyped command or option is named with the nearest valid one.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "majordome/core/log.hpp"
#include "progress_bar.hpp"

namespace majordome::cli {

// Adds the global options to the top-level command; they fill `log`.
void add_global_options(CLI::App& app, LogOptions& log);

// The display chosen by the global --progress/--no-progress (kAuto when neither was given);
// a command's own flag wins over it.
ProgressDisplay global_progress_display();

// Once every command is added: one value per occurrence, and -@/--options-file on every
// command that runs something.
void apply_conventions(CLI::App& app);

// Before parsing: the message for a command name that is not one (with the nearest one and
// where to find the list), or nullopt when the command path is fine.
std::optional<std::string> misnamed_command(CLI::App& app, int argc, const char* const* argv);

// After parsing: fills the options the command line left unset from the options file given
// with -@, if any. InvalidArgumentError names an option the command does not have.
void apply_options_files(CLI::App& app);

// A parse error as a user should read it: an unknown option gets the nearest valid one.
std::string explain_parse_error(CLI::App& app, const CLI::ParseError& error);

}  // namespace majordome::cli
