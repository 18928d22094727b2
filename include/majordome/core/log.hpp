// Logging set-up. Code logs through spdlog's default logger (spdlog::info, …), which
// writes to standard error so that command output on standard output stays parseable.
#pragma once

#include <string_view>

namespace majordome {

// Sets the level from a name ("trace", "debug", "info", "warning", "error", "critical",
// "off", any case); throws InvalidArgumentError for another name.
void configure_logging(std::string_view level);

}  // namespace majordome
