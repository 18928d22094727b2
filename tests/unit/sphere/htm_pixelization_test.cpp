#include "majordome/sphere/htm_pixelization.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <string>

#include "majordome/core/error.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/lon_lat.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::sphere {
namespace {

// "N32" → 4·(12 + 3) + 2.
std::uint64_t id_of(const std::string& name) {
  std::uint64_t id = (name[0] == 'N' ? 12 : 8) + static_cast<std::uint64_t>(name[1] - '0');
  for (std::size_t i = 2; i < name.size(); ++i)
    id = 4 * id + static_cast<std::uint64_t>(name[i] - '0');
  return id;
}

UnitVector3d random_point(std::mt19937_64& rng) {
  std::normal_distribution<double> n;
  return UnitVector3d(n(rng), n(rng), n(rng));
}

TEST(HtmPixelization, Levels) {
  EXPECT_THROW(HtmPixelization(-1), InvalidArgumentError);
  EXPECT_THROW(HtmPixelization(25), InvalidArgumentError);
  for (int level = 0; level <= HtmPixelization::kMaxLevel; ++level) {
    for (std::uint64_t root = 8; root < 16; ++root) {
      EXPECT_EQ(HtmPixelization::level_of(root << (2 * level)), level);
      EXPECT_EQ(HtmPixelization::level_of(((root + 1) << (2 * level)) - 1), level);
    }
  }
  for (std::uint64_t bad : {0ull, 1ull, 7ull, 4ull, 16ull * (1ull << 48), 1ull << 40}) {
    EXPECT_EQ(HtmPixelization::level_of(bad), -1) << bad;
    EXPECT_THROW(HtmPixelization::triangle(bad), InvalidArgumentError);
  }
  EXPECT_EQ(HtmPixelization(7).universe().ranges(),
            (std::vector<RangeSet::Range>{{131072, 262144}}));
}

TEST(HtmPixelization, Names) {
  const char* roots[] = {"S0", "S1", "S2", "S3", "N0", "N1", "N2", "N3"};
  for (std::uint64_t i = 8; i < 16; ++i) {
    EXPECT_EQ(HtmPixelization::as_string(i), roots[i - 8]);
    for (std::uint64_t k = 0; k < 4; ++k) {
      EXPECT_EQ(HtmPixelization::as_string(4 * i + k),
                std::string(roots[i - 8]) + std::to_string(k));
    }
  }
  EXPECT_EQ(HtmPixelization::as_string(253954), "N32000002");
  EXPECT_EQ(id_of(HtmPixelization::as_string(253954)), 253954u);
}

// Published HTM indices (lsst/sphgeom's HtmPixelizationTest): the octahedron vertices, edge
// midpoints and face centres go to fixed pixels, which pins down the vertex order of the
// roots, the child numbering and the tie-breaking on shared edges.
TEST(HtmPixelization, IndexMatchesPublishedValues) {
  const double c = 0.2928932188134525;  // 1/(2 + √2)
  struct Case {
    UnitVector3d p;
    const char* pixel;
  };
  const Case cases[] = {
      {UnitVector3d::X(), "N32"},
      {UnitVector3d::Y(), "N22"},
      {UnitVector3d::Z(), "N31"},
      {-UnitVector3d::X(), "N12"},
      {-UnitVector3d::Y(), "N02"},
      {-UnitVector3d::Z(), "S01"},
      {UnitVector3d(1, 1, 0), "N30"},
      {UnitVector3d(-1, 1, 0), "N20"},
      {UnitVector3d(-1, -1, 0), "N10"},
      {UnitVector3d(1, -1, 0), "N00"},
      {UnitVector3d(1, 0, 1), "N31"},
      {UnitVector3d(0, 1, 1), "N21"},
      {UnitVector3d(-1, 0, 1), "N11"},
      {UnitVector3d(0, -1, 1), "N01"},
      {UnitVector3d(1, 0, -1), "S00"},
      {UnitVector3d(0, 1, -1), "S10"},
      {UnitVector3d(-1, 0, -1), "S20"},
      {UnitVector3d(0, -1, -1), "S30"},
      {UnitVector3d(1, 1, 1), "N33"},
      {UnitVector3d(-1, 1, 1), "N23"},
      {UnitVector3d(-1, -1, 1), "N13"},
      {UnitVector3d(1, -1, 1), "N03"},
      {UnitVector3d(1, 1, -1), "S03"},
      {UnitVector3d(-1, 1, -1), "S13"},
      {UnitVector3d(-1, -1, -1), "S23"},
      {UnitVector3d(1, -1, -1), "S33"},
      // Centres of level-1 triangles: at level 2 they fall in the middle child.
      {UnitVector3d(c, c, 1), "N31"},
      {UnitVector3d(1, c, c), "N32"},
      {UnitVector3d(c, 1, c), "N30"},
      {UnitVector3d(-c, c, 1), "N21"},
      {UnitVector3d(-c, 1, c), "N22"},
      {UnitVector3d(-1, c, c), "N20"},
      {UnitVector3d(-c, -c, 1), "N11"},
      {UnitVector3d(-1, -c, c), "N12"},
      {UnitVector3d(-c, -1, c), "N10"},
      {UnitVector3d(c, -c, 1), "N01"},
      {UnitVector3d(c, -1, c), "N02"},
      {UnitVector3d(1, -c, c), "N00"},
      {UnitVector3d(c, c, -1), "S01"},
      {UnitVector3d(1, c, -c), "S00"},
      {UnitVector3d(c, 1, -c), "S02"},
      {UnitVector3d(-c, c, -1), "S11"},
      {UnitVector3d(-c, 1, -c), "S10"},
      {UnitVector3d(-1, c, -c), "S12"},
      {UnitVector3d(-c, -c, -1), "S21"},
      {UnitVector3d(-1, -c, -c), "S20"},
      {UnitVector3d(-c, -1, -c), "S22"},
      {UnitVector3d(c, -c, -1), "S31"},
      {UnitVector3d(c, -1, -c), "S30"},
      {UnitVector3d(1, -c, -c), "S32"},
  };
  const HtmPixelization h0(0), h1(1), h2(2);
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const std::uint64_t id = id_of(cases[i].pixel);
    EXPECT_EQ(h0.index(cases[i].p), id >> 2) << cases[i].pixel;
    EXPECT_EQ(h1.index(cases[i].p), id) << cases[i].pixel;
    EXPECT_TRUE(HtmPixelization::triangle(id).contains(cases[i].p)) << cases[i].pixel;
    if (i >= 26) {
      EXPECT_EQ(h2.index(cases[i].p), 4 * id + 3) << cases[i].pixel;
      EXPECT_EQ(h2.envelope(Circle(cases[i].p, Angle(1e-8))), RangeSet(4 * id + 3))
          << cases[i].pixel;
    }
  }
  // Value shared with other HTM libraries.
  EXPECT_EQ(HtmPixelization(20).index(UnitVector3d(LonLat::from_degrees(1, 1))), 17043491373057ull);
  EXPECT_EQ(HtmPixelization(1).index(UnitVector3d(1, 1, 1)), 63u);
}

