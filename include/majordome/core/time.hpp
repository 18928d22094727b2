// Time on the TAI scale, and half-open timespans.
//
// A TaiTime is an integer count of nanoseconds since 1970-01-01T00:00:00 TAI, the
// representation Rubin's registry uses, so values read from exports compare exactly.
// TAI has no leap seconds, so its calendar form is plain arithmetic; conversions from
// and to UTC use ERFA's leap-second table.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace majordome {

class TaiTime {
 public:
  constexpr TaiTime() = default;
  constexpr explicit TaiTime(std::int64_t ns_since_1970) : ns_(ns_since_1970) {}

  constexpr std::int64_t ns() const { return ns_; }

  // "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.fffffffff]]" or with 'T' between date and time.
  // `from_tai_iso` reads the calendar as TAI, `from_utc_iso` as UTC. Throw
  // InvalidArgumentError naming the text when it is not such a date.
  static TaiTime from_tai_iso(std::string_view text);
  static TaiTime from_utc_iso(std::string_view text);
  static std::optional<TaiTime> parse_tai_iso(std::string_view text);
  static std::optional<TaiTime> parse_utc_iso(std::string_view text);
  static TaiTime from_mjd_tai(double mjd);
  static TaiTime from_utc_calendar(int year, int month, int day, int hour, int minute,
                                   double second);
  static TaiTime now();

  // TAI calendar text with `decimals` digits of seconds (0..9), separator ' ' or 'T'.
  std::string tai_iso(int decimals = 9, char separator = ' ') const;
  std::string utc_iso(int decimals = 3, char separator = 'T') const;
  double mjd_tai() const;

  friend constexpr auto operator<=>(TaiTime, TaiTime) = default;

 private:
  std::int64_t ns_ = 0;
};

// A half-open interval [begin, end) of TAI times; either end may be unbounded.
// Empty when begin >= end. Stored in the registry as two BIGINT columns.
class Timespan {
 public:
  static constexpr std::int64_t kUnboundedBegin = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t kUnboundedEnd = std::numeric_limits<std::int64_t>::max();

  constexpr Timespan() = default;  // unbounded on both sides
  constexpr Timespan(std::int64_t begin_ns, std::int64_t end_ns) : begin_(begin_ns), end_(end_ns) {}
  static Timespan between(std::optional<TaiTime> begin, std::optional<TaiTime> end);

  constexpr std::int64_t begin_ns() const { return begin_; }
  constexpr std::int64_t end_ns() const { return end_; }
  std::optional<TaiTime> begin() const;
  std::optional<TaiTime> end() const;
  constexpr bool empty() const { return begin_ >= end_; }
  constexpr bool overlaps(const Timespan& o) const {
    return !empty() && !o.empty() && end_ > o.begin_ && o.end_ > begin_;
  }
  constexpr bool contains(TaiTime t) const { return begin_ <= t.ns() && end_ > t.ns(); }

  // `[2020-01-01T08:00:00, 2020-01-01T08:00:36)` (TAI, unbounded ends shown as -inf/inf).
  std::string str() const;

  friend constexpr bool operator==(const Timespan&, const Timespan&) = default;

 private:
  std::int64_t begin_ = kUnboundedBegin;
  std::int64_t end_ = kUnboundedEnd;
};

}  // namespace majordome
