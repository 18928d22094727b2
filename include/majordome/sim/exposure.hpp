// What the simulator observes: one ExposureSpec per exposure, made up (plan_exposures), read
// from a pointings file (read_pointings) or the calibration sequence (calibration_exposures).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "majordome/core/time.hpp"
#include "majordome/instrument/camera.hpp"

namespace majordome::sim {

enum class ExposureKind { kScience, kBias, kDark, kFlat };
// "OBJECT", "BIAS", "DARK", "FLAT" (the IMGTYPE header value).
std::string_view image_type(ExposureKind kind);

struct ExposureSpec {
  ExposureKind kind = ExposureKind::kScience;
  instrument::Pointing pointing;
  std::string physical_filter;  // a filter of the camera (flats and science; empty for bias)
  TaiTime start;                // shutter open, TAI
  double exposure_time_s = 30.0;
  double seeing_arcsec = 0.0;   // science: PSF FWHM on axis; 0 = drawn from the seed
  std::string object = "SIM_FIELD";
  // Identifiers, set by assign_ids(): Rubin's rules (day_obs = TAI date 12 h earlier,
  // exposure id = day_obs · 10^5 + seq_num, obs_id "<CAMCODE>_O_<day_obs>_<seq:06>").
  int day_obs = 0;
  int seq_num = 0;
  std::int64_t exposure_id = 0;
  std::string obs_id;

  double dark_time_s() const;  // exposure time + 1 s of read-out
  TaiTime end() const;
};

// Numbers day_obs/seq_num/obs_id/exposure_id in time order; seq_num restarts at `first_seq`
// on each day_obs.
void assign_ids(const instrument::Camera& camera, std::vector<ExposureSpec>& exposures, int first_seq = 1);

struct PlanOptions {
  int exposures = 10;
  std::vector<std::string> bands{"g", "r", "i"};  // science exposures are split in equal blocks
  std::optional<double> ra_deg;   // field centre; default: on the meridian at the start time
  std::optional<double> dec_deg;  // default: the site latitude (zenith)
  TaiTime start = TaiTime::from_tai_iso("2024-11-26T01:00:00");
  double exposure_time_s = 30.0;
  double dither_deg = -1.0;  // dither radius; < 0: a fifth of the field of view
  std::uint64_t seed = 1;
};

// A night on one field: dithered pointings, random rotations, seeing 0.6–1.1″, consecutive
// exposures separated by their dark time plus 3 s.
std::vector<ExposureSpec> plan_exposures(const instrument::Camera& camera, const PlanOptions& options);

// A YAML file `pointings: [{ra, dec, rotation, band | physical_filter, time, exptime,
// [seeing], [object]}, …]` (degrees, TAI ISO time or MJD TAI, seconds). Throws
// InvalidConfigError naming the file and entry.
std::vector<ExposureSpec> read_pointings(const instrument::Camera& camera, const std::filesystem::path& path);

// Biases (0 s), darks (30 s) and dome flats (per band) taken `n_each` at a time before `before`.
std::vector<ExposureSpec> calibration_exposures(const instrument::Camera& camera, const std::vector<std::string>& bands,
                                                TaiTime before, int n_each = 3);

// The camera's field radius (radians): the largest distance of a detector corner from the axis.
double field_radius(const instrument::Camera& camera);

// Altitude and azimuth (degrees, azimuth north through east), hour angle (hours) and airmass
// of a pointing at a time, for the camera's site.
struct Horizontal {
  double alt_deg = 90.0;
  double az_deg = 0.0;
  double hour_angle_h = 0.0;
  double airmass = 1.0;
};
Horizontal horizontal(const instrument::Site& site, double ra_deg, double dec_deg, TaiTime time);

}  // namespace majordome::sim
