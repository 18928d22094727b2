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

TEST(Printable, EscapesEveryControlCharacterAndKeepsTheRest) {
  EXPECT_EQ(printable("x\ngen3.sqlite3\ny"), "x\\ngen3.sqlite3\\ny");
  EXPECT_EQ(printable("a\tb\rc"), "a\\tb\\rc");
  EXPECT_EQ(printable("\x1b[31m\x7f"), "\\x1b[31m\\x7f");
  EXPECT_EQ(printable("a\xc2\x85" "b"), "a\\xc2\\x85b");  // U+0085, a C1 line break
  EXPECT_EQ(printable(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("étoile/u/jdoe run+1@x"), "étoile/u/jdoe run+1@x");
  EXPECT_TRUE(has_control_characters("a\nb"));
  EXPECT_TRUE(has_control_characters("a\xc2\x9f"));
  EXPECT_FALSE(has_control_characters("é\xc2\xa0"));  // U+00A0 is printable
  // yaml-cpp reads the YAML escape \N as the lone byte 0x85: invalid UTF-8 is escaped too.
  EXPECT_EQ(printable("a\x85" "b\xff\xc3"), "a\\x85b\\xff\\xc3");
  EXPECT_FALSE(is_valid_utf8("a\x85"));
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // a UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));       // an overlong '/'
  EXPECT_TRUE(is_valid_utf8("étoile ✓ \xf0\x9f\x94\xad"));
}

}  // namespace
}  // namespace majordome
