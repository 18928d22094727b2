// Reading a daf_butler (Rubin) registry in place: its tables as daf_butler's own SQL schema
// holds them, without writing anything to it. What the rows mean (collections, dataset types,
// dimension records, datastore records) is read by the butler module (butler migrate-from-rubin);
// the SQL stays here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "majordome/registry/database.hpp"

namespace majordome::registry {

class RubinRegistryReader {
 public:
  // `db` is opened read-only by the caller (open_sqlite_read_only, or a PostgreSQL schema).
  explicit RubinRegistryReader(std::unique_ptr<Database> db);
  ~RubinRegistryReader();

  // "SQLite file …" / the PostgreSQL URL without credentials, for messages.
  std::string describe() const;
  bool has_table(const std::string& name);
  // Every row of a table, ordered by the given columns. Table and column names come from the
  // registry itself (dataset_type.tag_association_table, …) and are refused unless they are
  // plain lower-case SQL identifiers, so nothing read from the file is ever SQL text.
  // NotFoundError for a missing table.
  ResultSet table(const std::string& name, const std::vector<std::string>& order_by = {});

 private:
  std::unique_ptr<Database> db_;
};

}  // namespace majordome::registry
