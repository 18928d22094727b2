#include "majordome/sphere/range_set.hpp"

#include <gtest/gtest.h>

namespace majordome::sphere {
namespace {

using Ranges = std::vector<RangeSet::Range>;

TEST(RangeSet, InsertMergesTouchingAndOverlappingRanges) {
  RangeSet s;
  s.insert(10, 20);
  s.insert(30, 40);
  s.insert(20, 25);  // touches [10, 20)
  EXPECT_EQ(s.ranges(), (Ranges{{10, 25}, {30, 40}}));
  s.insert(5, 6);
  s.insert(24, 31);  // bridges both
  EXPECT_EQ(s.ranges(), (Ranges{{5, 6}, {10, 40}}));
  s.insert(7, 7);  // empty
  EXPECT_EQ(s.num_ranges(), 2u);
  EXPECT_EQ(s.cardinality(), 31u);
  EXPECT_EQ(RangeSet({3, 1, 2, 7}).ranges(), (Ranges{{1, 4}, {7, 8}}));
}

TEST(RangeSet, Queries) {
  RangeSet s({1, 2, 3, 10});
  EXPECT_TRUE(s.contains(1));
  EXPECT_TRUE(s.contains(3));
  EXPECT_FALSE(s.contains(4));
  EXPECT_FALSE(s.contains(0));
  EXPECT_TRUE(s.contains(RangeSet({2, 10})));
  EXPECT_FALSE(s.contains(RangeSet({2, 11})));
  EXPECT_TRUE(s.intersects(RangeSet({10, 50})));
  EXPECT_FALSE(s.intersects(RangeSet({4, 9, 11})));
  EXPECT_EQ(s.values(), (std::vector<std::uint64_t>{1, 2, 3, 10}));
}

TEST(RangeSet, LimitRangesExpandsAcrossSmallestGapsOrDropsSmallestRanges) {
  RangeSet s;
  s.insert(0, 1);
  s.insert(3, 4);    // gap 2
  s.insert(10, 20);  // gap 6
  s.insert(21, 22);  // gap 1
  RangeSet e = s;
  e.limit_ranges(2, RangeSet::Coarsening::kExpand);
  EXPECT_EQ(e.ranges(), (Ranges{{0, 4}, {10, 22}}));
  EXPECT_TRUE(e.contains(s));
  RangeSet one = s;
  one.limit_ranges(1, RangeSet::Coarsening::kExpand);
  EXPECT_EQ(one.ranges(), (Ranges{{0, 22}}));
  RangeSet i = s;
  i.limit_ranges(2, RangeSet::Coarsening::kShrink);
  EXPECT_EQ(i.ranges(), (Ranges{{10, 20}, {21, 22}}));
  EXPECT_TRUE(s.contains(i));
  RangeSet unlimited = s;
  unlimited.limit_ranges(0, RangeSet::Coarsening::kExpand);
  EXPECT_EQ(unlimited, s);
}

}  // namespace
}  // namespace majordome::sphere
