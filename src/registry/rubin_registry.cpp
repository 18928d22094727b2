#include "majordome/registry/rubin_registry.hpp"

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome::registry {

namespace {

// A name daf_butler gives its tables and columns: lower-case letters, digits and '_'.
const std::string& checked_identifier(const std::string& name, const std::string& what) {
  bool ok = !name.empty() && name.size() <= 128 && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok) throw CorruptFileError(fmt::format("the Rubin registry names a {} '{}', which is not a daf_butler name", what, name));
  return name;
}

}  // namespace

RubinRegistryReader::RubinRegistryReader(std::unique_ptr<Database> db) : db_(std::move(db)) {
  // Someone else's registry: nothing this session does may write to it.
  if (db_->dialect() == Dialect::kPostgres) db_->execute("SET default_transaction_read_only = on");
}
RubinRegistryReader::~RubinRegistryReader() = default;

std::string RubinRegistryReader::describe() const { return db_->describe(); }

bool RubinRegistryReader::has_table(const std::string& name) {
  return db_->table_exists(checked_identifier(name, "table"));
}

ResultSet RubinRegistryReader::table(const std::string& name, const std::vector<std::string>& order_by) {
  if (!has_table(name))
    throw NotFoundError(fmt::format("{} has no table '{}': is it a daf_butler registry?", db_->describe(), name));
  std::string sql = fmt::format("SELECT * FROM \"{}\"", name);
  for (std::size_t i = 0; i < order_by.size(); ++i)
    sql += fmt::format("{}\"{}\"", i == 0 ? " ORDER BY " : ", ", checked_identifier(order_by[i], "column"));
  return db_->query(sql);
}

}  // namespace majordome::registry
