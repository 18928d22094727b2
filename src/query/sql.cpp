// A LogicalPlan written as one SELECT statement for a dialect, with a page window.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/query/plan.hpp"
#include "query_util.hpp"

namespace majordome::query {

namespace {

// Rows after `last` in the order: (k1 > v1) OR (k1 = v1 AND ((k2 > v2) OR (k2 = v2 AND …))),
// with `<` for descending items, plus the redundant k1 >= v1 so an index on k1 can serve it.
std::string keyset_condition(const LogicalPlan& plan, bool postgres, const std::vector<registry::SqlValue>& last,
                             registry::Params& params) {
  std::string inner;
  for (std::size_t i = plan.order.size(); i-- > 0;) {
    const auto& o = plan.order[i];
    const std::string key = o.text && postgres ? o.sql + " COLLATE \"C\"" : o.sql;
    const char* beyond = o.descending ? "<" : ">";
    if (inner.empty()) {
      inner = fmt::format("{} {} ?", key, beyond);
    } else {
      inner = fmt::format("{} {} ? OR ({} = ? AND ({}))", key, beyond, key, inner);
    }
  }
  // Parameters in the order the placeholders appear: first the leading bound, then for each
  // level "k > ?" and "k = ?", the last level only "k > ?".
  const auto& first = plan.order.front();
  params.push_back(last.at(first.column));
  for (std::size_t i = 0; i < plan.order.size(); ++i) {
    params.push_back(last.at(plan.order[i].column));
    if (i + 1 < plan.order.size()) params.push_back(last.at(plan.order[i].column));
  }
  const std::string first_key = first.text && postgres ? first.sql + " COLLATE \"C\"" : first.sql;
  return fmt::format("{} {} ? AND ({})", first_key, first.descending ? "<=" : ">=", inner);
}

}  // namespace

bool keyset_pageable(const LogicalPlan& plan) {
  if (plan.order.empty()) return false;
  for (const auto& o : plan.order)
    if (o.nullable) return false;
  return true;
}

SqlStatement plan_sql(const LogicalPlan& plan, registry::Dialect dialect, const SqlPage& page) {
  const bool postgres = dialect == registry::Dialect::kPostgres;
  SqlStatement out;
  std::vector<std::string> select = plan.select;
  // PostgreSQL sorts text by bytes only with COLLATE "C", and a SELECT DISTINCT may only be
  // ordered by expressions it selects: select the collated ones too, after the plan's
  // columns (same values, so the rows stay as distinct as they were).
  if (postgres && plan.distinct && page.ordered)
    for (const auto& o : plan.order)
      if (o.text) select.push_back(o.sql + " COLLATE \"C\"");
  out.sql = fmt::format("SELECT {}{}", plan.distinct ? "DISTINCT " : "", fmt::join(select, ", "));
  bool first = true;
  for (const auto& r : plan.relations) {
    std::string item = r.source + " " + r.alias;
    if (first) out.sql += " FROM " + item;
    else if (r.on.empty()) out.sql += " CROSS JOIN " + item;
    else if (r.kind == PlanRelation::Kind::kImplied && postgres)
      // One record by its primary key for each row. As a plain LEFT JOIN, PostgreSQL merged
      // the rows of an index-ordered dataset search with the element's table on the
      // instrument alone (the only key in both orders) and tested the rest on every pair:
      // a first row of a million-row search took 50 ms per 1,500 exposures. A LATERAL
      // subquery with a LIMIT is not flattened into the join, so it is looked up per row.
      out.sql += fmt::format(" LEFT JOIN LATERAL (SELECT * FROM {} WHERE {} LIMIT 1) {} ON TRUE", item,
                             fmt::join(r.on, " AND "), r.alias);
    else
      out.sql += fmt::format(" {}JOIN {} ON {}", r.kind == PlanRelation::Kind::kImplied ? "LEFT " : "", item,
                             fmt::join(r.on, " AND "));
    first = false;
    out.params.insert(out.params.end(), r.params.begin(), r.params.end());
  }
  std::vector<std::string> conditions;
  for (const auto& c : plan.constraints) {
    conditions.push_back("(" + c.sql + ")");
    out.params.insert(out.params.end(), c.params.begin(), c.params.end());
  }
  if (page.after && !plan.order.empty()) conditions.push_back("(" + keyset_condition(plan, postgres, *page.after, out.params) + ")");
  if (!conditions.empty()) out.sql += fmt::format(" WHERE {}", detail::balanced_join(conditions, " AND "));
  if (page.ordered && !plan.order.empty()) {
    std::vector<std::string> order;
    for (const auto& o : plan.order)  // text sorts by bytes on every backend
      order.push_back(o.sql + (o.text && postgres ? " COLLATE \"C\"" : "") + (o.descending ? " DESC" : ""));
    out.sql += fmt::format(" ORDER BY {}", fmt::join(order, ", "));
  }
  if (page.limit > 0) {
    out.sql += " LIMIT ?";
    out.params.emplace_back(page.limit);
    if (page.offset > 0) {
      out.sql += " OFFSET ?";
      out.params.emplace_back(page.offset);
    }
  } else if (page.offset > 0) {
    out.sql += postgres ? " OFFSET ?" : " LIMIT -1 OFFSET ?";
    out.params.emplace_back(page.offset);
  }
  return out;
}

}  // namespace majordome::query
