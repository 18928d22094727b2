#include "majordome/core/error.hpp"

#include <gtest/gtest.h>

#include <set>

namespace majordome {
namespace {

TEST(Error, CodesHaveDistinctExitStatusesAndNames) {
  std::set<int> statuses;
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    auto code = static_cast<ErrorCode>(c);
    statuses.insert(exit_status(code));
    names.insert(error_code_name(code));
    EXPECT_GT(exit_status(code), 1);  // 1 is the usage error
  }
  EXPECT_EQ(statuses.size(), static_cast<std::size_t>(ErrorCode::kInternal) + 1);
  EXPECT_EQ(names.size(), statuses.size());
}

TEST(Error, TypedErrorsAreCatchableAsError) {
  try {
    throw NotFoundError("dataset type 'calexp' is not registered");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_STREQ(e.what(), "dataset type 'calexp' is not registered");
  }
}

}  // namespace
}  // namespace majordome
