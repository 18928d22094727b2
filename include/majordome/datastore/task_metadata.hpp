// TaskMetadata: what a task records about one run of it (timings, counts, nested per
// subtask), as Rubin's pydantic TaskMetadata (storage class `TaskMetadata`).
//
// Three maps, as Rubin's model: `scalars` (name → bool, int, float or string), `arrays`
// (name → list of those) and `metadata` (name → nested TaskMetadata). Keys are kept
// sorted. The file is the JSON Rubin writes, {"scalars": {...}, "arrays": {...},
// "metadata": {...}} (docs/formats/storage_classes.md, "TaskMetadata").
//
// Value type; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace majordome::datastore {

inline constexpr int kTaskMetadataFormatVersion = 1;

class TaskMetadata {
 public:
  using Scalar = std::variant<bool, std::int64_t, double, std::string>;

  std::map<std::string, Scalar> scalars;
  std::map<std::string, std::vector<Scalar>> arrays;
  std::map<std::string, TaskMetadata> metadata;

  // The JSON text (one line, keys sorted, no insignificant space). Non-finite floats are
  // written as JSON has no literal for them: NaN as null, infinities as ±1e999 (which
  // Python's json reads as ±inf).
  std::string to_json() const;
  // Reads Rubin's JSON (or ours). A null scalar or array element reads as NaN; a JSON
  // object among the scalars is a nested TaskMetadata (older Rubin files). `source` names
  // the text in messages: InvalidArgumentError for anything that is not TaskMetadata.
  static TaskMetadata from_json(std::string_view text, const std::string& source = "TaskMetadata");

  friend bool operator==(const TaskMetadata&, const TaskMetadata&);
};

}  // namespace majordome::datastore
