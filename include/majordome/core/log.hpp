// Logging set-up. Code logs through spdlog's default logger (spdlog::info, …), which
// writes to standard error so that command output on standard output stays parseable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace majordome {

// Sets the level from a name ("trace", "debug", "verbose", "info", "warning", "error",
// "critical", "off", any case); throws InvalidArgumentError for another name.
void configure_logging(std::string_view level);

// The logging options of Rubin's command line (daf_butler's cli/cliLog.py).
struct LogOptions {
  // --log-level: "LEVEL" for majordome's messages, or "COMPONENT=LEVEL". majordome has one
  // logger, which stands for Rubin's `lsst` hierarchy: a component that is `lsst`,
  // `majordome` or below either of them sets it (the most verbose wins); others are accepted
  // and have no messages to show.
  std::vector<std::string> levels;
  bool long_format = false;         // --long-log: time, level and logger name on every line
  std::vector<std::string> files;   // --log-file: also write to these (JSON lines when a name ends .json)
  bool tty = true;                  // --log-tty / --no-log-tty: whether to write to standard error
  std::vector<std::string> labels;  // --log-label KEY=VALUE: added to every record of the files
};
// InvalidArgumentError names a bad level or label; IoError a log file that cannot be opened.
void configure_logging(const LogOptions& options);

}  // namespace majordome
