// ButlerLogRecords ↔ Rubin's JSON forms (butler_log_records.hpp).
#include "majordome/datastore/butler_log_records.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "majordome/core/error.hpp"

namespace majordome::datastore {

namespace {

using Json = nlohmann::ordered_json;

Json to_value(const ButlerLogRecord& r) {
  Json j = Json::object();
  j["name"] = r.name;
  j["asctime"] = r.asctime;
  j["message"] = r.message;
  j["levelno"] = r.levelno;
  j["levelname"] = r.levelname;
  j["filename"] = r.filename;
  j["pathname"] = r.pathname;
  j["lineno"] = r.lineno;
  j["funcName"] = r.func_name ? Json(*r.func_name) : Json(nullptr);
  j["process"] = r.process;
  j["processName"] = r.process_name;
  j["exc_info"] = r.exc_info ? Json(*r.exc_info) : Json(nullptr);
  j["MDC"] = Json::object();
  for (const auto& [k, v] : r.mdc) j["MDC"][k] = v;
  return j;
}

ButlerLogRecord from_value(const Json& j, const std::string& where) {
  if (!j.is_object()) throw InvalidArgumentError(fmt::format("{}: a log record is not a JSON object", where));
  ButlerLogRecord r;
  auto text = [&](const char* key, bool required) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) throw InvalidArgumentError(fmt::format("{}: the log record has no '{}'", where, key));
      return std::nullopt;
    }
    if (!it->is_string()) throw InvalidArgumentError(fmt::format("{}: the log record's '{}' is not a string", where, key));
    return it->get<std::string>();
  };
  auto integer = [&](const char* key, bool required) -> std::optional<std::int64_t> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) throw InvalidArgumentError(fmt::format("{}: the log record has no '{}'", where, key));
      return std::nullopt;
    }
    if (!it->is_number_integer())
      throw InvalidArgumentError(fmt::format("{}: the log record's '{}' is not an integer", where, key));
    return it->get<std::int64_t>();
  };
  r.name = *text("name", true);
  r.message = *text("message", true);
  r.levelno = *integer("levelno", true);
  r.levelname = *text("levelname", true);
  r.asctime = text("asctime", false).value_or("");
  r.filename = text("filename", false).value_or("");
  r.pathname = text("pathname", false).value_or("");
  r.lineno = integer("lineno", false).value_or(0);
  r.func_name = text("funcName", false);
  r.process = integer("process", false).value_or(0);
  r.process_name = text("processName", false).value_or("");
  r.exc_info = text("exc_info", false);
  if (auto it = j.find("MDC"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw InvalidArgumentError(fmt::format("{}: the log record's MDC is not an object", where));
    for (const auto& [k, v] : it->items()) r.mdc[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return r;
}

}  // namespace

std::string ButlerLogRecords::to_json_lines() const {
  std::string out;
  for (const auto& r : records) {
    out += to_value(r).dump(-1, ' ', false, Json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

ButlerLogRecords ButlerLogRecords::from_json(std::string_view text, const std::string& source) {
  ButlerLogRecords out;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return out;  // an empty log
  auto parse = [&](std::string_view part, const std::string& where) {
    try {
      return Json::parse(part);
    } catch (const Json::exception& e) {
      throw InvalidArgumentError(fmt::format("{} is not valid JSON: {}", where, e.what()));
    }
  };
  auto from_list = [&](const Json& list) {
    for (std::size_t i = 0; i < list.size(); ++i)
      out.records.push_back(from_value(list[i], fmt::format("{}, record {}", source, i + 1)));
  };
  // The whole text as one JSON value: the list form (a list, or {"__root__": [...]} from
  // pydantic v1, {"root": [...]}), or a file of one record. Otherwise one record per line.
  {
    Json whole = Json::parse(text, nullptr, false);
    if (!whole.is_discarded()) {
      if (whole.is_array()) {
        from_list(whole);
        return out;
      }
      if (whole.is_object() && whole.size() == 1 && (whole.contains("__root__") || whole.contains("root")) &&
          whole.begin().value().is_array()) {
        from_list(whole.begin().value());
        return out;
      }
      if (whole.is_object()) {  // one record, maybe spread over lines
        out.records.push_back(from_value(whole, source));
        return out;
      }
    }
  }
  // One record per line.
  std::size_t pos = 0;
  int line_number = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = fmt::format("{}, line {}", source, line_number);
    const Json j = parse(line, where);
    out.records.push_back(from_value(j, where));
  }
  return out;
}

}  // namespace majordome::datastore
