// Evaluation of time literals T'…' (spec/butler.md §4, docs/query_language.md).
//
// The text is `[format/]value[/scale]`. Without a format it is guessed from the value: a
// number with a decimal point is "mjd"; "+YYYYY-MM-DD…" is "fits"; "YYYY-MM-DDTHH:MM…" is
// "isot"; "YYYY-MM-DD[ HH:MM[:SS[.f]]]" is "iso"; "YYYY:DDD[:HH:MM[:SS[.f]]]" is "yday".
// Without a scale, iso/isot/fits/yday/unix are UTC, cxcsec is TT, everything else is TAI.
// A trailing "+00:00" is ignored; other time zones, exponents and hour-only times are
// rejected. Numbers are converted exactly (decimal digits, not binary floating point) to
// the nanosecond.
#pragma once

#include <string>
#include <string_view>

#include "majordome/core/time.hpp"

namespace majordome::query {

struct TimeLiteralValue {
  TaiTime time;        // the instant, on the TAI scale
  std::string format;  // "mjd", "jd", "unix", "unix_tai", "cxcsec", "gps", "jyear",
                       // "iso", "isot", "fits" or "yday"
  std::string scale;   // "tai", "utc", "tt", "tdb", "tcg" or "tcb"
};

// Evaluates the text between the quotes of T'…'. Throws InvalidQueryError with a one-line
// reason (no position; the parser adds it) when the text is not a time, uses an unknown or
// unsupported format or scale (ut1 and local cannot be converted to TAI without extra
// data), or lies outside 1678–2261, the range of TaiTime.
TimeLiteralValue parse_time_literal(std::string_view text);

}  // namespace majordome::query
