#include "majordome/query/expr_time.hpp"

#include <erfa.h>
#include <erfam.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "majordome/core/error.hpp"

namespace majordome::query {
namespace {

// Intermediate values carry more than 64 bits so that no user text can overflow them.
__extension__ typedef __int128 Int128;

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSecond;
constexpr std::int64_t kMjd1970 = 40587;
// TaiTime spans int64 nanoseconds around 1970, about 1677-09-21 .. 2262-04-11; keep a
// margin so scale offsets cannot overflow.
constexpr std::int64_t kMaxDaysFrom1970 = 106'700;
constexpr std::int64_t kTtMinusTaiNs = 32'184'000'000;

[[noreturn]] void fail(const std::string& reason) { throw InvalidQueryError(reason); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(is_digit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Int128 floor_div(Int128 a, Int128 b) {
  Int128 q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// ---- numbers: -?(\d+\.\d*|\.\d+), no exponent ------------------------------------------

struct Decimal {
  bool negative = false;
  std::string_view whole;     // digits before the point (may be empty)
  std::string_view fraction;  // digits after the point (may be empty)
};

std::optional<Decimal> match_decimal(std::string_view s) {
  Decimal d;
  if (!s.empty() && s.front() == '-') {
    d.negative = true;
    s.remove_prefix(1);
  }
  std::size_t point = s.find('.');
  if (point == std::string_view::npos) return std::nullopt;  // T'51544' is not a time
  d.whole = s.substr(0, point);
  d.fraction = s.substr(point + 1);
  if (d.whole.empty() && d.fraction.empty()) return std::nullopt;
  for (char c : d.whole) {
    if (!is_digit(c)) return std::nullopt;
  }
  for (char c : d.fraction) {
    if (!is_digit(c)) return std::nullopt;
  }
  return d;
}

// The decimal times `unit_ns`, rounded to the nanosecond, exactly.
Int128 decimal_times(const Decimal& d, std::int64_t unit_ns) {
  std::string_view whole = d.whole;
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  if (whole.size() > 20) fail("number too large for a time");
  Int128 w = 0;
  for (char c : whole) w = w * 10 + (c - '0');
  // 18 fractional digits resolve far below a nanosecond for any unit used here.
  std::string_view fraction = d.fraction.substr(0, 18);
  Int128 f = 0, scale = 1;
  for (char c : fraction) {
    f = f * 10 + (c - '0');
    scale *= 10;
  }
  Int128 result = w * unit_ns + (f * unit_ns + scale / 2) / scale;
  return d.negative ? -result : result;
}

// ---- calendar text ----------------------------------------------------------------------

struct Calendar {
  int year = 0, month = 1, day = 1;
  std::optional<int> day_of_year;  // yday format only
  int hour = 0, minute = 0, second = 0;
  std::int64_t fraction_ns = 0;
};

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return s_.empty(); }
  bool take(char c) {
    if (s_.empty() || s_.front() != c) return false;
    s_.remove_prefix(1);
    return true;
  }
  // Between min and max digits into `out`.
  bool number(std::size_t min, std::size_t max, int& out) {
    std::size_t n = 0;
    int v = 0;
    while (n < s_.size() && n < max && is_digit(s_[n])) v = v * 10 + (s_[n++] - '0');
    if (n < min || (n < s_.size() && is_digit(s_[n]))) return false;
    s_.remove_prefix(n);
    out = v;
    return true;
  }
  // "." then any digits; rounded to the nanosecond.
  bool fraction(std::int64_t& ns) {
    if (!take('.')) return true;
    std::int64_t value = 0;
    std::size_t n = 0;
    for (; n < s_.size() && is_digit(s_[n]); ++n) {
      if (n < 9) value = value * 10 + (s_[n] - '0');
      if (n == 9 && s_[n] >= '5') ++value;
    }
    for (std::size_t k = n; k < 9; ++k) value *= 10;
    s_.remove_prefix(n);
    ns = value;
    return true;
  }

 private:
  std::string_view s_;
};

// HH:MM[:SS[.f]] (seconds required when `need_seconds`).
bool parse_clock(Cursor& in, Calendar& c, bool need_seconds) {
  if (!in.number(1, 2, c.hour) || !in.take(':') || !in.number(1, 2, c.minute)) return false;
  if (in.take(':')) {
    return in.number(1, 2, c.second) && in.fraction(c.fraction_ns);
  }
  return !need_seconds;
}

enum class DateStyle { kIso, kIsot, kFits };

// YYYY-MM-DD, then per style: " HH:MM[:SS[.f]]" (iso), "THH:MM[:SS[.f]]" (isot),
// "THH:MM:SS[.f]" with an optional sign and 5-digit year (fits).
std::optional<Calendar> parse_date(std::string_view text, DateStyle style) {
  Cursor in(text);
  Calendar c;
  bool sign = style == DateStyle::kFits && (in.take('+') || in.take('-'));
  if (sign && text.front() == '-') return std::nullopt;  // years before 0: out of range anyway
  if (!in.number(4, sign ? 5 : 4, c.year) || !in.take('-') || !in.number(1, 2, c.month) ||
      !in.take('-') || !in.number(1, 2, c.day)) {
    return std::nullopt;
  }
  if (in.done()) return c;
  const char separator = style == DateStyle::kIso ? ' ' : 'T';
  if (!in.take(separator) || !parse_clock(in, c, style == DateStyle::kFits) || !in.done()) {
    return std::nullopt;
  }
  return c;
}

// YYYY:DDD[:HH:MM[:SS[.f]]]
std::optional<Calendar> parse_yday(std::string_view text) {
  Cursor in(text);
  Calendar c;
  int doy = 0;
  if (!in.number(4, 4, c.year) || !in.take(':') || !in.number(1, 3, doy)) return std::nullopt;
  c.day_of_year = doy;
  if (in.done()) return c;
  if (!in.take(':') || !parse_clock(in, c, false) || !in.done()) return std::nullopt;
  return c;
}

// ---- scales -------------------------------------------------------------------------------

// A moment on some time scale: a day (MJD on that scale) and nanoseconds into the day,
// which exceed 86400 s only inside a UTC leap second.
struct Moment {
  Int128 mjd = 0;
  Int128 ns_in_day = 0;
};

Moment moment_from_ns(Int128 ns_since_mjd0) {
  Int128 day = floor_div(ns_since_mjd0, kNsPerDay);
  return {day, ns_since_mjd0 - day * kNsPerDay};
}

void check_range(Int128 mjd) {
  if (mjd - kMjd1970 > kMaxDaysFrom1970 || kMjd1970 - mjd > kMaxDaysFrom1970) {
    fail("time outside the supported range (years 1678 to 2261)");
  }
}

// TAI - UTC in ns at the start of MJD `mjd` plus `ns_in_day` (ERFA's leap-second table;
// zero before 1960, where UTC is undefined).
std::int64_t tai_minus_utc_ns(std::int64_t mjd, std::int64_t ns_in_day) {
  int y = 0, m = 0, d = 0;
  double unused = 0;
  if (eraJd2cal(ERFA_DJM0, static_cast<double>(mjd), &y, &m, &d, &unused) != 0) return 0;
  double fraction = std::min(static_cast<double>(ns_in_day) / kNsPerDay, 0.999999999);
  double delta = 0;
  if (eraDat(y, m, d, fraction, &delta) < 0) return 0;
  return std::llround(delta * 1e9);
}

// TDB - TT in ns at a TDB moment (geocentric, as astropy without a location).
std::int64_t tdb_minus_tt_ns(double jd1, double jd2) {
  return std::llround(eraDtdb(jd1, jd2, jd2 - std::floor(jd2), 0.0, 0.0, 0.0) * 1e9);
}

Int128 to_tai_ns(const Moment& m, const std::string& scale) {
  check_range(m.mjd);
  const Int128 uniform = (m.mjd - kMjd1970) * kNsPerDay + m.ns_in_day;
  const double jd1 = ERFA_DJM0 + static_cast<double>(m.mjd);
  const double jd2 = static_cast<double>(m.ns_in_day) / kNsPerDay;
  if (scale == "tai") return uniform;
  if (scale == "tt") return uniform - kTtMinusTaiNs;
  if (scale == "utc") {
    return uniform + tai_minus_utc_ns(static_cast<std::int64_t>(m.mjd),
                                      static_cast<std::int64_t>(m.ns_in_day));
  }
  if (scale == "tdb") return uniform - tdb_minus_tt_ns(jd1, jd2) - kTtMinusTaiNs;
  if (scale == "tcg") {
    double tt1 = 0, tt2 = 0;
    eraTcgtt(jd1, jd2, &tt1, &tt2);
    return uniform + std::llround(((tt1 - jd1) + (tt2 - jd2)) * 86400e9) - kTtMinusTaiNs;
  }
  if (scale == "tcb") {
    double tdb1 = 0, tdb2 = 0;
    eraTcbtdb(jd1, jd2, &tdb1, &tdb2);
    Int128 tdb = uniform + std::llround(((tdb1 - jd1) + (tdb2 - jd2)) * 86400e9);
    return tdb - tdb_minus_tt_ns(tdb1, tdb2) - kTtMinusTaiNs;
  }
  fail("time scale '" + scale + "' is not supported");
}

constexpr std::array<std::string_view, 6> kScales{"tai", "utc", "tt", "tdb", "tcg", "tcb"};
// Known to astropy but needing data we do not have (UT1-UTC tables, a clock model).
constexpr std::array<std::string_view, 2> kUnconvertibleScales{"ut1", "local"};

bool contains(const auto& list, std::string_view s) {
  for (std::string_view x : list) {
    if (x == s) return true;
  }
  return false;
}

// Numeric formats: days or seconds counted from an epoch on a fixed scale.
struct NumericFormat {
  std::string_view name;
  std::int64_t unit_ns;
  Int128 epoch_ns;               // on the format's scale, from MJD 0
  std::string_view fixed_scale;  // empty: any scale
};

const NumericFormat* find_numeric_format(std::string_view name) {
  static const std::array<NumericFormat, 7> kFormats{{
      {"mjd", kNsPerDay, 0, ""},
      {"jd", kNsPerDay, -(Int128(2'400'000) * kNsPerDay + kNsPerDay / 2), ""},
      // Julian years: J2000.0 = MJD 51544.5, 365.25 days a year.
      {"jyear", kNsPerDay / 4 * 1461,
       Int128(51544) * kNsPerDay + kNsPerDay / 2 - Int128(2000) * (kNsPerDay / 4 * 1461), ""},
      // Seconds since 1970-01-01 UTC, 86400 to a day (POSIX).
      {"unix", kNsPerSecond, Int128(kMjd1970) * kNsPerDay, "utc"},
      // SI seconds since 1970-01-01T00:00:08 TAI.
      {"unix_tai", kNsPerSecond, Int128(kMjd1970) * kNsPerDay + 8 * kNsPerSecond, "tai"},
      // Seconds since 1998-01-01T00:00:00 TT (MJD 50814).
      {"cxcsec", kNsPerSecond, Int128(50814) * kNsPerDay, "tt"},
      // Seconds since 1980-01-06T00:00:19 TAI (MJD 44244).
      {"gps", kNsPerSecond, Int128(44244) * kNsPerDay + 19 * kNsPerSecond, "tai"},
  }};
  for (const auto& f : kFormats) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

constexpr std::array<std::string_view, 4> kCalendarFormats{"iso", "isot", "fits", "yday"};

std::string default_scale(std::string_view format) {
  if (contains(kCalendarFormats, format) || format == "unix") return "utc";
  if (format == "cxcsec") return "tt";
  return "tai";
}

Moment calendar_moment(const Calendar& c, const std::string& scale, std::string_view text) {
  double mjd0 = 0, mjd = 0;
  const int month = c.day_of_year ? 1 : c.month;
  const int day = c.day_of_year ? 1 : c.day;
  if (eraCal2jd(c.year, month, day, &mjd0, &mjd) != 0) {
    fail("'" + std::string(text) + "' is not a valid date");
  }
  Int128 day_number = static_cast<Int128>(mjd);
  if (c.day_of_year) {
    const bool leap = eraCal2jd(c.year, 2, 29, &mjd0, &mjd) == 0;
    if (*c.day_of_year < 1 || *c.day_of_year > (leap ? 366 : 365)) {
      fail("'" + std::string(text) + "' is not a valid day of year");
    }
    day_number += *c.day_of_year - 1;
  }
  if (c.hour > 23 || c.minute > 59 || c.second > 60) {
    fail("'" + std::string(text) + "' is not a valid time of day");
  }
  if (c.second == 60) {
    // Only the last second of a UTC day that gains a leap second.
    check_range(day_number);
    const auto d = static_cast<std::int64_t>(day_number);
    if (scale != "utc" || c.hour != 23 || c.minute != 59 ||
        tai_minus_utc_ns(d + 1, 0) - tai_minus_utc_ns(d, 0) < kNsPerSecond) {
      fail("'" + std::string(text) + "' is not a valid time of day (no leap second there)");
    }
  }
  Int128 ns = (Int128(c.hour) * 3600 + c.minute * 60 + c.second) * kNsPerSecond + c.fraction_ns;
  return {day_number, ns};
}

}  // namespace

TimeLiteralValue parse_time_literal(std::string_view literal) {
  const std::string quoted = "'" + std::string(literal) + "'";
  // Python's datetime writes UTC as "+00:00"; any other zone is an error below.
  std::string text(literal);
  for (std::size_t at = text.find("+00:00"); at != std::string::npos; at = text.find("+00:00", at)) {
    text.erase(at, 6);
  }
  std::vector<std::string_view> parts;
  {
    std::string_view rest = text;
    for (std::size_t slash = rest.find('/'); slash != std::string_view::npos;
         slash = rest.find('/')) {
      parts.push_back(rest.substr(0, slash));
      rest.remove_prefix(slash + 1);
    }
    parts.push_back(rest);
  }
  auto looks_like_value = [](std::string_view s) {
    return !s.empty() && (is_digit(s.front()) || s.front() == '+' || s.front() == '-' || s.front() == '.');
  };
  std::string_view format_text, value, scale_text;
  if (parts.size() == 1) {
    value = parts[0];
  } else if (parts.size() == 2 && is_word(parts[0]) && looks_like_value(parts[1])) {
    format_text = parts[0];
    value = parts[1];
  } else if (parts.size() == 2 && is_word(parts[1])) {
    value = parts[0];
    scale_text = parts[1];
  } else if (parts.size() == 3 && is_word(parts[0]) && is_word(parts[2])) {
    format_text = parts[0];
    value = parts[1];
    scale_text = parts[2];
  } else {
    fail(quoted + " is not a time: expected [format/]value[/scale]");
  }
  if (value.empty()) fail("empty time literal");

  const std::optional<Decimal> number = match_decimal(value);
  std::string format = lower(format_text);
  if (format.empty()) {
    if (number) {
      format = "mjd";
    } else if (value.front() == '+') {
      format = "fits";
    } else if (value.find('-') != std::string_view::npos) {
      format = value.find('T') != std::string_view::npos ? "isot" : "iso";
    } else if (value.find(':') != std::string_view::npos) {
      format = "yday";
    } else {
      fail(quoted +
           " is not a time: expected an ISO date such as '2020-01-01T12:00:00', an MJD "
           "with a decimal point such as '58849.5', or format/value/scale");
    }
  }
  const NumericFormat* numeric = find_numeric_format(format);
  if (!numeric && !contains(kCalendarFormats, format)) {
    fail("unknown or unsupported time format '" + std::string(format_text) +
         "' (supported: iso, isot, fits, yday, mjd, jd, jyear, unix, unix_tai, cxcsec, gps)");
  }
  std::string scale = scale_text.empty() ? default_scale(format) : lower(scale_text);
  if (contains(kUnconvertibleScales, scale)) {
    fail("time scale '" + scale + "' cannot be converted to TAI; use tai, utc, tt, tdb, tcg or tcb");
  }
  if (!contains(kScales, scale)) {
    fail("unknown time scale '" + std::string(scale_text) + "' (supported: tai, utc, tt, tdb, tcg, tcb)");
  }

  Moment moment;
  if (numeric) {
    if (!number) {
      fail(quoted + " is not a time: format '" + format +
           "' needs a number with a decimal point, without exponent");
    }
    if (!numeric->fixed_scale.empty() && scale != numeric->fixed_scale) {
      fail("time format '" + format + "' counts from an epoch on the " +
           std::string(numeric->fixed_scale) + " scale; scale '" + scale + "' is not supported with it");
    }
    moment = moment_from_ns(numeric->epoch_ns + decimal_times(*number, numeric->unit_ns));
  } else {
    std::optional<Calendar> calendar;
    if (format == "iso") calendar = parse_date(value, DateStyle::kIso);
    if (format == "isot") calendar = parse_date(value, DateStyle::kIsot);
    if (format == "fits") calendar = parse_date(value, DateStyle::kFits);
    if (format == "yday") calendar = parse_yday(value);
    if (!calendar) {
      static const std::array<std::pair<std::string_view, std::string_view>, 4> kShapes{{
          {"iso", "YYYY-MM-DD[ HH:MM[:SS[.fff]]]"},
          {"isot", "YYYY-MM-DD[THH:MM[:SS[.fff]]]"},
          {"fits", "[+Y]YYYY-MM-DD[THH:MM:SS[.fff]]"},
          {"yday", "YYYY:DDD[:HH:MM[:SS[.fff]]]"},
      }};
      std::string_view shape;
      for (const auto& [name, s] : kShapes) {
        if (name == format) shape = s;
      }
      fail(quoted + " is not a time in format " + format + " (" + std::string(shape) + ")");
    }
    moment = calendar_moment(*calendar, scale, value);
  }
  const Int128 tai = to_tai_ns(moment, scale);
  if (tai > std::numeric_limits<std::int64_t>::max() || tai < std::numeric_limits<std::int64_t>::min()) {
    fail("time outside the supported range (years 1678 to 2261)");
  }
  return {TaiTime(static_cast<std::int64_t>(tai)), format, scale};
}

}  // namespace majordome::query
