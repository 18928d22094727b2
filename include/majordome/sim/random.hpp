// Rng: a small, fast, seedable random-number generator for the simulator.
//
// Determinism is by key, not by call order across threads: every independent stream (one
// exposure × detector, one sky pixel of the source catalog, …) gets its own Rng built from the
// user's seed and the stream's key, so results do not depend on how work is spread over threads.
// Generator: xoshiro256** (Blackman & Vigna) seeded through splitmix64. Normal deviates come
// from Marsaglia & Tsang's ziggurat (128 layers, 32 random bits each: two per 64-bit draw), a
// few nanoseconds each, which matters at two deviates per raw pixel. Not thread-safe (one per
// thread); cheap to construct.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace majordome::sim {

class Rng {
 public:
  // A stream for (seed, key...): e.g. Rng(seed, {kStreamRaw, exposure_id, detector_id}).
  Rng(std::uint64_t seed, std::initializer_list<std::uint64_t> key);

  std::uint64_t next_u64() {
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
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n). REQUIRES n > 0.
  std::uint64_t below(std::uint64_t n);
  // Standard normal deviate (ziggurat; the other half of a 64-bit draw is kept for the next).
  double normal() {
    const std::uint32_t u = next_u32();
    const auto hz = static_cast<std::int32_t>(u);
    const std::uint32_t iz = u & 127U;
    // The fast path (~99 % of draws): a point well inside layer iz.
    if (static_cast<std::uint32_t>(hz < 0 ? -static_cast<std::int64_t>(hz) : hz) < zig_->k[iz])
      return hz * zig_->w[iz];
    return normal_tail(hz, iz);
  }
  double normal(double mean, double sigma) { return mean + sigma * normal(); }
  // Fills `out` with standard normal deviates, two per 64-bit draw (faster than normal() in a
  // loop; the sequence differs from it).
  void normals(std::span<double> out);
  // Poisson deviate. mean <= 0 gives 0. Exact for any mean: inversion below 12, Hörmann's
  // PTRS transformed rejection above.
  std::int64_t poisson(double mean);

 private:
  // Ziggurat tables (computed once per process).
  struct Ziggurat {
    std::uint32_t k[128];
    double w[128];
    double f[128];
  };
  static const Ziggurat& ziggurat();
  std::uint32_t next_u32() {
    if (has_half_) {
      has_half_ = false;
      return half_;
    }
    const std::uint64_t r = next_u64();
    half_ = static_cast<std::uint32_t>(r >> 32);
    has_half_ = true;
    return static_cast<std::uint32_t>(r);
  }
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  double normal_tail(std::int32_t hz, std::uint32_t iz);

  std::uint64_t s_[4];
  const Ziggurat* zig_;
  std::uint32_t half_ = 0;
  bool has_half_ = false;
};

// Stream tags (the first key element) so that streams of different purposes never collide.
enum class Stream : std::uint64_t {
  kSkyCatalog = 1,  // sources of one HTM pixel
  kExposure = 2,    // per-exposure conditions (seeing, sky level, cosmic rays)
  kPixels = 3,      // per exposure × detector photon and read noise
  kDetector = 4,    // fixed per-detector patterns: flat, bias structure, defects
  kCalib = 5,       // combined calibration frame noise
  kPlan = 6,        // pointings made up by the simulator
};

inline std::uint64_t key(Stream s) { return static_cast<std::uint64_t>(s); }

}  // namespace majordome::sim
