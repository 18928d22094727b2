// majordome sim: simulated raws, calibrations, reference catalog and truth for a camera
// (docs/sim.md).
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli_support.hpp"
#include "commands.hpp"
#include "majordome/core/error.hpp"
#include "majordome/core/time.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/calib_export.hpp"
#include "majordome/sim/exposure.hpp"
#include "majordome/sim/simulator.hpp"
#include "progress_bar.hpp"

namespace majordome::cli {

namespace {

struct SimArgs {
  std::string camera;
  std::string out;
  int exposures = 10;
  std::string pointings;
  std::vector<std::string> bands{"g", "r", "i"};
  std::uint64_t seed = 1;
  bool calibs = false;
  std::string calib_label = "sim";
  int calib_exposures = 3;
  int jobs = 0;
  std::vector<std::string> detectors;
  bool tiny = false;
  bool no_truth_images = false;
  bool no_compress = false;
  bool no_refcat = false;
  bool no_galaxies = false;
  double exptime = 30.0;
  std::optional<double> ra;
  std::optional<double> dec;
  std::string start;
  double seeing = 0.0;
  std::vector<std::string> stars;
  double star_density = -1.0;
  double galaxy_density = -1.0;
  int first_seq = 1;
};

}  // namespace

void add_sim_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sim", "Simulate raw exposures (with calibrations, reference catalog and truth) for a camera.");
  auto a = std::make_shared<SimArgs>();
  cmd->add_option("--camera", a->camera, "Camera name (data/instruments/NAME.yaml): TestCam, LSSTComCam, LATISS, LSSTCam")
      ->required();
  cmd->add_option("--out", a->out, "Output directory (raw/, calib/, refcat/, truth/, summary.yaml)")->required();
  auto* n = cmd->add_option("--exposures", a->exposures, "Number of science exposures of one dithered field (default 10)");
  cmd->add_option("--pointings", a->pointings,
                  "YAML file of pointings: {ra, dec, rotation, band, time, exptime} per exposure")
      ->excludes(n);
  cmd->add_option("--bands", a->bands, "Bands of the planned exposures, in equal blocks (default g,r,i)")->delimiter(',');
  cmd->add_option("--seed", a->seed, "Random seed: the same seed gives the same files (default 1)");
  cmd->add_flag("--calibs", a->calibs,
                "Also write combined bias/dark/flat/defects under calib/ (with calib/export.yaml for `butler import`) "
                "and raw bias, dark and flat exposures");
  cmd->add_option("--calib-exposures", a->calib_exposures,
                  "With --calibs: raw bias, dark and flat (per band) exposures of each kind (default 3; 0 for none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--calib-label", a->calib_label,
                  "Label of the calibration collections in calib/export.yaml: INSTRUMENT/calib/LABEL (default sim)");
  cmd->add_option("-j,--jobs", a->jobs, "Threads (default: the number of cores); results do not depend on it");
  cmd->add_option("--detectors", a->detectors, "Only these detectors (names or ids, comma-separated)")->delimiter(',');
  cmd->add_flag("--tiny", a->tiny,
                "Raws with 1x1-pixel amplifiers and full headers, nothing else (fast; for ingest tests)");
  cmd->add_flag("--no-truth-images", a->no_truth_images, "Skip truth/*_image.fits (tables and PSFs are still written)");
  cmd->add_flag("--no-compress", a->no_compress, "Write raws and truth images without tile compression");
  cmd->add_flag("--no-refcat", a->no_refcat, "Skip the reference catalog");
  cmd->add_flag("--no-galaxies", a->no_galaxies, "Stars only");
  cmd->add_option("--exptime", a->exptime, "Exposure time of planned exposures, seconds (default 30)");
  cmd->add_option("--ra", a->ra, "Field centre RA, degrees (default: on the meridian at the start)");
  cmd->add_option("--dec", a->dec, "Field centre Dec, degrees (default: the site latitude)");
  cmd->add_option("--start", a->start, "Start of the night, TAI ISO date-time (default 2024-11-26T01:00:00)");
  cmd->add_option("--seeing", a->seeing, "PSF FWHM on axis for every planned exposure, arcsec (default: 0.6-1.1 drawn)");
  cmd->add_option("--stars", a->stars,
                  "ECSV star table(s) (ra, dec, mag_vt|mag|V|r) added to the sky, e.g. Tycho-2 subsets")
      ->check(CLI::ExistingFile);
  cmd->add_option("--star-density", a->star_density,
                  "Stars per deg² per magnitude at r = 20 (default 1000; counts grow as 10^(0.2 m))");
  cmd->add_option("--galaxy-density", a->galaxy_density,
                  "Galaxies per deg² per magnitude at r = 20 (default 2300; counts grow as 10^(0.35 m))");
  cmd->add_option("--first-seq", a->first_seq, "First sequence number of each day_obs (default 1)");

  const auto display = add_progress_option(cmd);

  on_run(cmd, [a, display] {
    const auto camera = instrument::load_camera(a->camera);
    sim::SimOptions o;
    o.out = a->out;
    o.seed = a->seed;
    o.threads = a->jobs;  // 0: one per core (Executor)
    o.first_seq = a->first_seq;
    o.calibs = a->calibs;
    o.calib_exposures = a->calib_exposures;
    o.tiny = a->tiny;
    o.truth_images = !a->no_truth_images;
    o.compress = !a->no_compress;
    o.refcat = !a->no_refcat;
    o.detectors = a->detectors;
    o.sky.galaxies = !a->no_galaxies;
    if (a->star_density >= 0.0) o.sky.star_density = a->star_density;
    if (a->galaxy_density >= 0.0) o.sky.galaxy_density = a->galaxy_density;
    for (const auto& s : a->stars) o.star_tables.emplace_back(s);
    ProgressBar progress(*display);
    o.progress = &progress;

    std::vector<sim::ExposureSpec> exposures;
    if (!a->pointings.empty()) {
      exposures = sim::read_pointings(camera, a->pointings);
    } else {
      sim::PlanOptions plan;
      plan.exposures = a->exposures;
      plan.bands = a->bands;
      plan.ra_deg = a->ra;
      plan.dec_deg = a->dec;
      if (!a->start.empty()) plan.start = TaiTime::from_tai_iso(a->start);
      plan.exposure_time_s = a->exptime;
      plan.seed = a->seed;
      exposures = sim::plan_exposures(camera, plan);
      if (a->seeing > 0.0)
        for (auto& e : exposures) e.seeing_arcsec = a->seeing;
    }
    sim::SimSummary summary;
    run_cancellable(progress, fmt::format("the files written so far stay in {}", a->out),
                    [&] { summary = sim::simulate(camera, std::move(exposures), o); });
    std::cout << fmt::format("camera: {}\noutput: {}\n", camera.name(), a->out) << summary.text();
    if (a->calibs && !a->tiny) {
      const auto ex = sim::write_calib_export(std::filesystem::path(a->out) / "calib", camera, {a->calib_label});
      std::cout << fmt::format("calibration export: {} ({} datasets for {})\n", ex.file.string(), ex.datasets,
                               ex.calibration_collection);
    }
  });
}

}  // namespace majordome::cli
