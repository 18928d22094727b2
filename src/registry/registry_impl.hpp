// Private helpers shared by the registry's implementation files.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "majordome/registry/registry.hpp"

namespace majordome::registry {

// SQL identifiers are always double-quoted: element names such as "group" are keywords.
std::string quote(const std::string& identifier);

SqlValue to_sql(const DataIdValue& value);

// The column type of strings of at most `length` characters. On PostgreSQL they are declared
// COLLATE "C" (schema v3): they compare and sort by bytes as on SQLite, which is the order the
// query engine asks for, so an index on them gives that order instead of a sort of the result.
std::string varchar_type(const Database& db, int length);

// Appends the SQL values of a record field (two for a timespan).
void append_field_sql(const dimensions::FieldSpec& spec, const dimensions::FieldValue& value, Params& out);

// Database::insert_rows in a savepoint. When it fails with a ConflictError, the savepoint is
// rolled back and the rows are inserted again one at a time, so the error names the row that
// conflicts: it becomes a ConflictError with the text `message(row, error text)`. Returns the
// number of rows inserted or changed.
std::int64_t insert_rows_naming_conflicts(Database& db, const BulkInsert& insert, const Params& values,
                                          const std::function<std::string(std::size_t, const std::string&)>& message);

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
