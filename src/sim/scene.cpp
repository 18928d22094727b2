#include "majordome/sim/scene.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/sim/gaussian_mixture.hpp"
#include "majordome/sim/random.hpp"
#include "majordome/sphere/htm_pixelization.hpp"

namespace majordome::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegPerRad = 180.0 / kPi;
constexpr double kLn10 = 2.302585092994046;

// Magnitude drawn from dN/dm ∝ 10^(slope·m) on [lo, hi] (inverse of the cumulative counts).
double draw_magnitude(Rng& rng, double slope, double lo, double hi) {
  const double span = std::pow(10.0, slope * (hi - lo)) - 1.0;
  return lo + std::log10(1.0 + rng.uniform() * span) / slope;
}

// Expected number per deg² of dN/dm = density·10^(slope (m − 20)) on [lo, hi].
double expected_count(double density, double slope, double lo, double hi) {
  if (hi <= lo || density <= 0.0) return 0.0;
  return density / (slope * kLn10) * (std::pow(10.0, slope * (hi - 20.0)) - std::pow(10.0, slope * (lo - 20.0)));
}

double triangle_area_deg2(const std::array<sphere::UnitVector3d, 3>& v) {
  const auto& a = v[0];
  const auto& b = v[1];
  const auto& c = v[2];
  const double triple = a.x() * (b.y() * c.z() - b.z() * c.y()) - a.y() * (b.x() * c.z() - b.z() * c.x()) +
                        a.z() * (b.x() * c.y() - b.y() * c.x());
  const double dots = 1.0 + (a.x() * b.x() + a.y() * b.y() + a.z() * b.z()) +
                      (b.x() * c.x() + b.y() * c.y() + b.z() * c.z()) + (c.x() * a.x() + c.y() * a.y() + c.z() * a.z());
  const double steradians = 2.0 * std::atan2(std::abs(triple), dots);
  return steradians * kDegPerRad * kDegPerRad;
}

// A point uniform in the flat triangle, pushed out to the sphere: inside the spherical
// triangle, with a density that departs from uniform by < 1e-6 at level 10.
std::pair<double, double> draw_position(Rng& rng, const std::array<sphere::UnitVector3d, 3>& v) {
  const double r1 = std::sqrt(rng.uniform()), r2 = rng.uniform();
  const double wa = 1.0 - r1, wb = r1 * (1.0 - r2), wc = r1 * r2;
  const double x = wa * v[0].x() + wb * v[1].x() + wc * v[2].x();
  const double y = wa * v[0].y() + wb * v[1].y() + wc * v[2].y();
  const double z = wa * v[0].z() + wb * v[1].z() + wc * v[2].z();
  const double n = std::sqrt(x * x + y * y + z * z);
  double ra = std::atan2(y, x) * kDegPerRad;
  if (ra < 0.0) ra += 360.0;
  return {ra, std::asin(std::clamp(z / n, -1.0, 1.0)) * kDegPerRad};
}

void set_colours(SkySource& s, double r, double gr, double ug, double ri, double iz, double zy) {
  s.mag[2] = r;
  s.mag[1] = r + gr;
  s.mag[0] = s.mag[1] + ug;
  s.mag[3] = r - ri;
  s.mag[4] = s.mag[3] - iz;
  s.mag[5] = s.mag[4] - zy;
}

}  // namespace

int band_index(std::string_view band) {
  for (std::size_t i = 0; i < kBands.size(); ++i)
    if (band == kBands[i]) return static_cast<int>(i);
  throw InvalidArgumentError(fmt::format("unknown band '{}'; the simulator knows u, g, r, i, z, y", band));
}

std::string_view source_type_name(SourceType type) { return type == SourceType::kStar ? "star" : "galaxy"; }

