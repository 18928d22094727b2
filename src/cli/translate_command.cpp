// majordome translate-header: print what header translation makes of raw files (the role of
// Rubin's `astrometadata translate`), so a user can see why an ingest would fail or what it
// would record.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "majordome/core/error.hpp"
#include "majordome/instrument/translator.hpp"
#include "table.hpp"

namespace majordome::cli {

void add_translate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "translate-header",
      "Translate the raw headers of FITS files or header dumps (YAML/JSON) into the standard "
      "observation properties an ingest records.");
  struct Args {
    std::vector<std::string> files;
    bool json = false;
    bool pedantic = false;
    bool no_fix = false;
    std::string translator;
    std::vector<std::string> corrections;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("FILE", args->files, "FITS files (.fits, gzip-compressed too) or header dumps (.yaml, .json)")
      ->required();
  cmd->add_flag("--json", args->json,
                "One JSON object per file and per line; keys are the property names, with the unit "
                "appended for quantities (exposure_time_s, pressure_Pa, ...); null where the header "
                "gives no value");
  cmd->add_option("--translator", args->translator,
                  "Use this translator instead of detecting one (e.g. VisitInfo, LSSTCam, HSC)");
  cmd->add_flag("--pedantic", args->pedantic, "Fail on any property that cannot be translated");
  cmd->add_flag("--no-fix", args->no_fix, "Do not apply header corrections before translating");
  cmd->add_option("--corrections", args->corrections,
                  "Directory searched first for correction files <instrument>-<observation_id>.yaml "
                  "(repeatable)");
  on_run(cmd, [args] {
    std::vector<std::pair<std::string, std::string>> failures;
    std::optional<ErrorCode> first_code;
    bool first = true;
    for (const auto& file : args->files) {
      instrument::TranslateOptions options;
      options.translator = args->translator;
      options.mode = args->pedantic ? instrument::TranslationMode::kPedantic : instrument::TranslationMode::kLenient;
      options.fix_header = !args->no_fix;
      for (const auto& dir : args->corrections) options.correction_search_path.emplace_back(dir);
      try {
        auto info = instrument::translate_file(file, options);
        if (args->json) {
          std::string text = instrument::to_json(info, -1);
          std::cout << "{\"_file\":" << nlohmann::json(file).dump() << "," << text.substr(1) << "\n";
        } else {
          if (!first) std::cout << "\n";
          std::cout << file << " (translator " << info.translator << ")\n";
          Table table({"property", "value"});
          for (auto& [name, value] : instrument::describe(info)) table.add_row({name, value});
          table.print(std::cout, Align::kLeft);
          for (const auto& [name, keys] : info.failures)
            std::cout << fmt::format("  not translated: {} (header keywords: {})\n", name,
                                     keys.empty() ? std::string("unusable value") : fmt::format("{}", fmt::join(keys, ", ")));
        }
        first = false;
      } catch (const Error& e) {
        failures.emplace_back(file, e.what());
        if (!first_code) first_code = e.code();
      } catch (const std::exception& e) {
        failures.emplace_back(file, e.what());
        if (!first_code) first_code = ErrorCode::kInternal;
      }
    }
    std::cout.flush();
    for (const auto& [file, reason] : failures)
      std::cerr << "FAILED " << (reason.starts_with(file) ? reason : file + ": " + reason) << "\n";
    if (!failures.empty())
      throw Error(*first_code, fmt::format("{} of {} files could not be translated", failures.size(),
                                           args->files.size()));
  });
}

}  // namespace majordome::cli
