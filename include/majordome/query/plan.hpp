// The logical plan of a query: what the planner decided, before any SQL text is assembled.
//
// plan_query() binds a QuerySpec against a registry (names resolved, types checked, binds
// typed, collections flattened) and returns a LogicalPlan. The plan is a value: it holds no
// reference to the registry and can be inspected, turned into SQL for a dialect
// (plan_sql() below) or executed through a Cursor (cursor.hpp). The quantum-graph
// builder reuses it to learn which element tables and dataset searches a where-expression
// needs, and to run the same joins.
//
// Contract (what a consumer may rely on):
//   * `relations` are the FROM items in join order; the first has no `on`; every later one
//     joins on its `on` conditions (all ANDed; a LEFT JOIN for kImplied), or is a cross join
//     when `on` is empty.
//     Element tables have alias "e_<element>", overlap tables "o_<element>", region
//     constraints "c<N>", the dataset search "t" (joined to "d" = dataset and "r" = its run
//     unless every searched collection is a RUN and nothing reads them).
//   * `dimension_columns` gives, for every dimension of `dimensions` that has a value in SQL,
//     the SQL expression that reads it (over the aliases above).
//   * `constraints` are ANDed in WHERE; their parameters follow the relations' parameters in
//     statement order (relations first, then constraints, then paging). Their SQL is already
//     in the registry's dialect where the dialects differ (GLOB on SQLite, LIKE on
//     PostgreSQL): a plan is for the registry it was made on.
//   * `spatial_filters` must all hold for a row to be kept: they are exact region tests run
//     on the selected columns after SQL (the htm7 overlap relations only pre-select).
//     Temporal relations are exact in SQL and appear as constraints of kind kTemporal or
//     kCalibrationValidity.
//   * `order` is a total order of the SQL rows (ties only between rows equal in every
//     selected column), so pages read with `order` are consistent.
//   * A row of the result is made from the SQL row by `columns` (ResultColumns below), after
//     the spatial filters, find-first (`datasets->find_first`), de-duplication (`dedupe`),
//     then offset and limit.
// Thread safety: a LogicalPlan is an immutable value once made; share it freely.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "majordome/dimensions/universe.hpp"
#include "majordome/query/query.hpp"
#include "majordome/registry/database.hpp"
#include "majordome/registry/registry.hpp"

namespace majordome::sphere {
class Region;
}