// A tiny circle on an octahedron vertex touches the four level-13 pixels meeting there.
TEST(HtmPixelization, EnvelopeAroundOctahedronVertices) {
  const HtmPixelization p(13);
  auto env = [&](const UnitVector3d& v) { return p.envelope(Circle(v, Angle(1e-16))); };
  EXPECT_EQ(env(-UnitVector3d::Z()), RangeSet({553648128, 620756992, 687865856, 754974720}));
  EXPECT_EQ(env(UnitVector3d::Z()), RangeSet({822083584, 889192448, 956301312, 1023410176}));
  EXPECT_EQ(env(UnitVector3d::X()), RangeSet({536870912, 771751936, 805306368, 1040187392}));
  EXPECT_EQ(env(UnitVector3d::Y()), RangeSet({570425344, 603979776, 973078528, 1006632960}));
  EXPECT_EQ(env(-UnitVector3d::X()), RangeSet({637534208, 671088640, 905969664, 939524096}));
  EXPECT_EQ(env(-UnitVector3d::Y()), RangeSet({704643072, 738197504, 838860800, 872415232}));
}

TEST(HtmPixelization, SmallCircleEnvelopeAndInterior) {
  const HtmPixelization p(3);
  const Circle c(UnitVector3d(1, 1, 1), Angle::from_degrees(0.1));
  EXPECT_EQ(p.envelope(c), RangeSet(0x3ff));
  EXPECT_EQ(p.envelope(c, 1), RangeSet(0x3ff));
  EXPECT_TRUE(p.interior(c).empty());
  EXPECT_TRUE(p.universe().contains(p.envelope(c)));
}

// Children partition their parent and every point lies in the triangle of its pixel.
TEST(HtmPixelization, PointsLandInTheirTriangleAndChildrenPartitionTheParent) {
  std::mt19937_64 rng(7);
  for (int level : {0, 1, 5, 7, 12, 20, 24}) {
    const HtmPixelization h(level);
    for (int i = 0; i < 300; ++i) {
      const UnitVector3d v = random_point(rng);
      const std::uint64_t id = h.index(v);
      ASSERT_EQ(HtmPixelization::level_of(id), level);
      ASSERT_TRUE(HtmPixelization::triangle(id).contains(v)) << HtmPixelization::as_string(id);
      if (level > 0) {
        ASSERT_EQ(HtmPixelization(level - 1).index(v), id >> 2);
      }
      // Only the pixel's own triangle among its siblings holds the point strictly.
      int holders = 0;
      for (std::uint64_t s = id & ~std::uint64_t{3}; s < (id | 3) + 1; ++s) {
        holders += HtmPixelization::triangle(s).contains(v);
      }
      ASSERT_EQ(holders, 1);
    }
  }
}

