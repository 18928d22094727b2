// The planner's internals: one Planner binds a QuerySpec and builds its LogicalPlan.
//
// Its members are defined in four files, by stage:
//   binder.cpp            expression → typed, resolved SQL terms (identifiers, comparisons,
//                         IN, GLOB), every value a parameter;
//   binder_literals.cpp   numbers, binds, times, region literals and temporal OVERLAPS;
//   planner_relations.cpp the FROM items: a source per dimension, element joins, overlap
//                         joins and region constraints (with their exact post-filters);
//   planner.cpp           the steps of plan_query() (dimensions, sources, spatial, where,
//                         data ID, dataset search, columns, order).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "majordome/query/expr_error.hpp"
#include "majordome/query/expression.hpp"
#include "majordome/query/plan.hpp"
#include "majordome/query/query.hpp"
#include "query_util.hpp"

namespace majordome::query::detail {

class Planner {
 public:
  Planner(registry::Registry& reg, const QuerySpec& spec);

  // Runs every step; the plan is then complete.
  void plan();
  LogicalPlan take() { return std::move(plan_); }

 private:
  // A column in SQL, with what the binder knows of its type.
  struct Column {
    std::string sql;
    std::optional<dimensions::FieldType> type;
    bool time = false;      // nanoseconds TAI
    bool nullable = true;   // may be NULL
  };
  // What a value is, for refusing comparisons that SQL would answer by accident (SQLite) or
  // refuse with a database error (PostgreSQL), and for typing binds.
  enum class Kind { kUnknown, kNumber, kString, kTime, kBool };
  struct Bound {
    std::string column;      // SQL column, or empty for a value
    std::int64_t value = 0;  // the value, or the column's value when it is NULL (with or_value)
    bool or_value = false;
  };
  struct TimespanOperand {
    Bound begin, end;
  };

  [[noreturn]] void fail(const Expr& at, const std::string& reason) const {
    throw ExpressionError(spec_.where, at.pos, reason, "Invalid expression");
  }

  // ---- relations (planner_relations.cpp) ----
  std::string dimension(const std::string& d, const Expr* at);
  std::string join(const std::string& element);
  void add_relation(PlanRelation::Kind kind, const std::string& element, std::string source, const std::string& alias,
                    std::vector<std::string> on, registry::Params params = {});
  std::string join_overlap(const std::string& element, const std::string& pixel_equals = {});
  std::size_t select(const std::string& sql);
  RegionOperand region_column(const std::string& element);
  const dimensions::DimensionElement& spatial_element(const Identifier& id, const Expr& at);
  std::pair<std::string, std::string> timespan_columns(const std::string& element, const Expr& at);
  void spatial_conjunct(const BinaryOp& b);
  void spatial_join(const std::string& a, const std::string& b);
  void constrain_region(const std::string& element, std::shared_ptr<const sphere::Region> region);
  void join_implied_for_expansion();

  // ---- binder (binder.cpp) ----
  Column identifier(const Identifier& id, const Expr& at);
  Column element_field(const std::string& element, const std::string& field, const Expr& at);
  std::string predicate(const Expr& e);
  std::string disjunction(const Expr& e);
  std::string value(const Expr& e, bool time_context = false);
  std::string compare(const BinaryOp& b, const char* op);
  std::string is_in(const IsIn& in);
  std::string glob(const GlobCall& g, const Expr& at);
  double number(const Expr& e);
  std::shared_ptr<const sphere::Region> region_literal(const Expr& e);
  const std::string& bind_text(const Bind& b, const Expr& at);
  std::int64_t time_value(const Expr& e);
  TimespanOperand timespan_operand(const Expr& e);
  std::string emit(const Bound& b, registry::Params& params);
  std::string temporal_overlap(const Expr& lhs, const Expr& rhs);
  Kind kind_of(const Expr& e);
  void check_comparable(const Expr& lhs, Kind lk, const Expr& rhs, Kind rk);
  registry::SqlValue typed_bind(const Bind& b, const std::string& text, const Expr& at);
  registry::SqlValue text_value(const std::string& text) const;
  bool is_dataset_id(const Expr& e) const;
  void compile_where();

  // ---- steps (planner.cpp) ----
  void plan_dimensions();
  void plan_sources();
  std::vector<std::string> plan_spatial();
  void plan_data_id();
  void plan_dataset_search();
  void plan_columns();
  void plan_order();
  void plan_dataset_rows();

  std::vector<const Expr*> conjunct_exprs() const {
    std::vector<const Expr*> out;
    if (tree_) split_conjuncts(*tree_, out);
    return out;
  }

  registry::Registry& reg_;
  const dimensions::Universe& u_;
  const QuerySpec& spec_;
  const Topology& topology_;
  std::optional<Expr> tree_;
  LogicalPlan plan_;
  std::optional<registry::DatasetType> dataset_;
  bool find_first_ = false;
  bool dataset_timespan_ = false;  // the expression constrains the datasets' validity ranges
  bool dataset_row_needed_ = false;  // the expression or the order reads d.* or r.* (ingest_date, run)
  std::map<std::string, std::string>& column_;  // dimension → SQL (plan_.dimension_columns)
  std::set<std::string> joined_;
  std::set<std::string> overlap_joined_;
  std::set<std::string> constant_skypix_;
  std::set<std::pair<std::string, std::string>> spatially_joined_;
  registry::Params params_;  // of the expression being compiled
  int constraint_count_ = 0;
  bool uuid_context_ = false;
  Kind bind_kind_ = Kind::kUnknown;  // what a bind in the comparison being compiled must be

  struct BindKindScope {
    BindKindScope(Planner& p, Kind k) : p_(p), saved_(p.bind_kind_) { p_.bind_kind_ = k; }
    ~BindKindScope() { p_.bind_kind_ = saved_; }
    Planner& p_;
    Kind saved_;
  };
  struct UuidContext {
    UuidContext(Planner& p, bool on) : p_(p), saved_(p.uuid_context_) { p_.uuid_context_ = on; }
    ~UuidContext() { p_.uuid_context_ = saved_; }
    Planner& p_;
    bool saved_;
  };
};

}  // namespace majordome::query::detail
