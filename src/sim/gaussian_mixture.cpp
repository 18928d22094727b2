#include "majordome/sim/gaussian_mixture.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace majordome::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Non-negative least squares, min |A x − b| with x ≥ 0 (Lawson & Hanson 1974, "Solving Least
// Squares Problems", ch. 23). `cols` holds the columns of A. Sizes here are tiny (≤ 200 × 20),
// so the passive-set least squares is re-solved from scratch by Householder QR each time.
class Nnls {
 public:
  Nnls(const std::vector<std::vector<double>>& cols, const std::vector<double>& b) : cols_(cols), b_(b) {}

  std::vector<double> solve() const {
    const std::size_t n = cols_.size();
    std::vector<double> x(n, 0.0);
    std::vector<bool> passive(n, false), blocked(n, false);
    for (std::size_t outer = 0; outer < 4 * n; ++outer) {
      const auto w = gradient(x);
      std::size_t t = n;
      double best = 1e-14;
      for (std::size_t j = 0; j < n; ++j)
        if (!passive[j] && !blocked[j] && w[j] > best) best = w[j], t = j;
      if (t == n) break;
      passive[t] = true;
      for (std::size_t inner = 0; inner < 4 * n; ++inner) {
        std::vector<std::size_t> set;
        for (std::size_t j = 0; j < n; ++j)
          if (passive[j]) set.push_back(j);
        const auto z = least_squares(set);
        bool feasible = true;
        for (double v : z) feasible = feasible && v > 0.0;
        if (feasible) {
          for (std::size_t i = 0; i < set.size(); ++i) x[set[i]] = z[i];
          std::fill(blocked.begin(), blocked.end(), false);
          break;
        }
        // Step towards z until a weight reaches zero; that one leaves the passive set.
        double alpha = 1.0;
        for (std::size_t i = 0; i < set.size(); ++i)
          if (z[i] <= 0.0) alpha = std::min(alpha, x[set[i]] / (x[set[i]] - z[i]));
        for (std::size_t i = 0; i < set.size(); ++i) {
          const std::size_t j = set[i];
          x[j] += alpha * (z[i] - x[j]);
          if (x[j] <= 1e-15) {
            x[j] = 0.0;
            passive[j] = false;
            if (j == t) blocked[j] = true;  // it cannot help now: do not pick it again at once
          }
        }
      }
    }
    return x;
  }

 private:
  std::vector<double> gradient(const std::vector<double>& x) const {
    std::vector<double> r = b_;
    for (std::size_t j = 0; j < cols_.size(); ++j)
      if (x[j] != 0.0)
        for (std::size_t i = 0; i < r.size(); ++i) r[i] -= x[j] * cols_[j][i];
    std::vector<double> w(cols_.size(), 0.0);
    for (std::size_t j = 0; j < cols_.size(); ++j)
      for (std::size_t i = 0; i < r.size(); ++i) w[j] += cols_[j][i] * r[i];
    return w;
  }

  // Unconstrained least squares on the columns `set` (Householder QR).
  std::vector<double> least_squares(const std::vector<std::size_t>& set) const {
    const std::size_t m = b_.size(), p = set.size();
    std::vector<std::vector<double>> a;
    for (std::size_t j : set) a.push_back(cols_[j]);
    std::vector<double> b = b_;
    std::vector<double> v(m);
    for (std::size_t j = 0; j < p; ++j) {
      double norm = 0.0;
      for (std::size_t i = j; i < m; ++i) norm += a[j][i] * a[j][i];
      norm = std::sqrt(norm);
      if (norm == 0.0) continue;
      const double alpha = a[j][j] > 0.0 ? -norm : norm;
      double vv = 0.0;
      for (std::size_t i = j; i < m; ++i) {
        v[i] = a[j][i] - (i == j ? alpha : 0.0);
        vv += v[i] * v[i];
      }
      if (vv == 0.0) continue;
      auto reflect = [&](std::vector<double>& c) {
        double d = 0.0;
        for (std::size_t i = j; i < m; ++i) d += v[i] * c[i];
        d *= 2.0 / vv;
        for (std::size_t i = j; i < m; ++i) c[i] -= d * v[i];
      };
      for (std::size_t k = j; k < p; ++k) reflect(a[k]);
      reflect(b);
    }
    std::vector<double> z(p, 0.0);
    for (std::size_t jj = p; jj-- > 0;) {
      double s = b[jj];
      for (std::size_t k = jj + 1; k < p; ++k) s -= a[k][jj] * z[k];
      z[jj] = std::abs(a[jj][jj]) > 1e-300 ? s / a[jj][jj] : 0.0;
    }
    return z;
  }