// The 8 roots tile the sphere: their areas (by Girard's theorem) sum to 4π, as do the
// 4^L pixels of any level.
TEST(HtmPixelization, TrianglesTileTheSphere) {
  auto area = [](const std::array<UnitVector3d, 3>& t) {
    // Oosterom & Strackee: tan(E/2) = |a·(b×c)| / (1 + a·b + b·c + c·a).
    const double num = std::fabs(t[0].dot(t[1].cross(t[2])));
    const double den = 1 + t[0].dot(t[1]) + t[1].dot(t[2]) + t[2].dot(t[0]);
    return 2 * std::atan2(num, den);
  };
  for (int level : {0, 1, 3}) {
    double total = 0;
    for (std::uint64_t id = 8ull << (2 * level); id < 16ull << (2 * level); ++id) {
      total += area(HtmPixelization::triangle_vertices(id));
    }
    EXPECT_NEAR(total, 4 * kPi, 1e-12) << level;
  }
}

TEST(HtmPixelization, EnvelopeCoversAndInteriorIsCovered) {
  std::mt19937_64 rng(11);
  const HtmPixelization h(8);
  for (int i = 0; i < 20; ++i) {
    const UnitVector3d center = random_point(rng);
    const Circle c(center, Angle::from_degrees(0.5 + 0.1 * i));
    const RangeSet env = h.envelope(c), in = h.interior(c);
    EXPECT_TRUE(env.contains(in));
    EXPECT_FALSE(in.empty());
    // Random points of the circle fall in the envelope; interior pixels' corners in the circle.
    for (int k = 0; k < 200; ++k) {
      const UnitVector3d v = random_point(rng);
      const UnitVector3d q(center.vec() + v.vec() * 0.01 * (1 + i % 3));
      if (c.contains(q)) {
        ASSERT_TRUE(env.contains(h.index(q)));
      }
    }
    for (std::uint64_t id : in.values()) {
      for (const auto& corner : HtmPixelization::triangle_vertices(id))
        ASSERT_TRUE(c.contains(corner));
    }
    // Coarsened envelopes stay envelopes.
    for (std::size_t max_ranges : {8u, 3u, 1u}) {
      const RangeSet coarse = h.envelope(c, max_ranges);
      EXPECT_LE(coarse.num_ranges(), max_ranges);
      EXPECT_TRUE(coarse.contains(env));
      const RangeSet inner = h.interior(c, max_ranges);
      EXPECT_LE(inner.num_ranges(), max_ranges);
      EXPECT_TRUE(in.contains(inner));
    }
  }
}

TEST(HtmPixelization, IndexAndEnvelopeAreFast) {
  std::mt19937_64 rng(3);
  const HtmPixelization h20(20), h7(7);
  std::vector<UnitVector3d> points;
  for (int i = 0; i < 10000; ++i) points.push_back(random_point(rng));
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t sum = 0;
  for (const auto& p : points) sum += h20.index(p);
  auto t1 = std::chrono::steady_clock::now();
  const double index_us =
      std::chrono::duration<double, std::micro>(t1 - t0).count() / points.size();
  // A detector-sized (0.2° × 0.2°) polygon at random places.
  int n = 0;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 500; ++i) {
    const LonLat c = LonLat::from_vector(points[i]);
    const double ra = c.lon().degrees(), dec = std::clamp(c.lat().degrees(), -80.0, 80.0);
    const double corners[] = {ra, dec, ra + 0.2, dec, ra + 0.2, dec + 0.2, ra, dec + 0.2};
    n += static_cast<int>(h7.envelope(polygon_from_degrees(corners)).num_ranges());
  }
  t1 = std::chrono::steady_clock::now();
  const double envelope_us = std::chrono::duration<double, std::micro>(t1 - t0).count() / 500;
  std::printf("[ perf ] htm20 index %.3f us/point; htm7 envelope of a 0.2 deg polygon %.1f us\n",
              index_us, envelope_us);
  EXPECT_GT(sum + n, 0u);
  // Loose bounds (shared CI machines; sanitizer builds scaled by MAJORDOME_TEST_SLOWDOWN):
  // orders of magnitude, not tuning.
  EXPECT_LT(index_us, 50.0 * MAJORDOME_TEST_SLOWDOWN);
  EXPECT_LT(envelope_us, 2000.0 * MAJORDOME_TEST_SLOWDOWN);
}

}  // namespace
}  // namespace majordome::sphere
