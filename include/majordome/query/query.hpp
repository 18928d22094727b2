// The query engine: data IDs, datasets and dimension records selected by where-expressions.
//
// A query names the dimensions of its result rows, optionally one dataset search to join,
// a where-expression (docs/query_language.md) with its binds, a data ID, an order and a
// limit. The planner joins only the tables the query needs, following the dimension graph:
// each required dimension is read from one table (a dataset's tags table, or the most
// specific element table that carries it) and every other table that mentions it is joined
// on it. Spatial relations (region OVERLAPS region, a sky pixel dimension with a spatial
// element, two spatial families in one query) use the htm7 overlap tables in SQL and are
// then decided exactly in C++ before rows are counted, ordered or limited; timespan
// relations are exact in SQL. A dataset search over CALIBRATION collections matches the
// validity ranges that overlap the query's exposure/visit timespan or the expression's
// `<type>.timespan OVERLAPS …`. Comparisons are type-checked (numbers, strings, times,
// booleans) and every user value reaches SQL as a bound parameter.
//
// When the result is empty, QueryResult::reasons says why (a collection without the dataset
// type, a dimension without records, the constraint that matches nothing), and
// QueryResult::explanation the same as text.
//
// The engine in stages: plan.hpp (binder and logical plan, SQL per dialect), cursor.hpp
// (streaming execution); run_query reads a Cursor to the end.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "majordome/registry/registry.hpp"

namespace majordome::query {

// Values for :name placeholders; each is parsed as an integer, a float or else a string
// (a time in timespan contexts, a region for REGION(:name)). A comma-separated value is a
// list (for `IN (:ids)`).
using Binds = std::map<std::string, std::string>;

struct DatasetSearch {
  std::string dataset_type;
  std::vector<std::string> collections;  // in search order; globs allowed unless find_first
  bool find_first = false;
};

// What a row is: with records_of, one record of that element; else with dimensions, one data
// ID of those dimensions (however many datasets or extra dimensions match it); else one
// dataset of the search. Limit and offset count rows after exact spatial tests and find-first.
struct QuerySpec {
  std::vector<std::string> dimensions;     // of the result rows (more are added as needed)
  std::optional<DatasetSearch> datasets;   // rows must have a dataset of this search
  std::string where;
  Binds binds;
  registry::DataId data_id;                // equality constraints
  std::vector<std::string> order_by;       // "visit", "-exposure.day_obs", "full_name"
  std::int64_t limit = 0;                  // 0: all rows
  std::int64_t offset = 0;
  std::string records_of;                  // return the records of this element, one per row
};

struct ResultRow {
  registry::DataId data_id;  // required and implied dimensions of the result
  std::optional<registry::DatasetRef> dataset;
  std::optional<dimensions::DimensionRecord> record;
};

// Why a query found nothing, as data: callers word it for their users (message() is the
// engine's own wording, free of any command name).
struct EmptyReason {
  enum class Kind {
    kNoCollection,         // no collection matches the expressions in `names`
    kDatasetTypeAbsent,    // none of the searched collections (`names`) holds `dataset_type`
    kCalibrationsSkipped,  // a find-first search skipped the CALIBRATION collections `names` (no time)
    kNoRecords,            // the element `names[0]` has no records at all
    kConstraintNoDataset,  // no `dataset_type` dataset matches the constraint `names[0]` by itself
    kConstraintAlone,      // the constraint `names[0]` matches nothing by itself
    kConstraint,           // the query's only constraint `names[0]` matches nothing
    kDataIdAlone,          // the data ID value names[0]=names[1] matches nothing by itself
    kNoExactOverlap,       // `count` candidate rows shared htm7 pixels but no region overlaps exactly
    kOnlyTogether,         // each constraint matches something, but not all together
    kNoDatasetType,        // no registered dataset type matches the names or globs in `names`
  };
  Kind kind = Kind::kOnlyTogether;
  std::string dataset_type;
  std::vector<std::string> names;
  std::size_t count = 0;

  std::string message() const;
};

struct QueryResult {
  dimensions::DimensionGroup dimensions;
  std::vector<ResultRow> rows;
  bool more = false;                     // rows beyond the limit exist
  std::vector<EmptyReason> reasons;      // why there are no rows (only when there are none)
  std::vector<std::string> explanation;  // the reasons' message()s
};

// Runs a query and collects its rows (a Cursor read to the end). Throws InvalidQueryError (with a caret under the problem for expression
// errors), NotFoundError for unknown dataset types or collections.
QueryResult run_query(registry::Registry& registry, const QuerySpec& spec);

// The records of `element` matching `where` and `data_id`, in `order_by` order (default:
// by key). A shortcut for run_query with records_of.
std::vector<dimensions::DimensionRecord> query_dimension_records(registry::Registry& registry,
                                                                 const std::string& element,
                                                                 const std::string& where, const Binds& binds,
                                                                 const registry::DataId& data_id,
                                                                 const std::vector<std::string>& order_by = {});

}  // namespace majordome::query