  const std::vector<std::vector<double>>& cols_;
  const std::vector<double>& b_;
};

// A radial profile to approximate: `profile(r)` is the surface brightness and `enclosed(r)` the
// flux within r (for unit flux to infinity), `total` the flux the mixture should hold (less
// than 1 for a truncated profile), fitted on [r_min, r_max]. `constraints` are extra rows,
// weighted far above the profile rows: a coefficient per component width σ, and a target.
struct Constraint {
  std::function<double(double)> coefficient;
  double target = 0.0;
};

struct RadialProblem {
  std::function<double(double)> profile;
  std::function<double(double)> enclosed;
  double total = 1.0;
  double r_min = 0.01, r_max = 10.0;
  std::vector<Constraint> constraints;
};

constexpr int kSamples = 120;

double sample_radius(const RadialProblem& pb, int m) {
  return pb.r_min * std::pow(pb.r_max / pb.r_min, m / (kSamples - 1.0));
}

// Non-negative weights of Gaussians of widths `sigmas` (per axis). Rows: the flux per unit
// ln r (2π r² I) and the enclosed flux at log-spaced radii, then the constraints. Weights are
// normalised to sum to 1; zero weights are left out.
RadialMixture fit_weights(const RadialProblem& pb, const std::vector<double>& sigmas) {
  const std::size_t k = sigmas.size();
  std::vector<std::vector<double>> cols(k);
  std::vector<double> b;
  for (int m = 0; m < kSamples; ++m) {
    const double r = sample_radius(pb, m);
    b.push_back(2.0 * kPi * r * r * pb.profile(r));
    for (std::size_t j = 0; j < k; ++j) {
      const double v = sigmas[j] * sigmas[j];
      cols[j].push_back(r * r / v * std::exp(-0.5 * r * r / v));
    }
    b.push_back(pb.enclosed(r));
    for (std::size_t j = 0; j < k; ++j) {
      const double v = sigmas[j] * sigmas[j];
      cols[j].push_back(-std::expm1(-0.5 * r * r / v));
    }
  }
  for (const auto& c : pb.constraints) {
    b.push_back(c.target);
    for (std::size_t j = 0; j < k; ++j) cols[j].push_back(c.coefficient(sigmas[j]));
  }
  const auto weights = Nnls(cols, b).solve();
  double total = 0.0;
  for (double w : weights) total += w;
  RadialMixture out;
  for (std::size_t j = 0; j < k; ++j)
    if (weights[j] > 1e-6 * total) out.push_back({weights[j] / total, sigmas[j] * sigmas[j]});
  return out;
}

// Largest difference between the mixture's curve of growth and the profile's.
double growth_error(const RadialProblem& pb, const RadialMixture& mix) {
  double worst = 0.0;
  for (int m = 0; m < kSamples; m += 4) {
    const double r = sample_radius(pb, m);
    double e = 0.0;
    for (const auto& c : mix) e += c.weight * -std::expm1(-0.5 * r * r / c.variance);
    worst = std::max(worst, std::abs(e - pb.enclosed(r) / pb.total));
  }
  return worst;
}

