#include "majordome/core/time.hpp"

#include <gtest/gtest.h>

#include "majordome/core/error.hpp"

namespace majordome {
namespace {

TEST(TaiTime, TaiCalendarRoundTripsAtNanosecondPrecision) {
  auto t = TaiTime::from_tai_iso("2013-06-17 13:34:45.775000000");
  EXPECT_EQ(t.tai_iso(), "2013-06-17 13:34:45.775000000");
  EXPECT_EQ(TaiTime::from_tai_iso("2013-06-17T13:34:45.775").ns(), t.ns());
  EXPECT_EQ(TaiTime::from_tai_iso("1970-01-01").ns(), 0);
  // Rubin's max_nsec is 2100-01-01 TAI.
  EXPECT_EQ(TaiTime::from_tai_iso("2100-01-01 00:00:00").ns(), 4102444800000000000LL);
  EXPECT_EQ(TaiTime::from_tai_iso("1969-12-31 23:59:59").ns(), -1000000000LL);
  EXPECT_EQ(TaiTime(-1000000000LL).tai_iso(0), "1969-12-31 23:59:59");
}

TEST(TaiTime, UtcConversionUsesLeapSeconds) {
  // TAI - UTC = 37 s since 2017-01-01.
  auto utc = TaiTime::from_utc_iso("2020-01-01T00:00:00");
  EXPECT_EQ(utc.ns() - TaiTime::from_tai_iso("2020-01-01").ns(), 37'000'000'000LL);
  EXPECT_EQ(utc.utc_iso(0), "2020-01-01T00:00:00");
  // 2013: 35 s.
  auto t2013 = TaiTime::from_utc_calendar(2013, 6, 17, 13, 34, 10.0);
  EXPECT_EQ(t2013.tai_iso(0), "2013-06-17 13:34:45");
}

TEST(TaiTime, MjdAndBadText) {
  EXPECT_EQ(TaiTime::from_mjd_tai(58849.0).tai_iso(0), "2020-01-01 00:00:00");
  EXPECT_NEAR(TaiTime::from_tai_iso("2020-01-01T12:00").mjd_tai(), 58849.5, 1e-9);
  EXPECT_FALSE(TaiTime::parse_tai_iso("2020-13-01"));
  EXPECT_FALSE(TaiTime::parse_tai_iso("2020-03-01 00"));
  EXPECT_FALSE(TaiTime::parse_tai_iso("2020-03-01T"));
  EXPECT_FALSE(TaiTime::parse_tai_iso("yesterday"));
  EXPECT_THROW(TaiTime::from_tai_iso("2020/01/01"), InvalidArgumentError);
}

TEST(Timespan, OverlapIsHalfOpenAndUnboundedEndsWork) {
  auto t = [](const char* s) { return TaiTime::from_tai_iso(s); };
  auto a = Timespan::between(t("2020-01-01T01:00"), t("2020-01-01T03:00"));
  auto b = Timespan::between(t("2020-01-01T03:00"), std::nullopt);
  auto c = Timespan::between(std::nullopt, t("2020-01-01T01:00:01"));
  EXPECT_FALSE(a.overlaps(b));  // touching ends do not overlap
  EXPECT_TRUE(a.overlaps(c));
  EXPECT_TRUE(Timespan().overlaps(b));
  EXPECT_FALSE(Timespan(5, 5).overlaps(Timespan()));  // empty overlaps nothing
  EXPECT_TRUE(a.contains(t("2020-01-01T01:00")));
  EXPECT_FALSE(a.contains(t("2020-01-01T03:00")));
  EXPECT_EQ(a.str(), "[2020-01-01T01:00:00, 2020-01-01T03:00:00)");
  EXPECT_EQ(b.str(), "[2020-01-01T03:00:00, inf)");
}

}  // namespace
}  // namespace majordome
