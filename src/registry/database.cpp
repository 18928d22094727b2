// What the backends share: bulk inserts built from the portable statements every backend runs.
#include <algorithm>
#include <bit>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/registry/database.hpp"

namespace majordome::registry {
namespace {

std::string multi_row_insert(const BulkInsert& insert, std::size_t rows) {
  const std::string row = fmt::format("({})", fmt::join(std::vector<std::string>(insert.columns.size(), "?"), ", "));
  std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", insert.table, fmt::join(insert.columns, ", "));
  sql.reserve(sql.size() + rows * (row.size() + 2) + insert.suffix.size() + 1);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i) sql += ", ";
    sql += row;
  }
  if (!insert.suffix.empty()) sql += " " + insert.suffix;
  return sql;
}

}  // namespace

std::int64_t Database::insert_rows(const BulkInsert& insert, const Params& values) {
  const std::size_t width = insert.columns.size();
  if (width == 0 || values.size() % width != 0)
    throw InternalError(fmt::format("insert_rows into {}: {} values do not fill rows of {} columns", insert.table,
                                    values.size(), width));
  const std::size_t total = values.size() / width;
  const std::size_t full = std::max<std::size_t>(1, std::min(kBulkRows, max_parameters() / width));
  std::int64_t changed = 0;
  Params params;
  for (std::size_t done = 0; done < total;) {
    // Full statements, then the remainder in power-of-two pieces: the backends cache each
    // statement text, and this keeps the number of distinct texts per table small.
    std::size_t rows = std::min(full, total - done);
    if (rows < full) rows = std::bit_floor(rows);
    params.assign(values.begin() + static_cast<std::ptrdiff_t>(done * width),
                  values.begin() + static_cast<std::ptrdiff_t>((done + rows) * width));
    execute(multi_row_insert(insert, rows), params);
    changed += changes();
    done += rows;
  }
  return changed;
}

}  // namespace majordome::registry