std::vector<SkySource> sources_in_pixel(std::uint64_t seed, const SkyModel& model, std::uint64_t htm_id) {
  const auto vertices = sphere::HtmPixelization::triangle_vertices(htm_id);
  const double area = triangle_area_deg2(vertices);
  Rng rng(seed, {key(Stream::kSkyCatalog), htm_id});
  std::vector<SkySource> out;
  std::int64_t next = 0;
  const auto base = static_cast<std::int64_t>(htm_id) << 16;
  if (model.stars) {
    const auto n = rng.poisson(area * expected_count(model.star_density, 0.2, model.star_mag_min, model.star_mag_max));
    for (std::int64_t i = 0; i < n; ++i) {
      SkySource s;
      s.id = base + next++;
      s.type = SourceType::kStar;
      std::tie(s.ra_deg, s.dec_deg) = draw_position(rng, vertices);
      const double r = draw_magnitude(rng, 0.2, model.star_mag_min, model.star_mag_max);
      const double gr = rng.uniform(0.2, 1.5);  // main-sequence g − r from F to M stars
      const double ri = std::max(0.0, 0.7 * gr - 0.2) + 0.03 * rng.normal();
      set_colours(s, r, gr, 0.8 + 1.1 * gr, ri, 0.5 * ri + 0.02, 0.25 * ri + 0.02);
      s.pm_ra_mas_per_yr = 5.0 * rng.normal();
      s.pm_dec_mas_per_yr = 5.0 * rng.normal();
      out.push_back(s);
    }
  }
  if (model.galaxies) {
    const auto n =
        rng.poisson(area * expected_count(model.galaxy_density, 0.35, model.galaxy_mag_min, model.galaxy_mag_max));
    for (std::int64_t i = 0; i < n; ++i) {
      SkySource s;
      s.id = base + next++;
      s.type = SourceType::kGalaxy;
      std::tie(s.ra_deg, s.dec_deg) = draw_position(rng, vertices);
      const double r = draw_magnitude(rng, 0.35, model.galaxy_mag_min, model.galaxy_mag_max);
      const double gr = rng.uniform(0.3, 1.0);
      set_colours(s, r, gr, 0.5 + 0.8 * gr + 0.1 * rng.normal(), 0.2 + 0.3 * gr, 0.15 + 0.2 * gr, 0.1);
      const double pick = rng.uniform();
      s.sersic_n = pick < 0.6 ? 1.0 : (pick < 0.8 ? 4.0 : rng.uniform(0.5, 4.0));
      s.half_light_arcsec = 0.9 * std::pow(10.0, -0.12 * (r - 20.0) + 0.2 * rng.normal());
      s.axis_ratio = rng.uniform(0.25, 1.0);
      s.position_angle_deg = rng.uniform(0.0, 180.0);
      out.push_back(s);
    }
  }
  return out;
}

std::vector<SkySource> read_star_table(const std::filesystem::path& path, std::int64_t first_id) {
  std::ifstream in(path);
  if (!in) throw NotFoundError(fmt::format("star table {} cannot be opened", path.string()));
  std::string line;
  std::vector<std::string> names;
  int ra_col = -1, dec_col = -1, mag_col = -1;
  std::vector<SkySource> out;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<std::string> cells;
    for (std::string cell; fields >> cell;) cells.push_back(cell);
    if (names.empty()) {
      names = cells;
      for (std::size_t i = 0; i < names.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
          if (names[j] == names[i])
            throw InvalidConfigError(fmt::format("star table {} line {}: column '{}' appears twice (columns {} and {})",
                                                 path.string(), line_no, names[i], j + 1, i + 1));
      for (std::size_t i = 0; i < names.size(); ++i) {
        const auto& n = names[i];
        if (n == "ra") ra_col = static_cast<int>(i);
        if (n == "dec") dec_col = static_cast<int>(i);
        if (mag_col < 0 && (n == "mag_vt" || n == "mag" || n == "V" || n == "r")) mag_col = static_cast<int>(i);
      }
      if (ra_col < 0 || dec_col < 0 || mag_col < 0)
        throw InvalidConfigError(fmt::format("star table {}: needs columns ra, dec and one of mag_vt, mag, V, r; found: {}",
                                             path.string(), line));
      continue;
    }
    const auto need = static_cast<std::size_t>(std::max({ra_col, dec_col, mag_col}));
    if (cells.size() <= need)
      throw InvalidConfigError(fmt::format("star table {} line {}: expected {} columns", path.string(), line_no, names.size()));
    SkySource s;
    try {
      s.ra_deg = std::stod(cells[static_cast<std::size_t>(ra_col)]);
      s.dec_deg = std::stod(cells[static_cast<std::size_t>(dec_col)]);
      const double v = std::stod(cells[static_cast<std::size_t>(mag_col)]);
      // A G star (g − r = 0.45): V = g − 0.59 (g − r) − 0.01.
      const double g = v + 0.28;
      set_colours(s, g - 0.45, 0.45, 1.2, 0.12, 0.03, 0.01);
    } catch (const std::exception&) {
      throw InvalidConfigError(fmt::format("star table {} line {}: not a number in '{}'", path.string(), line_no, line));
    }
    s.id = first_id + static_cast<std::int64_t>(out.size());
    s.type = SourceType::kStar;
    out.push_back(s);
  }
  return out;
}

