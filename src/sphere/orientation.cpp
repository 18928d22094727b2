#include "majordome/sphere/orientation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace majordome::sphere {
namespace {

__extension__ typedef unsigned __int128 U128;

// The determinant is a sum of six products of three doubles. Each double is m·2^e with
// an integer m < 2^53, so each product is an integer below 2^159 times a power of two.
// Aligning all six to the smallest exponent turns the sum into big-integer additions.
// Exponents of finite doubles span about 2100, so a product sum spans at most ~6500 bits.
constexpr int kLimbs = 104;
using BigUint = std::array<std::uint64_t, kLimbs>;

struct Term {
  std::uint64_t limb[3];  // the magnitude of the product's integer part, little-endian limbs
  int exponent;           // value = limbs · 2^exponent
  bool negative;
};

void decompose(double x, std::uint64_t& mantissa, int& exponent) {
  int e = 0;
  double f = std::frexp(std::fabs(x), &e);  // f ∈ [0.5, 1)
  mantissa = static_cast<std::uint64_t>(std::ldexp(f, 53));
  exponent = e - 53;
}

bool make_term(double a, double b, double c, bool negate, Term& t) {
  if (a == 0.0 || b == 0.0 || c == 0.0) return false;
  std::uint64_t ma, mb, mc;
  int ea, eb, ec;
  decompose(a, ma, ea);
  decompose(b, mb, eb);
  decompose(c, mc, ec);
  U128 ab = static_cast<U128>(ma) * mb;
  U128 lo = static_cast<U128>(static_cast<std::uint64_t>(ab)) * mc;
  U128 hi = static_cast<U128>(static_cast<std::uint64_t>(ab >> 64)) * mc + (lo >> 64);
  t.limb[0] = static_cast<std::uint64_t>(lo);
  t.limb[1] = static_cast<std::uint64_t>(hi);
  t.limb[2] = static_cast<std::uint64_t>(hi >> 64);
  t.exponent = ea + eb + ec;
  t.negative = ((a < 0) != (b < 0)) != ((c < 0) != negate);
  return true;
}

void add_shifted(BigUint& acc, const Term& t, int shift) {
  const int k = shift / 64;
  const int r = shift % 64;
  std::uint64_t w[4];
  w[0] = t.limb[0] << r;
  w[1] = (t.limb[1] << r) | (r ? t.limb[0] >> (64 - r) : 0);
  w[2] = (t.limb[2] << r) | (r ? t.limb[1] >> (64 - r) : 0);
  w[3] = r ? t.limb[2] >> (64 - r) : 0;
  std::uint64_t carry = 0;
  int i = k;
  for (int j = 0; j < 4 || carry; ++j, ++i) {
    std::uint64_t add = (j < 4 ? w[j] : 0);
    U128 s = static_cast<U128>(acc[i]) + add + carry;
    acc[i] = static_cast<std::uint64_t>(s);
    carry = static_cast<std::uint64_t>(s >> 64);
  }
}

int exact_orientation(const Vector3d& a, const Vector3d& b, const Vector3d& c) {
  // det = (a × b) · c
  Term terms[6];
  int n = 0;
  n += make_term(a.y(), b.z(), c.x(), false, terms[n]);
  n += make_term(a.z(), b.y(), c.x(), true, terms[n]);
  n += make_term(a.z(), b.x(), c.y(), false, terms[n]);
  n += make_term(a.x(), b.z(), c.y(), true, terms[n]);
  n += make_term(a.x(), b.y(), c.z(), false, terms[n]);
  n += make_term(a.y(), b.x(), c.z(), true, terms[n]);
  if (n == 0) return 0;
  int min_exponent = terms[0].exponent;
  for (int i = 1; i < n; ++i) min_exponent = std::min(min_exponent, terms[i].exponent);
  BigUint pos{}, neg{};
  for (int i = 0; i < n; ++i) {
    add_shifted(terms[i].negative ? neg : pos, terms[i], terms[i].exponent - min_exponent);
  }
  for (int i = kLimbs - 1; i >= 0; --i) {
    if (pos[i] != neg[i]) return pos[i] > neg[i] ? 1 : -1;
  }
  return 0;
}

}  // namespace

int orientation(const Vector3d& a, const Vector3d& b, const Vector3d& c) {
  const double xy = a.x() * b.y(), yx = a.y() * b.x();
  const double yz = a.y() * b.z(), zy = a.z() * b.y();
  const double zx = a.z() * b.x(), xz = a.x() * b.z();
  const double det = c.x() * (yz - zy) + c.y() * (zx - xz) + c.z() * (xy - yx);
  const double permanent = std::fabs(c.x()) * (std::fabs(yz) + std::fabs(zy)) +
                           std::fabs(c.y()) * (std::fabs(zx) + std::fabs(xz)) +
                           std::fabs(c.z()) * (std::fabs(xy) + std::fabs(yx));
  // The evaluation above errs by less than 5ε·permanent (ε = 2^-53) when nothing
  // underflows; 1e-15 ≈ 9ε leaves a margin. Tiny permanents may have lost bits to
  // underflow, so they always take the exact path.
  const double bound = 1e-15 * permanent;
  if (permanent > 1e-280 && permanent < 1e300) {
    if (det > bound) return 1;
    if (det < -bound) return -1;
  }
  if (!(a.is_finite() && b.is_finite() && c.is_finite())) return 0;
  return exact_orientation(a, b, c);
}

}  // namespace majordome::sphere
