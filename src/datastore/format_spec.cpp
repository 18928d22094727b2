#include "format_spec.hpp"

#include "majordome/core/error.hpp"

#include <fmt/format.h>

#include <limits>

namespace majordome::datastore::detail {
namespace {

bool is_align(char c) { return c == '<' || c == '>' || c == '^' || c == '='; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Length in bytes of the UTF-8 sequence starting at text[0] (1 for malformed input).
std::size_t first_code_point_size(std::string_view text) {
  std::size_t n = 1;
  while (n < text.size() && is_continuation(text[n])) ++n;
  return n;
}

std::size_t parse_count(std::string_view spec, std::size_t& pos) {
  std::size_t value = 0;
  while (pos < spec.size() && is_digit(spec[pos])) {
    auto digit = static_cast<std::size_t>(spec[pos] - '0');
    if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
      throw InvalidArgumentError("Too many decimal digits in format string");
    }
    value = value * 10 + digit;
    ++pos;
  }
  return value;
}

std::string repeat(const std::string& fill, std::size_t count) {
  std::string out;
  out.reserve(fill.size() * count);
  for (std::size_t i = 0; i < count; ++i) out += fill;
  return out;
}

// Aligns `prefix` + `body` in spec.width; '=' puts the padding between them.
std::string pad(const std::string& prefix, const std::string& body, const FormatSpec& spec,
                char default_align) {
  std::size_t length = code_points(prefix) + code_points(body);
  if (!spec.width || *spec.width <= length) return prefix + body;
  std::size_t padding = *spec.width - length;
  std::string fill = spec.fill.empty() ? (spec.zero ? "0" : " ") : spec.fill;
  char align = spec.align != 0 ? spec.align : default_align;
  switch (align) {
    case '<': return prefix + body + repeat(fill, padding);
    case '^': {
      std::size_t left = padding / 2;
      return repeat(fill, left) + prefix + body + repeat(fill, padding - left);
    }
    case '=': return prefix + repeat(fill, padding) + body;
    default: return repeat(fill, padding) + prefix + body;
  }
}

std::string group_digits(const std::string& digits, char separator, std::size_t every) {
  if (separator == 0) return digits;
  std::string out;
  std::size_t n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % every == 0) out += separator;
    out += digits[i];
  }
  return out;
}

std::string encode_utf8(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

}  // namespace

bool FormatSpec::empty() const {
  return fill.empty() && align == 0 && sign == 0 && !negative_zero && !alternate && !zero && !width &&
         grouping == 0 && !precision && type == 0;
}

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if (!is_continuation(c)) ++n;
  }
  return n;
}

FormatSpec parse_format_spec(std::string_view spec) {
  FormatSpec out;
  std::size_t pos = 0;
  if (!spec.empty()) {
    std::size_t fill_size = first_code_point_size(spec);
    if (fill_size < spec.size() && is_align(spec[fill_size])) {
      out.fill = std::string(spec.substr(0, fill_size));
      out.align = spec[fill_size];
      pos = fill_size + 1;
    } else if (is_align(spec[0])) {
      out.align = spec[0];
      pos = 1;
    }
  }
  if (pos < spec.size() && (spec[pos] == '+' || spec[pos] == '-' || spec[pos] == ' ')) out.sign = spec[pos++];
  if (pos < spec.size() && spec[pos] == 'z') {
    out.negative_zero = true;
    ++pos;
  }
  if (pos < spec.size() && spec[pos] == '#') {
    out.alternate = true;
    ++pos;
  }
  if (pos < spec.size() && spec[pos] == '0') {
    out.zero = true;
    ++pos;
  }
  if (pos < spec.size() && is_digit(spec[pos])) out.width = parse_count(spec, pos);
  if (pos < spec.size() && (spec[pos] == ',' || spec[pos] == '_')) out.grouping = spec[pos++];
  if (pos < spec.size() && spec[pos] == '.') {
    ++pos;
    if (pos >= spec.size() || !is_digit(spec[pos])) throw InvalidArgumentError("Format specifier missing precision");
    out.precision = parse_count(spec, pos);
  }
  if (pos < spec.size()) out.type = spec[pos++];
  if (pos != spec.size() || (out.type != 0 && std::string_view("bcdeEfFgGnosxX%").find(out.type) ==
                                                   std::string_view::npos)) {
    throw InvalidArgumentError(fmt::format("Invalid format specifier '{}'", spec));
  }
  if (std::string_view("eEfFgG%").find(out.type) != std::string_view::npos && out.type != 0) {
    throw InvalidArgumentError(
        fmt::format("floating-point presentation type '{}' is not supported in file templates", out.type));
  }
  return out;
}

