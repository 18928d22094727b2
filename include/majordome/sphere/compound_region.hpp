// Unions and intersections of regions.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::sphere {

namespace detail {
std::unique_ptr<Region> decode_region(std::span<const std::uint8_t> bytes, int depth);
}  // namespace detail

// A region built from owned operand regions. Operands keep their order and nesting
// (no flattening), so decode/encode round-trips byte for byte.
// Encoding: type byte, then for each operand a little-endian u64 byte count followed by
// the operand's own encoding.
class CompoundRegion : public Region {
 public:
  std::size_t num_operands() const { return operands_.size(); }
  const Region& operand(std::size_t i) const { return *operands_.at(i); }
  const std::vector<std::unique_ptr<Region>>& operands() const { return operands_; }

  std::vector<std::uint8_t> encode() const override;

 protected:
  explicit CompoundRegion(std::vector<std::unique_ptr<Region>> operands);
  CompoundRegion(const CompoundRegion& other);
  CompoundRegion& operator=(const CompoundRegion& other);
  CompoundRegion(CompoundRegion&&) = default;
  CompoundRegion& operator=(CompoundRegion&&) = default;
  // Parses the operand list after the type byte (CorruptFileError when malformed).
  static std::vector<std::unique_ptr<Region>> decode_operands(std::span<const std::uint8_t> bytes,
                                                              int depth);

 private:
  std::vector<std::unique_ptr<Region>> operands_;
  friend std::unique_ptr<Region> detail::decode_region(std::span<const std::uint8_t>, int);
};

// Points in any operand. No operands: the empty region.
// relate(): kDisjoint if every operand is disjoint, kWithin if every operand is within,
// kIntersects if some operand intersects, kContains if some operand contains (a union
// covering `other` only jointly is not reported as containing it).
class UnionRegion final : public CompoundRegion {
 public:
  static constexpr std::uint8_t kTypeCode = 'u';
  explicit UnionRegion(std::vector<std::unique_ptr<Region>> operands)
      : CompoundRegion(std::move(operands)) {}
  UnionRegion(const Region& a, const Region& b);

  RegionType type() const override { return RegionType::kUnion; }
  std::unique_ptr<Region> clone() const override;
  bool is_empty() const override;
  bool contains(const UnitVector3d& v) const override;
  Box bounding_box() const override;
  Circle bounding_circle() const override;

  // REQUIRES: bytes[0] == 'u'.
  static UnionRegion decode(std::span<const std::uint8_t> bytes);
};

// Points in every operand. No operands: the full sphere.
// relate(): kDisjoint if some operand is disjoint (conservative: operands that only
// jointly miss `other` are not detected), kWithin if some operand is within, kContains
// if every operand contains; kIntersects only when `other` is contained. Otherwise the
// overlap is unknown.
class IntersectionRegion final : public CompoundRegion {
 public:
  static constexpr std::uint8_t kTypeCode = 'i';
  explicit IntersectionRegion(std::vector<std::unique_ptr<Region>> operands)
      : CompoundRegion(std::move(operands)) {}
  IntersectionRegion(const Region& a, const Region& b);

  RegionType type() const override { return RegionType::kIntersection; }
  std::unique_ptr<Region> clone() const override;
  // True only when an operand is empty.
  bool is_empty() const override;
  bool contains(const UnitVector3d& v) const override;
  Box bounding_box() const override;
  Circle bounding_circle() const override;

  // REQUIRES: bytes[0] == 'i'.
  static IntersectionRegion decode(std::span<const std::uint8_t> bytes);
};

}  // namespace majordome::sphere
