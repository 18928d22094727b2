#include "majordome/sim/random.hpp"

#include <array>

namespace majordome::sim {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// log(k!) for the PTRS acceptance test: a table below 10, Stirling's series above.
double log_factorial(std::int64_t k) {
  static constexpr std::array<double, 10> kTable = {
      0.0, 0.0, 0.69314718055994530942, 1.79175946922805500081, 3.17805383034794561964,
      4.78749174278204599424, 6.57925121201010099506, 8.52516136106541430017,
      10.60460290274525022842, 12.80182748008146961121};
  if (k < 10) return kTable[static_cast<std::size_t>(k)];
  const double x = static_cast<double>(k) + 1.0;
  const double inv = 1.0 / x, inv2 = inv * inv;
  return (x - 0.5) * std::log(x) - x + 0.91893853320467274178 +
         inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0));
}

}  // namespace

Rng::Rng(std::uint64_t seed, std::initializer_list<std::uint64_t> key) {
  std::uint64_t state = seed ^ 0x6a09e667f3bcc909ULL;
  for (std::uint64_t k : key) {
    std::uint64_t mix = state ^ (k + 0x3c6ef372fe94f82bULL);
    state = splitmix64(mix);
  }
  for (auto& s : s_) s = splitmix64(state);
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Plain modulo: the bias (< n / 2^64) is far below anything the simulator measures.
  return next_u64() % n;
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

std::int64_t Rng::poisson(double mean) {
  if (!(mean > 0.0)) return 0;
  if (mean < 12.0) {
    const double limit = std::exp(-mean);
    std::int64_t k = 0;
    double p = uniform();
    while (p > limit) {
      ++k;
      p *= uniform();
    }
    return k;
  }
  // PTRS (W. Hörmann 1993, "The transformed rejection method for generating Poisson random
  // variables"), constants as published.
  const double slam = std::sqrt(mean);
  const double loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::abs(u);
    const auto k = static_cast<std::int64_t>(std::floor((2.0 * a / us + b) * u + mean + 0.43));
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -mean + static_cast<double>(k) * loglam - log_factorial(k))
      return k;
  }
}

}  // namespace majordome::sim
