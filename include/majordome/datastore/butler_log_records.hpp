// ButlerLogRecords: the log of one quantum, as Rubin's ButlerLogRecords (storage class
// `ButlerLogRecords`).
//
// One ButlerLogRecord per message with Rubin's fields. The file is JSON, one record per line
// (what Rubin writes today); Rubin's older form, one JSON list of the records (or
// {"__root__": [...]}) and a file of one record are read too (docs/formats/storage_classes.md,
// "ButlerLogRecords").
//
// Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::datastore {

struct ButlerLogRecord {
  std::string name;          // the logger ("lsst.isr")
  std::string asctime;       // ISO 8601 with time zone ("2024-03-01T10:00:00.123456+00:00")
  std::string message;
  std::int64_t levelno = 20;
  std::string levelname = "INFO";
  std::string filename;
  std::string pathname;
  std::int64_t lineno = 0;
  std::optional<std::string> func_name;  // funcName
  std::int64_t process = 0;
  std::string process_name;              // processName
  std::optional<std::string> exc_info;   // the formatted traceback, if any
  std::map<std::string, std::string> mdc;  // MDC: the mapped diagnostic context (e.g. LABEL)

  friend bool operator==(const ButlerLogRecord&, const ButlerLogRecord&) = default;
};

struct ButlerLogRecords {
  std::vector<ButlerLogRecord> records;

  // One JSON object per line (keys in Rubin's field order), each line ending with '\n'.
  std::string to_json_lines() const;
  // Reads either form. InvalidArgumentError naming `source` (and the line) for anything
  // else, or for a record without `name`, `message`, `levelno` or `levelname`.
  static ButlerLogRecords from_json(std::string_view text, const std::string& source = "ButlerLogRecords");

  friend bool operator==(const ButlerLogRecords&, const ButlerLogRecords&) = default;
};

}  // namespace majordome::datastore
