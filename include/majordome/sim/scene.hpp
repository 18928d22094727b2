// The simulated sky (stars and galaxies), the PSF and the rendering of both into images.
//
// The sky is the same for every exposure of a seed: sources are generated per HTM pixel
// (level kSkyLevel) from Rng(seed, {kSkyCatalog, pixel id}), so overlapping exposures and
// detectors see the same stars, whatever order or thread renders them.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "majordome/image/image.hpp"
#include "majordome/image/wcs.hpp"

namespace majordome::sim {

// Bands the simulator knows, in this order in SkySource::mag.
inline constexpr std::array<const char*, 6> kBands = {"u", "g", "r", "i", "z", "y"};
// The index of a band in kBands; InvalidArgumentError listing them for another name.
int band_index(std::string_view band);

// HTM level of the source-generation cells (~18 arcmin² each).
inline constexpr int kSkyLevel = 10;
// Epoch of catalog positions (2016.0, as Gaia DR3), MJD TAI.
inline constexpr double kCatalogEpochMjd = 57388.0;

enum class SourceType { kStar, kGalaxy };
std::string_view source_type_name(SourceType type);  // "star", "galaxy"

struct SkySource {
  std::int64_t id = 0;
  SourceType type = SourceType::kStar;
  double ra_deg = 0.0;  // at kCatalogEpochMjd
  double dec_deg = 0.0;
  double pm_ra_mas_per_yr = 0.0;  // μα·cos δ
  double pm_dec_mas_per_yr = 0.0;
  std::array<double, 6> mag{};  // AB, per kBands
  // Galaxies: Sérsic index, half-light radius, axis ratio b/a, position angle (east of north).
  double sersic_n = 0.0;
  double half_light_arcsec = 0.0;
  double axis_ratio = 1.0;
  double position_angle_deg = 0.0;
};

// Number counts. Stars: dN/dm = star_density · 10^(0.2 (m − 20)) per deg² per mag (r band);
// galaxies: dN/dm = galaxy_density · 10^(0.35 (m − 20)). Defaults give ~34 000 stars and
// ~240 000 galaxies per deg² to their faint limits, typical of intermediate galactic latitude.
struct SkyModel {
  double star_density = 1000.0;
  double star_mag_min = 14.0;
  double star_mag_max = 26.0;
  double galaxy_density = 2300.0;
  double galaxy_mag_min = 16.0;
  double galaxy_mag_max = 25.5;
  bool stars = true;
  bool galaxies = true;
};

// The sources of one HTM pixel of level kSkyLevel (ids: pixel id · 2^16 + index).
std::vector<SkySource> sources_in_pixel(std::uint64_t seed, const SkyModel& model, std::uint64_t htm_id);

// Stars read from an ECSV table with columns ra, dec (deg) and one magnitude column (mag_vt,
// mag, V or r), e.g. ../shared/data/refcat/tycho2_*.ecsv. Colours are those of a G star.
// Ids count from 2^62. Throws NotFoundError / InvalidConfigError naming the file.
std::vector<SkySource> read_star_table(const std::filesystem::path& path, std::int64_t first_id);

// A Moffat PSF, I ∝ (1 + r²/α²)^-β, sheared by (e1, e2) (reduced-shear convention: axis ratio
// (1 − |e|)/(1 + |e|), area preserved), in pixel units.
struct Psf {
  double fwhm_px = 3.5;
  double beta = 3.5;
  double e1 = 0.0;
  double e2 = 0.0;

  double alpha() const;
  // Value at offset (dx, dy) from the centre, normalised to unit total flux.
  double value(double dx, double dy) const;
};

// How the PSF varies over the field: FWHM = seeing · (1 + 0.15 ρ²) and ellipticity
// e = e0 + 0.04 ρ² (cos 2θ, sin 2θ), ρ = field radius / field_radius, θ its position angle.
struct PsfField {
  double seeing_arcsec = 0.8;  // FWHM on the optical axis
  double beta = 3.5;
  double e1 = 0.0;  // e0: the part constant over the field
  double e2 = 0.0;
  double field_radius_rad = 0.01;

  Psf at(double field_x_rad, double field_y_rad, double pixel_scale_arcsec) const;
};

// A source to draw: its pixel position, electrons and shape.
struct Placement {
  double x = 0.0;
  double y = 0.0;
  double flux = 0.0;
  Psf psf;
  const SkySource* source = nullptr;  // for galaxy shapes; null = a point source
  double pixel_scale_arcsec = 0.2;
  double major_axis_rad = 0.0;  // galaxies: major axis angle from the +x pixel axis
};

// Adds the source to `image` (electrons). Stars: the Moffat PSF integrated over pixels (3 × 3
// sub-samples in the core) within a stamp wide enough that the wings left out hold less than
// one electron. Galaxies: the Sérsic profile (truncated at 8 r_e) convolved with the PSF,
// both as Gaussian mixtures (gaussian_mixture.hpp), drawn where brighter than 0.01 e⁻/pixel.
// Returns the flux that fell on the image (electrons).
double render(const image::ImageF& image, const Placement& placement);
// Stars: the half-size of the stamp render() uses. Galaxies: a radius beyond which they add
// nothing (to skip sources that cannot reach an image).
int stamp_radius(const Placement& placement);

}  // namespace majordome::sim