// Fits on a fine grid of widths, then merges neighbouring components (keeping their flux and
// second moment) where that disturbs the curve of growth least, down to `components`, and
// refits the weights for the widths left: few components make galaxies cheap to draw. One
// more component at a time while the curve of growth is off by more than `tolerance`.
RadialMixture fit_mixture(const RadialProblem& pb, const std::vector<double>& grid, std::size_t components,
                          double tolerance) {
  const auto fine = fit_weights(pb, grid);
  for (;; ++components) {
    auto mix = fine;
    while (mix.size() > components) {
      RadialMixture best;
      double best_error = 1e300;
      for (std::size_t j = 0; j + 1 < mix.size(); ++j) {
        RadialMixture trial;
        for (std::size_t i = 0; i < mix.size(); ++i) {
          if (i == j + 1) continue;
          if (i != j) {
            trial.push_back(mix[i]);
            continue;
          }
          const double w = mix[j].weight + mix[j + 1].weight;
          trial.push_back({w, (mix[j].weight * mix[j].variance + mix[j + 1].weight * mix[j + 1].variance) / w});
        }
        const double e = growth_error(pb, trial);
        if (e < best_error) best_error = e, best = std::move(trial);
      }
      mix = std::move(best);
    }
    if (mix.size() == fine.size()) return fine;
    std::vector<double> sigmas;
    for (const auto& c : mix) sigmas.push_back(std::sqrt(c.variance));
    auto refit = fit_weights(pb, sigmas);
    if (growth_error(pb, refit) <= tolerance) return refit;
  }
}

std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> g;
  for (int i = 0; i < n; ++i) g.push_back(lo * std::pow(hi / lo, i / (n - 1.0)));
  return g;
}

// b_n of the Sérsic profile: half the light within r_e (Ciotti & Bertin 1999 asymptotic series).
double sersic_b(double n) { return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n); }

constexpr double kSersicMin = 0.5, kSersicMax = 6.0, kSersicStep = 0.05, kSersicTruncation = 8.0;
constexpr std::size_t kSersicComponents = 8, kMoffatComponents = 4;

RadialMixture fit_sersic(double n) {
  const double b = sersic_b(n);
  // Surface brightness for unit flux to infinity; the mixture holds the profile truncated at
  // 8 r_e, renormalised.
  const double i0 = std::pow(b, 2.0 * n) / (2.0 * kPi * n * std::tgamma(2.0 * n));
  auto profile = [=](double r) { return r > kSersicTruncation ? 0.0 : i0 * std::exp(-b * std::pow(r, 1.0 / n)); };
  // Enclosed flux by integrating 2π r² I d ln r on a fine log grid, and the second moment.
  constexpr int kFine = 4000;
  const double lo = 1e-7, hi = kSersicTruncation;
  auto radius = std::make_shared<std::vector<double>>(kFine);
  auto cumulative = std::make_shared<std::vector<double>>(kFine);
  double acc = 0.0, moment = 0.0, prev_r = lo, prev_f = 2.0 * kPi * lo * lo * profile(lo);
  for (int i = 0; i < kFine; ++i) {
    const double r = lo * std::pow(hi / lo, i / (kFine - 1.0));
    const double f = 2.0 * kPi * r * r * profile(r);
    if (i > 0) {
      const double dl = 0.5 * (f + prev_f) * std::log(r / prev_r);
      acc += dl;
      moment += dl * 0.5 * (r * r + prev_r * prev_r);
    }
    (*radius)[static_cast<std::size_t>(i)] = r;
    (*cumulative)[static_cast<std::size_t>(i)] = acc;
    prev_r = r;
    prev_f = f;
  }
  RadialProblem pb;
  pb.profile = profile;
  pb.enclosed = [radius, cumulative](double r) {
    const auto& rs = *radius;
    const auto& cs = *cumulative;
    const auto it = std::lower_bound(rs.begin(), rs.end(), r);
    if (it == rs.end()) return cs.back();
    const auto i = static_cast<std::size_t>(it - rs.begin());
    if (i == 0) return 0.0;
    const double t = std::log(r / rs[i - 1]) / std::log(rs[i] / rs[i - 1]);
    return cs[i - 1] + t * (cs[i] - cs[i - 1]);
  };
  pb.total = acc;
  pb.r_min = 0.002;
  pb.r_max = hi;
  // The truncated flux, the second moment (so that the size a user measures is the
  // Sérsic's), and no light beyond the truncation radius.
  pb.constraints.push_back({[=](double) { return 100.0 / acc; }, 100.0});
  pb.constraints.push_back({[=](double s) { return 100.0 * 2.0 * s * s / moment; }, 100.0});
  pb.constraints.push_back({[=](double s) { return 10.0 * std::exp(-0.5 * hi * hi / (s * s)); }, 0.0});
  return fit_mixture(pb, log_grid(0.002, 4.0, 26), kSersicComponents, 0.01);
}

