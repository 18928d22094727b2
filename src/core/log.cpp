#include "majordome/core/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "majordome/core/error.hpp"

namespace majordome {

namespace {

spdlog::level::level_enum parse_level(std::string_view level) {
  std::string name(level);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "warning") name = "warn";
  if (name == "verbose") name = "debug";  // Rubin's VERBOSE sits between INFO and DEBUG
  if (name == "fatal") name = "critical";
  auto parsed = spdlog::level::from_str(name);
  if (parsed == spdlog::level::off && name != "off")
    throw InvalidArgumentError(fmt::format("unknown log level '{}'; use one of trace, debug, verbose, info, warning, "
                                           "error, critical, off (or COMPONENT=LEVEL)",
                                           level));
  return parsed;
}

// A JSON line per record, with the labels, as Rubin's --log-file x.json writes.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(nlohmann::json labels) : labels_(std::move(labels)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json j = labels_;
    j["name"] = "majordome";
    std::string level(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size());
    std::transform(level.begin(), level.end(), level.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    j["levelname"] = level;  // as Python's logging names it: WARNING, INFO…
    j["message"] = std::string(msg.payload.data(), msg.payload.size());
    j["asctime"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}", fmt::localtime(std::chrono::system_clock::to_time_t(msg.time)));
    // Invalid UTF-8 (a Latin-1 file name in a message) is replaced, never the record lost.
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(labels_); }

 private:
  nlohmann::json labels_;
};

void install(std::vector<spdlog::sink_ptr> sinks, spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>("majordome", sinks.begin(), sinks.end());
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
}

}  // namespace

void configure_logging(std::string_view level) {
  LogOptions options;
  options.levels.emplace_back(level);
  configure_logging(options);
}

void configure_logging(const LogOptions& options) {
  spdlog::level::level_enum level = spdlog::level::warn;
  bool set = false;
  for (const auto& given : options.levels) {
    const auto eq = given.find('=');
    if (eq == std::string::npos) {
      level = set ? std::min(level, parse_level(given)) : parse_level(given);
      set = true;
      continue;
    }
    const std::string component = given.substr(0, eq);
    const auto component_level = parse_level(given.substr(eq + 1));
    const bool ours = component == "lsst" || component == "majordome" || component.rfind("lsst.", 0) == 0 ||
                      component.rfind("majordome.", 0) == 0 || component == ".";
    if (ours) {
      level = set ? std::min(level, component_level) : component_level;
      set = true;
    }
  }
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& label : options.labels) {
    const auto eq = label.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InvalidArgumentError(fmt::format("--log-label '{}' is not KEY=VALUE", label));
    labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  const std::string pattern = options.long_format ? "%^%L%$ %Y-%m-%dT%H:%M:%S.%e majordome: %v" : "%^%l%$ %v";
  std::vector<spdlog::sink_ptr> sinks;
  if (options.tty) {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern(pattern);
    sinks.push_back(sink);
  }
  for (const auto& file : options.files) {
    std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false);
    } catch (const spdlog::spdlog_ex& e) {
      throw IoError(fmt::format("cannot open log file '{}': {}", file, e.what()));
    }
    if (file.size() > 5 && file.compare(file.size() - 5, 5, ".json") == 0) {
      sink->set_formatter(std::make_unique<JsonFormatter>(labels));
    } else {
      std::string prefix;
      for (const auto& [k, v] : labels.items()) prefix += fmt::format("{}={} ", k, v.get<std::string>());
      sink->set_pattern("%L %Y-%m-%dT%H:%M:%S.%e majordome: " + prefix + "%v");
    }
    sinks.push_back(sink);
  }
  if (sinks.empty()) sinks.push_back(std::make_shared<spdlog::sinks::null_sink_mt>());
  install(std::move(sinks), level);
}

}  // namespace majordome
