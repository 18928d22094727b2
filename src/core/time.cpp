#include "majordome/core/time.hpp"

#include <erfa.h>

#include <charconv>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSecond;
constexpr double kMjd1970 = 40587.0;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

struct Calendar {
  int year, month, day, hour = 0, minute = 0;
  std::int64_t second_ns = 0;  // seconds of the minute, in ns (may reach 60 s for UTC)
};

bool read_int(std::string_view& s, std::size_t digits, int& out) {
  if (s.size() < digits) return false;
  auto r = std::from_chars(s.data(), s.data() + digits, out);
  if (r.ec != std::errc() || r.ptr != s.data() + digits) return false;
  s.remove_prefix(digits);
  return true;
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

std::optional<Calendar> parse_calendar(std::string_view s) {
  Calendar c{};
  if (!read_int(s, 4, c.year) || !expect(s, '-') || !read_int(s, 2, c.month) || !expect(s, '-') ||
      !read_int(s, 2, c.day))
    return std::nullopt;
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31) return std::nullopt;
  if (s.empty()) return c;
  if (s.front() != ' ' && s.front() != 'T') return std::nullopt;
  s.remove_prefix(1);
  if (!read_int(s, 2, c.hour) || !expect(s, ':') || !read_int(s, 2, c.minute)) return std::nullopt;
  if (c.hour > 23 || c.minute > 59) return std::nullopt;
  if (!s.empty()) {
    int sec = 0;
    if (!expect(s, ':') || !read_int(s, 2, sec) || sec > 60) return std::nullopt;
    c.second_ns = sec * kNsPerSecond;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      std::int64_t scale = kNsPerSecond / 10;
      if (s.empty()) return std::nullopt;
      while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
        c.second_ns += (s.front() - '0') * scale;  // digits past nanoseconds are dropped
        scale /= 10;
        s.remove_prefix(1);
      }
    }
    if (s == "+00:00" || s == "Z") s = {};
  }
  if (!s.empty()) return std::nullopt;
  return c;
}

std::int64_t calendar_ns(const Calendar& c) {
  return days_from_civil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day)) * kNsPerDay +
         (c.hour * 3600LL + c.minute * 60LL) * kNsPerSecond + c.second_ns;
}

// TAI-UTC in whole seconds at a UTC calendar date (ERFA's table; 0 before 1960).
std::int64_t tai_minus_utc_ns(std::int64_t utc_calendar_ns) {
  std::int64_t days = utc_calendar_ns >= 0 ? utc_calendar_ns / kNsPerDay
                                           : -((-utc_calendar_ns + kNsPerDay - 1) / kNsPerDay);
  Civil civ = civil_from_days(days);
  double fraction = static_cast<double>(utc_calendar_ns - days * kNsPerDay) / kNsPerDay;
  double delta = 0.0;
  int status = eraDat(static_cast<int>(civ.year), static_cast<int>(civ.month),
                      static_cast<int>(civ.day), fraction, &delta);
  if (status < 0) return 0;  // before 1960: UTC undefined, treat as TAI
  return std::llround(delta * 1e9);
}

std::string format_calendar(std::int64_t ns, int decimals, char separator) {
  std::int64_t days = ns >= 0 ? ns / kNsPerDay : -((-ns + kNsPerDay - 1) / kNsPerDay);
  std::int64_t rem = ns - days * kNsPerDay;
  Civil civ = civil_from_days(days);
  std::int64_t secs = rem / kNsPerSecond;
  std::int64_t frac = rem % kNsPerSecond;
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}", civ.year, civ.month,
                                civ.day, separator, secs / 3600, (secs / 60) % 60, secs % 60);
  if (decimals > 0) {
    std::string digits = fmt::format("{:09d}", frac);
    out += "." + digits.substr(0, static_cast<std::size_t>(std::min(decimals, 9)));
  }
  return out;
}

}  // namespace

std::optional<TaiTime> TaiTime::parse_tai_iso(std::string_view text) {
  auto c = parse_calendar(text);
  if (!c) return std::nullopt;
  return TaiTime(calendar_ns(*c));
}

std::optional<TaiTime> TaiTime::parse_utc_iso(std::string_view text) {
  auto c = parse_calendar(text);
  if (!c) return std::nullopt;
  std::int64_t utc = calendar_ns(*c);
  return TaiTime(utc + tai_minus_utc_ns(utc));
}

TaiTime TaiTime::from_tai_iso(std::string_view text) {
  if (auto t = parse_tai_iso(text)) return *t;
  throw InvalidArgumentError("'" + std::string(text) +
                             "' is not a date/time; expected YYYY-MM-DD[THH:MM[:SS[.fff]]]");
}

TaiTime TaiTime::from_utc_iso(std::string_view text) {
  if (auto t = parse_utc_iso(text)) return *t;
  throw InvalidArgumentError("'" + std::string(text) +
                             "' is not a date/time; expected YYYY-MM-DD[THH:MM[:SS[.fff]]]");
}

TaiTime TaiTime::from_mjd_tai(double mjd) {
  double days = mjd - kMjd1970;
  double whole = std::floor(days);
  return TaiTime(static_cast<std::int64_t>(whole) * kNsPerDay +
                 std::llround((days - whole) * static_cast<double>(kNsPerDay)));
}

TaiTime TaiTime::from_utc_calendar(int year, int month, int day, int hour, int minute,
                                   double second) {
  Calendar c{year, month, day, hour, minute, std::llround(second * 1e9)};
  std::int64_t utc = calendar_ns(c);
  return TaiTime(utc + tai_minus_utc_ns(utc));
}

TaiTime TaiTime::now() {
  auto utc = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return TaiTime(utc + tai_minus_utc_ns(utc));
}

std::string TaiTime::tai_iso(int decimals, char separator) const {
  return format_calendar(ns_, decimals, separator);
}

std::string TaiTime::utc_iso(int decimals, char separator) const {
  // Two passes settle the offset except inside a leap second itself.
  std::int64_t utc = ns_ - tai_minus_utc_ns(ns_);
  utc = ns_ - tai_minus_utc_ns(utc);
  return format_calendar(utc, decimals, separator);
}

double TaiTime::mjd_tai() const {
  return kMjd1970 + static_cast<double>(ns_) / static_cast<double>(kNsPerDay);
}

Timespan Timespan::between(std::optional<TaiTime> begin, std::optional<TaiTime> end) {
  return Timespan(begin ? begin->ns() : kUnboundedBegin, end ? end->ns() : kUnboundedEnd);
}

std::optional<TaiTime> Timespan::begin() const {
  if (begin_ == kUnboundedBegin) return std::nullopt;
  return TaiTime(begin_);
}

std::optional<TaiTime> Timespan::end() const {
  if (end_ == kUnboundedEnd) return std::nullopt;
  return TaiTime(end_);
}

std::string Timespan::str() const {
  auto fmt_one = [](std::int64_t ns) {
    // Whole seconds print without a fraction, as Rubin's CLI does.
    int decimals = ns % kNsPerSecond == 0 ? 0 : 9;
    std::string s = format_calendar(ns, decimals, 'T');
    if (decimals) {
      while (s.back() == '0') s.pop_back();
    }
    return s;
  };
  if (empty()) return "(empty)";
  std::string b = begin_ == kUnboundedBegin ? "-inf" : fmt_one(begin_);
  std::string e = end_ == kUnboundedEnd ? "inf" : fmt_one(end_);
  return "[" + b + ", " + e + ")";
}

}  // namespace majordome
