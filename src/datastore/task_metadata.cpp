// TaskMetadata ↔ Rubin's pydantic JSON (task_metadata.hpp).
#include "majordome/datastore/task_metadata.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "majordome/core/error.hpp"

namespace majordome::datastore {

namespace {

using Json = nlohmann::json;

// A JSON string; invalid UTF-8 becomes U+FFFD.
std::string quoted(const std::string& s) { return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace); }

// JSON has no NaN or infinity: NaN is written as null (as pydantic does), infinities as
// ±1e999, a number every JSON reader takes for ±inf. The text is assembled by hand so
// those survive (nlohmann would write null for both).
void append_scalar(std::string& out, const TaskMetadata::Scalar& s) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out += std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) {
            out += "null";
          } else if (std::isinf(v)) {
            out += v > 0 ? "1e999" : "-1e999";
          } else {
            std::string d = fmt::format("{}", v);
            if (d.find_first_of(".e") == std::string::npos) d += ".0";  // stays a float in Python
            out += d;
          }
        } else {
          out += quoted(v);
        }
      },
      s);
}

void append_metadata(std::string& out, const TaskMetadata& m) {
  out += "{\"scalars\":{";
  bool first = true;
  for (const auto& [k, v] : m.scalars) {
    if (!first) out += ',';
    first = false;
    out += quoted(k) + ':';
    append_scalar(out, v);
  }
  out += "},\"arrays\":{";
  first = true;
  for (const auto& [k, values] : m.arrays) {
    if (!first) out += ',';
    first = false;
    out += quoted(k) + ":[";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) out += ',';
      append_scalar(out, values[i]);
    }
    out += ']';
  }
  out += "},\"metadata\":{";
  first = true;
  for (const auto& [k, nested] : m.metadata) {
    if (!first) out += ',';
    first = false;
    out += quoted(k) + ':';
    append_metadata(out, nested);
  }
  out += "}}";
}

// nlohmann reads neither a number too large for a double (1e999, what we write for an
// infinity) nor the NaN, Infinity and -Infinity that Python's json writes. Outside strings,
// those tokens become marker strings, which scalar_of() turns back into doubles.
constexpr std::string_view kPlusInfinity = "\x01+inf";
constexpr std::string_view kMinusInfinity = "\x01-inf";
constexpr std::string_view kNotANumber = "\x01nan";

std::string mark_non_finite(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[i + 1];
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') in_string = true;
    if (c != '-' && c != 'N' && c != 'I' && !std::isdigit(static_cast<unsigned char>(c))) {
      out += c;
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '.' ||
                               text[j] == '+' || text[j] == '-'))
      ++j;
    const std::string token(text.substr(i, j - i));
    std::string_view marker;
    if (token == "NaN") {
      marker = kNotANumber;
    } else if (token == "Infinity") {
      marker = kPlusInfinity;
    } else if (token == "-Infinity") {
      marker = kMinusInfinity;
    } else {
      char* end = nullptr;
      const double d = std::strtod(token.c_str(), &end);
      if (end == token.c_str() + token.size() && std::isinf(d)) marker = d > 0 ? kPlusInfinity : kMinusInfinity;
    }
    out += marker.empty() ? token : Json(std::string(marker)).dump();
    i = j;
  }
  return out;
}

std::optional<TaskMetadata::Scalar> scalar_of(const Json& j) {
  switch (j.type()) {
    case Json::value_t::boolean: return j.get<bool>();
    case Json::value_t::number_integer: return j.get<std::int64_t>();
    case Json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return static_cast<double>(u);
      return static_cast<std::int64_t>(u);
    }
    case Json::value_t::number_float: return j.get<double>();
    case Json::value_t::string: {
      const auto& text = j.get_ref<const std::string&>();
      if (text == kPlusInfinity) return std::numeric_limits<double>::infinity();
      if (text == kMinusInfinity) return -std::numeric_limits<double>::infinity();
      if (text == kNotANumber) return std::numeric_limits<double>::quiet_NaN();
      return text;
    }
    case Json::value_t::null: return std::numeric_limits<double>::quiet_NaN();
    default: return std::nullopt;
  }
}

TaskMetadata from_value(const Json& j, const std::string& where) {
  if (!j.is_object()) throw InvalidArgumentError(fmt::format("{}: not a TaskMetadata object", where));
  TaskMetadata m;
  for (const auto& [key, value] : j.items()) {
    if (key != "scalars" && key != "arrays" && key != "metadata")
      throw InvalidArgumentError(fmt::format("{}: unknown TaskMetadata field '{}' (expected scalars, arrays, metadata)",
                                             where, printable(key)));
    if (!value.is_object()) throw InvalidArgumentError(fmt::format("{}.{}: not an object", where, key));
  }
  if (auto it = j.find("scalars"); it != j.end())
    for (const auto& [k, v] : it->items()) {
      if (v.is_object()) {  // a nested metadata stored among the scalars
        m.metadata[k] = from_value(v, where + "." + k);
        continue;
      }
      auto s = scalar_of(v);
      if (!s) throw InvalidArgumentError(fmt::format("{}.scalars.{}: not a bool, number or string", where, k));
      m.scalars[k] = *s;
    }
  if (auto it = j.find("arrays"); it != j.end())
    for (const auto& [k, v] : it->items()) {
      if (!v.is_array()) throw InvalidArgumentError(fmt::format("{}.arrays.{}: not a list", where, k));
      auto& out = m.arrays[k];
      for (const auto& item : v) {
        auto s = scalar_of(item);
        if (!s) throw InvalidArgumentError(fmt::format("{}.arrays.{}: an element is not a bool, number or string", where, k));
        out.push_back(*s);
      }
    }
  if (auto it = j.find("metadata"); it != j.end())
    for (const auto& [k, v] : it->items()) m.metadata[k] = from_value(v, where + ".metadata." + k);
  return m;
}

bool same_scalar(const TaskMetadata::Scalar& a, const TaskMetadata::Scalar& b) {
  const auto* x = std::get_if<double>(&a);
  const auto* y = std::get_if<double>(&b);
  if (x && y && std::isnan(*x) && std::isnan(*y)) return true;
  return a == b;
}

}  // namespace

std::string TaskMetadata::to_json() const {
  std::string out;
  append_metadata(out, *this);
  return out;
}

TaskMetadata TaskMetadata::from_json(std::string_view text, const std::string& source) {
  Json j;
  try {
    j = Json::parse(mark_non_finite(text));
  } catch (const Json::exception& e) {
    throw InvalidArgumentError(fmt::format("{} is not valid JSON: {}", source, e.what()));
  }
  return from_value(j, source);
}

bool operator==(const TaskMetadata& a, const TaskMetadata& b) {
  if (a.scalars.size() != b.scalars.size() || a.arrays.size() != b.arrays.size() || a.metadata != b.metadata)
    return false;
  for (auto i = a.scalars.begin(), j = b.scalars.begin(); i != a.scalars.end(); ++i, ++j)
    if (i->first != j->first || !same_scalar(i->second, j->second)) return false;
  for (auto i = a.arrays.begin(), j = b.arrays.begin(); i != a.arrays.end(); ++i, ++j) {
    if (i->first != j->first || i->second.size() != j->second.size()) return false;
    for (std::size_t k = 0; k < i->second.size(); ++k)
      if (!same_scalar(i->second[k], j->second[k])) return false;
  }
  return true;
}

}  // namespace majordome::datastore
