// Simulator throughput on LSSTComCam (4072 × 4000 ITL sensors, 16 amplifiers):
//   bench_sim [OUTDIR] [EXPOSURES]
// prints the time of each phase for one detector, then whole simulate() runs on 1 and 2
// threads, with and without truth images, and the --tiny mode; and extrapolates to a night of
// 200 exposures × 9 detectors. Raw pixels (with prescan/overscan) are what Mpix counts.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "majordome/image/fits_file.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/exposure.hpp"
#include "majordome/sim/simulator.hpp"

namespace fs = std::filesystem;
using namespace majordome;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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
  std::printf("LSSTComCam %s: %.1f Mpix raw (%d x %d assembled)\n", det.name.c_str(), mpix, det.bbox.width(),
              det.bbox.height());

  auto specs = night(cam, 1);
  sim::assign_ids(cam, specs);
  sim::SimOptions o;
  o.out = out / "phases";
  auto t0 = std::chrono::steady_clock::now();
  const auto scene = sim::render_scene(cam, det, specs[0], o, {});
  const double t_scene = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const sim::DetectorModel model(cam, det, o.seed, o.effects);
  const double t_model = seconds_since(t0);
  sim::Rng rng(1, {3});
  t0 = std::chrono::steady_clock::now();
  const auto amps = sim::make_raw(cam, model, specs[0], scene.electrons, rng, o.effects);
  const double t_raw = seconds_since(t0);
  fs::create_directories(o.out);
  double t_write[2];
  for (int compress = 0; compress < 2; ++compress) {
    t0 = std::chrono::steady_clock::now();
    image::FitsFile f(o.out / (compress ? "rice.fits" : "plain.fits"), image::FitsMode::kOverwrite);
    f.write_empty_image(sim::raw_primary_header(cam, det, specs[0]));
    for (std::size_t a = 0; a < amps.size(); ++a)
      f.write_image(amps[a], sim::raw_amplifier_header(det, det.amplifiers[a]),
                    compress ? image::CompressionOptions::lossless_integer() : image::CompressionOptions::none());
    f.close();
    t_write[compress] = seconds_since(t0);
  }
  std::printf("  scene (%zu sources, sky, PSF)  %6.2f s  %6.1f Mpix/s\n", scene.sources.size(), t_scene, mpix / t_scene);
  std::printf("  detector model (once per run)  %6.2f s\n", t_model);
  std::printf("  instrument signature           %6.2f s  %6.1f Mpix/s\n", t_raw, mpix / t_raw);
  std::printf("  write raw, uncompressed        %6.2f s  %6.1f Mpix/s (%.0f MB)\n", t_write[0], mpix / t_write[0],
              fs::file_size(o.out / "plain.fits") / 1e6);
  std::printf("  write raw, RICE_1              %6.2f s  %6.1f Mpix/s (%.0f MB)\n", t_write[1], mpix / t_write[1],
              fs::file_size(o.out / "rice.fits") / 1e6);

  struct Run {
    const char* label;
    int threads;
    bool truth_images;
    bool tiny;
  };
  const Run runs[] = {{"full, 1 thread ", 1, true, false},
                      {"full, 2 threads", 2, true, false},
                      {"no truth images, 2 threads", 2, false, false},
                      {"--tiny, 2 threads", 2, false, true}};
  std::printf("simulate(): %d exposures x 9 detectors of LSSTComCam\n", exposures);
  for (const auto& r : runs) {
    sim::SimOptions so;
    so.out = out / "run";
    fs::remove_all(so.out);
    so.threads = r.threads;
    so.truth_images = r.truth_images;
    so.tiny = r.tiny;
    const auto s = sim::simulate(cam, night(cam, r.tiny ? 20 * exposures : exposures), so);
    const double per_file = s.seconds / s.raw_files;
    std::printf("  %-28s %7.1f s  %6.1f Mpix/s  %.3f s per raw → a night of 200 x 9 raws: %.1f min\n", r.label,
                s.seconds, s.mpix_per_second(), per_file, per_file * 1800 / 60.0);
  }
  fs::remove_all(out);
  return 0;
}
