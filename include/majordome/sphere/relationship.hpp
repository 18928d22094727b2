// What is known about how two regions relate.
#pragma once

#include <cstdint>

namespace majordome::sphere {

// Bit flags returned by Region::relate(other), from the point of view of the region
// relate() is called on:
//
//   kDisjoint    the regions share no point;
//   kIntersects  the regions share at least one point;
//   kContains    every point of `other` is in this region;
//   kWithin      every point of this region is in `other`.
//
// A cleared bit means "not proven". For pairs of ConvexPolygon, Circle and Box exactly
// one of kDisjoint / kIntersects is always set (the overlap is decided): exactly for two
// polygons; for pairs with a Circle, a circle that misses the other region by less than
// the rounding band of squared chord lengths (2.5e-15, i.e. ~5e-8 rad for a zero-radius
// circle) counts as touching it, as in lsst.sphgeom — the Butler's POINT queries depend
// on that. kContains / kWithin are only claimed outside that band.
// Pairs involving an Ellipse or an IntersectionRegion may leave both kDisjoint and
// kIntersects cleared: "unknown", which callers needing a yes/no (a query filter) must
// treat as a possible overlap.
// Empty regions are disjoint from everything, within everything, and contain only
// empty regions.
enum class Relationship : std::uint8_t {
  kNone = 0,
  kDisjoint = 1,
  kIntersects = 2,
  kContains = 4,
  kWithin = 8,
};

constexpr Relationship operator|(Relationship a, Relationship b) {
  return static_cast<Relationship>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr Relationship operator&(Relationship a, Relationship b) {
  return static_cast<Relationship>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr Relationship& operator|=(Relationship& a, Relationship b) { return a = a | b; }

// True if every bit of `flags` is set in `r`.
constexpr bool has(Relationship r, Relationship flags) { return (r & flags) == flags; }

// The same facts seen from the other region: kContains and kWithin swap.
constexpr Relationship invert(Relationship r) {
  Relationship out = r & (Relationship::kDisjoint | Relationship::kIntersects);
  if (has(r, Relationship::kContains)) out |= Relationship::kWithin;
  if (has(r, Relationship::kWithin)) out |= Relationship::kContains;
  return out;
}

}  // namespace majordome::sphere
