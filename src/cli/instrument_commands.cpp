// butler register-instrument, register-dcr-subfilters, update-exposures-from-raws, ingest-raws, define-visits,
// write-curated-calibrations: thin
// shells over the instrument module (docs/instruments.md).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_support.hpp"
#include "commands.hpp"
#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"
#include "majordome/instrument/curated.hpp"
#include "majordome/instrument/ingest.hpp"
#include "majordome/instrument/register.hpp"
#include "majordome/instrument/visits.hpp"
#include "majordome/query/query.hpp"
#include "progress_bar.hpp"

namespace majordome::cli {

namespace {

namespace fs = std::filesystem;
using butler::Access;
using butler::Butler;

std::vector<std::string> comma_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::size_t start = 0;
    while (start <= item.size()) {
      const auto comma = item.find(',', start);
      auto part = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void add_instrument_commands(CLI::App& app) {
  // ---- register-instrument
  {
    auto* cmd = app.add_subcommand(
        "register-instrument",
        "Register instruments: the instrument, detector and physical_filter records from the camera description.\n"
        "INSTRUMENT is a Rubin class name (lsst.obs.lsst.Latiss, lsst.obs.lsst.LsstComCam, lsst.obs.lsst.LsstCam,\n"
        "lsst.obs.subaru.HyperSuprimeCam, lsst.obs.cfht.MegaPrime, lsst.obs.decam.DarkEnergyCamera) or a name\n"
        "(LATISS, LSSTComCam, LSSTCam, TestCam, HSC, MegaPrime, DECam).");
    auto repo = std::make_shared<std::string>();
    auto names = std::make_shared<std::vector<std::string>>();
    auto update = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("INSTRUMENT", *names, "Instrument class names or names")->required();
    cmd->add_flag("--update", *update, "Replace records that differ from the camera description");
    on_run(cmd, [=] {
      for (const auto& n : *names)  // fail before opening anything
        instrument::load_instrument_camera(instrument::get_instrument(n));
      auto b = Butler::open(*repo, Access::kReadWrite);
      for (const auto& n : *names) {
        const auto r = instrument::register_instrument(b->registry(), n, *update);
        if (r.inserted)
          std::cout << fmt::format("Registered instrument {} ({}): {} detectors, {} physical filters.\n",
                                   r.instrument.name, r.instrument.class_name, r.detectors, r.filters);
        else
          std::cout << fmt::format("Instrument {} is already registered with these records; nothing to do.\n",
                                   r.instrument.name);
      }
    });
  }
  // ---- register-dcr-subfilters
  {
    auto* cmd = app.add_subcommand(
        "register-dcr-subfilters",
        "Define subfilters of bands for differential chromatic refraction: NUM_SUBFILTERS subfilter records\n"
        "(ids 0 … NUM_SUBFILTERS-1) for each band of BAND_NAMES that has none yet.");
    auto repo = std::make_shared<std::string>();
    auto count = std::make_shared<int>(0);
    auto bands = std::make_shared<std::vector<std::string>>();
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("NUM_SUBFILTERS", *count, "Subfilters per band")->required();
    cmd->add_option("BAND_NAMES", *bands, "Bands to divide (e.g. g r)")->required();
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      for (const auto& r : instrument::register_dcr_subfilters(b->registry(), *count, comma_list(*bands))) {
        if (r.inserted)
          std::cout << fmt::format("Added subfilters {} for band {}.\n", fmt::join(r.ids, ", "), r.band);
        else
          std::cout << fmt::format("Band {} already has subfilters {}; nothing to do.\n", r.band,
                                   fmt::join(r.ids, ", "));
      }
    });
  }
  // ---- update-exposures-from-raws
  {
    auto* cmd = app.add_subcommand(
        "update-exposures-from-raws",
        "Make the exposure records of ingested raws again from their headers (one raw per exposure), replacing\n"
        "those that differ: after a header or translation fix, without ingesting again.");
    auto repo = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto fail_fast = std::make_shared<bool>(false);
    auto jobs = std::make_shared<int>(1);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("INSTRUMENT", *name, "The instrument (class name or name)")->required();
    cmd->add_option("COLLECTIONS", *collections, "Collections holding the raws (default <INSTRUMENT>/raw/all)");
    cmd->add_option("--where", *where, "A query expression selecting the raws");
    cmd->add_flag("--fail-fast", *fail_fast, "Stop at the first raw that cannot be read");
    cmd->add_option("-j,--processes", *jobs, "Threads reading headers")->capture_default_str();
    const auto display = add_progress_option(cmd);
    on_run(cmd, [=] {
      auto b = Butler::open(*repo, Access::kReadWrite);
      ProgressBar progress(*display);
      instrument::UpdateExposuresOptions options;
      options.collections = comma_list(*collections);
      options.where = *where;
      options.jobs = *jobs;
      options.fail_fast = *fail_fast;
      options.progress = &progress;
      instrument::UpdateExposuresResult r;
      run_cancellable(progress, "nothing was updated",
                      [&] { r = instrument::update_exposures_from_raws(*b, *name, options); });
      for (const auto& f : r.failures)
        std::cerr << fmt::format("Failed: {}: {} [{}]\n", f.file.string(), f.reason, error_code_name(f.code));
      std::cout << fmt::format("Updated {} exposure record(s); {} unchanged; {} failed (of {} exposure(s)).\n",
                               r.updated, r.unchanged, r.failures.size(), r.exposures);
      if (!r.failures.empty())
        throw Error(r.failures.front().code, fmt::format("{} of {} exposure(s) could not be updated (listed above)",
                                                         r.failures.size(), r.exposures));
    });
  }
  // ---- ingest-raws
  {
    auto* cmd = app.add_subcommand(
        "ingest-raws",
        "Ingest raw files (FITS; directories are searched recursively for names matching --regex: *.fits,\n"
        "*.fit, *.fits.gz, *.fits.fz by default)\n"
        "as `raw` datasets, recording their exposure, group and day_obs records. Bad files are reported one by\n"
        "one and skipped (exit status non-zero); re-ingesting a file already there is a no-op.");
    auto repo = std::make_shared<std::string>();
    auto locations = std::make_shared<std::vector<std::string>>();
    auto transfer = std::make_shared<std::string>("auto");
    auto jobs = std::make_shared<int>(1);
    auto fail_fast = std::make_shared<bool>(false);
    auto output_run = std::make_shared<std::string>();
    auto no_index = std::make_shared<bool>(false);
    auto regex = std::make_shared<std::string>(instrument::kRawFileRegex);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("LOCATIONS", *locations, "Raw files or directories")->required();
    cmd->add_option("-t,--transfer", *transfer,
                    "auto, copy, move, link, hardlink, symlink, relsymlink, direct (leave the files where they are)")
        ->capture_default_str();
    cmd->add_option("-j,--processes", *jobs, "Threads reading headers")->capture_default_str();
    cmd->add_option("--regex", *regex,
                    "Regular expression the names of files found in directories must contain (default \\.fit[s]?\\b)");
    cmd->add_flag("--fail-fast", *fail_fast, "Stop at the first file that cannot be ingested");
    add_track_file_attrs_flag(cmd);
    cmd->add_option("--output-run", *output_run, "RUN collection for the raws (default <INSTRUMENT>/raw/all)");
    cmd->add_flag("!--search-indexes,--no-search-indexes", *no_index,
                  "Use _index.json metadata indexes where present (default), or read every file's header");
    const auto display = add_progress_option(cmd);
    on_run(cmd, [=] {
      if (*jobs < 1) throw InvalidArgumentError(fmt::format("-j/--processes must be at least 1, got {}", *jobs));
      const auto start = std::chrono::steady_clock::now();
      auto b = Butler::open(*repo, Access::kReadWrite);
      ProgressBar progress(*display);
      instrument::RawIngestOptions options;
      options.transfer = *transfer;
      options.jobs = *jobs;
      options.regex = *regex;
      options.fail_fast = *fail_fast;
      options.output_run = *output_run;
      options.use_index_files = !*no_index;
      options.progress = &progress;
      std::vector<fs::path> paths(locations->begin(), locations->end());
      instrument::RawIngestResult r;
      run_cancellable(progress,
                      "the files of the batches committed before stay ingested, nothing of the unfinished batch "
                      "was written; run the same command again to ingest the rest (files already ingested are "
                      "skipped)",
                      [&] { r = instrument::ingest_raws(*b, paths, options); });
      const double seconds = seconds_since(start);
      for (const auto& w : r.warnings) std::cerr << "Warning: " << w << "\n";
      for (const auto& f : r.failures)
        std::cerr << fmt::format("Failed: {}: {} [{}]\n", f.file.string(), f.reason, error_code_name(f.code));
      std::cout << fmt::format("Ingested {} raw file(s) into {}; {} already present; {} failed ({} file(s) in "
                               "{:.1f} s, {:.0f} files/s; {} new exposure(s){}).\n",
                               r.ingested, r.runs.empty() ? std::string("no run") : fmt::format("{}", fmt::join(r.runs, ", ")),
                               r.already_present, r.failures.size(), r.files, seconds,
                               seconds > 0 ? r.files / seconds : 0.0, r.new_exposures,
                               r.from_index ? fmt::format("; {} from _index.json", r.from_index) : "");
      if (!r.failures.empty())
        throw Error(r.failures.front().code,
                    fmt::format("{} of {} file(s) could not be ingested (listed above); the others were ingested",
                                r.failures.size(), r.files));
    });
  }
  // ---- define-visits
  {
    auto* cmd = app.add_subcommand(
        "define-visits",
        "Define visits from the ingested science exposures of INSTRUMENT: visit, visit_definition,\n"
        "visit_system(_membership) and visit_detector_region records with sky regions. Grouping, chosen with\n"
        "-C FILE holding config.groupExposures.name=\"...\": one-to-one-and-by-counter (Rubin's default: a visit\n"
        "per exposure in visit system 0, plus one per multi-snap sequence in system 2), one-to-one or\n"
        "by-group-metadata.");
    auto repo = std::make_shared<std::string>();
    auto instrument_name = std::make_shared<std::string>();
    auto config_files = std::make_shared<std::vector<std::string>>();
    auto config = std::make_shared<std::vector<std::string>>();
    auto collections = std::make_shared<std::vector<std::string>>();
    auto where = std::make_shared<std::string>();
    auto update_records = std::make_shared<bool>(false);
    auto skip_conflicting = std::make_shared<bool>(false);
    cmd->add_option("REPO", *repo)->required();
    cmd->add_option("INSTRUMENT", *instrument_name, "Instrument name or Rubin class name")->required();
    cmd->add_option("-C,--config-file", *config_files,
                    "Config overrides file: config.groupExposures.name=\"one-to-one-and-by-counter\" (default)|"
                    "\"one-to-one\"|\"by-group-metadata\", config.computeVisitRegions.padding=N");
    cmd->add_option("-c,--config", *config, "One override KEY=VALUE (e.g. groupExposures.name=by-group-metadata)");
    cmd->add_option("--collections", *collections,
                    "As Rubin: collections to find the camera in (majordome uses the instrument's own camera "
                    "description; they are checked to exist)");
    cmd->add_option("--where", *where,
                    "Only the exposures this expression selects (e.g. \"exposure.day_obs = 20241125\")");
    cmd->add_flag("--update-records,!--no-update-records", *update_records,
                  "Replace visits already defined differently (and their detector regions)");
    cmd->add_flag("--skip-conflicting,!--no-skip-conflicting", *skip_conflicting,
                  "Leave visits already defined differently as they are, with a warning");
    const auto display = add_progress_option(cmd);
    on_run(cmd, [=] {
      if (*update_records && *skip_conflicting)
        throw InvalidArgumentError("--update-records and --skip-conflicting ask for opposite things; give one");
      instrument::DefineVisitsOptions options;
      for (const auto& f : *config_files) instrument::apply_define_visits_config_file(options, f);
      for (const auto& c : *config) instrument::apply_define_visits_override(options, c);
      options.collections = comma_list(*collections);
      const auto start = std::chrono::steady_clock::now();
      options.update_records = *update_records;
      options.skip_conflicting = *skip_conflicting;
      auto b = Butler::open(*repo, Access::kReadWrite);
      if (!where->empty()) {
        options.only_exposures.emplace();
        for (const auto& r : query::query_dimension_records(b->registry(), "exposure", *where, {}, {}))
          options.only_exposures->insert(std::get<std::int64_t>(r.get("id")));
      }
      ProgressBar progress(*display);
      options.progress = &progress;
      instrument::DefineVisitsResult r;
      run_cancellable(progress, "nothing was written",
                      [&] { r = instrument::define_visits(b->registry(), *instrument_name, options); });
      for (const auto& w : r.warnings) std::cerr << "Warning: " << w << "\n";
      std::vector<std::string> systems;
      for (const int id : r.visit_systems) systems.push_back(fmt::format("{} '{}'", id, instrument::visit_system_name(id)));
      std::cout << fmt::format(
          "Defined {} new visit(s) of {} ({} by {}, visit system{} {}{}{}; {} detector region(s)) from {} "
          "exposure(s); {} skipped as not on sky, {} without a pointing ({:.1f} s).\n",
          r.new_visits, r.instrument, r.visits, instrument::visit_grouping_name(options.grouping),
          systems.size() > 1 ? "s" : "", fmt::join(systems, " and "),
          r.updated_visits ? fmt::format("; {} updated", r.updated_visits) : "",
          r.conflicting ? fmt::format("; {} conflicting left", r.conflicting) : "", r.detector_regions, r.exposures,
          r.not_science, r.no_pointing, seconds_since(start));
    });
  }
  // ---- write-curated-calibrations
  {
    auto* cmd = app.add_subcommand(
        "write-curated-calibrations",
        "Write the camera and the instrument's curated calibrations (e.g. LATISS defects), certified with\n"
        "their validity ranges in the CALIBRATION collection <INSTRUMENT>/calib/<label> (runs\n"
        "<INSTRUMENT>/calib/<label>/unbounded and <INSTRUMENT>/calib/<label>/curated/<date>).");
    auto repo = std::make_shared<std::string>();
    auto instrument_name = std::make_shared<std::string>();
    auto labels = std::make_shared<std::vector<std::string>>();
    auto collection = std::make_shared<std::string>();
    auto transfer = std::make_shared<std::string>("copy");
    cmd->add_option("REPO", *repo)->required();
    auto positional_labels = std::make_shared<std::vector<std::string>>();
    auto prefix = std::make_shared<std::string>();
    cmd->add_option("INSTRUMENT", *instrument_name, "Instrument name or Rubin class name")->required();
    cmd->add_option("LABELS", *positional_labels, "Label(s) of the collections, as --label");
    cmd->add_option("--label", *labels, "Label(s) of the collections, usually the ticket (e.g. DM-48650)");
    cmd->add_option("--prefix", *prefix, "Start of the collection names instead of the instrument name");
    cmd->add_option("--collection", *collection, "CALIBRATION collection name (default <INSTRUMENT>/calib/<label>)");
    cmd->add_option("-t,--transfer", *transfer, "How the data files go into the datastore")->capture_default_str();
    on_run(cmd, [=] {
      instrument::CuratedOptions options;
      options.labels = *positional_labels;
      options.labels.insert(options.labels.end(), labels->begin(), labels->end());
      options.collection = *collection;
      options.prefix = *prefix;
      options.transfer = *transfer;
      if (options.labels.empty() && options.collection.empty())
        throw InvalidArgumentError("write-curated-calibrations needs --label (usually the ticket, e.g. --label "
                                   "DM-48650)");
      auto b = Butler::open(*repo, Access::kReadWrite);
      const auto r = instrument::write_curated_calibrations(*b, *instrument_name, options);
      std::cout << fmt::format("Wrote {} curated calibration dataset(s) of {} ({}) certified in {}; runs: {}.\n",
                               r.datasets, r.instrument, fmt::join(r.dataset_types, ", "), r.calibration_collection,
                               fmt::join(r.runs, ", "));
    });
  }
}

}  // namespace majordome::cli
