// Sets of pixel ids as sorted half-open ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace majordome::sphere {

// A set of unsigned 64-bit integers stored as sorted, disjoint, non-adjacent half-open
// ranges [first, second). Used for HTM pixel ids: a region's envelope at level 7 is a
// handful of ranges that become `htm7 >= a AND htm7 < b` terms in SQL.
// Values must be < 2^64 - 1 (pixel ids are < 2^53). Not thread-safe for writes.
class RangeSet {
 public:
  using Range = std::pair<std::uint64_t, std::uint64_t>;  // [first, second)

  RangeSet() = default;
  // The set of the listed values.
  RangeSet(std::initializer_list<std::uint64_t> values);
  // The set {value}.
  explicit RangeSet(std::uint64_t value) { insert(value); }

  // Adds [begin, end); empty ranges (begin >= end) are ignored. Appending in increasing
  // order is O(1); otherwise O(number of ranges).
  void insert(std::uint64_t begin, std::uint64_t end);
  void insert(std::uint64_t value) { insert(value, value + 1); }
  void insert(const RangeSet& other);

  bool empty() const { return ranges_.empty(); }
  std::size_t num_ranges() const { return ranges_.size(); }
  // The number of values in the set.
  std::uint64_t cardinality() const;
  const std::vector<Range>& ranges() const { return ranges_; }
  // Every value, in increasing order (mind cardinality() first).
  std::vector<std::uint64_t> values() const;

  bool contains(std::uint64_t value) const;
  // Whether every value of `other` is in this set.
  bool contains(const RangeSet& other) const;
  bool intersects(const RangeSet& other) const;

  // Bounds the number of ranges by max_ranges (0 = no bound; otherwise ≥ 1).
  // kExpand fills the smallest gaps between ranges (the result is a superset: an
  // envelope stays an envelope); kShrink drops the smallest ranges (a subset: an
  // interior stays an interior). Ties go to the lowest values.
  enum class Coarsening { kExpand, kShrink };
  void limit_ranges(std::size_t max_ranges, Coarsening how);

  friend bool operator==(const RangeSet&, const RangeSet&) = default;

 private:
  std::vector<Range> ranges_;
};

}  // namespace majordome::sphere