double Psf::alpha() const { return fwhm_px / (2.0 * std::sqrt(std::pow(2.0, 1.0 / beta) - 1.0)); }

namespace {

// A Psf ready for many evaluations: the sheared radius as a quadratic form and (1 + q)^−β
// without exp/log when 2β is an integer (β = 3.5 by default: a square root and products).
class MoffatEvaluator {
 public:
  explicit MoffatEvaluator(const Psf& psf) : beta_(psf.beta) {
    const double g2sq = psf.e1 * psf.e1 + psf.e2 * psf.e2;
    const double a = psf.alpha();
    // (u² + v²)/α² with u = ((1 − e1) dx − e2 dy)/√(1 − g²), v = (−e2 dx + (1 + e1) dy)/√(1 − g²).
    const double s = 1.0 / ((1.0 - g2sq) * a * a);
    qxx_ = s * ((1.0 - psf.e1) * (1.0 - psf.e1) + psf.e2 * psf.e2);
    qxy_ = s * (-4.0 * psf.e2);  // the dx·dy coefficient: twice the off-diagonal term
    qyy_ = s * ((1.0 + psf.e1) * (1.0 + psf.e1) + psf.e2 * psf.e2);
    norm_ = (beta_ - 1.0) / (kPi * a * a);
    const double twice = 2.0 * beta_;
    if (twice == std::floor(twice) && twice <= 40.0) {
      whole_ = static_cast<int>(std::floor(beta_));
      half_ = twice - 2.0 * whole_ > 0.5;
      fast_ = true;
    }
  }

  double operator()(double dx, double dy) const {
    const double t = 1.0 + qxx_ * dx * dx + qxy_ * dx * dy + qyy_ * dy * dy;
    if (!fast_) return norm_ * std::exp(-beta_ * std::log(t));
    const double inv = 1.0 / t;
    double v = half_ ? std::sqrt(inv) : 1.0;
    for (int i = 0; i < whole_; ++i) v *= inv;
    return norm_ * v;
  }

 private:
  double beta_;
  double qxx_ = 0.0, qxy_ = 0.0, qyy_ = 0.0, norm_ = 0.0;
  int whole_ = 0;
  bool half_ = false;
  bool fast_ = false;
};

}  // namespace

double Psf::value(double dx, double dy) const { return MoffatEvaluator(*this)(dx, dy); }

Psf PsfField::at(double fx, double fy, double pixel_scale_arcsec) const {
  const double rho2 = (fx * fx + fy * fy) / (field_radius_rad * field_radius_rad);
  const double theta = std::atan2(fy, fx);
  Psf p;
  p.beta = beta;
  p.fwhm_px = seeing_arcsec * (1.0 + 0.15 * rho2) / pixel_scale_arcsec;
  p.e1 = e1 + 0.04 * rho2 * std::cos(2.0 * theta);
  p.e2 = e2 + 0.04 * rho2 * std::sin(2.0 * theta);
  return p;
}

int stamp_radius(const Placement& p) {
  const double fwhm = p.psf.fwhm_px;
  if (p.source == nullptr || p.source->type == SourceType::kStar) {
    // Wide enough that the Moffat wings left out hold less than one electron.
    const double wings = p.psf.alpha() * std::pow(std::max(p.flux, 1.0), 1.0 / (2.0 * (p.psf.beta - 1.0)));
    return static_cast<int>(std::ceil(std::clamp(wings, 4.0 * fwhm, 150.0)));
  }
  // The Sérsic mixture is fitted to the profile truncated at 8 r_e along the major axis.
  const double re_px = p.source->half_light_arcsec / p.pixel_scale_arcsec;
  const double extent = 8.0 * re_px / std::sqrt(p.source->axis_ratio);
  return static_cast<int>(std::ceil(std::clamp(extent + 3.0 * fwhm, 4.0 * fwhm, 150.0)));
}

