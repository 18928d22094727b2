#include "majordome/sim/signature.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/sim/scene.hpp"

namespace majordome::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Pixel-to-pixel response is stronger in the blue (thinner effective depletion).
double band_response_scale(std::string_view band) {
  if (band == "u") return 1.5;
  if (band == "g") return 1.2;
  if (band == "i") return 0.9;
  if (band == "z") return 0.8;
  if (band == "y") return 0.7;
  return 1.0;
}

// Electrons are counted in int32 pixels; far above any full well, so nothing real is clipped.
constexpr double kMaxElectrons = 1e9;

// v ≥ 0 rounded to the nearest integer (half away from zero, as std::round) without a libm
// call: the build targets baseline x86-64, where std::round is not inlined.
inline std::int32_t round_non_negative(double v) { return static_cast<std::int32_t>(v + 0.5); }

// ADU → the 18-bit ADC's output.
inline std::int32_t digitise(double adu) { return round_non_negative(std::clamp(adu, 0.0, kAdcMax)); }

// Electrons as counted in a pixel (negative with read noise on an empty one).
inline std::int32_t round_electrons(double v) {
  v = std::clamp(v, -kMaxElectrons, kMaxElectrons);
  return static_cast<std::int32_t>(v + (v >= 0.0 ? 0.5 : -0.5));  // half away from zero
}

// Poisson(mean) photo-electrons, exact (used below 50 e⁻).
inline std::int64_t poisson_electrons(Rng& rng, double mean) { return mean > 0.0 ? rng.poisson(mean) : 0; }

}  // namespace

DetectorModel::DetectorModel(const instrument::Camera& camera, const instrument::Detector& detector,
                             std::uint64_t seed, const Effects& effects)
    : camera_(&camera), detector_(&detector), effects_(effects) {
  Rng rng(seed, {key(Stream::kDetector), static_cast<std::uint64_t>(detector.id)});
  for (std::size_t i = 0; i < detector.amplifiers.size(); ++i) amp_response_.push_back(1.0 + 0.01 * rng.normal());
  const int w = detector.bbox.width(), h = detector.bbox.height();
  pixel_response_ = image::ImageF(w, h);
  for (int y = 0; y < h; ++y)
    for (float& v : pixel_response_.row(y)) v = static_cast<float>(rng.normal());

  // Defect counts scale with the area (per 4k × 4k sensor: 2 bad columns, 40 hot pixels,
  // 20 dead 2 × 2 clusters).
  const double area = static_cast<double>(w) * h / 16.0e6;
  const auto count = [&](double per_sensor) { return std::max<long>(1, std::lround(per_sensor * area)); };
  auto random_amp = [&]() -> const instrument::Amplifier& {
    return detector.amplifiers[rng.below(detector.amplifiers.size())];
  };
  for (long i = 0; i < count(2.0); ++i) {
    const auto& amp = random_amp();
    const int x = amp.bbox.min_x() + static_cast<int>(rng.below(static_cast<std::uint64_t>(amp.bbox.width())));
    const int y = amp.bbox.min_y() + static_cast<int>(rng.below(static_cast<std::uint64_t>(amp.bbox.height())));
    // The column is bad from the defect to the amplifier edge away from the serial register.
    const bool up = !amp.raw_flip_y;
    const int y0 = up ? y : amp.bbox.min_y(), y1 = up ? amp.bbox.end_y() : y + 1;
    defects_.push_back({image::Box2I::from_begin_end(x, y0, x + 1, y1), DefectKind::kBadColumn});
  }
  for (long i = 0; i < count(40.0); ++i) {
    const int x = static_cast<int>(rng.below(static_cast<std::uint64_t>(w)));
    const int y = static_cast<int>(rng.below(static_cast<std::uint64_t>(h)));
    defects_.push_back({image::Box2I({x, y}, {1, 1}), DefectKind::kHotPixel});
  }
  for (long i = 0; i < count(20.0); ++i) {
    const int x = static_cast<int>(rng.below(static_cast<std::uint64_t>(w - 1)));
    const int y = static_cast<int>(rng.below(static_cast<std::uint64_t>(h - 1)));
    defects_.push_back({image::Box2I({x, y}, {2, 2}), DefectKind::kDeadPixel});
  }
  if (!effects_.defects) defects_.clear();

  for (const auto& d : camera.detectors())
    for (const auto& c : {image::Point2D{-0.5, -0.5}, image::Point2D{d.bbox.width() - 0.5, -0.5},
                          image::Point2D{-0.5, d.bbox.height() - 0.5},
                          image::Point2D{d.bbox.width() - 0.5, d.bbox.height() - 0.5}}) {
      const auto fp = camera.pixel_to_focal_plane(d, c);
      fp_radius_mm_ = std::max(fp_radius_mm_, std::hypot(fp[0], fp[1]));
    }
}

