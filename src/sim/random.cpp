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
  zig_ = &ziggurat();
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Plain modulo: the bias (< n / 2^64) is far below anything the simulator measures.
  return next_u64() % n;
}

void Rng::normals(std::span<double> out) {
  std::size_t i = 0;
  if (has_half_ && !out.empty()) out[i++] = normal();
  // Two deviates per 64-bit draw, as normal() gives them, without keeping the half.
  const Ziggurat& z = *zig_;
  auto one = [&](std::uint32_t u) {
    const auto hz = static_cast<std::int32_t>(u);
    const std::uint32_t iz = u & 127U;
    if (static_cast<std::uint32_t>(hz < 0 ? -static_cast<std::int64_t>(hz) : hz) < z.k[iz]) return hz * z.w[iz];
    return normal_tail(hz, iz);
  };
  for (; i + 1 < out.size(); i += 2) {
    const std::uint64_t r = next_u64();
    out[i] = one(static_cast<std::uint32_t>(r));
    out[i + 1] = one(static_cast<std::uint32_t>(r >> 32));
  }
  if (i < out.size()) out[i] = normal();
}

const Rng::Ziggurat& Rng::ziggurat() {
  // Marsaglia & Tsang (2000), "The ziggurat method for generating random variables": 128
  // layers of equal area v under exp(-x²/2), the base extending to the tail start r.
  static const Ziggurat tables = [] {
    Ziggurat z{};
    constexpr double m1 = 2147483648.0;  // 2^31
    constexpr double vn = 9.91256303526217e-3;
    double dn = 3.442619855899, tn = dn;
    const double q = vn / std::exp(-0.5 * dn * dn);
    z.k[0] = static_cast<std::uint32_t>((dn / q) * m1);
    z.k[1] = 0;
    z.w[0] = q / m1;
    z.w[127] = dn / m1;
    z.f[0] = 1.0;
    z.f[127] = std::exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; --i) {
      dn = std::sqrt(-2.0 * std::log(vn / dn + std::exp(-0.5 * dn * dn)));
      z.k[i + 1] = static_cast<std::uint32_t>((dn / tn) * m1);
      tn = dn;
      z.f[i] = std::exp(-0.5 * dn * dn);
      z.w[i] = dn / m1;
    }
    return z;
  }();
  return tables;
}

double Rng::normal_tail(std::int32_t hz, std::uint32_t iz) {
  constexpr double r = 3.442619855899;  // start of the tail
  const Ziggurat& z = *zig_;
  for (;;) {
    const double x = hz * z.w[iz];
    if (iz == 0) {
      // Marsaglia's tail method: x > r from exponentials.
      double tx, ty;
      do {
        tx = -std::log(1.0 - uniform()) / r;
        ty = -std::log(1.0 - uniform());
      } while (ty + ty < tx * tx);
      return hz > 0 ? r + tx : -r - tx;
    }
    // Between the layer's rectangle and the curve: accept under the density.
    if (z.f[iz] + uniform() * (z.f[iz - 1] - z.f[iz]) < std::exp(-0.5 * x * x)) return x;
    const std::uint32_t u = next_u32();
    hz = static_cast<std::int32_t>(u);
    iz = u & 127U;
    if (static_cast<std::uint32_t>(hz < 0 ? -static_cast<std::int64_t>(hz) : hz) < z.k[iz]) return hz * z.w[iz];
  }
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
