#include "conventions.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/core/suggest.hpp"

namespace majordome::cli {

namespace {

ProgressDisplay g_progress = ProgressDisplay::kAuto;

std::vector<CLI::App*> all_subcommands(CLI::App& app) {
  return app.get_subcommands([](CLI::App*) { return true; });
}

// The innermost command the parser selected.
CLI::App* selected(CLI::App& app) {
  CLI::App* at = &app;
  for (;;) {
    auto chosen = at->get_subcommands();
    if (chosen.empty()) return at;
    at = chosen.front();
  }
}

std::vector<std::string> long_names(CLI::App& app) {
  std::vector<std::string> out;
  for (const auto* opt : app.get_options())
    for (const auto& n : opt->get_lnames()) out.push_back("--" + n);
  return out;
}

// The full name of a command for messages: "butler query-datasets".
std::string command_path(const CLI::App* app) {
  std::string out = app->get_name();
  for (const CLI::App* p = app->get_parent(); p; p = p->get_parent()) out = p->get_name() + " " + out;
  return out;
}

// The values of one options-file entry as command-line values.
std::vector<std::string> values_of(const YAML::Node& node) {
  std::vector<std::string> out;
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar()) throw InvalidArgumentError("an options-file list may hold only scalars");
      out.push_back(item.as<std::string>());
    }
  } else if (node.IsScalar()) {
    out.push_back(node.as<std::string>());
  } else if (!node.IsNull()) {
    throw InvalidArgumentError("an options-file value must be a scalar or a list");
  }
  return out;
}

void fill_from_options_file(CLI::App& command, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw NotFoundError(fmt::format("options file '{}' cannot be read", file));
  } catch (const YAML::Exception& e) {
    throw InvalidArgumentError(fmt::format("options file '{}' is not valid YAML: {}", file, e.what()));
  }
  if (!root.IsMap())
    throw InvalidArgumentError(fmt::format("options file '{}' must map command names to their options", file));
  const YAML::Node entries = root[command.get_name()];
  if (!entries) return;  // nothing for this command
  if (!entries.IsMap())
    throw InvalidArgumentError(fmt::format("options file '{}': '{}' must map option names to values", file,
                                           command.get_name()));
  for (const auto& kv : entries) {
    if (!kv.first.IsScalar())
      throw InvalidArgumentError(fmt::format("options file '{}': an option name under '{}' is not text", file,
                                             command.get_name()));
    std::string key = kv.first.as<std::string>();
    std::replace(key.begin(), key.end(), '_', '-');  // click parameter names use '_'
    CLI::Option* opt = command.get_option_no_throw("--" + key);
    if (!opt && key.size() == 1) opt = command.get_option_no_throw("-" + key);
    if (!opt || opt == command.get_option_no_throw("--options-file")) {
      const std::string hint = closest("--" + key, long_names(command));
      throw InvalidArgumentError(fmt::format("options file '{}': {} has no option '--{}'{}", file,
                                             command_path(&command), key,
                                             hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
    }
    if (opt->count() > 0) continue;  // the command line wins
    std::vector<std::string> values;
    try {
      values = values_of(kv.second);
    } catch (const InvalidArgumentError& e) {
      throw InvalidArgumentError(fmt::format("options file '{}': --{}: {}", file, key, e.what()));
    }
    try {
      if (opt->get_expected_min() == 0) {  // a flag: true/false
        if (values.size() != 1)
          throw InvalidArgumentError(fmt::format("options file '{}': --{} takes true or false", file, key));
        opt->add_result(opt->get_flag_value(key, values.front()));
      } else {
        opt->add_result(values);
      }
      opt->run_callback();
    } catch (const CLI::ParseError& e) {
      throw InvalidArgumentError(fmt::format("options file '{}': --{}: {}", file, key, e.what()));
    }
  }
}

}  // namespace