void DetectorModel::flat_row(std::string_view band, int y, std::span<float> out) const {
  const auto& det = *detector_;
  const auto rms = static_cast<float>(effects_.pixel_response_rms * band_response_scale(band));
  const float* pr = pixel_response_.row(y).data();
  // The focal-plane position is affine in x along a row, so ρ² and the vignetting are a
  // quadratic in x: g(x) = g0 + x (g1 + x g2).
  const auto fp0 = camera_->pixel_to_focal_plane(det, {0.0, static_cast<double>(y)});
  const auto fp1 = camera_->pixel_to_focal_plane(det, {1.0, static_cast<double>(y)});
  const double sx = fp1[0] - fp0[0], sy = fp1[1] - fp0[1];
  const double v = effects_.vignetting / (fp_radius_mm_ * fp_radius_mm_);
  for (std::size_t a = 0; a < det.amplifiers.size(); ++a) {
    const auto& box = det.amplifiers[a].bbox;
    if (y < box.begin_y() || y >= box.end_y()) continue;
    const double r = amp_response_[a];
    const auto g0 = static_cast<float>(r * (1.0 - v * (fp0[0] * fp0[0] + fp0[1] * fp0[1])));
    const auto g1 = static_cast<float>(-r * v * 2.0 * (fp0[0] * sx + fp0[1] * sy));
    const auto g2 = static_cast<float>(-r * v * (sx * sx + sy * sy));
    for (int x = box.begin_x(); x < box.end_x(); ++x) {
      const auto i = static_cast<std::size_t>(x);
      const auto fx = static_cast<float>(x);
      out[i] = (g0 + fx * (g1 + fx * g2)) * (1.0F + rms * pr[i]);
    }
  }
  for (const auto& d : defects_) {
    if (d.kind == DefectKind::kHotPixel || y < d.box.begin_y() || y >= d.box.end_y()) continue;
    const float factor = d.kind == DefectKind::kBadColumn ? 0.1F : 0.0F;
    for (int x = d.box.begin_x(); x < d.box.end_x(); ++x) out[static_cast<std::size_t>(x)] *= factor;
  }
}

image::ImageF DetectorModel::flat(std::string_view band) const {
  image::ImageF img(detector_->bbox);
  for (int y = 0; y < img.height(); ++y) flat_row(band, y, img.row(y));
  return img;
}

void DetectorModel::dark_row(int y, std::span<float> out) const {
  for (const auto& amp : detector_->amplifiers) {
    if (y < amp.bbox.begin_y() || y >= amp.bbox.end_y()) continue;
    for (int x = amp.bbox.begin_x(); x < amp.bbox.end_x(); ++x)
      out[static_cast<std::size_t>(x)] = static_cast<float>(amp.dark_current);
  }
  for (const auto& d : defects_) {
    if (d.kind != DefectKind::kHotPixel || y < d.box.begin_y() || y >= d.box.end_y()) continue;
    for (int x = d.box.begin_x(); x < d.box.end_x(); ++x)
      out[static_cast<std::size_t>(x)] = static_cast<float>(effects_.hot_pixel_dark);
  }
}

image::ImageF DetectorModel::dark() const {
  image::ImageF img(detector_->bbox);
  for (int y = 0; y < img.height(); ++y) dark_row(y, img.row(y));
  return img;
}

double DetectorModel::bias_structure_adu(const instrument::Amplifier& /*amp*/, image::Point2I raw) const {
  if (!effects_.bias_structure) return 0.0;
  // The output amplifier settles over the first ~25 pixels of each serial read-out.
  return 4.0 * std::exp(-raw.x / 25.0);
}

image::ImageF DetectorModel::bias() const {
  image::ImageF img(detector_->bbox);
  for (const auto& amp : detector_->amplifiers)
    for (int y = amp.bbox.begin_y(); y < amp.bbox.end_y(); ++y)
      for (int x = amp.bbox.begin_x(); x < amp.bbox.end_x(); ++x)
        img(x, y) = static_cast<float>(bias_structure_adu(amp, amp.raw_from_assembled({x, y})) * amp.gain);
  return img;
}

