#include "majordome/core/uuid.hpp"

#include <gtest/gtest.h>

#include "majordome/core/error.hpp"

namespace majordome {
namespace {

TEST(Uuid, ParsesAndFormatsCanonicalText) {
  auto u = Uuid::get("E15AB039-bc8b-4135-87c5-90902a7c0b22");
  EXPECT_EQ(u.str(), "e15ab039-bc8b-4135-87c5-90902a7c0b22");
  EXPECT_EQ(u.hex(), "e15ab039bc8b413587c590902a7c0b22");
  EXPECT_EQ(Uuid::get(u.hex()), u);
  EXPECT_EQ(u.version(), 4);
}

TEST(Uuid, RejectsMalformedText) {
  EXPECT_FALSE(Uuid::parse("e15ab039-bc8b-4135-87c5-90902a7c0b2"));   // too short
  EXPECT_FALSE(Uuid::parse("e15ab039-bc8b-4135-87c5-90902a7c0b22a"));  // too long
  EXPECT_FALSE(Uuid::parse("g15ab039-bc8b-4135-87c5-90902a7c0b22"));
  EXPECT_FALSE(Uuid::parse("e15ab03-9bc8b-4135-87c5-90902a7c0b22"));  // misplaced dash
  EXPECT_THROW(Uuid::get("nope"), InvalidArgumentError);
}

TEST(Uuid, Version5MatchesPythonUuid5) {
  // uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") == 886313e1-3b8a-5372-9b90-0c9aee199e5d
  auto dns = Uuid::get("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  EXPECT_EQ(Uuid::v5(dns, "python.org").str(), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  // uuid.uuid3(uuid.NAMESPACE_DNS, "python.org") == 6fa459ea-ee8a-3ca4-894e-db77e160355e
  EXPECT_EQ(Uuid::v3(dns, "python.org").str(), "6fa459ea-ee8a-3ca4-894e-db77e160355e");
}

TEST(Uuid, Version7IsTimeOrderedAndRandom) {
  auto a = Uuid::v7();
  auto b = Uuid::v7();
  EXPECT_EQ(a.version(), 7);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.bytes()[8] & 0xC0, 0x80);
  // The first 6 bytes are the millisecond clock: b is never earlier than a.
  EXPECT_LE(std::vector<int>(a.bytes().begin(), a.bytes().begin() + 6),
            std::vector<int>(b.bytes().begin(), b.bytes().begin() + 6));
  EXPECT_EQ(Uuid::v4().version(), 4);
}

}  // namespace
}  // namespace majordome
