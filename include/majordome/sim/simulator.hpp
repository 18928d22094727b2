// simulate(): raws, calibrations, reference catalog and truth for a camera (docs/sim.md).
//
// Output layout under SimOptions::out:
//   raw/<day_obs>/<obs_id>/<obs_id>_<detector>.fits   one multi-extension raw per exposure × detector
//   calib/{bias,dark}/<detector>.fits, calib/flat/<physical_filter>/<detector>.fits,
//   calib/defects/<detector>.ecsv                      (with SimOptions::calibs)
//   refcat/<htm7>.fits + refcat/index.ecsv             stars of the observed sky (image/refcat.hpp)
//   truth/<obs_id>_<detector>_{sources,image,psf}.fits the scene without instrument signature
//   summary.yaml
// Deterministic for a seed: each exposure × detector draws from its own Rng stream, whatever
// the number of threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/core/progress.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/image.hpp"
#include "majordome/image/wcs.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/exposure.hpp"
#include "majordome/sim/scene.hpp"
#include "majordome/sim/signature.hpp"

namespace majordome::sim {

struct SimOptions {
  std::filesystem::path out;
  std::uint64_t seed = 1;
  int threads = 1;  // 0: one per core (core/executor.hpp)
  int first_seq = 1;
  // Also write combined bias/dark/flat/defects under calib/ and raw bias, dark and flat
  // exposures (`calib_exposures` of each, flats per band observed) before the science ones.
  bool calibs = false;
  int calib_exposures = 3;
  // Raws whose amplifiers hold 1 × 1 pixel (full headers), nothing else: for ingest tests.
  bool tiny = false;
  bool truth_images = true;   // write truth/*_image.fits (the sources tables are always written)
  bool compress = true;       // RICE tile compression of raws (as the real ones)
  bool refcat = true;
  double refcat_mag_limit = 21.0;  // r-band faint limit of the reference catalog
  std::vector<std::string> detectors;  // names or ids to simulate; empty = all
  SkyModel sky;
  std::vector<std::filesystem::path> star_tables;  // real stars (e.g. Tycho-2 ECSV) to add
  Effects effects;
  // Not owned; may be null. Phase "simulating raws", one unit per exposure × detector;
  // Progress::cancel() stops at the next one with CancelledError (files already written stay).
  Progress* progress = nullptr;
};

struct SimSummary {
  int exposures = 0;
  int detectors = 0;
  int raw_files = 0;
  int calib_files = 0;
  int truth_files = 0;
  int refcat_shards = 0;
  std::int64_t pixels = 0;        // raw pixels simulated
  std::int64_t sources = 0;       // truth rows written
  double seconds = 0.0;
  std::vector<std::filesystem::path> raws;
  double mpix_per_second() const { return seconds > 0.0 ? pixels / seconds / 1e6 : 0.0; }
  // A few human-readable lines.
  std::string text() const;
};

// The true WCS of a detector for a pointing: TAN around the boresight with a SIP polynomial
// that reproduces the camera's radial distortion exactly (odd-order coefficients; even ones
// other than c0 → UnsupportedError).
image::Wcs detector_wcs(const instrument::Camera& camera, const instrument::Detector& detector,
                        const instrument::Pointing& pointing);

// The PSF over the field for a science exposure (seeing from the spec, or drawn).
PsfField psf_field(const instrument::Camera& camera, const ExposureSpec& exposure, std::uint64_t seed);

// Columns of truth/<name>_sources.fits.
image::Schema truth_schema();

struct DetectorScene {
  image::ImageF electrons;  // assembled, sky included, no noise, no instrument signature
  image::Catalog sources;   // truth_schema(), sources whose centre is on the detector
  std::optional<image::Wcs> wcs;
  PsfField psf;
  double pixel_scale_arcsec = 0.0;
  double sky_electrons = 0.0;  // sky per pixel at the detector centre
  std::vector<std::uint64_t> htm_pixels;  // sky-catalog cells that were drawn
};

DetectorScene render_scene(const instrument::Camera& camera, const instrument::Detector& detector,
                           const ExposureSpec& exposure, const SimOptions& options,
                           const std::vector<SkySource>& extra_stars);
// The same into `scene`, whose image is reused (not reallocated) when it already has the
// detector's size: what a loop over many exposures wants.
void render_scene(const instrument::Camera& camera, const instrument::Detector& detector,
                  const ExposureSpec& exposure, const SimOptions& options, const std::vector<SkySource>& extra_stars,
                  DetectorScene& scene);

// Writes truth/<stem>_{sources,image,psf}.fits under options.out (the image only with
// options.truth_images; RICE-compressed with a 0.01 e⁻ quantum when options.compress).
void write_truth(const instrument::Camera& camera, const instrument::Detector& detector, const ExposureSpec& exposure,
                 const DetectorScene& scene, const SimOptions& options, const std::string& stem);

// Plans nothing: simulates the given exposures (ids assigned here, after the calibration
// exposures are added when options.calibs). Throws on the first failure.
SimSummary simulate(const instrument::Camera& camera, std::vector<ExposureSpec> exposures, const SimOptions& options);

}  // namespace majordome::sim