namespace {

// Where an amplifier's assembled pixels are in its raw image: raw = origin + step · offset.
struct RawMapping {
  int x0, x1, y0, y1;  // assembled box [x0, x1) × [y0, y1)
  int raw_x0, step_x;  // raw column of assembled column x0, ±1 per column
  int raw_y0, step_y;
  int raw_x(int x) const { return raw_x0 + step_x * (x - x0); }
  int raw_y(int y) const { return raw_y0 + step_y * (y - y0); }
  bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

RawMapping raw_mapping(const instrument::Amplifier& amp) {
  const auto& d = amp.raw_data_bbox;
  RawMapping m{amp.bbox.begin_x(), amp.bbox.end_x(), amp.bbox.begin_y(), amp.bbox.end_y(), 0, 1, 0, 1};
  m.raw_x0 = amp.raw_flip_x ? d.min_x() + amp.bbox.width() - 1 : d.min_x();
  m.step_x = amp.raw_flip_x ? -1 : 1;
  m.raw_y0 = amp.raw_flip_y ? d.min_y() + amp.bbox.height() - 1 : d.min_y();
  m.step_y = amp.raw_flip_y ? -1 : 1;
  return m;
}

// Cosmic-ray muons: straight tracks of 1–40 pixels depositing ~1500 e⁻ per pixel.
void add_cosmic_rays(std::vector<image::ImageI>& e, const std::vector<RawMapping>& maps,
                     std::vector<std::vector<char>>& saturated, std::vector<std::vector<char>>& hot_rows,
                     const std::vector<std::int32_t>& full,
                     const instrument::Detector& det, double dark_time, double rate, Rng& rng) {
  const double cm = det.pixel_size_um * 1e-4;
  const double area_cm2 = det.bbox.width() * cm * det.bbox.height() * cm;
  const auto n = rng.poisson(rate * area_cm2 * dark_time);
  for (std::int64_t i = 0; i < n; ++i) {
    double x = rng.uniform(0.0, det.bbox.width()), y = rng.uniform(0.0, det.bbox.height());
    const double length = rng.uniform(1.0, 40.0), angle = rng.uniform(0.0, kPi);
    const double dx = std::cos(angle), dy = std::sin(angle);
    for (double s = 0.0; s < length; s += 1.0, x += dx, y += dy) {
      const int ix = static_cast<int>(x), iy = static_cast<int>(y);
      if (ix < 0 || iy < 0 || ix >= det.bbox.width() || iy >= det.bbox.height()) break;
      const auto deposit = round_non_negative(std::max(100.0, rng.normal(1500.0, 500.0)));
      for (std::size_t a = 0; a < maps.size(); ++a) {
        if (!maps[a].contains(ix, iy)) continue;
        const int rx = maps[a].raw_x(ix), ry = maps[a].raw_y(iy);
        std::int32_t& v = e[a](rx, ry);
        hot_rows[a][static_cast<std::size_t>(ry)] = 1;
        v = static_cast<std::int32_t>(std::min<double>(v + static_cast<double>(deposit), kMaxElectrons));
        if (v > full[a]) saturated[a][static_cast<std::size_t>(rx)] = 1;
        break;
      }
    }
  }
}

// Charge above the full well spills up and down the column, within the amplifier's data rows
// (raw layout: a column of the raw is a column of the detector).
void bleed(image::ImageI& e, const instrument::Amplifier& amp, std::int32_t full, std::size_t rx) {
  const int y0 = amp.raw_data_bbox.begin_y(), y1 = amp.raw_data_bbox.end_y();
  const int x = static_cast<int>(rx);
  for (int y = y0; y < y1; ++y) {
    std::int32_t& v = e(x, y);
    if (v <= full) continue;
    const std::int64_t excess = v - full;
    v = full;
    std::int64_t up = excess / 2, down = excess - up;
    for (int yy = y + 1; yy < y1 && up > 0; ++yy) {
      const std::int64_t room = full - e(x, yy);
      if (room <= 0) continue;
      const std::int64_t t = std::min(room, up);
      e(x, yy) += static_cast<std::int32_t>(t);
      up -= t;
    }
    for (int yy = y - 1; yy >= y0 && down > 0; --yy) {
      const std::int64_t room = full - e(x, yy);
      if (room <= 0) continue;
      const std::int64_t t = std::min(room, down);
      e(x, yy) += static_cast<std::int32_t>(t);
      down -= t;
    }
  }
}

// Electrons → ADU as the amplifier reports them: gain, then the inverse of the linearizer
// (the raw r with r + Σ k_i r^(i+2) = e / gain), then the ADC's saturation.
class AduResponse {
 public:
  AduResponse(const instrument::Amplifier& amp, const Effects& effects)
      : inv_gain_(1.0 / amp.gain), saturation_(effects.saturation ? amp.saturation : 1e300) {
    if (effects.nonlinearity) k_ = amp.linearity_coeffs;
  }
  double operator()(std::int32_t electrons) const {
    const double adu = electrons * inv_gain_;
    double r = adu;
    if (k_.size() == 1) {
      // r + k r² = adu, the root near adu: r = adu · Σ (−1)^i C_i u^i with u = k·adu (C_i the
      // Catalan numbers; below |u| = 2·10⁻³ the terms left out are < 10⁻⁷ ADU), else the
      // stable closed form.
      const double u = k_[0] * adu;
      if (std::abs(u) < 2e-3) {
        r = adu * (1.0 - u * (1.0 - u * (2.0 - u * (5.0 - 14.0 * u))));
      } else {
        const double disc = 1.0 + 4.0 * u;
        if (disc > 0.0) r = 2.0 * adu / (1.0 + std::sqrt(disc));
      }
    } else if (!k_.empty()) {
      for (int iter = 0; iter < 3; ++iter) {  // Newton from r = adu
        double f = r - adu, df = 1.0, power = r;
        for (std::size_t i = 0; i < k_.size(); ++i) {
          df += k_[i] * static_cast<double>(i + 2) * power;
          power *= r;
          f += k_[i] * power;
        }
        r -= f / df;
      }
    }
    return std::min(r, saturation_);
  }