namespace majordome::query {

// One FROM item.
struct PlanRelation {
  enum class Kind {
    kDatasetSearch,     // the dataset type's tags (and calibs) rows in the searched collections
    kDatasetRow,        // the dataset table ("d") and the run's collection ("r")
    kElement,           // a dimension element's table
    kBandView,          // the bands of the physical filters (band has no table)
    kOverlap,           // the htm7 overlap rows of a spatial element (a spatial join or a sky pixel)
    kRegionConstraint,  // the records of a spatial element whose htm7 pixels meet a constant region
    kImplied,           // a LEFT JOIN that reads implied dimensions of the result rows; never filters
  };
  Kind kind = Kind::kElement;
  std::string element;        // the element (or the dataset type for kDatasetSearch)
  std::string alias;
  std::string source;         // SQL of the table or derived table, without the alias
  registry::Params params;    // bound by `source`
  std::vector<std::string> on;  // join conditions, ANDed
};

struct PlanConstraint {
  enum class Kind {
    kExpression,           // a conjunct of the where-expression
    kTemporal,             // a conjunct of the where-expression relating timespans
    kDataId,               // a data ID value
    kDatasetSearch,        // the dataset type and collections (when not inside the relation)
    kCalibrationValidity,  // a calibration's validity range against the query's timespan
    kEmpty,                // a constant that matches nothing (disjoint constant regions)
  };
  Kind kind = Kind::kExpression;
  std::string sql;  // with `?` placeholders
  registry::Params params;
  std::string text;  // the conjunct as written (kExpression, kTemporal), "key=value" (kDataId)
};

// One operand of an exact region test: a selected region column, a selected sky pixel id,
// or a constant region.
struct RegionOperand {
  enum class Kind { kColumn, kPixel, kConstant } kind = Kind::kColumn;
  std::size_t column = 0;  // index in LogicalPlan::select (kColumn, kPixel)
  int pixel_level = 0;     // kPixel: the HTM level of the pixel id
  std::shared_ptr<const sphere::Region> constant;  // kConstant
  std::string element;     // kColumn: the element whose region it is
};

struct SpatialFilter {
  RegionOperand a, b;
};

struct PlanOrderItem {
  std::string sql;
  std::size_t column = 0;  // index in LogicalPlan::select
  bool descending = false;
  bool text = false;       // compared byte-wise (COLLATE "C" on PostgreSQL)
  bool nullable = true;    // may be NULL (paging then uses offsets, not keys)
};

// The dataset search of a plan.
struct PlanDatasets {
  registry::DatasetType type;
  std::vector<registry::CollectionRecord> collections;  // flattened; a collection's rank is its index
  bool find_first = false;
  bool calibrations = false;                      // CALIBRATION collections are read (union with tags)
  std::vector<std::string> skipped_calibrations;  // CALIBRATION collections a find-first search did not read
  std::string temporal_element;                   // whose timespan selects calibration validity ranges
};

// Where the parts of a result row are in the selected columns.
struct ResultColumns {
  std::vector<std::size_t> required;  // one per dimensions.required(), in that order
  std::vector<std::pair<std::string, std::size_t>> implied;  // implied dimensions read in SQL
  std::size_t dataset_id = 0, collection = 0, run = 0;       // with a dataset search
  bool run_from_collection = false;  // every searched collection is a RUN: the run is the collection (no `run` column)
  std::vector<std::pair<std::string, std::size_t>> dataset_implied;  // dataset dimensions not required by the query
  std::size_t record_start = 0;  // records_of with a table: the first column of its fields
  std::size_t band = 0;          // records_of band: its value
  std::vector<std::size_t> data_id_key;  // data-ID queries: positions in `required` of a row's key
};

struct LogicalPlan {
  dimensions::DimensionGroup dimensions;
  std::map<std::string, std::string> dimension_columns;
  std::vector<PlanRelation> relations;
  std::vector<PlanConstraint> constraints;
  std::vector<SpatialFilter> spatial_filters;
  std::optional<PlanDatasets> datasets;
  std::string records_of;  // with a value: rows are records of this element
  std::vector<std::string> select;
  bool distinct = false;
  ResultColumns columns;
  std::vector<PlanOrderItem> order;
  bool dedupe = false;           // rows that give the same result row are merged
  bool grouped_by_data_id = true;  // rows of one data ID are adjacent in `order` (no dataset field leads it)
  std::int64_t limit = 0, offset = 0;
  std::vector<std::string> joined_elements;  // element tables joined, in join order
  std::vector<std::string> conjuncts;        // the where-expression's top-level AND terms, as text

  // True when no row read from SQL can be dropped or merged afterwards: LIMIT and OFFSET
  // can then be applied in SQL.
  bool limit_in_sql() const { return spatial_filters.empty() && !(datasets && datasets->find_first) && !dedupe; }
};

// One statement's window on a plan's rows.
struct SqlPage {
  std::int64_t limit = 0;   // rows at most; 0: no LIMIT
  std::int64_t offset = 0;  // rows skipped first
  // Keyset paging: the selected columns of the last row read; the statement returns the rows
  // after it in `order`. Only for plans whose order items are all NOT NULL (keyset_pageable).
  const std::vector<registry::SqlValue>* after = nullptr;
  bool ordered = true;      // false: no ORDER BY (asking only whether any row exists)
};

struct SqlStatement {
  std::string sql;
  registry::Params params;
};

// The SELECT statement of a plan for a dialect (SQLite: GLOB, LIMIT -1; PostgreSQL: LIKE,
// COLLATE "C" so text sorts by bytes as on SQLite).
SqlStatement plan_sql(const LogicalPlan& plan, registry::Dialect dialect, const SqlPage& page = {});
// Whether rows after a given one can be selected by their order key (no order item may be NULL).
bool keyset_pageable(const LogicalPlan& plan);

// Binds and plans a query. Throws as run_query does (InvalidQueryError with a caret under
// the problem, NotFoundError for unknown dataset types or collections).
LogicalPlan plan_query(registry::Registry& registry, const QuerySpec& spec);

}  // namespace majordome::query
