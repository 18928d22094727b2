// Rubin pex_config override files: statement splitting shared by the commands that take -C.
#include "majordome/core/rubin_config.hpp"

#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome {

namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Scans Python text outside string literals: the bracket depth at the end, where a `#`
// comment starts and where the first top-level `=` is (npos when absent).
struct Scan {
  int depth = 0;
  std::size_t comment = std::string::npos;
  std::size_t equals = std::string::npos;
};
Scan scan(std::string_view s) {
  Scan out;
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#') {
      out.comment = i;
      break;
    } else if (c == '[' || c == '(' || c == '{') {
      ++out.depth;
    } else if (c == ']' || c == ')' || c == '}') {
      --out.depth;
    } else if (c == '=' && out.depth == 0 && out.equals == std::string::npos) {
      out.equals = i;
    }
  }
  return out;
}

ConfigStatement make_statement(std::string text, const std::string& where, bool prefix_required) {
  if (text.starts_with("config.")) {
    text.erase(0, 7);
  } else if (prefix_required) {
    throw InvalidConfigError(fmt::format("{}: expected 'config.<field> = <value>', got '{}'", where, text));
  }
  ConfigStatement st;
  st.text = "config." + text;
  st.where = where;
  const Scan s = scan(text);
  if (s.equals == std::string::npos) {
    st.field = text;
    return st;
  }
  st.field = trim(std::string_view(text).substr(0, s.equals));
  st.value = trim(std::string_view(text).substr(s.equals + 1));
  if (st.field.empty() || st.value->empty())
    throw InvalidConfigError(fmt::format("{}: expected 'config.<field> = <value>', got '{}'", where, st.text));
  return st;
}

}  // namespace

std::vector<ConfigStatement> parse_config_py(std::string_view text, const std::string& source) {
  std::vector<ConfigStatement> out;
  std::istringstream in{std::string(text)};
  std::string pending;
  std::size_t line_number = 0, start_line = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    std::string t = trim(line);
    if (pending.empty()) {
      if (t.empty() || t[0] == '#' || t.starts_with("import ") || t.starts_with("from ") ||
          t.starts_with("assert "))
        continue;
      start_line = line_number;
    }
    if (const auto comment = scan(t).comment; comment != std::string::npos) t = trim(t.substr(0, comment));
    pending += (pending.empty() ? "" : " ") + t;
    if (scan(pending).depth > 0) continue;
    out.push_back(make_statement(std::exchange(pending, {}), fmt::format("{} line {}", source, start_line), true));
  }
  if (!pending.empty()) throw InvalidConfigError(fmt::format("{} line {}: unclosed bracket", source, start_line));
  return out;
}

std::vector<ConfigStatement> read_config_py(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw NotFoundError(fmt::format("config file {} does not exist or cannot be read", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return parse_config_py(text.str(), path.string());
}

ConfigStatement parse_config_override(std::string_view text, const std::string& where) {
  auto st = make_statement(trim(text), where, false);
  if (!st.value)
    throw InvalidConfigError(fmt::format("{}: expected FIELD=VALUE (e.g. groupExposures.name=one-to-one), got '{}'",
                                         where, trim(text)));
  return st;
}

std::vector<std::string> split_config_field(std::string_view field, const std::string& where) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < field.size()) {
    if (field[i] == '.') {
      ++i;
    } else if (field[i] == '[') {
      const auto close = field.find(']', i);
      if (close == std::string_view::npos)
        throw InvalidConfigError(fmt::format("{}: unclosed '[' in '{}'", where, field));
      out.push_back("[" + unquote_python(field.substr(i + 1, close - i - 1)) + "]");
      i = close + 1;
    } else {
      const auto end = field.find_first_of(".[", i);
      out.emplace_back(field.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
      i = end == std::string_view::npos ? field.size() : end;
    }
  }
  return out;
}

std::string unquote_python(std::string_view literal) {
  std::string t = trim(literal);
  if (t.size() >= 2 && (t.front() == '"' || t.front() == '\'') && t.back() == t.front())
    return t.substr(1, t.size() - 2);
  return t;
}

}  // namespace majordome