 private:
  double inv_gain_;
  double saturation_;
  std::vector<double> k_;
};

}  // namespace

std::vector<image::ImageI> make_raw(const instrument::Camera& camera, const DetectorModel& model,
                                    const ExposureSpec& exposure, const image::ImageF& scene, Rng& rng,
                                    const Effects& effects) {
  std::vector<image::ImageI> raws;
  make_raw(camera, model, exposure, scene, rng, effects, raws);
  return raws;
}

void make_raw(const instrument::Camera& camera, const DetectorModel& model, const ExposureSpec& exposure,
              const image::ImageF& scene, Rng& rng, const Effects& effects, std::vector<image::ImageI>& raws) {
  const auto& det = model.detector();
  const int w = det.bbox.width(), h = det.bbox.height();
  const bool science = exposure.kind == ExposureKind::kScience;
  if (science && scene.dimensions() != det.bbox.dimensions())
    throw InvalidArgumentError(fmt::format("make_raw: the scene of {} is {}×{}, the detector {}×{}", det.name,
                                           scene.width(), scene.height(), w, h));
  const std::string band =
      exposure.physical_filter.empty() ? std::string() : camera.get_filter(exposure.physical_filter).band;
  const double dark_time = exposure.dark_time_s();
  const std::size_t n_amp = det.amplifiers.size();

  // The raw images first count electrons (in their data sections), then are turned into ADU
  // in place: one pixel buffer per amplifier, two full passes. Buffers of the right size are
  // reused as they are: every pixel is written before it is read.
  bool reuse = raws.size() == n_amp;
  for (std::size_t a = 0; reuse && a < n_amp; ++a) reuse = raws[a].bbox() == det.amplifiers[a].raw_bbox;
  if (!reuse) {
    raws.clear();
    raws.reserve(n_amp);
    for (const auto& amp : det.amplifiers) raws.emplace_back(amp.raw_bbox, 0);
  }
  std::vector<RawMapping> maps;
  std::vector<std::int32_t> full;  // full well, electrons
  std::vector<std::vector<char>> saturated(n_amp);  // raw columns holding a pixel above it
  for (std::size_t a = 0; a < n_amp; ++a) {
    const auto& amp = det.amplifiers[a];
    maps.push_back(raw_mapping(amp));
    const double well = effects.saturation ? amp.saturation * amp.gain : kMaxElectrons;
    full.push_back(static_cast<std::int32_t>(std::min(well, kMaxElectrons)));
    saturated[a].assign(static_cast<std::size_t>(amp.raw_bbox.width()), 0);
  }
  // Crosstalk comes from pixels above 5000 ADU. Rows that may hold one (a pixel above half
  // that in linear ADU: the linearizer's correction is a few per cent at most) are marked as
  // the electrons are counted, so that only those are searched afterwards.
  constexpr double kBright = 5000.0;
  std::vector<std::int32_t> candidate;
  std::vector<std::vector<char>> hot_rows(n_amp);
  for (std::size_t a = 0; a < n_amp; ++a) {
    candidate.push_back(static_cast<std::int32_t>(0.5 * kBright * det.amplifiers[a].gain));
    hot_rows[a].assign(static_cast<std::size_t>(det.amplifiers[a].raw_bbox.height()), 0);
  }

  // 1. Electrons collected: scene × flat + dark current, Poisson noise, row by row. The read
  // noise of the data pixels (σ = read_noise electrons, before the gain) is drawn here too,
  // with the same normal deviate: Poisson(μ) + N(0, σ²) ≈ N(μ, μ + σ²) above 50 e⁻; below,
  // an exact Poisson deviate plus σ times the deviate. The normal deviates of a row are drawn
  // first so that the arithmetic runs without the generator's serial dependency.
  const bool use_flat = effects.flat && (science || exposure.kind == ExposureKind::kFlat);
  const bool use_dark = effects.dark && exposure.kind != ExposureKind::kBias;
  const double flat_level = exposure.kind == ExposureKind::kFlat ? effects.flat_level : 0.0;
  const auto uw = static_cast<std::size_t>(w);
  std::vector<float> flat(uw, 1.0F), dark(uw, 0.0F);
  std::vector<double> mean(uw), z(uw);
  std::vector<std::int32_t> electrons(uw);
  for (int y = 0; y < h; ++y) {
    if (use_flat) model.flat_row(band, y, flat);
    if (use_dark) model.dark_row(y, dark);
    if (science) {
      const float* sc = scene.row(y).data();
      for (std::size_t i = 0; i < uw; ++i)
        mean[i] = static_cast<double>(dark[i]) * dark_time + static_cast<double>(sc[i]) * flat[i];
    } else {
      for (std::size_t i = 0; i < uw; ++i)
        mean[i] = static_cast<double>(dark[i]) * dark_time + flat_level * flat[i];
    }
    for (std::size_t a = 0; a < n_amp; ++a) {
      const auto& m = maps[a];
      if (y < m.y0 || y >= m.y1) continue;
      const auto begin = static_cast<std::size_t>(m.x0), n = static_cast<std::size_t>(m.x1 - m.x0);
      const double* mu = mean.data() + begin;
      std::int32_t* e = electrons.data();
      const double rn = effects.read_noise ? det.amplifiers[a].read_noise : 0.0, rn2 = rn * rn;
      if (effects.photon_noise || rn > 0.0) rng.normals({z.data(), n});
      if (effects.photon_noise) {
        bool low = false;
        for (std::size_t i = 0; i < n; ++i) {
          e[i] = round_electrons(mu[i] + std::sqrt(std::max(mu[i], 0.0) + rn2) * z[i]);
          low |= mu[i] < 50.0;
        }
        if (low)
          for (std::size_t i = 0; i < n; ++i)
            if (mu[i] < 50.0) e[i] = round_electrons(static_cast<double>(poisson_electrons(rng, mu[i])) + rn * z[i]);
      } else {
        for (std::size_t i = 0; i < n; ++i) e[i] = round_electrons(mu[i] + rn * z[i]);
      }
      const int ry = m.raw_y(y);
      std::int32_t* out = raws[a].row(ry).data() + m.raw_x0;
      const std::int32_t well = full[a], hot = candidate[a];
      bool over = false, bright = false;
      if (m.step_x > 0) {
        for (std::size_t i = 0; i < n; ++i) {
          out[i] = e[i];
          bright |= e[i] > hot;
          over |= e[i] > well;
        }
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          *(out - i) = e[i];
          bright |= e[i] > hot;
          over |= e[i] > well;
        }
      }
      if (bright) hot_rows[a][static_cast<std::size_t>(ry)] = 1;
      if (over)
        for (std::size_t i = 0; i < n; ++i)
          if (e[i] > well) saturated[a][static_cast<std::size_t>(m.raw_x0 + m.step_x * static_cast<int>(i))] = 1;
    }
  }
  if (effects.cosmic_rays && exposure.kind != ExposureKind::kBias)
    add_cosmic_rays(raws, maps, saturated, hot_rows, full, det, dark_time, effects.cosmic_ray_rate, rng);

