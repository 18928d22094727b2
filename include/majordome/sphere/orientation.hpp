// The one exact predicate all polygon geometry rests on.
#pragma once

#include "majordome/sphere/vector3d.hpp"

namespace majordome::sphere {

// The exact sign of det[a, b, c] = a · (b × c): +1 if c lies strictly to the left of
// the great circle from a to b (a, b, c counter-clockwise seen from outside the
// sphere), -1 if strictly to the right, 0 if the three vectors are coplanar.
//
// Exact for all finite inputs, not just unit vectors: a floating-point evaluation with
// a proven error bound decides almost every call in a few nanoseconds; the rare
// near-degenerate call is settled with exact big-integer arithmetic. Point-in-polygon and
// polygon overlap tests therefore never disagree with each other because of rounding.
// Thread-safe, allocation-free.
int orientation(const Vector3d& a, const Vector3d& b, const Vector3d& c);

}  // namespace majordome::sphere