RadialMixture fit_moffat(double beta) {
  RadialProblem pb;
  pb.profile = [=](double r) { return (beta - 1.0) / kPi * std::pow(1.0 + r * r, -beta); };
  pb.enclosed = [=](double r) { return 1.0 - std::pow(1.0 + r * r, 1.0 - beta); };
  pb.r_min = 0.01;
  pb.r_max = 40.0;
  // Total flux 1 and ⟨r²⟩ = Σ w 2σ² = 1/(β − 2).
  const double second_moment = 1.0 / (beta - 2.0);
  pb.constraints.push_back({[](double) { return 1000.0; }, 1000.0});
  pb.constraints.push_back({[=](double s) { return 1000.0 * 2.0 * s * s / second_moment; }, 1000.0});
  return fit_mixture(pb, log_grid(0.2, 12.0, 11), kMoffatComponents, 0.004);
}

}  // namespace

RadialMixture sersic_mixture(double n) {
  static std::mutex mutex;
  static std::map<long, RadialMixture> cache;
  const long bin = std::lround((std::clamp(n, kSersicMin, kSersicMax) - kSersicMin) / kSersicStep);
  std::lock_guard lock(mutex);
  auto it = cache.find(bin);
  if (it == cache.end()) it = cache.emplace(bin, fit_sersic(kSersicMin + static_cast<double>(bin) * kSersicStep)).first;
  return it->second;
}

RadialMixture moffat_mixture(double beta) {
  static std::mutex mutex;
  static std::map<double, RadialMixture> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(beta);
  if (it == cache.end()) it = cache.emplace(beta, fit_moffat(beta)).first;
  return it->second;
}

void merge_similar(std::vector<Gaussian2D>& components, double tolerance) {
  std::sort(components.begin(), components.end(),
            [](const Gaussian2D& a, const Gaussian2D& b) { return a.xx + a.yy < b.xx + b.yy; });
  std::size_t n = 0;
  for (const auto& c : components) {
    if (!(c.flux > 0.0)) continue;
    // The closest of the components kept so far, if close enough.
    std::size_t best = n;
    double best_distance = 1e300;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& m = components[i];
      const double dxx = c.xx - m.xx, dxy = c.xy - m.xy, dyy = c.yy - m.yy;
      const double d2 = dxx * dxx + 2.0 * dxy * dxy + dyy * dyy, limit = tolerance * (m.xx + m.yy);
      if (d2 < limit * limit && d2 < best_distance) best = i, best_distance = d2;
    }
    if (best == n) {
      components[n++] = c;
      continue;
    }
    // Flux and second moments are kept: the merged covariance is the flux-weighted mean.
    auto& m = components[best];
    const double f = m.flux + c.flux;
    m.xx = (m.flux * m.xx + c.flux * c.xx) / f;
    m.xy = (m.flux * m.xy + c.flux * c.xy) / f;
    m.yy = (m.flux * m.yy + c.flux * c.yy) / f;
    m.flux = f;
  }
  components.resize(n);
}