namespace {

double render_point(const image::ImageF& img, const Placement& p, int radius) {
  const auto box = img.bbox();
  const int x0 = std::max(box.begin_x(), static_cast<int>(std::floor(p.x)) - radius);
  const int x1 = std::min(box.end_x() - 1, static_cast<int>(std::floor(p.x)) + radius + 1);
  const int y0 = std::max(box.begin_y(), static_cast<int>(std::floor(p.y)) - radius);
  const int y1 = std::min(box.end_y() - 1, static_cast<int>(std::floor(p.y)) + radius + 1);
  const double core2 = 2.25 * p.psf.fwhm_px * p.psf.fwhm_px;
  const MoffatEvaluator psf(p.psf);
  double added = 0.0;
  for (int y = y0; y <= y1; ++y) {
    float* row = img.row(y - box.begin_y()).data();
    const double dy = y - p.y;
    double row_sum = 0.0;
    for (int x = x0; x <= x1; ++x) {
      const double dx = x - p.x;
      double v;
      if (dx * dx + dy * dy < core2) {
        // Near the core the profile curves within a pixel: average 3×3 sub-pixels.
        v = 0.0;
        for (int sy = -1; sy <= 1; ++sy)
          for (int sx = -1; sx <= 1; ++sx) v += psf(dx + sx / 3.0, dy + sy / 3.0);
        v /= 9.0;
      } else {
        v = psf(dx, dy);
      }
      const double e = p.flux * v;
      row[x - box.begin_x()] += static_cast<float>(e);
      row_sum += e;
    }
    added += row_sum;
  }
  return added;
}

// Galaxy light below this surface brightness (electrons per pixel: the truth image's 0.01 e⁻
// quantum, far below any sky noise) is not drawn.
constexpr double kMinSurfaceBrightness = 1e-2;
// Convolved components whose covariances differ by less than τ (relative) are merged, which
// changes the surface brightness by ~τ²/2 of the peak: τ is chosen so that this stays below
// 0.5 % of the galaxy's peak or 0.2 e⁻/pixel, whichever is larger (faint galaxies, whose
// peak is far below the sky noise, are drawn with fewer components), and at most 0.4.
double merge_tolerance(double peak) { return std::min(0.4, std::sqrt(std::max(0.01, 0.4 / peak))); }

// The Sérsic profile as a Gaussian mixture convolved analytically with the Gaussian mixture
// of the local Moffat PSF: every pair (galaxy component, PSF component) is one Gaussian whose
// covariance is the sum.
double render_galaxy(const image::ImageF& img, const Placement& p) {
  const SkySource& s = *p.source;
  const double re = s.half_light_arcsec / p.pixel_scale_arcsec;
  const double q = s.axis_ratio;
  const double c = std::cos(p.major_axis_rad), sn = std::sin(p.major_axis_rad);
  // Intrinsic shape for unit variance: major axis re/√q, minor re·√q (area kept).
  const double re2 = re * re;
  const double gxx = re2 * (c * c / q + sn * sn * q), gxy = re2 * c * sn * (1.0 / q - q),
               gyy = re2 * (sn * sn / q + c * c * q);
  // The PSF's shear: Moffat isophotes are |M d| = const, so its covariances are α² M⁻².
  const double e1 = p.psf.e1, e2 = p.psf.e2;
  const double a2 = p.psf.alpha() * p.psf.alpha() / (1.0 - e1 * e1 - e2 * e2);
  const double pxx = a2 * ((1.0 + e1) * (1.0 + e1) + e2 * e2), pxy = a2 * 2.0 * e2,
               pyy = a2 * ((1.0 - e1) * (1.0 - e1) + e2 * e2);
  const auto galaxy = sersic_mixture(s.sersic_n);
  const auto psf = moffat_mixture(p.psf.beta);
  std::vector<Gaussian2D> components;
  components.reserve(galaxy.size() * psf.size());
  for (const auto& g : galaxy)
    for (const auto& k : psf)
      components.push_back({p.flux * g.weight * k.weight, g.variance * gxx + k.variance * pxx,
                            g.variance * gxy + k.variance * pxy, g.variance * gyy + k.variance * pyy});
  double peak = 0.0;  // of the convolved profile
  for (const auto& k : components) peak += k.flux / (2.0 * kPi * std::sqrt(k.xx * k.yy - k.xy * k.xy));
  merge_similar(components, merge_tolerance(peak));
  const auto box = img.bbox();
  return render_gaussians(img, p.x - box.begin_x(), p.y - box.begin_y(), components, kMinSurfaceBrightness);
}

}  // namespace

double render(const image::ImageF& image, const Placement& placement) {
  if (!(placement.flux > 0.0)) return 0.0;
  if (placement.source != nullptr && placement.source->type == SourceType::kGalaxy)
    return render_galaxy(image, placement);
  return render_point(image, placement, stamp_radius(placement));
}

}  // namespace majordome::sim
