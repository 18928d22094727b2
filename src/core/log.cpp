#include "majordome/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "majordome/core/error.hpp"

namespace majordome {

void configure_logging(std::string_view level) {
  std::string name(level);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "warning") name = "warn";
  auto parsed = spdlog::level::from_str(name);
  if (parsed == spdlog::level::off && name != "off")
    throw InvalidArgumentError("unknown log level '" + std::string(level) +
                               "'; use one of trace, debug, info, warning, error, critical, off");
  static bool configured = false;
  if (!configured) {
    auto logger = spdlog::stderr_color_mt("majordome");
    logger->set_pattern("%^%l%$ %v");
    spdlog::set_default_logger(logger);
    configured = true;
  }
  spdlog::set_level(parsed);
}

}  // namespace majordome
