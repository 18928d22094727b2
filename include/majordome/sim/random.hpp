// Rng: a small, fast, seedable random-number generator for the simulator.
//
// Determinism is by key, not by call order across threads: every independent stream (one
// exposure × detector, one sky pixel of the source catalog, …) gets its own Rng built from the
// user's seed and the stream's key, so results do not depend on how work is spread over threads.
// Generator: xoshiro256** (Blackman & Vigna) seeded through splitmix64. Not thread-safe (one per
// thread); cheap to construct.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace majordome::sim {

class Rng {
 public:
  // A stream for (seed, key...): e.g. Rng(seed, {kStreamRaw, exposure_id, detector_id}).
  Rng(std::uint64_t seed, std::initializer_list<std::uint64_t> key);

  std::uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n). REQUIRES n > 0.
  std::uint64_t below(std::uint64_t n);
  // Standard normal deviate (Marsaglia's polar method; the spare is kept).
  double normal();
  double normal(double mean, double sigma) { return mean + sigma * normal(); }
  // Poisson deviate. mean <= 0 gives 0. Exact for any mean: inversion below 12, Hörmann's
  // PTRS transformed rejection above.
  std::int64_t poisson(double mean);

 private:
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
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