void add_global_options(CLI::App& app, LogOptions& log) {
  log.levels = {"warning"};
  app.add_option_function<std::vector<std::string>>(
         "--log-level", [&log](const std::vector<std::string>& v) { log.levels = v; },
         "Log level: CRITICAL, ERROR, WARNING, INFO, VERBOSE, DEBUG, TRACE (any case), or COMPONENT=LEVEL "
         "(repeatable); default WARNING")
      ->type_name("LEVEL|COMPONENT=LEVEL");
  app.add_flag("--long-log", log.long_format, "Log lines with time, level and logger name");
  app.add_option("--log-file", log.files, "Also write the log to this file (JSON lines if it ends in .json); "
                                          "repeatable");
  app.add_flag("--log-tty,!--no-log-tty", log.tty, "Log to the terminal (standard error); default on");
  app.add_option("--log-label", log.labels, "KEY=VALUE added to every record of the log files; repeatable");
  app.add_flag_callback("--progress", [] { g_progress = ProgressDisplay::kBar; },
                        "Show progress bars for long commands (a command's own flag wins)");
  app.add_flag_callback("--no-progress", [] { g_progress = ProgressDisplay::kNone; }, "Show no progress");
}

ProgressDisplay global_progress_display() { return g_progress; }

void apply_conventions(CLI::App& app) {
  // CLI11 lets a vector option swallow every value that follows it; click takes one per
  // occurrence. A "," still separates several values where the command splits them.
  for (auto* opt : app.get_options()) {
    if (!opt->get_positional() && opt->get_items_expected_max() > 1 && opt->get_type_size_max() == 1)
      opt->allow_extra_args(false);
    // Enumerations Rubin reads in any case.
    auto recase = [](int (*f)(int)) {
      return [f](std::string value) {
        std::transform(value.begin(), value.end(), value.begin(),
                       [f](unsigned char c) { return static_cast<char>(f(c)); });
        return value;
      };
    };
    if (opt->check_lname("transfer")) opt->transform(recase(::tolower), "", "");
    if (opt->check_lname("id-generation-mode")) opt->transform(recase(::toupper), "", "");
  }
  auto subcommands = all_subcommands(app);
  if (subcommands.empty() && app.get_parent() != nullptr) {
    app.add_option("-@,--options-file", "A YAML file of option values for this command, under its name "
                                        "(the command line wins)")
        ->type_name("FILE");
  }
  for (auto* sub : subcommands) apply_conventions(*sub);
}

std::optional<std::string> misnamed_command(CLI::App& app, int argc, const char* const* argv) {
  CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    auto subcommands = all_subcommands(*at);
    if (subcommands.empty()) return std::nullopt;  // a command: the rest are its arguments
    if (token == "--") return std::nullopt;
    if (!token.empty() && token[0] == '-') {
      if (token.find('=') != std::string::npos) continue;
      const CLI::Option* opt = at->get_option_no_throw(token);
      if (opt && opt->get_expected_min() > 0) ++i;  // its value
      continue;
    }
    CLI::App* next = nullptr;
    std::vector<std::string> names;
    for (auto* sub : subcommands) {
      names.push_back(sub->get_name());
      if (sub->check_name(token)) next = sub;
    }
    if (!next) {
      const std::string hint = closest(token, names);
      return fmt::format("{}: no command '{}'{}; '{} --help' lists the commands", command_path(at), token,
                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), command_path(at));
    }
    at = next;
  }
  return std::nullopt;
}

void apply_options_files(CLI::App& app) {
  CLI::App* command = selected(app);
  const CLI::Option* file = command->get_option_no_throw("--options-file");
  if (!file || file->count() == 0) return;
  for (const auto& f : file->results()) fill_from_options_file(*command, f);
}

std::string explain_parse_error(CLI::App& app, const CLI::ParseError& error) {
  CLI::App* command = selected(app);
  std::string message = error.what();
  if (dynamic_cast<const CLI::ExtrasError*>(&error) == nullptr) return fmt::format("{}: {}", command_path(command), message);
  // "The following argument(s) was/were not expected: a b"
  const auto colon = message.find(": ");
  std::istringstream extras(colon == std::string::npos ? "" : message.substr(colon + 2));
  std::vector<std::string> names = long_names(*command);
  for (const CLI::App* p = command->get_parent(); p; p = p->get_parent())
    for (const auto* opt : p->get_options())
      for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
  std::string out;
  for (std::string arg; extras >> arg;) {
    if (arg.empty() || arg[0] != '-') {
      out += fmt::format("{}{}: unexpected argument '{}'", out.empty() ? "" : "\n", command_path(command), arg);
      continue;
    }
    const std::string hint = closest(arg.substr(0, arg.find('=')), names);
    out += fmt::format("{}{}: no option '{}'{}", out.empty() ? "" : "\n", command_path(command), arg,
                       hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
  }
  return out.empty() ? message : out + fmt::format("; '{} --help' lists the options", command_path(command));
}

}  // namespace majordome::cli
