#include "majordome/sphere/range_set.hpp"

#include <algorithm>
#include <numeric>

namespace majordome::sphere {

RangeSet::RangeSet(std::initializer_list<std::uint64_t> values) {
  for (std::uint64_t v : values) insert(v);
}

void RangeSet::insert(std::uint64_t begin, std::uint64_t end) {
  if (begin >= end) return;
  if (ranges_.empty() || begin > ranges_.back().second) {
    ranges_.emplace_back(begin, end);
    return;
  }
  // First range whose end reaches begin (touching ranges merge), and the first whose start
  // lies beyond end.
  auto lo = std::lower_bound(ranges_.begin(), ranges_.end(), begin,
                             [](const Range& r, std::uint64_t v) { return r.second < v; });
  auto hi = std::upper_bound(lo, ranges_.end(), end,
                             [](std::uint64_t v, const Range& r) { return v < r.first; });
  if (lo == hi) {
    ranges_.insert(lo, Range(begin, end));
    return;
  }
  lo->first = std::min(lo->first, begin);
  lo->second = std::max((hi - 1)->second, end);
  ranges_.erase(lo + 1, hi);
}

void RangeSet::insert(const RangeSet& other) {
  for (const auto& r : other.ranges_) insert(r.first, r.second);
}

std::uint64_t RangeSet::cardinality() const {
  std::uint64_t n = 0;
  for (const auto& r : ranges_) n += r.second - r.first;
  return n;
}

std::vector<std::uint64_t> RangeSet::values() const {
  std::vector<std::uint64_t> out;
  out.reserve(cardinality());
  for (const auto& r : ranges_) {
    for (std::uint64_t v = r.first; v < r.second; ++v) out.push_back(v);
  }
  return out;
}

bool RangeSet::contains(std::uint64_t value) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), value,
                             [](std::uint64_t v, const Range& r) { return v < r.first; });
  return it != ranges_.begin() && value < (it - 1)->second;
}

bool RangeSet::contains(const RangeSet& other) const {
  for (const auto& r : other.ranges_) {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), r.first,
                               [](std::uint64_t v, const Range& x) { return v < x.first; });
    if (it == ranges_.begin() || (it - 1)->second < r.second) return false;
  }
  return true;
}

bool RangeSet::intersects(const RangeSet& other) const {
  auto a = ranges_.begin();
  auto b = other.ranges_.begin();
  while (a != ranges_.end() && b != other.ranges_.end()) {
    if (a->second <= b->first) {
      ++a;
    } else if (b->second <= a->first) {
      ++b;
    } else {
      return true;
    }
  }
  return false;
}

void RangeSet::limit_ranges(std::size_t max_ranges, Coarsening how) {
  if (max_ranges == 0 || ranges_.size() <= max_ranges) return;
  const std::size_t excess = ranges_.size() - max_ranges;
  if (how == Coarsening::kExpand) {
    // Fill the `excess` smallest gaps (ties: lowest first).
    std::vector<std::size_t> gaps(ranges_.size() - 1);
    std::iota(gaps.begin(), gaps.end(), 0);
    auto gap = [&](std::size_t i) { return ranges_[i + 1].first - ranges_[i].second; };
    std::stable_sort(gaps.begin(), gaps.end(),
                     [&](std::size_t x, std::size_t y) { return gap(x) < gap(y); });
    std::vector<bool> fill(ranges_.size() - 1, false);
    for (std::size_t k = 0; k < excess; ++k) fill[gaps[k]] = true;
    std::vector<Range> merged;
    merged.reserve(max_ranges);
    merged.push_back(ranges_[0]);
    for (std::size_t i = 1; i < ranges_.size(); ++i) {
      if (fill[i - 1]) {
        merged.back().second = ranges_[i].second;
      } else {
        merged.push_back(ranges_[i]);
      }
    }
    ranges_ = std::move(merged);
  } else {
    // Drop the `excess` smallest ranges (ties: lowest first).
    std::vector<std::size_t> order(ranges_.size());
    std::iota(order.begin(), order.end(), 0);
    auto size = [&](std::size_t i) { return ranges_[i].second - ranges_[i].first; };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return size(x) < size(y); });
    std::vector<bool> drop(ranges_.size(), false);
    for (std::size_t k = 0; k < excess; ++k) drop[order[k]] = true;
    std::vector<Range> kept;
    kept.reserve(max_ranges);
    for (std::size_t i = 0; i < ranges_.size(); ++i) {
      if (!drop[i]) kept.push_back(ranges_[i]);
    }
    ranges_ = std::move(kept);
  }
}

}  // namespace majordome::sphere
