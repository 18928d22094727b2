// What is known about how two regions relate.
#pragma once

#include <cstdint>

namespace majordome::sphere {

// Bit flags returned by Region::relate(other), from the point of view of the region
// relate() is called on. Each set bit is a guarantee; a cleared bit is only "not proven":
//
//   kDisjoint    the regions certainly share no point;
//   kIntersects  the regions certainly share at least one point;
//   kContains    every point of `other` is certainly in this region;
//   kWithin      every point of this region is certainly in `other`.
//
// For pairs of ConvexPolygon, Circle and Box exactly one of kDisjoint / kIntersects is
// always set (the answer is decided). Pairs involving an Ellipse or an
// IntersectionRegion may leave both cleared: "unknown", which callers that need a yes/no
// (a query filter) must treat as a possible overlap.
// Empty regions are disjoint from everything, within everything, and contain only
// empty regions; kContains and kWithin never imply kIntersects for them.
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
