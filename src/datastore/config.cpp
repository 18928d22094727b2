// Config and ConfigValue: pex_config's saved form, Python literals (config.hpp).
#include "majordome/datastore/config.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "majordome/core/error.hpp"

namespace majordome::datastore {

namespace {

void append_python_string(std::string& out, const std::string& s) {
  // repr()'s choice of quotes: single, unless the text holds a ' and no ".
  const bool use_double = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char quote = use_double ? '"' : '\'';
  out += quote;
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == quote) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through: the file is UTF-8 Python source
        }
    }
  }
  out += quote;
}

std::string python_float(double d) {
  if (std::isnan(d)) return "float('nan')";
  if (std::isinf(d)) return d > 0 ? "1e999" : "-1e999";
  std::string s = fmt::format("{}", d);  // shortest representation that reads back exactly
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

void append_python(std::string& out, const ConfigValue& v) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "None";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "True" : "False";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out += std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          out += python_float(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          append_python_string(out, x);
        } else if constexpr (std::is_same_v<T, ConfigList>) {
          out += '[';
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i) out += ", ";
            append_python(out, x[i]);
          }
          out += ']';
        } else {
          out += '{';
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i) out += ", ";
            append_python(out, x[i].first);
            out += ": ";
            append_python(out, x[i].second);
          }
          out += '}';
        }
      },
      v.value());
}

void append_utf8(std::string& out, std::uint32_t cp) {
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
}

// A recursive-descent reader of the Python literals pex_config writes.
class LiteralParser {
 public:
  explicit LiteralParser(std::string_view text) : s_(text) {}

  ConfigValue parse_all() {
    ConfigValue v = parse_value();
    skip_space();
    if (p_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InvalidArgumentError(
        fmt::format("not a Python literal at character {} of '{}': {}", p_ + 1, printable(s_), what));
  }
  void skip_space() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  bool accept(std::string_view word) {
    if (s_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }
  bool accept_name(std::string_view word) {  // a keyword not followed by an identifier character
    if (s_.substr(p_, word.size()) != word) return false;
    const std::size_t end = p_ + word.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    p_ = end;
    return true;
  }

  ConfigValue parse_value() {
    skip_space();
    if (p_ >= s_.size()) fail("a value is missing");
    const char c = s_[p_];
    if (c == '\'' || c == '"') {
      std::string out = parse_string();
      // Adjacent literals concatenate, as in Python.
      for (skip_space(); p_ < s_.size() && (s_[p_] == '\'' || s_[p_] == '"'); skip_space()) out += parse_string();
      return out;
    }
    if (c == '[') return parse_sequence(']');
    if (c == '(') return parse_sequence(')');
    if (c == '{') return parse_dict();
    if (accept_name("None")) return nullptr;
    if (accept_name("True")) return true;
    if (accept_name("False")) return false;
    if (accept("float(")) {
      skip_space();
      const std::string arg = parse_string();
      skip_space();
      if (!accept(")")) fail("float(...) is not closed");
      if (arg == "nan" || arg == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (arg == "inf" || arg == "+inf" || arg == "infinity") return std::numeric_limits<double>::infinity();
      if (arg == "-inf" || arg == "-infinity") return -std::numeric_limits<double>::infinity();
      fail("float() of '" + arg + "'");
    }
    return parse_number();
  }

  ConfigValue parse_number() {
    const std::size_t start = p_;
    bool negative = false;
    if (s_[p_] == '-' || s_[p_] == '+') {
      negative = s_[p_] == '-';
      ++p_;
      skip_space();
    }
    const std::size_t digits = p_;
    bool is_float = false;
    while (p_ < s_.size()) {
      const char c = s_[p_];
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '_') {
        ++p_;
      } else if (c == '.' || c == 'e' || c == 'E') {
        is_float = true;
        ++p_;
        if ((c == 'e' || c == 'E') && p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      } else {
        break;
      }
    }
    std::string text;
    for (char c : s_.substr(digits, p_ - digits))
      if (c != '_') text += c;
    if (text.empty()) {
      p_ = start;
      fail("expected a value");
    }
    if (is_float) {
      double d = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec == std::errc::result_out_of_range) {
        d = std::strtod(text.c_str(), nullptr);  // 1e999 → inf, as Python reads it
      } else if (ec != std::errc() || end != text.data() + text.size()) {
        p_ = start;
        fail("a malformed number");
      }
      return negative ? -d : d;
    }
    std::int64_t i = 0;
    if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) {
      p_ = start;
      fail("an integer with a leading zero");
    }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec == std::errc() && end == text.data() + text.size()) return negative ? -i : i;
    if (negative && text == "9223372036854775808") return std::numeric_limits<std::int64_t>::min();
    p_ = start;
    fail("an integer outside the 64-bit range or a malformed number");
  }

