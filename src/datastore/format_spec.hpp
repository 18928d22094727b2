// Python's format-specification mini-language for integers and strings, as file
// templates use it ("{visit:05d}", "{day_obs!s:.4s}", "{physical_filter:>10}").
//
//   [[fill]align][sign][z][#][0][width][grouping][.precision][type]
//
// Integers: types d, n, b, o, x, X, c or none. Strings: type s or none. Float
// presentation types are refused. Widths and precisions count Unicode code points of
// UTF-8 text, as Python does. Errors throw InvalidArgumentError with Python's wording.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace majordome::datastore::detail {

struct FormatSpec {
  std::string fill;   // one code point; empty means the default (space, or '0' with zero)
  char align = 0;     // '<', '>', '^', '=' or 0 for the type's default
  char sign = 0;      // '+', '-', ' ' or 0
  bool negative_zero = false;  // 'z'
  bool alternate = false;      // '#'
  bool zero = false;           // '0' before the width
  std::optional<std::size_t> width;
  char grouping = 0;  // ',' or '_' or 0
  std::optional<std::size_t> precision;
  char type = 0;

  bool empty() const;
};

// Parses a spec. Throws InvalidArgumentError for a malformed spec or a float type.
FormatSpec parse_format_spec(std::string_view spec);

// Formats like Python's format(value, spec). Throws InvalidArgumentError when the spec
// does not suit the value's type.
std::string format_integer(std::int64_t value, const FormatSpec& spec);
std::string format_string(std::string_view value, const FormatSpec& spec);

// Number of Unicode code points in UTF-8 text (continuation bytes are not counted).
std::size_t code_points(std::string_view text);

}  // namespace majordome::datastore::detail
