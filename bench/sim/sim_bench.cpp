// Simulator throughput on LSSTComCam (4072 × 4000 ITL sensors, 16 amplifiers):
//   bench_sim [OUTDIR] [EXPOSURES]
// 1. The CPU time of each phase for one full-fidelity sensor (R22_S11): the scene split into
//    sky, stars and galaxies, the instrument signature, the RICE raw, the truth files.
// 2. Whole simulate() runs: one detector on 1 thread (CPU seconds per sensor, end to end),
//    then EXPOSURES × 9 detectors on 2 threads (wall and CPU), and the --tiny mode; each
//    extrapolated to a night of 200 exposures × 9 detectors.
// CPU time is what the machine spends whatever else runs on it; wall time depends on the
// load. Raw pixels (with prescan/overscan) are what Mpix counts.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include "majordome/image/fits_file.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/exposure.hpp"
#include "majordome/sim/simulator.hpp"

namespace fs = std::filesystem;
using namespace majordome;

namespace {

// CPU seconds of the calling thread.
double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU seconds (user + system) of the whole process, all threads.
double process_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double wall() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::vector<sim::ExposureSpec> night(const instrument::Camera& cam, int n) {
  sim::PlanOptions plan;
  plan.exposures = n;
  plan.bands = {"g", "r", "i"};
  return sim::plan_exposures(cam, plan);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path out = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "majordome_bench_sim";
  const int exposures = argc > 2 ? std::stoi(argv[2]) : 2;
  fs::remove_all(out);
  const auto cam = instrument::load_camera("LSSTComCam");
  const auto& det = cam.get_detector("R22_S11");
  std::int64_t raw_pixels = 0;
  for (const auto& a : det.amplifiers) raw_pixels += a.raw_bbox.area();
  const double mpix = raw_pixels / 1e6;
  std::printf("LSSTComCam %s: %.1f Mpix raw (%d x %d assembled); CPU seconds of one thread\n", det.name.c_str(), mpix,
              det.bbox.width(), det.bbox.height());

  auto specs = night(cam, 2);
  sim::assign_ids(cam, specs);
  const auto& spec = specs[1];  // r band
  sim::SimOptions o;
  o.out = out / "phases";
  fs::create_directories(o.out);
  // Warm-up: the galaxy mixtures are fitted on first use (once per process).
  (void)sim::render_scene(cam, det, specs[0], o, {});

  auto timed = [](auto&& f) {
    const double t0 = thread_cpu();
    f();
    return thread_cpu() - t0;
  };
  sim::SimOptions sky_only = o, stars_only = o;
  sky_only.sky.stars = sky_only.sky.galaxies = false;
  stars_only.sky.galaxies = false;
  const double t_sky = timed([&] { (void)sim::render_scene(cam, det, spec, sky_only, {}); });
  const double t_stars = timed([&] { (void)sim::render_scene(cam, det, spec, stars_only, {}); }) - t_sky;
  sim::DetectorScene scene;
  const double t_scene = timed([&] { scene = sim::render_scene(cam, det, spec, o, {}); });
  const double t_galaxies = t_scene - t_sky - t_stars;
  std::unique_ptr<sim::DetectorModel> model;
  const double t_model = timed([&] { model = std::make_unique<sim::DetectorModel>(cam, det, o.seed, o.effects); });
  sim::Rng rng(1, {3});
  std::vector<image::ImageI> amps;
  const double t_raw = timed([&] { amps = sim::make_raw(cam, *model, spec, scene.electrons, rng, o.effects); });
  double t_write[2];
  for (int compress = 0; compress < 2; ++compress) {
    t_write[compress] = timed([&] {
      image::FitsFile f(o.out / (compress ? "rice.fits" : "plain.fits"), image::FitsMode::kOverwrite);
      f.write_empty_image(sim::raw_primary_header(cam, det, spec));
      for (std::size_t a = 0; a < amps.size(); ++a)
        f.write_image(amps[a], sim::raw_amplifier_header(det, det.amplifiers[a]),
                      compress ? image::CompressionOptions::lossless_integer() : image::CompressionOptions::none());
      f.close();
    });
  }
  const double t_truth = timed([&] { sim::write_truth(cam, det, spec, scene, o, "bench"); });
  sim::SimOptions no_image = o;
  no_image.truth_images = false;
  const double t_truth_tables = timed([&] { sim::write_truth(cam, det, spec, scene, no_image, "bench_tables"); });
  std::size_t galaxies = 0;
  for (const auto& t : scene.sources.strings("type")) galaxies += t == "galaxy";
  std::printf("  scene: sky                       %6.3f s  %6.1f Mpix/s\n", t_sky, mpix / t_sky);
  std::printf("  scene: %5zu stars                %6.3f s\n", scene.sources.size() - galaxies, t_stars);
  std::printf("  scene: %5zu galaxies             %6.3f s\n", galaxies, t_galaxies);
  std::printf("  detector model (once per run)    %6.3f s\n", t_model);
  std::printf("  instrument signature             %6.3f s  %6.1f Mpix/s\n", t_raw, mpix / t_raw);
  std::printf("  write raw, uncompressed          %6.3f s  %6.1f Mpix/s (%.0f MB)\n", t_write[0], mpix / t_write[0],
              fs::file_size(o.out / "plain.fits") / 1e6);
  std::printf("  write raw, RICE_1                %6.3f s  %6.1f Mpix/s (%.0f MB)\n", t_write[1], mpix / t_write[1],
              fs::file_size(o.out / "rice.fits") / 1e6);
  std::printf("  write truth: sources + PSF       %6.3f s\n", t_truth_tables);
  std::printf("  write truth: image (RICE, 0.01 e) %5.3f s  (%.0f MB)\n", t_truth - t_truth_tables,
              fs::file_size(o.out / "truth" / "bench_image.fits") / 1e6);
  const double total = t_scene + t_raw + t_write[1] + t_truth;
  std::printf("  one sensor, end to end           %6.3f s  %6.1f Mpix/s\n", total, mpix / total);

  struct Run {
    const char* label;
    int detectors;  // 1: R22_S11 only; else all 9
    int threads;
    bool truth_images;
    bool tiny;
  };
  const Run runs[] = {{"1 detector, 1 thread", 1, 1, true, false},
                      {"9 detectors, 2 threads", 9, 2, true, false},
                      {"no truth images, 2 threads", 9, 2, false, false},
                      {"--tiny, 2 threads", 9, 2, false, true}};
  std::printf("simulate(): %d exposures of LSSTComCam; CPU = all threads\n", exposures);
  for (const auto& r : runs) {
    sim::SimOptions so;
    so.out = out / "run";
    fs::remove_all(so.out);
    so.threads = r.threads;
    so.truth_images = r.truth_images;
    so.tiny = r.tiny;
    if (r.detectors == 1) so.detectors = {"R22_S11"};
    const double c0 = process_cpu(), w0 = wall();
    const auto s = sim::simulate(cam, night(cam, r.tiny ? 20 * exposures : exposures), so);
    const double cpu = process_cpu() - c0, elapsed = wall() - w0;
    const double per_raw_wall = elapsed / s.raw_files, per_raw_cpu = cpu / s.raw_files;
    std::printf("  %-27s %3d raws %6.1f s wall %6.1f s CPU  %.3f s CPU per raw → 200 x 9 raws: %5.1f min on 2 free "
                "cores",
                r.label, s.raw_files, elapsed, cpu, per_raw_cpu, per_raw_cpu * 1800 / 2.0 / 60.0);
    if (r.threads == 2) std::printf(", %5.1f min at this run's wall-clock pace", per_raw_wall * 1800 / 60.0);
    std::printf("\n");
  }
  fs::remove_all(out);
  return 0;
}