  // 2. Full well: bleed trails, only in the columns that need them.
  if (effects.saturation)
    for (std::size_t a = 0; a < n_amp; ++a)
      for (std::size_t rx = 0; rx < saturated[a].size(); ++rx)
        if (saturated[a][rx]) {
          bleed(raws[a], det.amplifiers[a], full[a], rx);
          std::fill(hot_rows[a].begin(), hot_rows[a].end(), 1);  // the trail may reach any row
        }

  std::vector<AduResponse> response;
  for (const auto& amp : det.amplifiers) response.emplace_back(amp, effects);

  // 3. Crosstalk from bright pixels (fainter ones add < 0.5 ADU anywhere): the ADU each
  // victim receives, by raw pixel index, collected before the pixels turn into ADU.
  std::vector<std::vector<std::pair<std::size_t, double>>> crosstalk(n_amp);
  if (effects.crosstalk && !det.crosstalk.empty()) {
    std::vector<std::vector<std::pair<std::size_t, double>>> bright(n_amp);
    for (std::size_t s = 0; s < n_amp; ++s) {
      const auto& img = raws[s];
      const auto& data = det.amplifiers[s].raw_data_bbox;
      for (int y = data.begin_y(); y < data.end_y(); ++y) {
        if (!hot_rows[s][static_cast<std::size_t>(y)]) continue;
        const auto row = img.row(y);
        for (int x = data.begin_x(); x < data.end_x(); ++x) {
          const std::int32_t e = row[static_cast<std::size_t>(x)];
          if (e <= candidate[s]) continue;
          const double adu = response[s](e);
          if (adu > kBright)
            bright[s].emplace_back(static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width()) +
                                       static_cast<std::size_t>(x),
                                   adu);
        }
      }
    }
    for (std::size_t v = 0; v < n_amp; ++v) {
      for (std::size_t s = 0; s < n_amp; ++s) {
        const double c = det.crosstalk[v][s];
        if (s == v || c == 0.0 || raws[s].dimensions() != raws[v].dimensions()) continue;
        for (const auto& [index, value] : bright[s]) crosstalk[v].emplace_back(index, c * value);
      }
      std::stable_sort(crosstalk[v].begin(), crosstalk[v].end(),
                       [](const auto& l, const auto& r) { return l.first < r.first; });
    }
  }

  // 4. ADU, crosstalk, bias level and structure, read noise, 18-bit ADC: in place, row by row.
  for (std::size_t a = 0; a < n_amp; ++a) {
    const auto& amp = det.amplifiers[a];
    const double noise = effects.read_noise ? amp.read_noise / amp.gain : 0.0;
    auto& raw = raws[a];
    const auto rw = static_cast<std::size_t>(raw.width());
    std::vector<double> base(rw), value(rw), noise_row(rw, 0.0);
    for (std::size_t x = 0; x < rw; ++x) base[x] = amp.bias_level + model.bias_structure_adu(amp, {static_cast<int>(x), 0});
    const AduResponse& adu = response[a];
    const int data_y0 = amp.raw_data_bbox.begin_y(), data_y1 = amp.raw_data_bbox.end_y();
    const auto data_x0 = static_cast<std::size_t>(amp.raw_data_bbox.begin_x());
    const auto data_x1 = static_cast<std::size_t>(amp.raw_data_bbox.end_x());
    const auto& xt = crosstalk[a];
    std::size_t next = 0;
    for (int y = 0; y < raw.height(); ++y) {
      std::int32_t* row = raw.row(y).data();
      // Read noise for the prescan and overscan pixels (the data pixels got theirs with the
      // photo-electrons).
      const bool data_row = y >= data_y0 && y < data_y1;
      if (noise > 0.0) {
        if (data_row) {
          rng.normals({noise_row.data(), data_x0});
          rng.normals({noise_row.data() + data_x1, rw - data_x1});
        } else {
          rng.normals(noise_row);
        }
      }
      const std::size_t d0 = data_row ? data_x0 : rw, d1 = data_row ? data_x1 : rw;
      const std::size_t row_end = (static_cast<std::size_t>(y) + 1) * rw;
      if (next >= xt.size() || xt[next].first >= row_end) {  // no crosstalk in this row
        for (std::size_t x = 0; x < d0; ++x) row[x] = digitise(base[x] + noise * noise_row[x]);
        for (std::size_t x = d0; x < d1; ++x) row[x] = digitise(base[x] + adu(row[x]));
        for (std::size_t x = d1; x < rw; ++x) row[x] = digitise(base[x] + noise * noise_row[x]);
        continue;
      }
      for (std::size_t x = 0; x < rw; ++x) value[x] = base[x] + noise * noise_row[x];
      for (std::size_t x = d0; x < d1; ++x) value[x] = base[x] + adu(row[x]);
      for (; next < xt.size() && xt[next].first < row_end; ++next) value[xt[next].first % rw] += xt[next].second;
      for (std::size_t x = 0; x < rw; ++x) row[x] = digitise(value[x]);
    }
  }
}

