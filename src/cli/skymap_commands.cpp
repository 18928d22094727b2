// butler register-skymap: a skymap's skymap/tract/patch records, plus its definition as
// the `skyMap` dataset in RUN `skymaps` (docs/skymap.md).
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "cli_support.hpp"
#include "commands.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/skymap/register_skymap.hpp"
#include "majordome/skymap/skymap.hpp"
#include "progress_bar.hpp"

namespace majordome::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSkyMapRun = "skymaps";
constexpr const char* kSkyMapDatasetType = "skyMap";

// Stores the canonical definition as the skyMap dataset unless one is already there.
void store_definition(butler::Butler& b, const skymap::SkyMapConfig& config) {
  auto& reg = b.registry();
  reg.register_dataset_type({kSkyMapDatasetType, reg.universe().group({"skymap"}), "SkyMap", false});
  reg.register_collection(kSkyMapRun, registry::CollectionType::kRun);
  const registry::DataId data_id{{"skymap", config.name}};
  if (reg.find_dataset(kSkyMapDatasetType, data_id, {kSkyMapRun})) return;
  const fs::path tmp = fs::temp_directory_path() /
                       fmt::format("majordome-skymap-{}-{}.yaml", ::getpid(),
                                   std::chrono::steady_clock::now().time_since_epoch().count());
  {
    std::ofstream out(tmp);
    out << config.canonical_yaml();
    if (!out) throw IoError(fmt::format("cannot write {}", tmp.string()));
  }
  butler::FileDataset file;
  file.path = tmp;
  file.refs.push_back({Uuid(), kSkyMapDatasetType, data_id, kSkyMapRun});
  butler::IngestOptions options;
  options.transfer = "move";
  try {
    b.ingest({file}, kSkyMapRun, options);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace

void add_skymap_commands(CLI::App& butler) {
  auto* cmd = butler.add_subcommand(
      "register-skymap",
      "Define a skymap: its skymap, tract and patch records (with sky regions), and its definition as the\n"
      "skyMap dataset in RUN skymaps. The YAML config uses Rubin's field names (name, skyMap: rings|discrete,\n"
      "numRings, projection, pixelScale, tractOverlap, patchInnerDimensions, patchBorder, …); configs for\n"
      "hsc_rings_v1, lsst_cells_v1 and discrete/ci_hsc ship in data/skymaps/.");
  auto repo = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("REPO", *repo)->required();
  cmd->add_option("-C,--config-file", *files,
                  "Skymap definition: YAML, or Rubin's Python config (config.skyMap[\"rings\"].numRings = 120, …);\n"
                  "later files override earlier ones; optional when -c gives every field");
  cmd->add_option("-c,--config", *overrides,
                  "FIELD=VALUE overriding the files: our field names (name=my_rings) or Rubin's pex_config paths\n"
                  "(skyMap=rings, skyMap[\"rings\"].numRings=120, name=\"my_rings\")");
  cmd->add_flag("--quiet", *quiet, "Do not report progress (as --no-progress)");
  const auto display = add_progress_option(cmd);
  on_run(cmd, [=] {
    if (files->empty() && overrides->empty())
      throw InvalidArgumentError("no skymap definition: give a config file (-C FILE, e.g. data/skymaps/"
                                 "lsst_cells_v1.yaml) or its fields (-c name=… -c skyMap=rings …)");
    skymap::SkyMapConfig config;
    if (files->size() == 1 && overrides->empty()) {
      config = skymap::SkyMapConfig::from_file(files->front());
    } else {
      // Later files and then each -c, in command-line order, replace earlier keys.
      YAML::Node combined(YAML::NodeType::Map);
      for (const auto& f : *files) {
        std::ifstream in(f);
        if (!in) throw NotFoundError(fmt::format("skymap config {} does not exist or cannot be read", f));
        std::string text(std::istreambuf_iterator<char>(in), {});
        if (skymap::SkyMapConfig::is_rubin_config(text)) text = skymap::SkyMapConfig::translate_rubin_config(text, f);
        YAML::Node one;
        try {
          one = YAML::Load(text);
        } catch (const YAML::Exception& e) {
          throw InvalidConfigError(fmt::format("{}: not valid YAML: {}", f, e.what()));
        }
        if (!one.IsMap()) throw InvalidConfigError(fmt::format("{}: expected a mapping of skymap fields", f));
        for (const auto& kv : one) combined[kv.first.as<std::string>()] = kv.second;
      }
      for (const auto& o : *overrides) {
        const auto eq = o.find('=');
        if (eq == std::string::npos || eq == 0)
          throw InvalidArgumentError(fmt::format("-c '{}': expected FIELD=VALUE, e.g. name=my_rings", o));
        std::string key = o.substr(0, eq);
        if (key.rfind("config.", 0) == 0) key = key.substr(7);
        std::string value = o.substr(eq + 1);
        if (key == "skyMap" || key == "skyMap.name") {  // Rubin's registry field: its selected kind
          if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
          combined["skyMap"] = value;
          continue;
        }
        if (key.find('[') != std::string::npos || key.find('.') != std::string::npos) {
          // A pex_config path, read as a Rubin config statement: Python literals as they are,
          // any other text as a string (as pex_config takes it).
          const bool literal = !value.empty() && (std::isdigit(static_cast<unsigned char>(value[0])) ||
                                                  value[0] == '-' || value[0] == '"' || value[0] == '\'' ||
                                                  value[0] == '[' || value[0] == '(' || value == "True" ||
                                                  value == "False" || value == "None");
          if (!literal) {
            std::string quoted = "\"";
            for (char c : value) {
              if (c == '\\' || c == '"') quoted += '\\';
              quoted += c;
            }
            value = quoted + "\"";
          }
          if (!combined["skyMap"])
            throw InvalidArgumentError(fmt::format("-c {}: choose the skymap kind first (-c skyMap=rings or a -C "
                                                   "file that does)",
                                                   o));
          const auto text = skymap::SkyMapConfig::translate_rubin_config(
              fmt::format("config.skyMap.name = '{}'\nconfig.{} = {}\n", combined["skyMap"].as<std::string>(), key,
                          value),
              fmt::format("-c {}", o));
          try {
            for (const auto& kv : YAML::Load(text))
              if (kv.first.as<std::string>() != "skyMap") combined[kv.first.as<std::string>()] = kv.second;
          } catch (const YAML::Exception& e) {
            throw InvalidConfigError(fmt::format("-c {}: {}", o, e.what()));
          }
          continue;
        }
        // Our own field names: the value is YAML (quoted strings keep what is inside).
        try {
          combined[key] = YAML::Load(value);
        } catch (const YAML::Exception& e) {
          throw InvalidArgumentError(fmt::format("-c {}: the value is not valid YAML: {}", o, e.what()));
        }
      }
      YAML::Emitter e;
      e << combined;
      config = skymap::SkyMapConfig::from_yaml(
          e.c_str(), files->empty() ? std::string("the -c fields")
                                    : fmt::format("{} with -c overrides", fmt::join(*files, ", ")));
    }
    const skymap::SkyMap sky(config);

    auto b = butler::Butler::open(*repo, butler::Access::kReadWrite);
    const auto start = std::chrono::steady_clock::now();
    ProgressBar progress(*quiet ? ProgressDisplay::kNone : *display);
    skymap::RegisterSkyMapResult result;
    // store_definition never checks for a cancel: inside, a Ctrl-C there waits for it.
    run_cancellable(progress, "nothing was written", [&] {
      result = skymap::register_skymap(b->registry(), sky, &progress);
      store_definition(*b, config);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (result.inserted) {
      std::cout << fmt::format("Registered skymap '{}': {} tracts, {} patches (at most {}x{} per tract) in {:.1f} s.\n",
                               config.name, result.tracts, result.patches, result.patch_nx_max, result.patch_ny_max,
                               seconds);
    } else {
      std::cout << fmt::format("Skymap '{}' is already registered with this definition; nothing to do.\n",
                               config.name);
    }
  });
}

}  // namespace majordome::cli