  std::string parse_string() {
    if (p_ >= s_.size() || (s_[p_] != '\'' && s_[p_] != '"')) fail("expected a string");
    const char quote = s_[p_];
    const bool triple = s_.substr(p_, 3) == std::string(3, quote);
    p_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (p_ >= s_.size()) fail("a string is not closed");
      const char c = s_[p_];
      if (c == quote && (!triple || s_.substr(p_, 3) == std::string(3, quote))) {
        p_ += triple ? 3 : 1;
        return out;
      }
      if (c == '\n' && !triple) fail("a line break inside a string");
      if (c != '\\') {
        out += c;
        ++p_;
        continue;
      }
      if (++p_ >= s_.size()) fail("a string ends with a backslash");
      const char e = s_[p_++];
      switch (e) {
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '0': out += '\0'; break;
        case '\n': break;
        case 'x': out += static_cast<char>(hex(2)); break;
        case 'u': append_utf8(out, hex(4)); break;
        case 'U': append_utf8(out, hex(8)); break;
        default:
          out += '\\';
          out += e;
      }
    }
  }

  std::uint32_t hex(int n) {
    if (p_ + static_cast<std::size_t>(n) > s_.size()) fail("a truncated escape");
    std::uint32_t v = 0;
    auto [end, ec] = std::from_chars(s_.data() + p_, s_.data() + p_ + n, v, 16);
    if (ec != std::errc() || end != s_.data() + p_ + n) fail("a malformed escape");
    p_ += static_cast<std::size_t>(n);
    return v;
  }

  ConfigValue parse_sequence(char close) {
    ++p_;
    ConfigList items;
    while (true) {
      skip_space();
      if (accept(std::string_view(&close, 1))) return items;
      items.push_back(parse_value());
      skip_space();
      if (accept(",")) continue;
      if (accept(std::string_view(&close, 1))) return items;
      fail(fmt::format("expected ',' or '{}'", close));
    }
  }

  ConfigValue parse_dict() {
    ++p_;
    ConfigDict items;
    while (true) {
      skip_space();
      if (accept("}")) return items;
      ConfigValue key = parse_value();
      skip_space();
      if (!accept(":")) fail("expected ':' after a dict key");
      items.emplace_back(std::move(key), parse_value());
      skip_space();
      if (accept(",")) continue;
      if (accept("}")) return items;
      fail("expected ',' or '}'");
    }
  }

  std::string_view s_;
  std::size_t p_ = 0;
};

// Whether brackets are still open (outside strings) at the end of `text`.
int open_brackets(std::string_view text) {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '[' || c == '(' || c == '{') ++depth;
    else if (c == ']' || c == ')' || c == '}') --depth;
  }
  return depth;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The position of the first '=' outside brackets and strings (the assignment), or npos.
std::size_t assignment(std::string_view line) {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '(') {
      ++depth;
    } else if (c == ']' || c == ')') {
      --depth;
    } else if (c == '=' && depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

constexpr std::string_view kVersionComment = "# majordome Config, format version ";

}  // namespace

std::string ConfigValue::to_python() const {
  std::string out;
  append_python(out, *this);
  return out;
}

ConfigValue ConfigValue::from_python(std::string_view text) { return LiteralParser(text).parse_all(); }

bool operator==(const ConfigValue& a, const ConfigValue& b) {
  const auto* x = a.get_if<double>();
  const auto* y = b.get_if<double>();
  if (x && y && std::isnan(*x) && std::isnan(*y)) return true;
  return a.value_ == b.value_;
}

void Config::set(std::string name, ConfigValue value) {
  if (name.empty() || name.find_first_of("\n\r") != std::string::npos || name != trim(name))
    throw InvalidArgumentError(fmt::format("'{}' is not a config setting name", printable(name)));
  for (auto& [k, v] : entries_)
    if (k == name) {
      v = std::move(value);
      return;
    }
  entries_.emplace_back(std::move(name), std::move(value));
}

const ConfigValue* Config::find(std::string_view name) const {
  for (const auto& [k, v] : entries_)
    if (k == name) return &v;
  return nullptr;
}

const ConfigValue& Config::get(std::string_view name) const {
  if (const auto* v = find(name)) return *v;
  throw NotFoundError(fmt::format("the config has no setting '{}'", printable(name)));
}

std::string Config::to_python() const {
  std::string out = std::string(kVersionComment) + std::to_string(kConfigFormatVersion) + "\n";
  for (const auto& [name, value] : entries_) {
    out += "config.";
    out += name;
    out += '=';
    append_python(out, value);
    out += '\n';
  }
  return out;
}

Config Config::from_python(std::string_view text, const std::string& source) {
  Config config;
  std::size_t pos = 0;
  int line_number = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const int first_line = ++line_number;
    std::string_view statement = text.substr(pos, end - pos);
    // A value may go on over lines while its brackets are open.
    while (open_brackets(statement) > 0 && end < text.size()) {
      end = text.find('\n', end + 1);
      if (end == std::string_view::npos) end = text.size();
      ++line_number;
      statement = text.substr(pos, end - pos);
    }
    pos = end + 1;
    const std::string_view line = trim(statement);
    auto fail = [&](const std::string& what) {
      throw InvalidArgumentError(fmt::format("{}, line {}: {}", source, first_line, what));
    };
    if (line.rfind(kVersionComment, 0) == 0) {
      int version = 0;
      const auto digits = line.substr(kVersionComment.size());
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
      if (ec != std::errc() || version > kConfigFormatVersion)
        fail(fmt::format("Config format version '{}' is newer than this majordome reads ({}); upgrade majordome",
                         printable(digits), kConfigFormatVersion));
      continue;
    }
    // pex_config's own lines: imports and the check of the config's Python class.
    if (line.empty() || line[0] == '#' || line.rfind("import ", 0) == 0 || line.rfind("from ", 0) == 0 ||
        line.rfind("assert ", 0) == 0)
      continue;
    if (line.rfind("config.", 0) != 0)
      fail(fmt::format("'{}' is not a `config.NAME=VALUE` setting", printable(line)));
    const std::size_t eq = assignment(line);
    if (eq == std::string_view::npos)
      fail(fmt::format("'{}' is not a `config.NAME=VALUE` setting (method calls such as retarget() are not read)",
                       printable(line)));
    const std::string name(trim(line.substr(7, eq - 7)));
    try {
      config.set(name, ConfigValue::from_python(line.substr(eq + 1)));
    } catch (const InvalidArgumentError& e) {
      fail(fmt::format("setting {}: {}", printable(name), e.what()));
    }
  }
  return config;
}

}  // namespace majordome::datastore