std::string raw_file_stem(const ExposureSpec& exposure, const instrument::Detector& detector) {
  return exposure.obs_id + "_" + detector.name;
}

namespace {

std::array<double, 3> geocentric(const instrument::Site& site) {
  constexpr double a = 6378137.0, f = 1.0 / 298.257223563;
  const double e2 = f * (2.0 - f);
  const double lat = site.latitude_deg * kPi / 180.0, lon = site.longitude_deg * kPi / 180.0;
  const double n = a / std::sqrt(1.0 - e2 * std::sin(lat) * std::sin(lat));
  return {(n + site.elevation_m) * std::cos(lat) * std::cos(lon), (n + site.elevation_m) * std::cos(lat) * std::sin(lon),
          (n * (1.0 - e2) + site.elevation_m) * std::sin(lat)};
}

std::string header_value(const std::map<std::string, std::string>& m, const std::string& k, const std::string& fallback) {
  const auto it = m.find(k);
  return it == m.end() ? fallback : it->second;
}

}  // namespace

image::Header raw_primary_header(const instrument::Camera& camera, const instrument::Detector& det,
                                 const ExposureSpec& e) {
  image::Header h;
  const auto& ch = camera.header();
  const TaiTime end = e.end();
  const TaiTime written(end.ns() + 1'000'000'000);
  const auto iso = [](TaiTime t) { return t.tai_iso(3, 'T'); };
  const bool science = e.kind == ExposureKind::kScience;
  const std::string imgtype(image_type(e.kind));
  h.set("BINX", 1, "[pixels] binning along X axis");
  h.set("BINY", 1, "[pixels] binning along Y axis");
  h.set("CCDGAIN", 1.0, "Rough guess at overall system gain (e-/DNB)");
  h.set("CCDNOISE", 10.0, "Rough guess at system noise (e- rms)");
  h.set("DATE", iso(written), "Creation Date and Time of File");
  h.set("MJD", written.mjd_tai(), "Modified Julian Date that the file was written");
  h.set("IMGTYPE", imgtype, "BIAS, DARK, FLAT, OBJECT");
  h.set("DATE-OBS", iso(e.start), "Date of the observation (image acquisition)");
  h.set("MJD-OBS", e.start.mjd_tai(), "Modified Julian Date of image acquisition");
  h.set("DATE-TRG", iso(end), "TAI date of trigger");
  h.set("MJD-TRG", end.mjd_tai(), "Modified Julian Date of trigger");
  h.set("OBSID", e.obs_id, "The image name or obs-id");
  h.set("DATE-BEG", iso(e.start), "Time at the start of integration");
  h.set("MJD-BEG", e.start.mjd_tai(), "Modified Julian Date derived from DATE-BEG");
  h.set("DATE-END", iso(end), "End date of the observation");
  h.set("MJD-END", end.mjd_tai(), "Modified Julian Date derived from DATE-END");
  h.set("GROUPID", iso(e.start), "The group ID");
  h.set("BUNIT", "adu", "Brightness units for pixel array");
  h.set("TIMESYS", "TAI", "The time scale used");
  h.set("INSTRUME", header_value(ch, "INSTRUME", camera.name()), "Instrument");
  h.set("TELESCOP", header_value(ch, "TELESCOP", camera.telescope()), "Telescope");
  if (ch.count("FACILITY")) h.set("FACILITY", ch.at("FACILITY"), "Facility name");
  const auto& site = camera.site();
  h.set("OBS-LONG", site.longitude_deg, "[deg] Observatory east longitude");
  h.set("OBS-LAT", site.latitude_deg, "[deg] Observatory latitude");
  h.set("OBS-ELEV", site.elevation_m, "[m] Observatory elevation");
  const auto xyz = geocentric(site);
  h.set("OBSGEO-X", xyz[0], "[m] X-axis Geocentric coordinate");
  h.set("OBSGEO-Y", xyz[1], "[m] Y-axis Geocentric coordinate");
  h.set("OBSGEO-Z", xyz[2], "[m] Z-axis Geocentric coordinate");
  const auto& p = e.pointing;
  const auto begin = horizontal(site, p.ra_deg, p.dec_deg, e.start);
  const auto finish = horizontal(site, p.ra_deg, p.dec_deg, end);
  auto set_or_undefined = [&](const char* k, double v, const char* comment) {
    if (science) h.set(k, v, comment);
    else h.set(k, image::HeaderValue{}, comment);
  };
  set_or_undefined("RA", p.ra_deg, "[deg] Telescope RA of the boresight");
  set_or_undefined("DEC", p.dec_deg, "[deg] Telescope Dec of the boresight");
  set_or_undefined("RASTART", p.ra_deg, "[deg] Telescope RA at the start of the observation");
  set_or_undefined("DECSTART", p.dec_deg, "[deg] Telescope Dec at the start of the observation");
  set_or_undefined("RAEND", p.ra_deg, "[deg] Telescope RA at the end of the observation");
  set_or_undefined("DECEND", p.dec_deg, "[deg] Telescope Dec at the end of the observation");
  set_or_undefined("ROTPA", std::fmod(p.rotation_deg + 90.0 + 720.0, 360.0), "[deg] Rotation angle relative to the sky");
  h.set("ROTCOORD", "sky", "Telescope Rotation Coordinates");
  set_or_undefined("HASTART", begin.hour_angle_h, "[HH:MM:SS] Telescope hour angle at start");
  set_or_undefined("ELSTART", begin.alt_deg, "[deg] Telescope elevation at start");
  set_or_undefined("AZSTART", begin.az_deg, "[deg] Telescope azimuth at start");
  set_or_undefined("AMSTART", begin.airmass, "Airmass at start");
  set_or_undefined("HAEND", finish.hour_angle_h, "[HH:MM:SS] Telescope hour angle at end");
  set_or_undefined("ELEND", finish.alt_deg, "[deg] Telescope elevation at end");
  set_or_undefined("AZEND", finish.az_deg, "[deg] Telescope azimuth at end");
  set_or_undefined("AMEND", finish.airmass, "Airmass at end");
  h.set("TRACKSYS", science ? "RADEC" : "LOCAL", "Tracking coordinate system");
  h.set("RADESYS", "ICRS", "Equatorial coordinate system");
  h.set("FOCUSZ", 0.0, "[mm] Focus Z position");
  h.set("OBJECT", e.object, "Name of the observed object");
  h.set("TESTTYPE", imgtype, "BIAS, DARK, FLAT, OBJECT");
  h.set("OBSTYPE", imgtype, "Type of observation");
  h.set("CAMCODE", header_value(ch, "CAMCODE", "XX"), "The code for the camera");
  h.set("CONTRLLR", "O", "The controller (e.g. O for OCS, C for CCS)");
  h.set("DAYOBS", std::to_string(e.day_obs), "The observation day as defined by image name");
  h.set("SEQNUM", e.seq_num, "The sequence number from the image name");
  h.set("PROGRAM", science ? "SIM" : "CALIB", "Name of the program");
  h.set("REASON", science ? "simulation" : "calibration", "Reason for observation");
  h.set("CURINDEX", 1, "Index number for snap or sequence");
  h.set("MAXINDEX", 1, "Number of images in sequence");
  h.set("TSTAND", header_value(ch, "TSTAND", camera.name()), "Test Stand");
  h.set("IMAGETAG", fmt::format("{:016x}", static_cast<std::uint64_t>(e.exposure_id) * 2654435761ULL), "DAQ Image id");
  h.set("OBSANNOT", "", "Observation annotation");
  h.set("CCD_MANU", det.physical_type, "CCD Manufacturer");
  h.set("CCD_TYPE", det.physical_type == "E2V" ? "CCD250" : "3800C", "CCD Model Number");
  h.set("CCDSLOT", header_value(det.header, "CCDSLOT", det.ccd), "The CCD Slot");
  h.set("RAFTBAY", header_value(det.header, "RAFTBAY", det.raft), "The RAFT Bay");
  h.set("PLATFORM", header_value(ch, "PLATFORM", ""), "Camera platform");
  h.set("LSST_NUM", det.serial, "LSST Assigned CCD Number");
  h.set("RAFTNAME", header_value(det.header, "RAFTNAME", det.raft_serial), "LSST Assigned Raft name");
  if (ch.count("DETECTOR_KEYWORD") || camera.name() == "TestCam") h.set("DETECTOR", det.id, "Detector number");
  if (!e.physical_filter.empty()) {
    const auto& f = camera.get_filter(e.physical_filter);
    for (const auto& [k, v] : f.header) h.set(k, v, "");
  } else {
    h.set("FILTBAND", image::HeaderValue{}, "Filter band");
    h.set("FILTER", "NONE", "Name of the filter");
  }
  h.set("EXPTIME", e.exposure_time_s, "Exposure time in seconds");
  h.set("DARKTIME", e.dark_time_s(), "Dark time in seconds");
  h.set("SHUTTIME", e.kind == ExposureKind::kBias ? 0.0 : e.exposure_time_s, "Shutter exposure time in seconds");
  h.set("AIRTEMP", 10.0, "Outside air temperature in degC");
  h.set("PRESSURE", 74000.0, "Barometric pressure in Pa");
  h.set("HUMIDITY", 30.0, "Relative humidity in percent");
  h.set("WINDSPD", 3.0, "Wind speed in m/s");
  h.set("WINDDIR", 20.0, "Wind direction in degrees");
  h.set("FILENAME", raw_file_stem(e, det) + ".fits", "Original name of the file");
  h.set("HEADVER", 2, "Version number of header");
  h.set("DETSIZE", det.detsize(), "Size of sensor");
  h.set("ORIGIN", "majordome sim", "Simulated data");
  return h;
}

image::Header raw_amplifier_header(const instrument::Detector& det, const instrument::Amplifier& amp) {
  image::Header h;
  h.set("CHANNEL", amp.hdu);
  h.set("EXTNAME", "Segment" + amp.name.substr(1));
  h.set("CCDSUM", "1 1");
  h.set("DATASEC", amp.datasec());
  h.set("DETSEC", amp.detsec());
  h.set("DETSIZE", det.detsize());
  h.set("BIASSEC", amp.biassec());
  // IRAF detector transformation: detector = DTM · raw + DTV (1-based).
  const int dtv1 = amp.raw_flip_x ? amp.bbox.max_x() + 1 + amp.raw_data_bbox.min_x() + 1
                                  : amp.bbox.min_x() - amp.raw_data_bbox.min_x();
  const int dtv2 = amp.raw_flip_y ? amp.bbox.max_y() + 1 + amp.raw_data_bbox.min_y() + 1
                                  : amp.bbox.min_y() - amp.raw_data_bbox.min_y();
  h.set("DTV1", dtv1, "detector transformation vector");
  h.set("DTV2", dtv2, "detector transformation vector");
  h.set("DTM1_1", amp.raw_flip_x ? -1.0 : 1.0, "detector transformation matrix");
  h.set("DTM2_2", amp.raw_flip_y ? -1.0 : 1.0, "detector transformation matrix");
  h.set("DTM1_2", 0.0, "detector transformation matrix");
  h.set("DTM2_1", 0.0, "detector transformation matrix");
  return h;
}

}  // namespace majordome::sim
