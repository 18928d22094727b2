#include "majordome/sphere/orientation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "majordome/sphere/unit_vector3d.hpp"

namespace majordome::sphere {
namespace {

TEST(Orientation, SignsOfTheAxes) {
  const Vector3d x(1, 0, 0), y(0, 1, 0), z(0, 0, 1);
  EXPECT_EQ(orientation(x, y, z), 1);
  EXPECT_EQ(orientation(y, x, z), -1);
  EXPECT_EQ(orientation(x, y, x), 0);
  EXPECT_EQ(orientation(x, y, Vector3d(1, 1, 0)), 0);
}

TEST(Orientation, SettlesNearlyCoplanarTriplesExactly) {
  // det[(1,2,3), (4,5,6), (5,7,9+δ)] = -3δ: far below the floating-point error bound.
  const Vector3d a(1, 2, 3), b(4, 5, 6);
  const double delta = std::ldexp(1.0, -49);  // one ulp of 9
  EXPECT_EQ(orientation(a, b, Vector3d(5, 7, 9)), 0);
  EXPECT_EQ(orientation(a, b, Vector3d(5, 7, 9 + delta)), -1);
  EXPECT_EQ(orientation(a, b, Vector3d(5, 7, 9 - delta)), 1);
}

TEST(Orientation, HandlesTinyAndHugeComponents) {
  // Products underflow in double; the exact path must still see them.
  const Vector3d a(1e-300, 0, 0), b(0, 1e-300, 0), c(0, 0, 1e-300);
  EXPECT_EQ(orientation(a, b, c), 1);
  EXPECT_EQ(orientation(b, a, c), -1);
  const Vector3d d(1e300, 0, 0), e(0, 1e-300, 0), f(0, 0, 5e-324);
  EXPECT_EQ(orientation(d, e, f), 1);
}

// Exactness means the sign obeys the determinant's symmetries even for configurations
// rounding cannot resolve: points on (or next to) the great circle through a and b.
TEST(Orientation, IsConsistentUnderPermutationOnDegenerateInput) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  int zero = 0;
  for (int i = 0; i < 20000; ++i) {
    const UnitVector3d a(u(rng), u(rng), u(rng)), b(u(rng), u(rng), u(rng));
    const double t = u(rng);
    // c on the plane of a and b up to the rounding of this sum.
    Vector3d c = a.vec() * t + b.vec() * (1.0 - t);
    if (i % 3 == 0) c = Vector3d(std::nextafter(c.x(), 2.0), c.y(), c.z());
    if (i % 5 == 0)
      c = a.vec() * 2.0 - b.vec() * 0.5;  // exactly representable: coplanar when exact
    const int s = orientation(a, b, c);
    zero += s == 0;
    ASSERT_EQ(orientation(b, c, a), s);
    ASSERT_EQ(orientation(c, a, b), s);
    ASSERT_EQ(orientation(b, a, c), -s);
    ASSERT_EQ(orientation(a, c, b), -s);
    ASSERT_EQ(orientation(-a.vec(), b, c), -s);
  }
  EXPECT_GT(zero, 0);
}

}  // namespace
}  // namespace majordome::sphere
