// The instrument signature: what a detector does to the light that reaches it.
//
// DetectorModel holds what is fixed for a detector (drawn from Rng(seed, {kDetector, id})):
// defects, pixel-to-pixel response, amplifier response steps. make_raw() turns a scene in
// electrons (assembled, no signature: truth) into the amplifier images of a raw, in order:
//   scene × flat + dark current × dark time → Poisson + read noise (in electrons, one
//   deviate: N(μ, μ + σ²) above 50 e⁻, exact Poisson + N(0, σ²) below) → cosmic rays → full
//   well and bleed trails along columns → ÷ gain (ADU) → non-linearity → crosstalk → bias
//   level + bias structure (+ read noise in the prescan and overscans) → 18-bit ADC.
// All of it runs in the returned int32 images: electrons first, then ADU in place.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/header.hpp"
#include "majordome/image/image.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/sim/exposure.hpp"
#include "majordome/sim/random.hpp"

namespace majordome::sim {

enum class DefectKind { kBadColumn, kHotPixel, kDeadPixel };

struct Defect {
  image::Box2I box;  // assembled detector pixels
  DefectKind kind = DefectKind::kBadColumn;
};

// The largest value an LSST ADC gives (18 bits).
inline constexpr double kAdcMax = 262143.0;

// Knobs of the signature (all on by default; tests switch parts off to measure others).
struct Effects {
  bool photon_noise = true;
  bool read_noise = true;
  bool flat = true;
  bool dark = true;
  bool cosmic_rays = true;
  bool saturation = true;
  bool nonlinearity = true;
  bool crosstalk = true;
  bool defects = true;
  bool bias_structure = true;
  double cosmic_ray_rate = 0.05;  // per cm² per second of dark time
  double vignetting = 0.08;       // flat falls by this fraction at the edge of the field
  double pixel_response_rms = 0.008;  // pixel-to-pixel flat rms in r (other bands scale)
  double flat_level = 20000.0;    // electrons per pixel of a dome flat at the field centre
  double hot_pixel_dark = 50.0;   // electrons per second in a hot pixel
};

class DetectorModel {
 public:
  DetectorModel(const instrument::Camera& camera, const instrument::Detector& detector, std::uint64_t seed,
                const Effects& effects);

  const instrument::Detector& detector() const { return *detector_; }
  const std::vector<Defect>& defects() const { return defects_; }
  // The flat field (relative response, mean ≈ 1 at the field centre) of one row in a band:
  // vignetting × amplifier response × (1 + pixel response) × defects.
  void flat_row(std::string_view band, int y, std::span<float> out) const;
  image::ImageF flat(std::string_view band) const;
  // Dark current (electrons per second) of one row: the amplifier's rate, hot pixels far above.
  void dark_row(int y, std::span<float> out) const;
  image::ImageF dark() const;
  // Bias structure in ADU that survives overscan subtraction (a decaying ramp at the start of
  // each serial read-out), for assembled pixel (x, y).
  double bias_structure_adu(const instrument::Amplifier& amp, image::Point2I raw) const;
  // The same, in electrons, assembled: the content of a perfect combined bias.
  image::ImageF bias() const;

 private:
  const instrument::Camera* camera_;
  const instrument::Detector* detector_;
  Effects effects_;
  std::vector<Defect> defects_;
  image::ImageF pixel_response_;   // unit rms pattern, scaled per band
  std::vector<double> amp_response_;  // per amplifier, in detector order
  double fp_radius_mm_ = 1.0;         // largest focal-plane radius of the camera
};

// The amplifier images of one raw (in the detector's amplifier order, raw layout). `scene` is
// in electrons (assembled; ignored for BIAS and DARK exposures, may then be empty).
std::vector<image::ImageI> make_raw(const instrument::Camera& camera, const DetectorModel& model,
                                    const ExposureSpec& exposure, const image::ImageF& scene, Rng& rng,
                                    const Effects& effects);
// The same into `raws`, whose images are reused (not reallocated) when they already have the
// detector's amplifier boxes: what a loop over many exposures wants.
void make_raw(const instrument::Camera& camera, const DetectorModel& model, const ExposureSpec& exposure,
              const image::ImageF& scene, Rng& rng, const Effects& effects, std::vector<image::ImageI>& raws);

// Raw headers, mimicking the camera's real raws (docs/sim.md lists the keywords).
image::Header raw_primary_header(const instrument::Camera& camera, const instrument::Detector& detector,
                                 const ExposureSpec& exposure);
image::Header raw_amplifier_header(const instrument::Detector& detector, const instrument::Amplifier& amp);

// The file name of a raw: "<obs_id>_<detector name>.fits" (Rubin's raw naming).
std::string raw_file_stem(const ExposureSpec& exposure, const instrument::Detector& detector);

}  // namespace majordome::sim