std::string format_integer(std::int64_t value, const FormatSpec& spec) {
  char type = spec.type == 0 ? 'd' : spec.type;
  if (std::string_view("bcdnoxX").find(type) == std::string_view::npos) {
    throw InvalidArgumentError(fmt::format("Unknown format code '{}' for object of type 'int'", type));
  }
  if (spec.precision) throw InvalidArgumentError("Precision not allowed in integer format specifier");
  if (spec.negative_zero) {
    throw InvalidArgumentError("Negative zero coercion (z) not allowed in integer format specifier");
  }
  if (spec.grouping != 0 && (type == 'c' || type == 'n' || (spec.grouping == ',' && type != 'd'))) {
    throw InvalidArgumentError(fmt::format("Cannot specify '{}' with '{}'.", spec.grouping, type));
  }
  if (type == 'c') {
    if (spec.sign != 0) throw InvalidArgumentError("Sign not allowed with integer format specifier 'c'");
    if (spec.alternate) {
      throw InvalidArgumentError("Alternate form (#) not allowed with integer format specifier 'c'");
    }
    if (value < 0 || value > 0x10FFFF) throw InvalidArgumentError("%c arg not in range(0x110000)");
    return pad("", encode_utf8(static_cast<std::uint32_t>(value)), spec, '<');
  }

  bool negative = value < 0;
  // Unsigned negation is well defined for INT64_MIN.
  std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  unsigned base = 10;
  std::string prefix;
  switch (type) {
    case 'b': base = 2; prefix = "0b"; break;
    case 'o': base = 8; prefix = "0o"; break;
    case 'x': base = 16; prefix = "0x"; break;
    case 'X': base = 16; prefix = "0X"; break;
    default: break;
  }
  const char* digit_chars = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string digits;
  do {
    digits.insert(digits.begin(), digit_chars[magnitude % base]);
    magnitude /= base;
  } while (magnitude != 0);
  digits = group_digits(digits, spec.grouping, base == 10 ? 3 : 4);

  std::string sign;
  if (negative) {
    sign = "-";
  } else if (spec.sign == '+' || spec.sign == ' ') {
    sign = std::string(1, spec.sign);
  }
  if (!spec.alternate) prefix.clear();
  char default_align = spec.zero && spec.align == 0 ? '=' : '>';
  return pad(sign + prefix, digits, spec, default_align);
}

std::string format_string(std::string_view value, const FormatSpec& spec) {
  if (spec.type != 0 && spec.type != 's') {
    throw InvalidArgumentError(fmt::format("Unknown format code '{}' for object of type 'str'", spec.type));
  }
  if (spec.sign != 0) throw InvalidArgumentError("Sign not allowed in string format specifier");
  if (spec.negative_zero) throw InvalidArgumentError("Negative zero coercion (z) not allowed in format specifier");
  if (spec.alternate) throw InvalidArgumentError("Alternate form (#) not allowed in string format specifier");
  if (spec.grouping != 0) throw InvalidArgumentError(fmt::format("Cannot specify '{}' with 's'.", spec.grouping));
  if (spec.align == '=') throw InvalidArgumentError("'=' alignment not allowed in string format specifier");
  std::string_view body = value;
  if (spec.precision) {
    std::size_t kept = 0;
    std::size_t end = 0;
    while (end < value.size()) {
      if (!is_continuation(value[end])) {
        if (kept == *spec.precision) break;
        ++kept;
      }
      ++end;
    }
    body = value.substr(0, end);
  }
  return pad("", std::string(body), spec, '<');
}

}  // namespace majordome::datastore::detail
