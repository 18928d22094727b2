// run_query and query_dimension_records: a Cursor read to the end, with explanations.
#include "majordome/query/query.hpp"

#include "explain.hpp"
#include "majordome/query/cursor.hpp"

namespace majordome::query {

namespace {

QueryResult collect(registry::Registry& reg, const QuerySpec& spec, bool explain) {
  LogicalPlan plan = plan_query(reg, spec);
  CursorOptions options;
  // Everything in one statement unless rows may be dropped after SQL and a limit can stop
  // the reading early.
  options.one_statement = plan.limit_in_sql() || plan.limit == 0;
  options.first_page = std::max<std::int64_t>(256, 2 * (plan.limit + plan.offset));
  Cursor cursor(reg, std::move(plan), options);
  QueryResult result;
  result.dimensions = cursor.dimensions();
  while (auto row = cursor.next()) result.rows.push_back(std::move(*row));
  result.more = cursor.more();
  if (result.rows.empty() && explain) {
    result.reasons = detail::explain_empty(reg, spec, cursor.plan(), cursor.rows_read());
    for (const auto& r : result.reasons) result.explanation.push_back(r.message());
  }
  return result;
}

}  // namespace

QueryResult run_query(registry::Registry& registry, const QuerySpec& spec) { return collect(registry, spec, true); }

std::vector<EmptyReason> explain_empty(registry::Registry& registry, const QuerySpec& spec, const Cursor& cursor) {
  return detail::explain_empty(registry, spec, cursor.plan(), cursor.rows_read());
}

std::vector<dimensions::DimensionRecord> query_dimension_records(registry::Registry& registry, const std::string& element,
                                                                 const std::string& where, const Binds& binds,
                                                                 const registry::DataId& data_id,
                                                                 const std::vector<std::string>& order_by) {
  QuerySpec spec;
  spec.records_of = element;
  spec.where = where;
  spec.binds = binds;
  spec.data_id = data_id;
  spec.order_by = order_by;
  auto result = collect(registry, spec, false);
  std::vector<dimensions::DimensionRecord> out;
  for (auto& r : result.rows) out.push_back(std::move(*r.record));
  return out;
}

}  // namespace majordome::query