namespace {

// Adds v(x) = v0 · Π_{i<x−x0} r0 k^i for x in [x0, x1] to out[x0..x1] and returns the sum:
// exp of a quadratic along a row, by products only. Four interleaved chains (pixels x, x+1,
// x+2, x+3 stepping by 4, with ratios r_i⁴ k⁶ that change by k¹⁶) keep the multiplier busy.
double add_row(float* out, int x0, int x1, double v, double r, double k) {
  double sum = 0.0;
  int col = x0;
  if (x1 - x0 >= 7) {
    const double k2 = k * k, k4 = k2 * k2, k16 = k4 * k4 * k4 * k4;
    double lane[4], step[4];
    for (int i = 0; i < 4; ++i) {
      lane[i] = v;
      step[i] = r * r * r * r * k4 * k2;
      v *= r;
      r *= k;
    }
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    r /= k4;  // the ratio at col, kept for the last pixels
    for (; col + 3 <= x1; col += 4) {
      for (int i = 0; i < 4; ++i) {
        out[col + i] += static_cast<float>(lane[i]);
        s[i] += lane[i];
        lane[i] *= step[i];
        step[i] *= k16;
      }
      r *= k4;
    }
    sum = (s[0] + s[1]) + (s[2] + s[3]);
    v = lane[0];  // back to one chain for the last pixels
  }
  for (; col <= x1; ++col) {
    out[col] += static_cast<float>(v);
    sum += v;
    v *= r;
    r *= k;
  }
  return sum;
}

}  // namespace

double render_gaussians(const image::ImageF& image, double x, double y, std::span<const Gaussian2D> components,
                        double min_surface_brightness) {
  constexpr double kPixelVariance = 1.0 / 12.0;
  const int w = image.width(), h = image.height();
  double added = 0.0;
  for (const auto& g : components) {
    const double xx = g.xx + kPixelVariance, yy = g.yy + kPixelVariance, xy = g.xy;
    const double det = xx * yy - xy * xy;
    const double ixx = yy / det, ixy = -xy / det, iyy = xx / det;
    const double peak = g.flux / (2.0 * kPi * std::sqrt(det));
    if (!(peak > min_surface_brightness)) continue;
    // The component falls to the threshold on the ellipse of Mahalanobis radius t; it is drawn
    // on that ellipse's bounding box.
    const double t2 = 2.0 * std::log(peak / min_surface_brightness);
    const double half_width = std::sqrt(t2 * xx), half_height = std::sqrt(t2 * yy);
    const int x0 = std::max(0, static_cast<int>(std::ceil(x - half_width)));
    const int x1 = std::min(w - 1, static_cast<int>(std::floor(x + half_width)));
    const int y0 = std::max(0, static_cast<int>(std::ceil(y - half_height)));
    const int y1 = std::min(h - 1, static_cast<int>(std::floor(y + half_height)));
    if (x1 < x0 || y1 < y0) continue;
    // v(x, y) = peak · exp(−(ixx dx² + 2 ixy dx dy + iyy dy²)/2) by products: along a row the
    // ratio v(x+1)/v(x) changes by exp(−ixx) per column; down the first column the ratio
    // v(x0, y+1)/v(x0, y) changes by exp(−iyy) per row, and the row ratio by exp(−ixy).
    const double dx = x0 - x, dy = y0 - y;
    double v = peak * std::exp(-0.5 * (ixx * dx * dx + 2.0 * ixy * dx * dy + iyy * dy * dy));
    double along = std::exp(-0.5 * (ixx * (2.0 * dx + 1.0) + 2.0 * ixy * dy));
    double down = std::exp(-0.5 * (iyy * (2.0 * dy + 1.0) + 2.0 * ixy * dx));
    const double k = std::exp(-ixx), k_down = std::exp(-iyy), k_along = std::exp(-ixy);
    for (int row = y0; row <= y1; ++row) {
      added += add_row(image.row(row).data(), x0, x1, v, along, k);
      v *= down;
      down *= k_down;
      along *= k_along;
    }
  }
  return added;
}

}  // namespace majordome::sim
