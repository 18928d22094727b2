#include "majordome/core/suggest.hpp"

#include <gtest/gtest.h>

namespace majordome {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("Visit", "visit"), 1u);
  EXPECT_EQ(edit_distance("Visit", "visit", CaseMatters::kNo), 0u);
}

TEST(Closest, PrefersTheNearestThenATypedPrefix) {
  const std::vector<std::string> commands{"query-dataset-types", "query-datasets", "query-collections"};
  EXPECT_EQ(closest("query-dataset", commands), "query-datasets");  // 1 edit beats the longer prefix match
  EXPECT_EQ(closest("query-colections", commands), "query-collections");
  EXPECT_EQ(closest("query-datas", commands), "query-datasets");  // a prefix of both: the nearer
  EXPECT_EQ(closest("frobnicate", commands), "");                      // nothing near
  EXPECT_EQ(closest("", commands), "");
  EXPECT_EQ(closest("NUMRINGS", {"numRings", "raStart"}, 3, CaseMatters::kNo), "numRings");
}

}  // namespace
}  // namespace majordome
