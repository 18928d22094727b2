#include "majordome/query/expr_time.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "majordome/core/error.hpp"

namespace majordome::query {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TaiTime tai(std::string_view iso) { return TaiTime::from_tai_iso(iso); }
TaiTime utc(std::string_view iso) { return TaiTime::from_utc_iso(iso); }

struct Case {
  const char* text;
  TaiTime expected;
  const char* format;
  const char* scale;
};

// The good time strings of Rubin's tests, plus one per format and scale we support.
TEST(ExprTime, GoodTimeStrings) {
  const std::vector<Case> cases = {
      {"51544.0", tai("2000-01-01"), "mjd", "tai"},
      {"mjd/51544.0", tai("2000-01-01"), "mjd", "tai"},
      {"51544.0/tai", tai("2000-01-01"), "mjd", "tai"},
      {"mjd/51544.0/tai", tai("2000-01-01"), "mjd", "tai"},
      {"MJd/51544.0/TAi", tai("2000-01-01"), "mjd", "tai"},
      {"jd/2451544.5", tai("2000-01-01"), "jd", "tai"},
      {"51544.0/utc", utc("2000-01-01"), "mjd", "utc"},
      {"unix/946684800.0", utc("2000-01-01"), "unix", "utc"},
      {"cxcsec/63072064.184", utc("2000-01-01"), "cxcsec", "tt"},
      {"2020-03-30", utc("2020-03-30"), "iso", "utc"},
      {"2020-03-30 12:20", utc("2020-03-30 12:20"), "iso", "utc"},
      {"2020-03-30 12:20:33.456789", utc("2020-03-30 12:20:33.456789"), "iso", "utc"},
      {"2020-03-30T12:20", utc("2020-03-30T12:20"), "isot", "utc"},
      {"2020-03-30T12:20:33.456789", utc("2020-03-30T12:20:33.456789"), "isot", "utc"},
      {"isot/2020-03-30", utc("2020-03-30"), "isot", "utc"},
      {"2020-03-30/tai", tai("2020-03-30"), "iso", "tai"},
      {"+02020-03-30", utc("2020-03-30"), "fits", "utc"},
      {"+02020-03-30T12:20:33", utc("2020-03-30T12:20:33"), "fits", "utc"},
      {"+02020-03-30T12:20:33.456789", utc("2020-03-30T12:20:33.456789"), "fits", "utc"},
      {"fits/2020-03-30", utc("2020-03-30"), "fits", "utc"},
      {"2020:123", utc("2020-05-02"), "yday", "utc"},
      {"2020:123:12:20", utc("2020-05-02 12:20"), "yday", "utc"},
      {"2020:123:12:20:33.456789", utc("2020-05-02 12:20:33.456789"), "yday", "utc"},
      {"yday/2020:123:12:20/tai", tai("2020-05-02 12:20"), "yday", "tai"},
      {"2021:365", utc("2021-12-31"), "yday", "utc"},
      {"2020-03-30T12:20:33+00:00", utc("2020-03-30T12:20:33"), "isot", "utc"},
      {"2020-3-1 1:2:3", utc("2020-03-01 01:02:03"), "iso", "utc"},
      {"isot/2020-03-30T12:20:33/tt", TaiTime(tai("2020-03-30T12:20:33").ns() - 32'184'000'000), "isot", "tt"},
      {"mjd/58938.515/tai", tai("2020-03-30 12:21:36"), "mjd", "tai"},  // exact to the ns
      {"-1.5", tai("1858-11-15 12:00"), "mjd", "tai"},
      {".5", tai("1858-11-17 12:00"), "mjd", "tai"},
      {"jyear/2000.0", tai("2000-01-01 12:00"), "jyear", "tai"},
      {"gps/0.0", tai("1980-01-06 00:00:19"), "gps", "tai"},
      {"unix_tai/0.0", tai("1970-01-01 00:00:08"), "unix_tai", "tai"},
      {"unix/946684800.5", utc("2000-01-01T00:00:00.5"), "unix", "utc"},
      // Before 1972 TAI-UTC drifts within the day, as in ERFA.
      {"unix/0.5", utc("1970-01-01T00:00:00.5"), "unix", "utc"},
      // The leap second at the end of 2016.
      {"2016-12-31T23:59:60.5", TaiTime(utc("2017-01-01").ns() - kSecond / 2), "isot", "utc"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    TimeLiteralValue v = parse_time_literal(c.text);
    EXPECT_EQ(v.time.tai_iso(), c.expected.tai_iso());
    EXPECT_EQ(v.format, c.format);
    EXPECT_EQ(v.scale, c.scale);
  }
}

TEST(ExprTime, RelativisticScales) {
  const std::int64_t tt = tai("2000-01-01 12:00").ns() - 32'184'000'000;
  // TDB - TT stays within 2 ms.
  EXPECT_LT(std::llabs(parse_time_literal("2000-01-01T12:00:00/tdb").time.ns() - tt), 2'000'000);
  // TCG runs ahead of TT by L_G: about 0.5058 s at J2000.
  EXPECT_NEAR(static_cast<double>(tt - parse_time_literal("2000-01-01T12:00:00/tcg").time.ns()) / 1e9,
              0.5058, 0.001);
  // TCB - TDB is about 11.25 s at J2000.
  EXPECT_NEAR(static_cast<double>(tt - parse_time_literal("2000-01-01T12:00:00/tcb").time.ns()) / 1e9,
              11.25, 0.05);
}

TEST(ExprTime, BadTimeStrings) {
  const std::vector<std::string> bad = {
      // Rubin's table.
      "", " ", "123.456e10", "mjd-dj/123.456", "123.456/utc-ut1", "2020-03-01 00",
      "2020-03-01T", "2020:100:12", "format/123456.00", "123456.00/unscale",
      // Numbers need a decimal point; no exponents, no hex.
      "51544", "mjd/51544", "1e5", "0x10.0",
      // Calendar checks.
      "2020-13-01", "2020-02-30", "2021-02-29", "2020-03-01T24:00", "2020-03-01 12:60",
      "2020-03-01T12:00:61", "2020:000", "2020:367", "2021:366", "20201-01-01", "2020-001-01",
      // Leap second only where there is one, and only in UTC.
      "2015-12-31T23:59:60", "2016-12-31T23:59:60/tai", "2016-12-31T12:59:60",
      // Zones other than +00:00.
      "2020-03-01T00:00:00Z", "2020-03-01T00:00:00+01:00", "2020-03-01T00:00:00-00:00",
      // Format and value disagree.
      "iso/2020-03-30T12:00", "isot/2020-03-30 12:00", "mjd/2020-01-01", "iso/51544.0",
      "fits/2020-03-30T12:20", "yday/2020-03-30",
      // Epoch formats are tied to their scale.
      "unix/0.0/tai", "gps/0.0/utc",
      // Scales that need data we do not have.
      "51544.0/ut1", "51544.0/local",
      // Shape.
      "a/b/c/d", "mjd//tai", "/51544.0", "51544.0/", "not-a-time",
      // Range of TaiTime.
      "mjd/1000000.0", "3000-01-01", "+99999-01-01", "1600-01-01",
      "mjd/123456789012345678901234567890.0",
  };
  for (const std::string& text : bad) {
    SCOPED_TRACE(text);
    EXPECT_THROW(parse_time_literal(text), InvalidQueryError);
  }
}

TEST(ExprTime, ErrorsExplain) {
  auto reason = [](std::string_view text) {
    try {
      parse_time_literal(text);
    } catch (const InvalidQueryError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(reason("format/123456.00").find("unknown or unsupported time format 'format'"), std::string::npos);
  EXPECT_NE(reason("123456.00/unscale").find("unknown time scale 'unscale'"), std::string::npos);
  EXPECT_NE(reason("51544.0/ut1").find("cannot be converted to TAI"), std::string::npos);
  EXPECT_NE(reason("3000-01-01").find("outside the supported range"), std::string::npos);
  EXPECT_NE(reason("2020-03-01 00").find("is not a time in format iso"), std::string::npos);
  EXPECT_NE(reason("51544").find("MJD with a decimal point"), std::string::npos);
}

}  // namespace
}  // namespace majordome::query
