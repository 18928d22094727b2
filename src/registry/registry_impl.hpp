// Private helpers shared by the registry's implementation files.
#pragma once

#include <map>
#include <string>

#include "majordome/registry/registry.hpp"

namespace majordome::registry {

// SQL identifiers are always double-quoted: element names such as "group" are keywords.
std::string quote(const std::string& identifier);

SqlValue to_sql(const DataIdValue& value);

// Appends the SQL values of a record field (two for a timespan).
void append_field_sql(const dimensions::FieldSpec& spec, const dimensions::FieldValue& value, Params& out);

// Glob (*, ?, [...]) → whether `name` matches (full match).
bool glob_match(std::string_view pattern, std::string_view name);
bool is_glob(std::string_view pattern);

struct Registry::Cache {
  struct TypeEntry {
    std::int64_t id;
    std::int64_t group_id;
    DatasetType type;
  };
  std::map<std::string, TypeEntry, std::less<>> dataset_types;
  std::map<std::int64_t, std::pair<bool, bool>> group_tables;  // gid → (tags, calibs) exist
};

}  // namespace majordome::registry
