#include "majordome/sim/scene.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
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

// b_n of the Sérsic profile (Ciotti & Bertin 1999 asymptotic series).
double sersic_b(double n) { return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n); }

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

double Psf::value(double dx, double dy) const {
  const double g2sq = e1 * e1 + e2 * e2;
  const double norm = 1.0 / std::sqrt(1.0 - g2sq);
  const double u = norm * ((1.0 - e1) * dx - e2 * dy);
  const double v = norm * (-e2 * dx + (1.0 + e1) * dy);
  const double a = alpha();
  const double q = (u * u + v * v) / (a * a);
  return (beta - 1.0) / (kPi * a * a) * std::exp(-beta * std::log1p(q));
}

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
  const double re_px = p.source->half_light_arcsec / p.pixel_scale_arcsec;
  const double extent = (3.0 + 1.5 * p.source->sersic_n) * re_px / std::sqrt(p.source->axis_ratio);
  return static_cast<int>(std::ceil(std::clamp(extent + 1.5 * fwhm, 3.0 * fwhm, 80.0)));
}

namespace {

double render_point(const image::ImageF& img, const Placement& p, int radius) {
  const auto box = img.bbox();
  const int x0 = std::max(box.begin_x(), static_cast<int>(std::floor(p.x)) - radius);
  const int x1 = std::min(box.end_x() - 1, static_cast<int>(std::floor(p.x)) + radius + 1);
  const int y0 = std::max(box.begin_y(), static_cast<int>(std::floor(p.y)) - radius);
  const int y1 = std::min(box.end_y() - 1, static_cast<int>(std::floor(p.y)) + radius + 1);
  const double core2 = 2.25 * p.psf.fwhm_px * p.psf.fwhm_px;
  double added = 0.0;
  for (int y = y0; y <= y1; ++y) {
    const auto row = img.row(y - box.begin_y());
    const double dy = y - p.y;
    for (int x = x0; x <= x1; ++x) {
      const double dx = x - p.x;
      double v;
      if (dx * dx + dy * dy < core2) {
        // Near the core the profile curves within a pixel: average 3×3 sub-pixels.
        v = 0.0;
        for (int sy = -1; sy <= 1; ++sy)
          for (int sx = -1; sx <= 1; ++sx) v += p.psf.value(dx + sx / 3.0, dy + sy / 3.0);
        v /= 9.0;
      } else {
        v = p.psf.value(dx, dy);
      }
      const double e = p.flux * v;
      row[static_cast<std::size_t>(x - box.begin_x())] += static_cast<float>(e);
      added += e;
    }
  }
  return added;
}

// A Sérsic profile smoothed by a Gaussian of the PSF's FWHM (an approximation of the PSF
// convolution that keeps the flux, size and centroid), normalised to the source flux.
double render_galaxy(const image::ImageF& img, const Placement& p, int radius) {
  const SkySource& s = *p.source;
  const int size = 2 * radius + 1;
  const int cx = static_cast<int>(std::floor(p.x)), cy = static_cast<int>(std::floor(p.y));
  std::vector<double> stamp(static_cast<std::size_t>(size) * static_cast<std::size_t>(size), 0.0);
  const double re = s.half_light_arcsec / p.pixel_scale_arcsec;
  const double q = s.axis_ratio;
  const double a = re / std::sqrt(q), b = re * std::sqrt(q);
  const double bn = sersic_b(s.sersic_n), inv_n = 1.0 / s.sersic_n;
  const double c = std::cos(p.major_axis_rad), sn = std::sin(p.major_axis_rad);
  // exp(−b_n r^(1/n)) with r² given; the common indices avoid pow().
  const double n = s.sersic_n;
  auto profile = [&](double r2) {
    double t;
    if (n == 1.0) t = std::sqrt(r2);
    else if (n == 4.0) t = std::sqrt(std::sqrt(std::sqrt(r2)));
    else t = std::pow(r2, 0.5 * inv_n);
    return std::exp(-bn * t);
  };
  const double sub_radius2 = (re + 1.0) * (re + 1.0);
  for (int j = 0; j < size; ++j) {
    for (int i = 0; i < size; ++i) {
      const double dx = cx - radius + i - p.x, dy = cy - radius + j - p.y;
      double v = 0.0;
      // The cusp needs sub-pixels; outside the half-light radius one sample is enough.
      const int sub = (dx * dx + dy * dy < sub_radius2) ? 3 : 1;
      for (int sy = 0; sy < sub; ++sy) {
        for (int sx = 0; sx < sub; ++sx) {
          const double ox = dx + (sx - (sub - 1) / 2.0) / sub, oy = dy + (sy - (sub - 1) / 2.0) / sub;
          const double u = (c * ox + sn * oy) / a, w = (-sn * ox + c * oy) / b;
          v += profile(u * u + w * w);
        }
      }
      stamp[static_cast<std::size_t>(j * size + i)] = v / (sub * sub);
    }
  }
  // Separable Gaussian smoothing.
  const double sigma = p.psf.fwhm_px / 2.3548200450309493;
  const int kr = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<double> kernel(static_cast<std::size_t>(2 * kr + 1));
  for (int k = -kr; k <= kr; ++k) kernel[static_cast<std::size_t>(k + kr)] = std::exp(-0.5 * k * k / (sigma * sigma));
  std::vector<double> tmp(stamp.size(), 0.0);
  for (int j = 0; j < size; ++j)
    for (int i = 0; i < size; ++i) {
      double acc = 0.0;
      for (int k = -kr; k <= kr; ++k) {
        const int ii = i + k;
        if (ii >= 0 && ii < size) acc += kernel[static_cast<std::size_t>(k + kr)] * stamp[static_cast<std::size_t>(j * size + ii)];
      }
      tmp[static_cast<std::size_t>(j * size + i)] = acc;
    }
  double total = 0.0;
  for (int j = 0; j < size; ++j)
    for (int i = 0; i < size; ++i) {
      double acc = 0.0;
      for (int k = -kr; k <= kr; ++k) {
        const int jj = j + k;
        if (jj >= 0 && jj < size) acc += kernel[static_cast<std::size_t>(k + kr)] * tmp[static_cast<std::size_t>(jj * size + i)];
      }
      stamp[static_cast<std::size_t>(j * size + i)] = acc;
      total += acc;
    }
  if (!(total > 0.0)) return 0.0;
  const double scale = p.flux / total;
  const auto box = img.bbox();
  double added = 0.0;
  for (int j = 0; j < size; ++j) {
    const int y = cy - radius + j;
    if (y < box.begin_y() || y >= box.end_y()) continue;
    const auto row = img.row(y - box.begin_y());
    for (int i = 0; i < size; ++i) {
      const int x = cx - radius + i;
      if (x < box.begin_x() || x >= box.end_x()) continue;
      const double e = scale * stamp[static_cast<std::size_t>(j * size + i)];
      row[static_cast<std::size_t>(x - box.begin_x())] += static_cast<float>(e);
      added += e;
    }
  }
  return added;
}

}  // namespace

double render(const image::ImageF& image, const Placement& placement) {
  if (!(placement.flux > 0.0)) return 0.0;
  const int radius = stamp_radius(placement);
  if (placement.source != nullptr && placement.source->type == SourceType::kGalaxy)
    return render_galaxy(image, placement, radius);
  return render_point(image, placement, radius);
}

}  // namespace majordome::sim
